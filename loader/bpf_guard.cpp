#include "bpf_guard.h"

#include "compiled_policy.h"
#include "guard.skel.h"
#include "path_resolver.h"

#include <bpf/bpf.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <cstring>
#include <map>
#include <vector>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ltrack {

void skel_deleter::operator()(struct ::guard *s) const
{
	::guard__destroy(s);
}

namespace {

using clock = std::chrono::steady_clock;

double ms_since(clock::time_point t0)
{
	return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
}

// The slot a key belongs to, and stamping a key with one. Every policy map
// key carries it; net keys keep it in the upper half of `scope`.
template <class K>
uint32_t slot_of(const K &k)
{
	return k.slot;
}
template <class K>
void stamp(K &k, uint32_t slot)
{
	k.slot = slot;
}
uint32_t slot_of(const ltrack_net_key &k)
{
	return k.scope >> 16;
}
void stamp(ltrack_net_key &k, uint32_t slot)
{
	k.scope = (k.scope & 0xffff) | slot << 16;
}

template <class K, class V>
status write_entries(int fd, const char *map, const std::vector<std::pair<K, V>> &entries, uint32_t slot,
		     std::size_t &written)
{
	for (const auto &[key, value] : entries) {
		K k = key;
		stamp(k, slot);
		if (bpf_map_update_elem(fd, &k, &value, BPF_ANY) < 0)
			return libbpf_fail(std::string("writing map ") + map +
						   " (is the policy larger than "
						   "the map? see LTRACK_MAX_RULES)",
					   errno);
		++written;
	}
	return {};
}

// net_rules: the compiled policy keeps each entry's rules as a run
// (compiled_policy.h net_entry); the 200-byte map value is built per entry
// as it is written.
status write_net_entries(int fd, const policy::compiled_policy &p, uint32_t slot, std::size_t &written)
{
	for (const auto &e : p.net_rules) {
		ltrack_net_key k = e.key;
		stamp(k, slot);
		ltrack_net_val v = p.net_value(e);
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY) < 0)
			return libbpf_fail(
				"writing map net_rules (is the policy larger than the map? see LTRACK_MAX_RULES)",
				errno);
		++written;
	}
	return {};
}

// Deletes every entry of one slot. Keys are collected first: deleting
// while iterating would restart the walk on hash maps.
template <class K>
status clear_slot(int fd, const char *map, uint32_t slot, std::size_t &removed)
{
	std::vector<K> doomed;
	K key{}, next{};
	K *prev = nullptr;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (slot_of(next) == slot)
			doomed.push_back(next);
		key = next;
		prev = &key;
	}
	for (auto &k : doomed) {
		if (bpf_map_delete_elem(fd, &k) < 0 && errno != ENOENT)
			return libbpf_fail(std::string("clearing map ") + map, errno);
		++removed;
	}
	return {};
}

status load_failure(const char *step)
{
	std::string tail = libbpf_output_tail(2048);
	return status::fail(std::string(step) + (tail.empty() ? "" : "\n" + tail));
}

} // namespace

namespace {

// Addresses of kernel symbols, 0 for each one not listed (or listed as 0,
// which is what /proc/kallsyms shows a caller it does not trust). One read
// of the whole file and a search per name: parsing all of its 100,000+
// lines costs far more than the kernel takes to print them.
std::vector<uint64_t> kernel_symbols(const std::vector<std::string> &names)
{
	std::vector<uint64_t> out(names.size(), 0);
	int fd = open("/proc/kallsyms", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return out;
	std::string text = "\n";
	char buf[1 << 16];
	for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;)
		text.append(buf, n);
	close(fd);
	for (std::size_t i = 0; i < names.size(); i++) {
		// "ADDR T NAME\n"; module symbols end in "\t[module]" instead.
		std::size_t at = text.find(" " + names[i] + "\n");
		if (at == std::string::npos || at < 2)
			continue;
		std::size_t line = text.rfind('\n', at - 2);
		if (line != std::string::npos)
			out[i] = strtoull(text.c_str() + line + 1, nullptr, 16);
	}
	return out;
}

} // namespace

