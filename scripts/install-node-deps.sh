#!/usr/bin/env bash
# Installs the npm packages of the interop and browser tests (openid-client, playwright-core)
# exactly as locked in tests/interop/node/package-lock.json. playwright-core downloads no
# browser: the tests use Debian's Chromium (scripts/install-browser.sh).
set -euo pipefail
cd "$(dirname "$0")/../tests/interop/node"
if ! command -v npm >/dev/null 2>&1; then
    echo "npm is not installed: the openid-client and browser tests need Node.js 20+ and npm" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
