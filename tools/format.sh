#!/usr/bin/env bash
# Formats (or with --check, lints) all Swift sources with the checked-in .swift-format.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--check" ]; then
  exec swift format lint --recursive --configuration .swift-format Package.swift Sources Tests
fi
exec swift format format --in-place --recursive --configuration .swift-format Package.swift Sources Tests