status bpf_guard::start(bpf_guard &out, const std::string &pin_dir)
{
	clear_libbpf_output();
	std::unique_ptr<struct ::guard, skel_deleter> skel(::guard__open());
	if (status s = check_ptr(skel.get(), "opening the BPF object"); !s.ok())
		return s;

	// Configure: pinned maps are reused (libbpf checks they match). The
	// self-protection maps are shared by every guard, ltrackd's and each
	// `ltrackctl run`'s, whatever their pin directories.
	if (mkdir(LTRACK_SELF_PIN_DIR, 0700) < 0 && errno != EEXIST)
		return libbpf_fail(
			std::string("creating ") + LTRACK_SELF_PIN_DIR + " (is bpffs mounted on /sys/fs/bpf?)", errno);
	// A protected_files pinned by an older ltrack was an LRU of 64: libbpf
	// would refuse to reuse it, so it is unpinned (its users keep it).
	{
		std::string pin = std::string(LTRACK_SELF_PIN_DIR) + "/protected_files";
		int old = bpf_obj_get(pin.c_str());
		if (old >= 0) {
			bpf_map_info info{};
			__u32 len = sizeof(info);
			if (bpf_obj_get_info_by_fd(old, &info, &len) == 0 &&
			    (info.type != BPF_MAP_TYPE_HASH ||
			     info.max_entries != bpf_map__max_entries(skel->maps.protected_files)))
				unlink(pin.c_str());
			close(old);
		}
	}
	for (bpf_map *map : {skel->maps.guardians, skel->maps.protected_files})
		if (status s =
			    check(bpf_map__set_pin_path(
					  map, (std::string(LTRACK_SELF_PIN_DIR) + "/" + bpf_map__name(map)).c_str()),
				  std::string("setting the pin path of map ") + bpf_map__name(map));
		    !s.ok())
			return s;
	bool pinning = !pin_dir.empty();
	if (pinning) {
		if (mkdir(pin_dir.c_str(), 0700) < 0 && errno != EEXIST)
			return libbpf_fail("creating " + pin_dir + " (is bpffs mounted on /sys/fs/bpf?)", errno);
		bpf_map *map;
		bpf_object__for_each_map(map, skel->obj)
		{
			std::string name = bpf_map__name(map);
			if (name.find('.') != std::string::npos)
				continue; // .rodata/.bss are per load, never shared
			if (name == "dir_memos")
				continue; // a cache of this load's walks: never reused by another
			if (bpf_map__pin_path(map))
				continue; // shared, pinned above
			if (status s = check(bpf_map__set_pin_path(map, (pin_dir + "/" + name).c_str()),
					     "setting the pin path of map " + name);
			    !s.ok())
				return s;
		}
	}

	// Every program in the object is attached: the list comes from the
	// skeleton itself, so a program added to lsm/ can never load unattached.
	// Programs whose link is still pinned (an earlier ltrackd exited or
	// crashed) keep running from that link: adopt them, and do not even load
	// a second copy, so bpftool shows one set.
	struct prog_link {
		bpf_program *prog;
		bpf_link **link;
	};
	std::vector<prog_link> progs;
	for (int i = 0; i < skel->skeleton->prog_cnt; i++)
		progs.push_back({*skel->skeleton->progs[i].prog, skel->skeleton->progs[i].link});
	std::vector<std::string> adopted;
	for (auto &p : progs) {
		std::string name = bpf_program__name(p.prog);
		if (pinning && access((pin_dir + "/link_" + name).c_str(), F_OK) == 0) {
			bpf_program__set_autoload(p.prog, false);
			adopted.push_back(name);
		}
	}

	// The directory memo checks the kernel's dentry and mount tree sequence
	// counts; without their addresses (kptr_restrict=2 hides them) every
	// governed open walks its ancestors, as correct and slower.
	auto syms = kernel_symbols({"rename_lock", "mount_lock"});
	skel->rodata->rename_lock_addr = syms[0];
	skel->rodata->mount_lock_addr = syms[1];
	if (!syms[0] || !syms[1])
		spdlog::warn("rename_lock/mount_lock not found in /proc/kallsyms (kernel.kptr_restrict?): "
			     "the directory memo is off, every governed open walks its ancestors");

	if (int err = ::guard__load(skel.get()); err < 0) {
		status s = libbpf_fail("loading ltrack's BPF programs" +
					       std::string(pinning ? " (if maps pinned by another ltrack version "
								     "are incompatible, run ltrackd --unload)"
								   : ""),
				       err);
		return load_failure(s.error.c_str());
	}

	// Attach one by one so the error names the program.
	for (auto &p : progs) {
		std::string name = bpf_program__name(p.prog);
		if (!bpf_program__autoload(p.prog))
			continue; // adopted
		if (bpf_program__type(p.prog) == BPF_PROG_TYPE_SYSCALL)
			continue; // run on demand by the daemon (flush_coalesced), never attached
		*p.link = bpf_program__attach(p.prog);
		if (!*p.link)
			return libbpf_fail("attaching program " + name, errno);
		if (pinning)
			if (status s = check(bpf_link__pin(*p.link, (pin_dir + "/link_" + name).c_str()),
					     "pinning link of " + name);
			    !s.ok())
				return s;
	}

	// A fresh state map starts with nothing governed (no slot is loaded).
	if (adopted.empty()) {
		ltrack_state st{};
		st.mode = LTRACK_MODE_AUDIT;
		uint32_t zero = 0;
		ltrack_state old{};
		bpf_map_lookup_elem(bpf_map__fd(skel->maps.state), &zero, &old);
		if (old.mode == 0 && bpf_map_update_elem(bpf_map__fd(skel->maps.state), &zero, &st, BPF_ANY) < 0)
			return libbpf_fail("initialising map state", errno);
	}
	out.skel_ = std::move(skel);
	out.adopted_ = std::move(adopted);
	return {};
}

