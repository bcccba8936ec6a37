#!/bin/sh
# The unit's exposure as `systemd-analyze security --offline=yes` scores it
# must stay at or below MAX (0-10, lower is safer). Skipped (exit 77) only
# where systemd-analyze is missing; scripts/setup.sh installs it.
#   unit_security.sh UNIT [MAX]
unit=$1
max=${2:-4.0}
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIPPED: systemd-analyze is not installed (apt-get install systemd), the unit's score is not checked"
	exit 77
fi
out=$(systemd-analyze security --offline=yes "$unit" 2>&1)
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
	printf '%s\n' "$out"
	echo "FAILED: no overall exposure level in systemd-analyze's output"
	exit 1
fi
if awk -v s="$score" -v m="$max" 'BEGIN { exit !(s + 0 > m + 0) }'; then
	printf '%s\n' "$out" | grep '^✗' # what counts against it
	echo "FAILED: $(basename "$unit") scores $score, more than $max (docs/operations.md, \"The service's sandbox\")"
	exit 1
fi
echo "$(basename "$unit"): exposure $score (at most $max)"
