#!/usr/bin/env bash
# Installs what ltrack needs from Debian 12's archive (as root) and builds it.
# Idempotent: packages already present are not fetched again, and the build
# is incremental.   scripts/setup.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}

packages=(
  # build
  cmake g++ make pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libbz2-dev liblzma-dev libssl-dev
  libsystemd-dev
  libcli11-dev libtomlplusplus-dev libspdlog-dev libgtest-dev googletest
  # the sources' format check (ctest clang_format_clean)
  clang-format
  # the Debian package (cpack's DEB generator: dpkg-shlibdeps computes Depends),
  # lintian on it, and systemd-analyze scoring the unit's sandbox (ctest)
  dpkg-dev lintian systemd
  # fuzzing (libFuzzer, ASan, UBSan runtimes)
  libclang-rt-14-dev
  # the VM suite: QEMU, an initramfs of busybox, modules tools, Debian's python3
  qemu-system-x86 busybox-static kmod cpio xz-utils python3 python3-numpy
  # the Package test applies the unit's system call filter (tests/vm/unit_sandbox.cpp)
  libseccomp-dev
  # real model files for the scanner tests (a torch.save checkpoint, joblib dumps)
  python3-torch python3-joblib
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages (${missing[*]}): run as root so they can be installed" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"
