# Sourced by tests/vm/run. Builds the guest's initramfs: a static busybox,
# the kernel modules that 9p over virtio needs (in load order, decompressed so
# busybox insmod can load them) and tests/vm/guest/init as /init.

# Modules the guest needs; each comes with what modules.dep says it depends
# on. Any of them may be built in (virtio_pci is, on 6.12). overlay, loop,
# ext4 and binfmt_misc: the mount, open_by_handle_at and launch point tests.
vm_initramfs_modules=(virtio_pci 9pnet_virtio 9p overlay loop crc32c_generic ext4 binfmt_misc)

# Prints the module files to load, dependencies first, for kernel tree $1
# (an unpacked package) and release $2.
vm_module_load_order() {
  local root=$1 release=$2 mods
  mods=$root/lib/modules/$release
  awk -v targets="${vm_initramfs_modules[*]}" '
    function name_of(path,   n) { n = path; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n); gsub(/-/, "_", n); return n }
    FNR == NR { builtin[name_of($0)] = 1; next }
    {
      path = $1; sub(/:$/, "", path)
      m = name_of(path); file[m] = path; deps[m] = ""
      for (i = NF; i >= 2; i--) deps[m] = deps[m] " " $i  # modprobe loads them last-listed first
    }
    END {
      n = split(targets, t, " ")
      for (i = 1; i <= n; i++) {
        if (t[i] in builtin) continue
        if (!(t[i] in file)) { print "missing " t[i] > "/dev/stderr"; bad = 1; continue }
        k = split(deps[t[i]], d, " ")
        for (j = 1; j <= k; j++) if (!(d[j] in seen)) { seen[d[j]] = 1; print d[j] }
        if (!(file[t[i]] in seen)) { seen[file[t[i]]] = 1; print file[t[i]] }
      }
      exit bad
    }
  ' "$mods/modules.builtin" "$mods/modules.dep"
}

# Builds initramfs $3 for kernel tree $1, release $2, with /init from $4.
vm_build_initramfs() {
  local root=$1 release=$2 out=$3 init=$4 stage order rel name n=0
  # A dynamically linked busybox could not run from the initramfs, and
  # busybox-static replaces the dynamic package, so its presence settles it.
  local busybox=/bin/busybox
  if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || [ ! -x "$busybox" ]; then
    vm_err "a static busybox is needed for the guest's initramfs: install busybox-static"
    return 1
  fi
  order=$(vm_module_load_order "$root" "$release") || { vm_err "kernel $release lacks modules the guest needs (${vm_initramfs_modules[*]})"; return 1; }
  stage=$(mktemp -d "${out%/*}/initramfs.XXXXXX")
  mkdir -p "$stage"/{bin,dev,proc,sys,newroot,modules}
  cp "$busybox" "$stage/bin/busybox"
  cp "$init" "$stage/init"
  chmod 755 "$stage/init"
  : >"$stage/modules/order"
  for rel in $order; do
    n=$((n + 1))
    name=$(printf '%02d-%s.ko' "$n" "$(basename "${rel%%.ko*}")")
    case $rel in
      *.ko.xz) xz -dc "$root/lib/modules/$release/$rel" >"$stage/modules/$name" ;;
      *.ko.zst) zstd -qdc "$root/lib/modules/$release/$rel" >"$stage/modules/$name" ;;
      *.ko.gz) gzip -dc "$root/lib/modules/$release/$rel" >"$stage/modules/$name" ;;
      *) cp "$root/lib/modules/$release/$rel" "$stage/modules/$name" ;;
    esac || { vm_err "cannot unpack module $rel"; rm -rf "$stage"; return 1; }
    echo "$name" >>"$stage/modules/order"
  done
  (cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) >"$out.tmp" &&
    mv "$out.tmp" "$out"
  local rc=$?
  rm -rf "$stage"
  [ $rc = 0 ] || vm_err "cpio failed building $out"
  return $rc
}
