#!/usr/bin/env bash
# Installs Debian's QEMU for Arm system emulation (qemu-system-arm, for embedded/run.sh) and the
# Arm ELF binutils (arm-none-eabi-size), when they are missing. Needs root (or sudo) and Debian's
# package archive.
set -euo pipefail

if command -v qemu-system-arm >/dev/null 2>&1 && command -v arm-none-eabi-size >/dev/null 2>&1; then
    qemu-system-arm --version | head -n 1
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends qemu-system-arm binutils-arm-none-eabi >/dev/null
qemu-system-arm --version | head -n 1