status bpf_guard::unpin_all(const std::string &pin_dir)
{
	DIR *dir = opendir(pin_dir.c_str());
	if (!dir)
		return errno == ENOENT ? status{} : libbpf_fail("opening " + pin_dir, errno);
	std::vector<std::string> names;
	while (dirent *d = readdir(dir))
		if (d->d_name[0] != '.')
			names.push_back(d->d_name);
	closedir(dir);
	for (const auto &n : names)
		if (unlink((pin_dir + "/" + n).c_str()) < 0 && errno != ENOENT)
			return libbpf_fail("removing pin " + pin_dir + "/" + n, errno);
	if (rmdir(pin_dir.c_str()) < 0 && errno != ENOENT)
		return libbpf_fail("removing " + pin_dir, errno);
	return {};
}

uint64_t process_start_ticks(int pid)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
	std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	std::size_t close = text.rfind(')');
	if (close == std::string::npos)
		return 0;
	std::istringstream fields(text.substr(close + 2)); // field 3 (state) onwards
	std::string f;
	for (int i = 3; i <= 22 && fields >> f; i++)
		if (i == 22)
			return std::strtoull(f.c_str(), nullptr, 10);
	return 0;
}

std::string bpf_guard::run_pin_dir(int pid)
{
	// No dot: bpffs refuses names with one.
	return std::string(run_pins_root) + "/" + std::to_string(pid) + "-" + std::to_string(process_start_ticks(pid));
}

namespace {

// Whether any process still carries a label in this (pinned) tasks map.
bool any_labelled(int tasks_fd)
{
	std::error_code ec;
	for (const auto &e : std::filesystem::directory_iterator("/proc", ec)) {
		const std::string name = e.path().filename();
		if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
			continue;
		int fd = static_cast<int>(syscall(SYS_pidfd_open, std::stoi(name), 0));
		if (fd < 0)
			continue;
		ltrack_task t{};
		bool labelled = bpf_map_lookup_elem(tasks_fd, &fd, &t) == 0 && t.profile;
		close(fd);
		if (labelled)
			return true;
	}
	return false;
}

} // namespace

void bpf_guard::unpin_shared_if_unused()
{
	std::error_code ec;
	if (std::filesystem::exists(run_pins_root, ec) && !std::filesystem::is_empty(run_pins_root, ec))
		return;
	rmdir(run_pins_root);
	if (status s = unpin_all(LTRACK_SELF_PIN_DIR); !s.ok())
		spdlog::warn("{}", s.error);
}

