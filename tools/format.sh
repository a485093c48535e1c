#!/usr/bin/env bash
# Formats (or with --check, lints: any violation fails) all Swift sources with the checked-in
# .swift-format (140 columns; string literals that cannot break may run past it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--check" ]; then
  exec swift format lint --strict --recursive --configuration .swift-format Package.swift Sources Tests
fi
exec swift format format --in-place --recursive --configuration .swift-format Package.swift Sources Tests
