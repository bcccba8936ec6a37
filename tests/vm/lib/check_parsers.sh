#!/usr/bin/env bash
# Host-side checks of the VM harness's parsers (run by ctest as
# vm_harness_parsers): finding the archive in apt configurations of both
# formats, and reading GoogleTest listings. Prints each failed case; exits 1
# if any failed.
set -uo pipefail
lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$lib/apt_sources.sh"
. "$lib/gtest_list.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
check() { # description expected actual
  if [ "$2" != "$3" ]; then
    printf 'FAIL: %s\n  expected: %q\n  actual:   %q\n' "$1" "$2" "$3"
    bad=1
  fi
}

# deb822: comments, a disabled stanza, a folded Suites field, security first.
mkdir -p "$tmp/a/sources.list.d"
cat >"$tmp/a/sources.list.d/debian.sources" <<'SRC'
# a comment: URIs: http://wrong.invalid/
Types: deb
URIs: http://disabled.invalid/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb
URIs: http://security.invalid/debian-security
Suites: bookworm-security
Components: main
Signed-By: /keys/security.gpg

Types: deb deb-src
URIs: http://main.invalid/debian
Suites: bookworm-updates
 bookworm
Components: main contrib
Signed-By: /keys/main.gpg
SRC
check "deb822 main archive" $'http://main.invalid/debian\t/keys/main.gpg' "$(VM_APT_ETC=$tmp/a vm_archive_for_suite bookworm)"
check "deb822 security archive" $'http://security.invalid/debian-security\t/keys/security.gpg' \
  "$(VM_APT_ETC=$tmp/a vm_archive_for_suite bookworm-security)"
check "deb822 unknown suite" "missing" "$(VM_APT_ETC=$tmp/a vm_archive_for_suite bullseye || echo missing)"

# One-line format: options, deb-src and commented lines ignored.
mkdir -p "$tmp/b/sources.list.d"
cat >"$tmp/b/sources.list" <<'SRC'
# deb http://commented.invalid/debian bookworm main
deb-src http://src.invalid/debian bookworm main
deb [arch=amd64 signed-by=/keys/sec.gpg] http://sec.invalid/debian-security bookworm-security main
deb http://plain.invalid/debian bookworm main
SRC
check "one-line main archive" $'http://plain.invalid/debian\t' "$(VM_APT_ETC=$tmp/b vm_archive_for_suite bookworm)"
check "one-line with options" $'http://sec.invalid/debian-security\t/keys/sec.gpg' \
  "$(VM_APT_ETC=$tmp/b vm_archive_for_suite bookworm-security)"

listing='Running main() from ./googletest/src/gtest_main.cc
HarnessTest.
  RunsAsRoot
  DISABLED_Later
Typed/0.  # TypeParam = int
  Works
Param/ParamTest.
  Case/0  # GetParam() = 1
DISABLED_Suite.
  Anything'
check "gtest listing without disabled" $'HarnessTest.RunsAsRoot\nTyped/0.Works\nParam/ParamTest.Case/0' \
  "$(vm_parse_gtest_list 0 <<<"$listing")"
check "gtest listing with disabled" \
  $'HarnessTest.RunsAsRoot\nHarnessTest.DISABLED_Later\nTyped/0.Works\nParam/ParamTest.Case/0\nDISABLED_Suite.Anything' \
  "$(vm_parse_gtest_list 1 <<<"$listing")"
check "empty gtest listing" "" "$(vm_parse_gtest_list 0 <<<"")"

[ $bad = 0 ] && echo "vm harness parsers: all checks passed"
exit $bad