unsigned bpf_guard::clean_stale_runs()
{
	unsigned cleaned = 0;
	std::error_code ec;
	for (const auto &e : std::filesystem::directory_iterator(run_pins_root, ec)) {
		std::string name = e.path().filename();
		std::size_t dash = name.find('-');
		if (dash == std::string::npos)
			continue;
		int pid = std::atoi(name.c_str());
		if (pid > 0 && std::to_string(process_start_ticks(pid)) == name.substr(dash + 1))
			continue; // its supervisor is alive
		int tasks = bpf_obj_get((e.path().string() + "/tasks").c_str());
		bool governing = tasks >= 0 && any_labelled(tasks);
		if (tasks >= 0)
			close(tasks);
		if (governing)
			continue; // its command outlived the supervisor and is still governed by it
		if (unpin_all(e.path()).ok())
			++cleaned;
	}
	return cleaned;
}

status bpf_guard::apply(const policy::compiled_policy &p, uint32_t daemon_tgid, apply_stats *stats,
			const apply_progress &progress)
{
	apply_stats local;
	apply_stats &a = stats ? *stats : local;
	auto &m = skel_->maps;
	uint32_t zero = 0;
	ltrack_state st{};
	if (bpf_map_lookup_elem(bpf_map__fd(m.state), &zero, &st) < 0)
		return libbpf_fail("reading map state", errno);
	uint32_t live = st.active_slot & 1;
	ltrack_slot live_hdr{};
	bpf_map_lookup_elem(bpf_map__fd(m.slots), &live, &live_hdr);
	// The first policy goes into the active slot itself: nothing is live yet.
	uint32_t next = (live_hdr.flags & LTRACK_SF_LOADED) ? live ^ 1 : live;

	// 1. Build the new generation beside the live one. Leftovers of an
	// aborted earlier swap are cleared first.
	if (progress)
		progress("fill", next, a);
	auto t0 = clock::now();
	std::size_t stale = 0;
	status s;
	if (s = clear_slot<ltrack_profile_key>(bpf_map__fd(m.profiles), "profiles", next, stale); !s.ok())
		return s;
	if (s = clear_slot<ltrack_inode_key>(bpf_map__fd(m.inode_rules), "inode_rules", next, stale); !s.ok())
		return s;
	if (s = clear_slot<ltrack_name_key>(bpf_map__fd(m.name_rules), "name_rules", next, stale); !s.ok())
		return s;
	if (s = clear_slot<ltrack_net_key>(bpf_map__fd(m.net_rules), "net_rules", next, stale); !s.ok())
		return s;
	if (s = clear_slot<ltrack_exe_key>(bpf_map__fd(m.exe_profiles), "exe_profiles", next, stale); !s.ok())
		return s;
	if (s = clear_slot<ltrack_cgroup_key>(bpf_map__fd(m.cgroup_profiles), "cgroup_profiles", next, stale); !s.ok())
		return s;

	std::vector<std::pair<ltrack_profile_key, ltrack_profile>> profiles;
	for (const auto &prof : p.profiles)
		profiles.push_back({ltrack_profile_key{0, prof.id}, prof.value});
	if (s = write_entries(bpf_map__fd(m.profiles), "profiles", profiles, next, a.written); !s.ok())
		return s;
	if (s = write_entries(bpf_map__fd(m.inode_rules), "inode_rules", p.inode_rules, next, a.written); !s.ok())
		return s;
	if (s = write_entries(bpf_map__fd(m.name_rules), "name_rules", p.name_rules, next, a.written); !s.ok())
		return s;
	if (s = write_net_entries(bpf_map__fd(m.net_rules), p, next, a.written); !s.ok())
		return s;
	if (s = write_entries(bpf_map__fd(m.exe_profiles), "exe_profiles", p.exe_profiles, next, a.written); !s.ok())
		return s;
	if (s = write_entries(bpf_map__fd(m.cgroup_profiles), "cgroup_profiles", p.cgroup_profiles, next, a.written);
	    !s.ok())
		return s;
	ltrack_slot hdr{};
	hdr.all_profile = p.all_profile;
	hdr.flags = LTRACK_SF_LOADED | (p.cgroup_profiles.empty() ? 0 : LTRACK_SF_CGROUP_PROFILES);
	for (const auto &[key, profile] : p.cgroup_profiles)
		if (profile == LTRACK_PROFILE_NONE && p.all_profile)
			hdr.flags |= LTRACK_SF_EXCEPT_CGROUPS;
	// A new generation invalidates every task's remembered "no cgroup
	// profile" (the live slot holds the newest; the other one is empty).
	hdr.generation = live_hdr.generation + 1 ? live_hdr.generation + 1 : 1;
	if (bpf_map_update_elem(bpf_map__fd(m.slots), &next, &hdr, BPF_ANY) < 0)
		return libbpf_fail("writing map slots", errno);
	a.write_ms = ms_since(t0);
	if (progress)
		progress("flip", next, a);

	// 2. Flip: one 32-bit store in the state value per field. The mode and
	// daemon pid are set before the slot so the new policy starts with them.
	auto t1 = clock::now();
	st.mode = p.mode;
	st.daemon_tgid = daemon_tgid;
	st.active_slot = next;
	if (bpf_map_update_elem(bpf_map__fd(m.state), &zero, &st, BPF_ANY) < 0)
		return libbpf_fail("flipping map state", errno);
	a.flip_ms = ms_since(t1);
	a.slot = next;
	if (progress)
		progress("cleanup", next, a);

	// 3. Free the old generation (nothing reads it any more).
	auto t2 = clock::now();
	if (next != live) {
		ltrack_slot empty{};
		bpf_map_update_elem(bpf_map__fd(m.slots), &live, &empty, BPF_ANY);
		if (s = clear_slot<ltrack_profile_key>(bpf_map__fd(m.profiles), "profiles", live, a.removed); !s.ok())
			return s;
		if (s = clear_slot<ltrack_inode_key>(bpf_map__fd(m.inode_rules), "inode_rules", live, a.removed);
		    !s.ok())
			return s;
		if (s = clear_slot<ltrack_name_key>(bpf_map__fd(m.name_rules), "name_rules", live, a.removed); !s.ok())
			return s;
		if (s = clear_slot<ltrack_net_key>(bpf_map__fd(m.net_rules), "net_rules", live, a.removed); !s.ok())
			return s;
		if (s = clear_slot<ltrack_exe_key>(bpf_map__fd(m.exe_profiles), "exe_profiles", live, a.removed);
		    !s.ok())
			return s;
		if (s = clear_slot<ltrack_cgroup_key>(bpf_map__fd(m.cgroup_profiles), "cgroup_profiles", live,
						      a.removed);
		    !s.ok())
			return s;
	}
	a.cleanup_ms = ms_since(t2);
	return {};
}

