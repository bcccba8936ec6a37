#include "process_cache.h"

#include "record.h"

#include <algorithm>

namespace ltrack::tracing {

process_cache::process_cache() : process_cache(options{})
{
}

process_cache::process_cache(options opt) : opt_(opt)
{
}

// The latest generation of pid that started at or before ts_ns.
process_cache::entry *process_cache::find(uint32_t pid, uint64_t ts_ns)
{
	auto it = entries_.upper_bound({pid, ts_ns == 0 ? UINT64_MAX : ts_ns});
	if (it == entries_.begin())
		return nullptr;
	--it;
	return it->first.first == pid ? &it->second : nullptr;
}

process_cache::entry &process_cache::store(process_info info)
{
	clock::time_point now = clock::now();
	key k{info.pid, info.start_boot_ns};
	entry &e = entries_[k];
	bool was_exited = e.exited_at != clock::time_point{};
	if (was_exited)
		info.exited = true;
	e.info = std::make_shared<const process_info>(std::move(info));
	e.alive_at = 0;
	e.read_at = now;
	e.used_at = now;
	evict_locked(k);
	return entries_.at(k);
}

process_info &process_cache::change(entry &e)
{
	auto copy = std::make_shared<process_info>(*e.info);
	process_info &p = *copy;
	e.info = std::move(copy);
	return p;
}

process_info process_cache::lookup(uint32_t pid, uint64_t ts_ns)
{
	return *lookup_shared(pid, ts_ns);
}

std::shared_ptr<const process_info> process_cache::lookup_shared(uint32_t pid, uint64_t ts_ns)
{
	std::lock_guard lock(mu_);
	clock::time_point now = clock::now();
	expire_locked(now);

	entry *e = find(pid, ts_ns);
	// An event no later than a read that found this very process alive is
	// about it (its pid was not free in between), and it had not exited as
	// far as the cache knows: no need to ask /proc again for each record.
	bool running = e && e->exited_at == clock::time_point{};
	if (running && ts_ns != 0 && ts_ns <= e->alive_at && now - e->read_at <= opt_.refresh_after) {
		e->used_at = now;
		return e->info;
	}
	uint64_t checked_at = boot_time_now_ns();
	uint64_t live_start = read_start_boot_ns(pid);
	// A live process that started after our newest entry (pid reuse) and not
	// after the event is the one the event is about.
	bool newer_live =
		live_start != 0 && (ts_ns == 0 || live_start <= ts_ns) && (!e || live_start > e->info->start_boot_ns);
	if (newer_live) {
		process_info info = read_process(pid, opt_.read);
		if (info.start_boot_ns != 0)
			return store(std::move(info)).info;
		if (!e)
			return std::make_shared<const process_info>(std::move(info));
	}
	if (!e) {
		auto gone = std::make_shared<process_info>();
		gone->pid = pid;
		gone->exited = true;
		gone->unreadable.push_back("process exited before it was seen");
		return gone;
	}
	if (running && live_start == e->info->start_boot_ns && now - e->read_at > opt_.refresh_after) {
		process_info info = read_process(pid, opt_.read);
		if (info.start_boot_ns == e->info->start_boot_ns && !info.exited) {
			e->info = std::make_shared<const process_info>(std::move(info));
			e->read_at = now;
		}
	}
	if (running && live_start == e->info->start_boot_ns && !e->info->exited)
		e->alive_at = std::max(e->alive_at, checked_at);
	if (running && live_start != e->info->start_boot_ns && !e->info->exited) {
		// Gone without an exit event (none are fed yet, or one was lost).
		change(*e).exited = true;
		e->exited_at = now;
	}
	e->used_at = now;
	return e->info;
}

void process_cache::on_exec(uint32_t pid)
{
	process_info info = read_process(pid, opt_.read);
	if (info.start_boot_ns == 0)
		return;
	std::lock_guard lock(mu_);
	store(std::move(info));
}

void process_cache::on_exec_event(process_info info)
{
	process_info live = read_process(info.pid, opt_.read);
	std::lock_guard lock(mu_);
	if (live.start_boot_ns == info.start_boot_ns && !live.exited) {
		// /proc knows more (cgroup path, container, ancestry); the event
		// knows the program for sure even if /proc raced with a later exec.
		live.exe = live.exe.empty() ? info.exe : live.exe;
		live.cmdline = live.cmdline.empty() ? info.cmdline : live.cmdline;
		store(std::move(live));
		return;
	}
	for (uint32_t up = info.ppid; up != 0 && info.ancestry.size() < opt_.read.max_ancestry;) {
		entry *p = find(up, 0);
		if (!p)
			break;
		info.ancestry.push_back(ancestor{up, p->info->exe});
		up = p->info->ppid;
	}
	store(std::move(info));
}

void process_cache::on_fork(uint32_t ppid, uint32_t pid)
{
	process_info info = read_process(pid, opt_.read);
	std::lock_guard lock(mu_);
	if (info.start_boot_ns != 0) {
		store(std::move(info));
		return;
	}
	// The child is already gone: until it execs it runs its parent's
	// program, so that is the best description of what it did.
	entry *parent = find(ppid, 0);
	if (!parent)
		return;
	process_info child = *parent->info;
	child.pid = pid;
	child.ppid = ppid;
	child.start_boot_ns = parent->info->start_boot_ns + 1; // after the parent, unknown exactly
	child.exited = true;
	child.unreadable = {"exited before it was read; described by its parent"};
	child.ancestry.insert(child.ancestry.begin(), ancestor{ppid, parent->info->exe});
	entry &e = store(std::move(child));
	e.exited_at = clock::now();
}

void process_cache::on_exit(uint32_t pid)
{
	std::lock_guard lock(mu_);
	entry *e = find(pid, 0);
	if (!e || e->exited_at != clock::time_point{})
		return;
	change(*e).exited = true;
	e->exited_at = clock::now();
}

size_t process_cache::size() const
{
	std::lock_guard lock(mu_);
	return entries_.size();
}

void process_cache::expire()
{
	std::lock_guard lock(mu_);
	last_expire_ = {};
	expire_locked(clock::now());
}

void process_cache::expire_locked(clock::time_point now)
{
	// lookup runs per event: scan at most once a second.
	if (now - last_expire_ < std::chrono::seconds(1))
		return;
	last_expire_ = now;
	for (auto it = entries_.begin(); it != entries_.end();) {
		const entry &e = it->second;
		if (e.exited_at != clock::time_point{} && now - e.exited_at > opt_.exited_ttl)
			it = entries_.erase(it);
		else
			++it;
	}
}

void process_cache::evict_locked(const key &keep)
{
	// Linear scan: eviction happens only at capacity, and a few thousand
	// entries scan in microseconds.
	while (entries_.size() > opt_.capacity) {
		auto oldest = entries_.end();
		for (auto it = entries_.begin(); it != entries_.end(); ++it)
			if (it->first != keep &&
			    (oldest == entries_.end() || it->second.used_at < oldest->second.used_at))
				oldest = it;
		if (oldest == entries_.end())
			return;
		entries_.erase(oldest);
	}
}

} // namespace ltrack::tracing
