#!/usr/bin/env bash
# Installs what the benchmark compares ltrack with (fapolicyd, apparmor) and
# what draws its plot (python3-matplotlib), from Debian's archive, as root.
# Used by bench/run and by scripts/test.sh (the VM suite's BenchSmoke runs the
# comparison). The host only provides the files: the guest runs them over 9p.
# No service may start on the host: fapolicyd would begin deciding every open
# here. A policy-rc.d that refuses every start is in place while dpkg runs
# (Debian's own mechanism, honoured by deb-systemd-invoke and invoke-rc.d), and
# on a systemd host the unit the package enabled is disabled again.
set -euo pipefail
tools=(fapolicyd apparmor python3-matplotlib)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
[ "$(id -u)" = 0 ] || { echo "install-tools: run as root to install ${missing[*]}" >&2; exit 1; }
echo "install-tools: installing ${missing[*]}"
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\n# bench/install-tools.sh: start no service while it installs\nexit 101\n' >"$guard"
  chmod 755 "$guard"
  trap 'rm -f "$guard"' EXIT
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [[ " ${missing[*]} " == *" fapolicyd "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now fapolicyd >/dev/null 2>&1 || true
fi
