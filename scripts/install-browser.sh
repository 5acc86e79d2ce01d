#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver (/usr/bin/chromium, /usr/bin/chromedriver) for the
# browser test, when they are missing. Needs root (or sudo) and Debian's package archive.
set -euo pipefail
. "$(dirname "$0")/apt-install.sh"

apt_install_unless "chromium chromedriver" "chromium --version 2>/dev/null" \
    chromium chromium-driver fonts-dejavu-core