status bpf_guard::set_mode(uint32_t mode)
{
	uint32_t zero = 0;
	ltrack_state st{};
	int fd = bpf_map__fd(skel_->maps.state);
	if (bpf_map_lookup_elem(fd, &zero, &st) < 0)
		return libbpf_fail("reading map state", errno);
	st.mode = mode;
	return bpf_map_update_elem(fd, &zero, &st, BPF_ANY) < 0 ? libbpf_fail("writing map state", errno) : status{};
}

status bpf_guard::set_profile_mode(uint32_t profile, uint32_t mode)
{
	ltrack_state st{};
	if (status s = read_state(st); !s.ok())
		return s;
	ltrack_profile_key key{st.active_slot, profile};
	ltrack_profile val{};
	int fd = bpf_map__fd(skel_->maps.profiles);
	if (bpf_map_lookup_elem(fd, &key, &val) < 0)
		return status::fail("no profile with id " + std::to_string(profile) + " in the live policy");
	val.mode = mode;
	return bpf_map_update_elem(fd, &key, &val, BPF_EXIST) < 0 ? libbpf_fail("writing map profiles", errno)
								  : status{};
}

uint32_t bpf_guard::profile_mode(uint32_t profile) const
{
	ltrack_state st{};
	if (!read_state(st).ok())
		return LTRACK_MODE_ENFORCE; // unreadable: fail closed
	ltrack_profile_key key{st.active_slot, profile};
	ltrack_profile val{};
	if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.profiles), &key, &val) == 0 && val.mode != LTRACK_MODE_INHERIT)
		return val.mode;
	return st.mode == LTRACK_MODE_AUDIT ? LTRACK_MODE_AUDIT : LTRACK_MODE_ENFORCE;
}

status bpf_guard::read_state(ltrack_state &out) const
{
	uint32_t zero = 0;
	return bpf_map_lookup_elem(bpf_map__fd(skel_->maps.state), &zero, &out) < 0
		       ? libbpf_fail("reading map state", errno)
		       : status{};
}

