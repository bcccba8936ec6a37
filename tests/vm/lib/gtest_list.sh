# Sourced by tests/vm/run (host) and tests/vm/guest/suite.sh (guest), so both
# read a GoogleTest listing the same way.

# Reads `--gtest_list_tests` output on stdin ("Suite." lines, then "  Name"
# lines, either possibly followed by "  # GetParam() = ..." comments; other
# lines such as gtest_main's "Running main() from ..." are ignored) and prints
# one Suite.Name a line. GoogleTest lists disabled tests too: they are left
# out unless $1 is 1 (--gtest_also_run_disabled_tests).
vm_parse_gtest_list() {
  local also_disabled=${1:-0} line suite="" name
  while IFS= read -r line; do
    line=${line%%#*}
    line=${line%"${line##*[! ]}"}
    [ -n "$line" ] || continue
    if [ "${line:0:1}" != " " ]; then
      case $line in *.) suite=${line%.} ;; *) suite="" ;; esac
      continue
    fi
    [ -n "$suite" ] || continue
    name=${line##* }
    if [ "$also_disabled" != 1 ] && [[ $suite == DISABLED_* || $name == DISABLED_* ]]; then
      continue
    fi
    printf '%s.%s\n' "$suite" "$name"
  done
}
