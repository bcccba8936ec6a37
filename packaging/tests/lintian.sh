#!/bin/sh
# lintian on the built package: no error and no warning. Overrides live in
# the package (packaging/debian/lintian-overrides), each with its reason.
# Skipped (exit 77) only where lintian is missing; scripts/setup.sh installs it.
#   lintian.sh DEB
deb=$1
if ! command -v lintian >/dev/null 2>&1; then
	echo "SKIPPED: lintian is not installed (apt-get install lintian), the package is not checked"
	exit 77
fi
if [ ! -f "$deb" ]; then
	echo "FAILED: $deb is missing: cmake --build BUILD --target ltrack_deb"
	exit 1
fi
# --fail-on: the exit status is 2 on any error or warning tag.
out=$(lintian --fail-on error,warning --display-level '>=warning' "$deb" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ $rc -ne 0 ]; then
	echo "FAILED: lintian found errors or warnings in $(basename "$deb") (exit $rc)"
	exit 1
fi
echo "$(basename "$deb"): lintian clean (no error, no warning)"