counters bpf_guard::read_counters() const
{
	counters c;
	int ncpu = libbpf_num_possible_cpus();
	std::vector<uint64_t> per_cpu(ncpu > 0 ? ncpu : 1);
	for (uint32_t i = 0; i < LTRACK_CNT_MAX; i++) {
		if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.counters), &i, per_cpu.data()) < 0)
			continue;
		for (uint64_t v : per_cpu)
			c.values[i] += v;
	}
	return c;
}

status bpf_guard::set_model_verdict(const ltrack_model_key &key, const ltrack_model_val &val)
{
	return bpf_map_update_elem(bpf_map__fd(skel_->maps.models), &key, &val, BPF_ANY) < 0
		       ? libbpf_fail("writing map models", errno)
		       : status{};
}

status bpf_guard::clear_model_verdict(const ltrack_model_key &key)
{
	if (bpf_map_delete_elem(bpf_map__fd(skel_->maps.models), &key) < 0 && errno != ENOENT)
		return libbpf_fail("deleting from map models", errno);
	return {};
}

bool bpf_guard::model_verdict(const ltrack_model_key &key, ltrack_model_val &out) const
{
	return bpf_map_lookup_elem(bpf_map__fd(skel_->maps.models), &key, &out) == 0;
}

int bpf_guard::waiter_fd() const
{
	return bpf_map__fd(skel_->maps.waiter);
}

int bpf_guard::wait_dirs_fd() const
{
	return bpf_map__fd(skel_->maps.wait_dirs);
}

int bpf_guard::pending_fd() const
{
	return bpf_map__fd(skel_->maps.pending);
}

bool bpf_guard::model_content(int fd, ltrack_content &out) const
{
	// Inode storage maps take an open file's descriptor as the key from user space.
	return bpf_map_lookup_elem(bpf_map__fd(skel_->maps.model_content), &fd, &out) == 0;
}

std::map<uint32_t, uint64_t> bpf_guard::read_profile_drops() const
{
	std::map<uint32_t, uint64_t> out;
	int ncpu = libbpf_num_possible_cpus();
	std::vector<uint64_t> per_cpu(ncpu > 0 ? ncpu : 1);
	for (uint32_t id = 0; id <= LTRACK_MAX_PROFILES; id++) {
		if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.profile_drops), &id, per_cpu.data()) < 0)
			continue;
		uint64_t n = 0;
		for (uint64_t v : per_cpu)
			n += v;
		if (n)
			out[id] = n;
	}
	return out;
}

status bpf_guard::flush_coalesced(bool all, uint32_t *sent)
{
	ltrack_flush_args args{};
	args.all = all ? 1 : 0;
	bpf_test_run_opts opts{};
	opts.sz = sizeof(opts);
	opts.ctx_in = &args;
	opts.ctx_size_in = sizeof(args);
	if (int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.flush_coalesced), &opts); err < 0)
		return libbpf_fail("running flush_coalesced", err);
	if (sent)
		*sent = args.sent;
	return {};
}

int bpf_guard::events_fd() const
{
	return bpf_map__fd(skel_->maps.events);
}

status bpf_guard::govern_task(int pidfd, uint32_t profile)
{
	// Task storage maps take a pidfd as the key from user space: the label
	// lands on exactly that process, never on a reused pid.
	ltrack_task t{};
	t.profile = profile;
	return bpf_map_update_elem(bpf_map__fd(skel_->maps.tasks), &pidfd, &t, BPF_ANY) < 0
		       ? libbpf_fail("labelling the process with its profile", errno)
		       : status{};
}

status bpf_guard::mark_guardian(int pidfd, uint32_t kind)
{
	ltrack_guardian g{};
	g.kind = kind;
	return bpf_map_update_elem(bpf_map__fd(skel_->maps.guardians), &pidfd, &g, BPF_ANY) < 0
		       ? libbpf_fail("labelling the process as ltrack's own (map guardians)", errno)
		       : status{};
}

uint32_t bpf_guard::guardian_kind(int pidfd) const
{
	ltrack_guardian g{};
	return bpf_map_lookup_elem(bpf_map__fd(skel_->maps.guardians), &pidfd, &g) == 0 ? g.kind : 0;
}

