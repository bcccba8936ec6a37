// The first open of an unscanned model file is decided by its content: the
// scan waiter (abi.h, "first open of an unscanned model").
//
// Under a profile with scan_at_open, lsm/file.bpf.c lets a governed open of
// an unscanned model file go on as "pending" while this waiter is alive (a
// fresh heartbeat in the "waiter" map) and holds a fanotify FAN_OPEN_PERM
// mark on the file's directory; the kernel then stops the open at
// fsnotify_open_perm (after the LSM hooks) until the waiter answers. The
// waiter holds marks on the model directories only, so no other open pays
// anything.
//
// Two threads. The reader reads the permission events and answers every
// open the kernel did not pass as pending (ungoverned processes, scanned
// files, ltrackd's own opens) FAN_ALLOW at once, without scanning; a pending
// one goes to a bounded queue (full: FAN_DENY at once). The scanner takes
// them in order: one that waited past the queue timeout, or a file larger
// than its profile's scan_at_open_max_mb, is refused unscanned; any other is
// scanned through the event's own descriptor (opened read-only with
// O_NOATIME, the scan mark lsm/model.bpf.c knows), its verdict stored, and
// the open answered by it: FAN_ALLOW for what the profile accepts (safe,
// trusted; suspicious unless deny_suspicious), FAN_DENY otherwise. Every
// pending open gets a decision record of the kernel's shape (hook model),
// handed to the main thread (fd() becomes readable; take()).
//
// Fail closed: the heartbeat stops with the reader (a killed or stopped
// ltrackd), and the kernel refuses unscanned files again once it is older
// than LTRACK_WAITER_STALE_NS; a dead waiter's marks go with its fanotify
// group at once. What fanotify allows by itself: the events a waiter that
// died had read and not answered yet (at most the queue). stop() answers
// those FAN_DENY before it closes.
#pragma once

#include "abi.h"
#include "libbpf_call.h"
#include "model_watch.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ltrack {

class bpf_guard;

struct scan_wait_limits {
	std::map<uint32_t, uint64_t> max_bytes; // by profile id: the profiles with scan_at_open
	std::chrono::milliseconds queue_timeout{10000};
	std::size_t queue_max = 64;
};

// One answered pending open: its record, and what the scan found (for the
// watcher's table, so the record names the deciding import).
struct scan_wait_result {
	ltrack_event event{};
	std::optional<model_finding> finding;
};

// What an answer is, from the pending decision and the scan (pure, tested).
struct scan_wait_answer {
	bool allow = false;
	uint32_t verdict = LTRACK_VERDICT_UNSCANNED;
	uint32_t how = LTRACK_WAIT_NONE; // enum ltrack_scan_wait
};
scan_wait_answer decide_pending(const ltrack_pending &p, uint64_t size, uint64_t max_bytes,
				std::chrono::milliseconds waited, std::chrono::milliseconds timeout,
				const model_finding *scanned);
// The decision record of an answered pending open.
ltrack_event pending_record(const ltrack_pending &p, uint32_t tid, const scan_wait_answer &a, const std::string &path,
			    uint64_t now_boot_ns);

class scan_waiter {
public:
	~scan_waiter();
	// Starts the threads and the heartbeat. Nothing is marked yet (mark()).
	status start(bpf_guard &guard, scan_wait_limits limits, std::set<std::string> trusted);
	bool running() const { return fan_fd_ >= 0; }
	// New limits and trusted digests (a reload).
	void configure(scan_wait_limits limits, std::set<std::string> trusted);
	// Places the FAN_OPEN_PERM mark on a directory and lists it in wait_dirs.
	void mark(int dir_fd, const std::string &path);
	// Marks the whole filesystem path is on (FAN_MARK_FILESYSTEM): every
	// open on it, by anyone, then waits for the reader's answer. For
	// `ltrackctl run`, whose models are named by extension anywhere.
	bool mark_filesystem(const std::string &path);
	// Removes every mark and wait_dirs entry (before a reload marks again).
	void unmark_all();
	// Answers what is queued FAN_DENY, stops the heartbeat and the threads,
	// closes the fanotify group.
	void stop();
	// Readable when results are waiting.
	int fd() const { return result_fd_; }
	std::vector<scan_wait_result> take();
	uint64_t answered_allow() const { return allowed_fast_; }

private:
	struct job {
		int fd;
		uint32_t tid;
		ltrack_pending pending;
		std::chrono::steady_clock::time_point queued;
	};
	void reader();
	void scanner();
	void beat(uint64_t ns);
	void respond(int fd, bool allow);
	void post(scan_wait_result r);
	void finish(job &j, const scan_wait_answer &a, std::optional<model_finding> f);

	bpf_guard *guard_ = nullptr;
	int fan_fd_ = -1, stop_fd_ = -1, result_fd_ = -1;
	std::thread reader_, scanner_;
	std::mutex mu_; // guards everything below
	std::condition_variable cv_;
	std::deque<job> queue_;
	bool stopping_ = false;
	scan_wait_limits limits_;
	std::set<std::string> trusted_;
	std::vector<scan_wait_result> results_;
	std::set<std::pair<uint64_t, uint64_t>> marked_; // wait_dirs keys
	uint64_t allowed_fast_ = 0;
};

} // namespace ltrack
