#!/usr/bin/env bash
# Lines of code per module (Sources/*, Tests/*, Kernels), largest files first within each.
set -euo pipefail
cd "$(dirname "$0")/.."
for dir in Sources/* Tests/* Kernels; do
  [ -d "$dir" ] || continue
  total=$(find "$dir" -type f \( -name '*.swift' -o -name '*.cl' \) -exec cat {} + 2>/dev/null | wc -l)
  printf '%6d  %s\n' "$total" "$dir"
done
