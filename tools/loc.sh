#!/usr/bin/env bash
# Lines of code per module (Sources/*, Tests/*, Kernels) and the line budget:
# no Swift or OpenCL file over 500 lines (split by family or Type+Aspect before that),
# and the product code (Sources and Kernels) within 17,000 lines (16,000 until evaluation,
# issue 22, added its statistics, two feature networks and a classifier: 1.6k lines).
# With --check, exits 1 when the budget is exceeded.
set -euo pipefail
cd "$(dirname "$0")/.."
readonly file_limit=500 product_limit=17000
for dir in Sources/* Tests/* Kernels; do
  [ -d "$dir" ] || continue
  total=$(find "$dir" -type f \( -name '*.swift' -o -name '*.cl' \) -exec cat {} + 2>/dev/null | wc -l)
  printf '%6d  %s\n' "$total" "$dir"
done
product=$(find Sources Kernels -type f \( -name '*.swift' -o -name '*.cl' \) -exec cat {} + | wc -l)
printf '%6d  product code (Sources, Kernels; budget %d)\n' "$product" "$product_limit"
over=$(find Sources Tests Kernels -type f \( -name '*.swift' -o -name '*.cl' \) -exec wc -l {} + | awk -v limit="$file_limit" '$2 != "total" && $1 > limit')
status=0
if [ -n "$over" ]; then
  echo "files over $file_limit lines:"; echo "$over"; status=1
fi
if [ "$product" -gt "$product_limit" ]; then echo "product code over its budget of $product_limit lines"; status=1; fi
if [ "${1:-}" = "--check" ]; then exit $status; fi
