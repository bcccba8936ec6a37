# Sourced by tests/vm/run. Fetches a Debian kernel package with
# `apt-get download`, unpacks it with `dpkg -x` under the build tree (never
# into the host's /boot) and caches it there.
#
# Kernels (the --kernel values):
#   6.1   the versioned package linux-image-amd64 depends on in this machine's
#         own apt state (Debian 12's kernel)
#   6.12  linux-image-amd64 from bookworm-backports
#   5.10  linux-image-amd64 from bullseye; bpf is not in its default LSM list
# 6.12 and 5.10 (and 6.1 if this machine has no package lists) come through a
# throwaway apt state under <build>/vm/apt/ that reads no file of the
# machine's apt sources and changes none.

# Sets vm_kernel_suite and vm_kernel_cmdline for kernel $1, or fails.
vm_kernel_profile() {
  vm_kernel_cmdline=""
  case $1 in
    6.1) vm_kernel_suite="" ;; # the host's own apt state first
    6.12) vm_kernel_suite=bookworm-backports ;;
    5.10) vm_kernel_suite=bullseye; vm_kernel_cmdline="lsm=lockdown,yama,apparmor,bpf" ;;
    *) return 1 ;;
  esac
}

# Runs apt-get/apt-cache ($1) against the throwaway state in $vm_apt_dir.
vm_apt() {
  local tool=$1; shift
  "$tool" -q \
    -o Dir::Etc::SourceList="$vm_apt_dir/sources.list" \
    -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::Etc::Preferences=/dev/null \
    -o Dir::Etc::PreferencesParts=/dev/null \
    -o Dir::State::Lists="$vm_apt_dir/lists" \
    -o Dir::State::Status="$vm_apt_dir/status" \
    -o Dir::Cache="$vm_apt_dir/cache" \
    -o APT::Sandbox::User=root \
    -o Acquire::Languages=none \
    "$@"
}

# Prepares the throwaway apt state for suite $1 in $vm_apt_dir and updates
# its package lists. The archive URI and its key are the ones this machine
# already uses for its own release.
vm_apt_state() {
  local suite=$1 codename archive uri signed opts=""
  codename=$(vm_host_codename) || { vm_err "cannot tell this machine's Debian release (/etc/os-release has no VERSION_CODENAME)"; return 1; }
  archive=$(vm_archive_for_suite "$codename") || {
    vm_err "no apt source for '$codename' in /etc/apt/sources.list{,.d/*.sources,.d/*.list}: add this machine's Debian archive there"
    return 1
  }
  uri=${archive%%$'\t'*}; signed=${archive#*$'\t'}
  # An inline key (deb822 allows one) cannot go on a one-line source; apt then
  # falls back to the keys in /etc/apt/trusted.gpg.d.
  case $signed in /*) opts="[signed-by=$signed] " ;; esac
  mkdir -p "$vm_apt_dir/lists/partial" "$vm_apt_dir/cache/archives/partial"
  : >"$vm_apt_dir/status" # no installed packages: the suite's own candidate wins
  echo "deb ${opts}$uri $suite main" >"$vm_apt_dir/sources.list"
  vm_log "updating a throwaway apt state for $suite from $uri (in $vm_apt_dir)"
  vm_apt apt-get -qq update >"$vm_apt_dir/update.log" 2>&1 || {
    vm_err "apt-get update for $suite failed (see $vm_apt_dir/update.log):"
    tail -n 5 "$vm_apt_dir/update.log" >&2
    return 1
  }
}

# The versioned kernel package that linux-image-amd64 depends on, from the
# apt-cache given as arguments.
vm_kernel_package() {
  "$@" depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# Fetches (or finds cached) kernel $1 under $2 (= <build>/vm). Sets
# vm_kernel_image, vm_kernel_release, vm_kernel_root, vm_kernel_cmdline.
vm_fetch_kernel() {
  local kernel=$1 vm=$2 dir pkg image
  vm_kernel_profile "$kernel" || { vm_err "unknown --kernel '$kernel': use 6.1, 6.12 or 5.10"; return 1; }
  dir=$vm/kernels/$kernel
  mkdir -p "$dir"
  # Two runs for the same kernel at once (e.g. CI stages) must not both unpack.
  exec {lock_fd}>"$dir.lock"
  flock "$lock_fd"
  if [ ! -f "$dir/ready" ]; then
    rm -rf "$dir/root" "$dir/debs"
    mkdir -p "$dir/debs"
    pkg=""
    if [ -z "$vm_kernel_suite" ]; then
      pkg=$(vm_kernel_package apt-cache)
      if [ -z "$pkg" ]; then
        # No package lists on this machine: fetch the release's own lists.
        vm_kernel_suite=$(vm_host_codename) || { vm_err "cannot tell this machine's Debian release"; return 1; }
      fi
    fi
    if [ -z "$pkg" ]; then
      vm_apt_dir=$vm/apt/$vm_kernel_suite
      vm_apt_state "$vm_kernel_suite" || return 1
      pkg=$(vm_kernel_package vm_apt apt-cache)
      [ -n "$pkg" ] || { vm_err "linux-image-amd64 in $vm_kernel_suite names no versioned kernel package"; return 1; }
      vm_log "downloading $pkg ($vm_kernel_suite)"
      (cd "$dir/debs" && vm_apt apt-get -qq download "$pkg") >"$dir/download.log" 2>&1
    else
      vm_log "downloading $pkg (this machine's apt state)"
      (cd "$dir/debs" && apt-get -q -o APT::Sandbox::User=root download "$pkg") >"$dir/download.log" 2>&1
    fi
    local debs=("$dir"/debs/*.deb)
    [ -f "${debs[0]}" ] || { vm_err "apt-get download $pkg failed (see $dir/download.log):"; tail -n 5 "$dir/download.log" >&2; return 1; }
    dpkg -x "${debs[0]}" "$dir/root" || { vm_err "dpkg -x ${debs[0]} failed"; return 1; }
    echo "$pkg" >"$dir/package"
    image=$(ls "$dir"/root/boot/vmlinuz-* 2>/dev/null | head -n 1)
    [ -n "$image" ] || { vm_err "$pkg holds no boot/vmlinuz-*"; return 1; }
    vm_kernel_release=${image##*/vmlinuz-}
    # depmod -b reads <base>/lib/modules; newer packages ship usr/lib/modules.
    if [ ! -d "$dir/root/lib/modules" ] && [ -d "$dir/root/usr/lib/modules" ]; then
      ln -s usr/lib "$dir/root/lib"
    fi
    depmod -b "$dir/root" "$vm_kernel_release" || { vm_err "depmod -b $dir/root $vm_kernel_release failed"; return 1; }
    rm -rf "$dir/debs" # the unpacked tree is the cache
    echo "$vm_kernel_release" >"$dir/ready"
  fi
  exec {lock_fd}>&-
  vm_kernel_release=$(cat "$dir/ready")
  vm_kernel_root=$dir/root
  vm_kernel_image=$dir/root/boot/vmlinuz-$vm_kernel_release
  [ -f "$vm_kernel_image" ] || { vm_err "cached kernel is incomplete: rm -rf $dir and run again"; return 1; }
}
