// What /proc says about a process: who it is, what it runs, where it came
// from, and which container it lives in.
#pragma once

#include "container.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ltrack::tracing {

struct ancestor {
	uint32_t pid = 0;
	std::string exe; // readlink of /proc/<pid>/exe; the comm in brackets if unreadable
};

struct process_info {
	uint32_t pid = 0;
	uint32_t ppid = 0;
	uint32_t uid = 0; // real ids, as the BPF side records them
	uint32_t gid = 0;
	std::string comm;
	std::string exe;     // may end in " (deleted)"
	std::string cmdline; // arguments joined by spaces, at most cmdline_max bytes
	bool cmdline_truncated = false;
	uint64_t start_boot_ns = 0; // boot-relative, clock-tick resolution; 0 = unknown
	uint64_t cgroup_id = 0;     // inode of the cgroup v2 directory; 0 = unknown
	std::string cgroup_path;
	container_info container;
	std::vector<ancestor> ancestry; // parent first
	// Honest partiality: set when the process was gone (or its pid reused)
	// before everything could be read; unreadable lists what is missing and why.
	bool exited = false;
	std::vector<std::string> unreadable;
};

// A process_info shared by every record about that process (the process
// cache's entry as it was when the record was made), so a record copies a
// pointer instead of the process's strings. Never null: an empty one reads
// as a default process_info.
class process_ref {
public:
	process_ref() = default;
	process_ref(process_info p) : p_(std::make_shared<const process_info>(std::move(p))) {}
	process_ref(std::shared_ptr<const process_info> p) : p_(std::move(p)) {}
	const process_info &operator*() const { return p_ ? *p_ : empty(); }
	const process_info *operator->() const { return &**this; }
	// To change this record's process only: a copy of its own first when
	// the info is shared.
	process_info &mut()
	{
		if (!p_ || p_.use_count() > 1)
			p_ = std::make_shared<const process_info>(**this);
		return const_cast<process_info &>(*p_); // made non-const by make_shared above or by the cache
	}

private:
	static const process_info &empty()
	{
		static const process_info none;
		return none;
	}
	std::shared_ptr<const process_info> p_;
};

struct read_options {
	size_t cmdline_max = 1024;
	size_t max_ancestry = 8;
};

// Never fails: returns what could be read and says what could not.
process_info read_process(uint32_t pid, const read_options &opt = {});

// Start time of a live process in boot-relative ns (what the cache keys
// on); 0 when the process does not exist.
uint64_t read_start_boot_ns(uint32_t pid);

} // namespace ltrack::tracing
