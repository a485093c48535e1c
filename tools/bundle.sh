#!/usr/bin/env bash
# A self-contained genocl for a machine without Swift (a GPU server, a lent machine):
# builds the release binary with the Swift runtime linked in, and puts it in dist/ beside the
# shared libraries it loads (the OpenCL ICD loader, CLBlast, libpng, libturbojpeg, Open MPI's
# and Cairo's libraries with what they link) and a wrapper that finds them. MPI itself starts only
# under mpirun, which needs Open MPI installed on that machine (its plugins are not bundled). The GPU's OpenCL driver comes from that machine: its ICD file in
# /etc/OpenCL/vendors, or name the driver library yourself:
#   mkdir -p /tmp/icd && echo /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 > /tmp/icd/nvidia.icd
#   OCL_ICD_VENDORS=/tmp/icd dist/genocl devices
# usage: tools/bundle.sh [OUTPUT_DIR]   (default dist/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
swift build -c release --static-swift-stdlib --product genocl
mkdir -p "$out/lib"
strip -o "$out/genocl.bin" .build/release/genocl
# Every shared library it loads but the C runtime's own (which the other machine has):
# the OpenCL ICD loader, CLBlast, libpng, libturbojpeg, Open MPI, Cairo and what they load.
for lib in libOpenCL.so.1 libclblast.so.1 libpng16.so.16 libturbojpeg.so.0 libmpi.so.40 libcairo.so.2 libopenblas.so.0 liblapacke.so.3; do
  ldd .build/release/genocl | awk -v l="$lib" '$1 == l { found = 1 } END { exit !found }' \
    || { echo "bundle: genocl does not load $lib (ldd)" >&2; exit 1; }
done
ldd .build/release/genocl | awk '$3 ~ /^\// { print $1, $3 }' | while read -r name path; do
  case "$name" in
    libc.so.*|libm.so.*|libdl.so.*|librt.so.*|libpthread.so.*|libgcc_s.so.*|libstdc++.so.*|ld-linux*) ;;
    *) cp -L "$path" "$out/lib/" ;;
  esac
done
git rev-parse --short HEAD > "$out/commit.txt" 2>/dev/null || true
cat > "$out/genocl" <<'WRAPPER'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/genocl.bin" "$@"
WRAPPER
chmod +x "$out/genocl"
echo "bundle: $out/genocl ($(du -sh "$out" | cut -f1)); copy the folder, run $out/genocl devices"
