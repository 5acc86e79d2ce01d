#!/usr/bin/env bash
# Installs Debian's QEMU for Arm system emulation (qemu-system-arm, for embedded/run.sh) and the
# Arm ELF binutils (arm-none-eabi-size), when they are missing. Needs root (or sudo) and Debian's
# package archive.
set -euo pipefail
. "$(dirname "$0")/apt-install.sh"

apt_install_unless "qemu-system-arm arm-none-eabi-size" "qemu-system-arm --version | head -n 1" \
    qemu-system-arm binutils-arm-none-eabi
