#!/usr/bin/env bash
# The console's browser tests (or, with `screenshots`, the pictures in
# docs/console/): installs Debian's Chromium when /usr/bin/chromium is
# missing, then the pinned playwright-core, then runs them against the
# debug build of order-host (make build first).
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x /usr/bin/chromium ]]; then
    echo "console tests: installing Debian's chromium" >&2
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get install -y chromium || { $sudo apt-get update && $sudo apt-get install -y chromium; }
fi
npm ci --no-audit --no-fund
case "${1:-test}" in
    test) npm test ;;
    screenshots) npm run screenshots ;;
    *) echo "usage: $0 [test|screenshots]" >&2; exit 2 ;;
esac