status label_self(bpf_guard &guard, uint32_t kind)
{
	int fd = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
	if (fd < 0)
		return libbpf_fail("pidfd_open of ltrack's own process", errno);
	status s = guard.mark_guardian(fd, kind);
	close(fd);
	return s;
}

bool bpf_guard::self_protected() const
{
	int fd = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
	if (fd < 0)
		return false;
	bool on = guardian_kind(fd) != 0;
	close(fd);
	return on;
}

status bpf_guard::protect_files(const std::vector<std::string> &paths, const std::string &report_socket)
{
	// The map is shared by every guard (ltrackd's, each `ltrackctl run`'s):
	// only the files this guard protected before are unprotected here, never
	// another guard's. Ancestor marks stay (another guard's file may be below
	// the same directory; a stale one only keeps a directory in place).
	int fd = bpf_map__fd(skel_->maps.protected_files);
	for (const auto &[dev, ino] : protected_) {
		ltrack_file_key key{dev, ino};
		bpf_map_delete_elem(fd, &key);
	}
	protected_.clear();
	// What each inode gets; a file's own protection wins over an ancestor's
	// (the socket's directory is both).
	std::map<std::pair<uint64_t, uint64_t>, uint32_t> want;
	auto protect = [&want](const std::string &path, uint32_t how) -> status {
		struct stat st;
		if (stat(path.c_str(), &st) < 0)
			return libbpf_fail("protecting " + path + ": stat", errno);
		want[{policy::kernel_dev(st.st_dev), st.st_ino}] = how;
		return {};
	};
	// Every directory (and symlink) on the way to it, '/' excepted, as
	// written and as resolved: moved away or removed, the same path would
	// name what a governed process put there (a permissive policy for the
	// next reload, a fake socket, a binary for the next start).
	auto ancestors = [&want](const std::string &path) {
		std::error_code ec;
		std::vector<std::filesystem::path> ways;
		std::filesystem::path abs = std::filesystem::absolute(path, ec);
		if (!ec && abs.string().rfind("/proc/", 0) != 0)
			ways.push_back(abs.lexically_normal());
		std::filesystem::path real = std::filesystem::canonical(path, ec);
		if (!ec)
			ways.push_back(real);
		for (const auto &way : ways)
			for (std::filesystem::path p = way.parent_path(); !p.empty() && p != p.root_path();
			     p = p.parent_path()) {
				struct stat st;
				if (lstat(p.c_str(), &st) == 0)
					want.try_emplace({policy::kernel_dev(st.st_dev), st.st_ino},
							 LTRACK_PROTECT_ANCESTOR);
			}
	};
	for (const auto &path : paths) {
		if (status s = protect(path, LTRACK_PROTECT_FULL); !s.ok())
			return s;
		ancestors(path);
	}
	if (!report_socket.empty()) {
		if (status s = protect(report_socket, LTRACK_PROTECT_REPORT); !s.ok())
			return s;
		ancestors(report_socket);
	}
	for (const auto &[k, how] : want) {
		ltrack_file_key key{k.first, k.second};
		// An ancestor mark never overwrites a file's own protection (another
		// guard's); a file's own overwrites an ancestor mark.
		bool ancestor = how == LTRACK_PROTECT_ANCESTOR;
		if (!ancestor)
			protected_.insert(k);
		if (bpf_map_update_elem(fd, &key, &how, ancestor ? BPF_NOEXIST : BPF_ANY) < 0 &&
		    !(ancestor && errno == EEXIST))
			return libbpf_fail("protecting " + std::to_string(k.first) + ":" + std::to_string(k.second) +
						   " (map protected_files)",
					   errno);
	}
	return {};
}

uint32_t bpf_guard::task_profile(int pidfd) const
{
	ltrack_task t{};
	return bpf_map_lookup_elem(bpf_map__fd(skel_->maps.tasks), &pidfd, &t) == 0 ? t.profile : 0;
}

std::vector<std::string> bpf_guard::attached_programs() const
{
	std::vector<std::string> names;
	bpf_program *prog;
	bpf_object__for_each_program(prog, skel_->obj) names.push_back(bpf_program__name(prog));
	return names;
}

} // namespace ltrack
