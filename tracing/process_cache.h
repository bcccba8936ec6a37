// Remembers what was known about processes so a decision about one that has
// already exited (or whose pid was reused) still names the right program.
#pragma once

#include "process.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace ltrack::tracing {

class process_cache {
public:
	using clock = std::chrono::steady_clock;

	struct options {
		size_t capacity = 4096;                 // least recently used evicted beyond this
		std::chrono::seconds exited_ttl{300};   // how long an exited process is remembered
		std::chrono::seconds refresh_after{30}; // a live entry is re-read after this
		read_options read;
	};

	process_cache();
	explicit process_cache(options opt);

	// The process that had pid at boot-relative time ts_ns (the event's
	// timestamp; 0 = now). Reads /proc when the cache has no matching
	// generation; returns info with exited=true when nothing is known.
	process_info lookup(uint32_t pid, uint64_t ts_ns = 0);
	// The same, shared with the cache (and with every record about that
	// process): nothing is copied. A later change to the entry (a re-read,
	// its exit) replaces it; what was handed out stays as it was.
	std::shared_ptr<const process_info> lookup_shared(uint32_t pid, uint64_t ts_ns = 0);

	// Entry points for exec/fork/exit tracepoint events. Call on_exec from
	// sched_process_exec (after the exec completed): earlier, /proc shows
	// the new exe with an empty command line.
	void on_exec(uint32_t pid); // the program changed: re-read
	// The exec tracepoint's own account (tracing/process_tracer.cpp), so a
	// process that exits at once is still known; completed from /proc (and
	// its ancestry from the cache) where it can be.
	void on_exec_event(process_info info);
	void on_fork(uint32_t ppid, uint32_t pid); // read the child (or copy its parent)
	void on_exit(uint32_t pid);                // keep the entry for exited_ttl

	size_t size() const;
	// Drops expired exited entries; lookup does it too, this is for timers.
	void expire();

private:
	struct entry {
		std::shared_ptr<const process_info> info;
		// CLOCK_BOOTTIME (ns) before the last read of /proc that found this
		// very process alive: no other process had its pid up to then, so
		// an event stamped no later belongs to it without asking /proc again.
		uint64_t alive_at = 0;
		clock::time_point read_at;
		clock::time_point used_at;
		clock::time_point exited_at; // epoch = still running
	};
	using key = std::pair<uint32_t, uint64_t>; // pid, start_boot_ns

	entry *find(uint32_t pid, uint64_t ts_ns);
	entry &store(process_info info);
	// The entry's info, changed (a copy: records keep the old one).
	static process_info &change(entry &e);
	void expire_locked(clock::time_point now);
	void evict_locked(const key &keep);

	options opt_;
	mutable std::mutex mu_;
	std::map<key, entry> entries_;
	clock::time_point last_expire_{};
};

} // namespace ltrack::tracing
