// What /proc says about a process: who it is, what it runs, where it came
// from, and which container it lives in.
#pragma once

#include "container.h"

#include <cstdint>
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
