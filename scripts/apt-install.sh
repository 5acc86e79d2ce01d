#!/usr/bin/env bash
# Sourced by the install-*.sh scripts: apt_install_unless CHECK VERSION PACKAGE... runs VERSION
# and returns when every command named in CHECK (space-separated) is on PATH; otherwise installs
# the Debian PACKAGEs quietly (as root, or through sudo) and then runs VERSION.

apt_install_unless() {
    local check=$1 version=$2
    shift 2
    local command missing=0
    for command in $check; do
        command -v "$command" >/dev/null 2>&1 || missing=1
    done
    if [ "$missing" -eq 0 ]; then
        eval "$version" || true
        return 0
    fi
    local sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo_cmd=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    eval "$version"
}
