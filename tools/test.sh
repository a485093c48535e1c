#!/usr/bin/env bash
# The test suite, in both build configurations: debug (fast build, all checks)
# and release (the code users run: it once caught a miscompile that debug hid).
set -euo pipefail
cd "$(dirname "$0")/.."
swift test
swift test -c release
