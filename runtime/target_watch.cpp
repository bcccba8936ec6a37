#include "target_watch.h"

#include <spdlog/spdlog.h>

#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ltrack {
namespace {

void add_chain(watch_plan &plan, const std::string &path)
{
	if (path.empty() || path[0] != '/')
		return;
	std::string dir = "/";
	for (const std::string &c : policy::path_components(path)) {
		plan[dir].insert(c);
		dir = dir == "/" ? "/" + c : dir + "/" + c;
	}
}

// Changes to a watched directory's entries, or to the directory itself.
constexpr uint32_t watch_mask =
	IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

} // namespace

bool inode_target(const policy::resolved_target &t)
{
	return !t.written.empty() && t.written[0] == '/';
}

watch_plan plan_watches(const policy::compiled_policy &p)
{
	watch_plan plan;
	for (const auto &t : p.targets) {
		if (!inode_target(t))
			continue;
		add_chain(plan, t.written);
		if (t.found && t.resolved != t.written)
			add_chain(plan, t.resolved);
	}
	return plan;
}

std::vector<std::string> stale_targets(const policy::compiled_policy &p, const policy::path_resolver &resolve)
{
	std::vector<std::string> out;
	std::set<std::string> seen;
	for (const auto &t : p.targets) {
		if (!inode_target(t) || seen.count(t.written))
			continue;
		policy::resolve_result r = resolve(t.written);
		bool now = r.ok();
		if (now != t.found || (now && (r->dev != t.dev || r->ino != t.ino))) {
			seen.insert(t.written);
			out.push_back(t.written);
		}
	}
	return out;
}

void debounce::note(clock::time_point now)
{
	if (!armed) {
		armed = true;
		first = now;
	}
	last = now;
}

debounce::clock::time_point debounce::deadline() const
{
	return std::min(last + quiet, first + ceiling);
}

bool debounce::fire(clock::time_point now)
{
	if (!armed || now < deadline())
		return false;
	armed = false;
	return true;
}

target_watch::~target_watch()
{
	if (inotify_fd_ >= 0)
		close(inotify_fd_);
	if (timer_fd_ >= 0)
		close(timer_fd_);
}

status target_watch::start(const policy::compiled_policy &p)
{
	if (inotify_fd_ < 0) {
		inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (inotify_fd_ < 0)
			return status::fail(std::string("inotify_init1: ") + std::strerror(errno), errno);
	}
	if (timer_fd_ < 0) {
		timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (timer_fd_ < 0)
			return status::fail(std::string("timerfd_create: ") + std::strerror(errno), errno);
	}
	plan_ = plan_watches(p);
	// inotify_add_watch on a watched inode returns its watch again: what is
	// not returned now watches an object no target's path leads through any
	// more (a directory renamed away), and is dropped.
	std::map<int, std::set<std::string>> now;
	std::string failed;
	for (const auto &[dir, names] : plan_) {
		int wd = inotify_add_watch(inotify_fd_, dir.c_str(), watch_mask);
		if (wd >= 0) {
			now[wd].insert(dir);
			continue;
		}
		// Missing: its parent's watch sees it appear.
		if (errno == ENOENT || errno == ENOTDIR)
			continue;
		if (unwatchable_.insert(dir).second && failed.empty())
			failed = dir + ": " + std::strerror(errno) +
				 (errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
	}
	for (const auto &[wd, dirs] : dirs_by_wd_)
		if (!now.count(wd))
			inotify_rm_watch(inotify_fd_, wd);
	dirs_by_wd_ = std::move(now);
	// A target replaced between its resolution and its watch. Not forever:
	// an inode that changes by itself (procfs gives a sysctl a new inode
	// number when its dentry was dropped) would re-apply in a loop; the
	// budget comes back with the next event for a target's name.
	if (verify_left_ > 0 && !stale_targets(p, policy::caching_resolver_on_host()).empty()) {
		--verify_left_;
		arm();
	}
	if (!failed.empty())
		return status::fail("cannot watch " + failed +
				    "; a replacement of a rule's target there is caught only by a reload");
	return {};
}

void target_watch::arm()
{
	++triggers_;
	debounce_.note(debounce::clock::now());
	auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(debounce_.deadline().time_since_epoch()).count();
	itimerspec at{};
	at.it_value.tv_sec = ns / 1000000000;
	at.it_value.tv_nsec = ns % 1000000000;
	if (at.it_value.tv_sec == 0 && at.it_value.tv_nsec == 0)
		at.it_value.tv_nsec = 1; // zero would disarm it
	timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &at, nullptr);
}

void target_watch::handle_events()
{
	alignas(inotify_event) char buf[16384];
	bool relevant = false;
	for (;;) {
		ssize_t n = read(inotify_fd_, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (char *at = buf; at < buf + n;) {
			auto *ev = reinterpret_cast<inotify_event *>(at);
			at += sizeof(inotify_event) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				relevant = true; // events were lost: check every target
				continue;
			}
			auto it = dirs_by_wd_.find(ev->wd);
			if (it == dirs_by_wd_.end())
				continue; // a watch dropped in start()
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)) {
				// A directory on a target's way went: its parent's watch
				// saw the name too, unless it is a mount's root.
				if (ev->mask & IN_IGNORED)
					dirs_by_wd_.erase(it);
				relevant = true;
				continue;
			}
			if (!ev->len)
				continue;
			std::string name(ev->name);
			for (const std::string &dir : it->second) {
				auto p = plan_.find(dir);
				if (p != plan_.end() && p->second.count(name))
					relevant = true;
			}
		}
	}
	if (relevant) {
		verify_left_ = 3;
		arm();
	}
}

std::vector<std::string> target_watch::on_timer(const policy::compiled_policy &p)
{
	uint64_t ticks;
	[[maybe_unused]] auto r = read(timer_fd_, &ticks, sizeof(ticks));
	if (!debounce_.fire(debounce::clock::now()))
		return {};
	return stale_targets(p, policy::caching_resolver_on_host());
}

} // namespace ltrack
