# Sourced by tests/vm/run. Reads the machine's own apt configuration to find
# the Debian archive it already uses, so no archive host name is ever written
# into the project: whatever mirror (or snapshot) this machine is set up for is
# the one the guest kernels come from.

# Prints "URI<TAB>SIGNED-BY" for the first source serving the bare suite
# $1 (e.g. "bookworm": the main archive, not -security or -updates). SIGNED-BY
# may be empty. VM_APT_ETC overrides /etc/apt (for testing). Looks at deb822 *.sources files, then one-line *.list files.
vm_archive_for_suite() {
  local want=$1 etc=${VM_APT_ETC:-/etc/apt} f
  for f in "$etc"/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    # deb822: stanzas separated by blank lines; fields may be folded onto
    # continuation lines that start with a space.
    awk -v want="$want" '
      function flush() {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
          n = split(suites, s, /[ \t]+/)
          for (i = 1; i <= n; i++) if (s[i] == want) {
            split(uris, u, /[ \t]+/); print u[1] "\t" signed; found = 1; exit
          }
        }
        types = uris = suites = signed = enabled = ""; field = ""
      }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { sub(/^[ \t]+/, ""); if (field == "uris") uris = uris " " $0; else if (field == "suites") suites = suites " " $0; next }
      {
        key = tolower($0); sub(/:.*/, "", key)
        val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
        field = key
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "signed-by") signed = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { if (!found) flush() }
    ' "$f" | head -n 1 | grep . && return 0
  done
  for f in "$etc"/sources.list "$etc"/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    # deb [opt=val ...] URI SUITE COMPONENT...
    awk -v want="$want" '
      $1 != "deb" { next }
      {
        signed = ""; i = 2
        if ($2 ~ /^\[/) {
          for (; i <= NF; i++) {
            opt = $i; gsub(/[\[\]]/, "", opt)
            if (opt ~ /^signed-by=/) { sub(/^signed-by=/, "", opt); signed = opt }
            if ($i ~ /\]$/) { i++; break }
          }
        }
        if ($(i + 1) == want) { print $i "\t" signed; exit }
      }
    ' "$f" | head -n 1 | grep . && return 0
  done
  return 1
}

# The machine's Debian release codename (bookworm on Debian 12).
vm_host_codename() {
  local codename=""
  [ -r /etc/os-release ] && codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || return 1
  echo "$codename"
}
