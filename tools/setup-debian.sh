#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine with the Swift toolchain lacks:
# the OpenCL ICD loader and headers, PoCL (OpenCL on the CPU), CLBlast, libpng,
# libturbojpeg, zlib, Open MPI (mpirun and its library, for training on several machines),
# Cairo and the DejaVu fonts (plots and captions), OpenBLAS and LAPACKE (evaluation's statistics) and the Fashion-MNIST dataset package. Runs as root or via sudo.
set -euo pipefail
packages=(
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo
  libclblast-dev libpng-dev libturbojpeg0-dev zlib1g-dev
  openmpi-bin libopenmpi-dev
  libcairo2-dev fonts-dejavu-core
  libopenblas-dev liblapacke-dev
  dataset-fashion-mnist
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
