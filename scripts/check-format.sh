#!/usr/bin/env bash
# The C, C++ and BPF sources follow .clang-format (Debian's clang-format 14).
#   scripts/check-format.sh          fails, listing each file that differs
#   scripts/check-format.sh --fix    rewrites them in place
# Data tables that read better by hand are fenced with "// clang-format off".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
fmt=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$fmt" ]; then
  echo "check-format: clang-format is not installed (apt-get install clang-format; scripts/setup.sh does)" >&2
  exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files -- '*.c' '*.h' '*.cpp')
else
  mapfile -t files < <(find . -path ./build -prune -o -path './build-*' -prune -o \
    \( -name '*.c' -o -name '*.h' -o -name '*.cpp' \) -print | sed 's|^\./||' | sort)
fi
if [ "${1:-}" = --fix ]; then
  "$fmt" -i --style=file "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$fmt" --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "check-format: ${#bad[@]} file(s) differ from .clang-format; run scripts/check-format.sh --fix:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files follow .clang-format"
