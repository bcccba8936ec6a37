// Keeps inode rules on the objects their paths name now (issue 17, "no way
// around the profile"). file, dir, exec, model-directory and selector
// entries are compiled to inodes (dev, ino) at load; when anyone replaces
// one (ldconfig renames a new /etc/ld.so.cache over the old one, useradd
// /etc/passwd, an admin unlinks and recreates a denied file), the rule would
// go on naming the old inode: a deny rule stops holding, an allow rule
// starts refusing. (A governed process may not do it at all:
// lsm/file.bpf.c, guard_by_open_decision.)
//
// So the daemon watches (inotify) every directory on the way to every
// target, for the next name on that way only: "/" for "etc", "/etc" for
// "shadow". A create, delete or rename of one of those names, or of a
// watched directory itself, arms a 200 ms debounce (a package manager's
// burst of renames is one re-apply; a stream of events still re-applies
// within 1 s of the first). When it fires, the targets are resolved again;
// only if one of them names another object now (or appeared, or went) is
// the policy compiled again from the text in force and swapped in through
// the atomic reload path. Events for other names (an unprivileged user's
// churn in /tmp) are read and dropped: they cannot make it re-apply.
#pragma once

#include "compiled_policy.h"
#include "libbpf_call.h"
#include "path_resolver.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ltrack {

// Which directories to watch for which names: every directory on the way
// to every target path (as written, and as resolved when that differs),
// with the next component's name. Lexical: "." and ".." are folded.
using watch_plan = std::map<std::string, std::set<std::string>>;
watch_plan plan_watches(const policy::compiled_policy &p);

// Whether a target is a path compiled to an inode (and so can go stale).
bool inode_target(const policy::resolved_target &t);

// The targets that name another object now than the compiled policy holds
// (another inode, appeared, or gone): the paths as written, once each.
std::vector<std::string> stale_targets(const policy::compiled_policy &p,
				       const policy::path_resolver &resolve = policy::resolve_on_host);

// Trailing debounce with a ceiling: fires quiet after the last event, but
// no later than ceiling after the first of a burst.
struct debounce {
	using clock = std::chrono::steady_clock;
	std::chrono::milliseconds quiet{200}, ceiling{1000};
	bool armed = false;
	clock::time_point first{}, last{};

	void note(clock::time_point now);
	clock::time_point deadline() const;
	// True once (and disarms) when now has reached the deadline.
	bool fire(clock::time_point now);
};

class target_watch {
public:
	target_watch() = default;
	target_watch(const target_watch &) = delete;
	~target_watch();
	// Watches the directories p's targets need (creates the inotify and
	// timer descriptors on first use; on later calls adds and drops watches
	// so the set matches p). Then checks that p still holds on this host:
	// a target replaced while p was compiled arms the debounce at once.
	status start(const policy::compiled_policy &p);
	int fd() const { return inotify_fd_; }
	int timer_fd() const { return timer_fd_; }
	// Reads pending inotify events (non-blocking); a target's name arms the debounce.
	void handle_events();
	// The timer fired: when the debounce is due, the stale targets of p
	// (empty: nothing to re-apply, the event changed nothing that matters).
	std::vector<std::string> on_timer(const policy::compiled_policy &p);
	std::size_t watched_dirs() const { return dirs_by_wd_.size(); }
	uint64_t triggers() const { return triggers_; } // events that armed the debounce
	debounce &timing() { return debounce_; }

private:
	void arm();
	int inotify_fd_ = -1, timer_fd_ = -1;
	watch_plan plan_;
	std::map<int, std::set<std::string>> dirs_by_wd_;
	std::set<std::string> unwatchable_; // warned once each
	debounce debounce_;
	uint64_t triggers_ = 0;
	int verify_left_ = 3; // re-applies start() may still ask for without an event
};

} // namespace ltrack
