#include "report_server.h"

#include "unix_listener.h"

#include "import_lists.h"
#include "record.h"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 // Linux 6.5+: the connecting process's pidfd, taken at connect
#endif

namespace ltrack {
namespace {

int pidfd_open(pid_t pid)
{
	return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

// comm and ppid from /proc/PID/stat ("pid (comm) S ppid ..."): for the
// record only; the label, not these, says who the process is.
void read_stat(pid_t pid, char (&comm)[LTRACK_COMM_LEN], uint32_t &ppid)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	std::getline(in, line);
	auto open = line.find('('), close = line.rfind(')');
	if (open == std::string::npos || close == std::string::npos || close < open)
		return;
	std::string name = line.substr(open + 1, close - open - 1);
	std::strncpy(comm, name.c_str(), LTRACK_COMM_LEN - 1);
	std::istringstream rest(line.substr(close + 1));
	std::string state;
	rest >> state >> ppid;
}

} // namespace

report_server::~report_server()
{
	for (auto &[fd, c] : conns_) {
		if (c.pidfd >= 0)
			close(c.pidfd);
		close(fd);
	}
	if (fd_)
		unlink(path_.c_str());
}

status report_server::listen(const std::string &path, int epoll_fd, label_reader labels, mode_reader modes,
			     record_sink sink)
{
	// Any process may report; its label says who it is.
	if (status s = listen_unix(path, SOCK_SEQPACKET, 128, 0666, epoll_fd, "report socket", fd_); !s.ok())
		return s;
	path_ = path;
	epoll_ = epoll_fd;
	labels_ = std::move(labels);
	modes_ = std::move(modes);
	sink_ = std::move(sink);
	return {};
}

bool report_server::may_log()
{
	auto now = clock::now();
	if (now - log_second_ >= std::chrono::seconds(1)) {
		log_second_ = now;
		logged_ = 0;
	}
	return logged_++ < 5;
}

void report_server::on_listen_ready()
{
	for (int i = 0; i < accept_burst; i++) {
		uint64_t pauses = pause_.count();
		int fd = pause_.accept_next(epoll_, fd_.get(), "report socket");
		if (fd < 0) {
			stats_.paused += pause_.count() - pauses;
			return;
		}
		if (conns_.size() >= max_connections) {
			++stats_.shed;
			close(fd);
			continue;
		}
		ucred cred{};
		socklen_t len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);
			continue;
		}
		connection c;
		c.pid = cred.pid;
		c.uid = cred.uid;
		c.gid = cred.gid;
		if (per_uid_[c.uid] >= max_per_uid) {
			++stats_.shed_uid;
			if (may_log())
				spdlog::warn("report socket: uid {} has {} connections open; pid {} refused", c.uid,
					     max_per_uid, c.pid);
			close(fd);
			continue;
		}
		// The kernel's own pidfd of the connecting process where it has one
		// (6.5+); else one opened from the SO_PEERCRED pid (the same gap as
		// the control socket's: see docs/models.md, "Pickles in memory").
		int pidfd = -1;
		len = sizeof(pidfd);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
			pidfd = pidfd_open(cred.pid);
		if (pidfd < 0) {
			close(fd); // gone already: nothing it sends could be attributed
			continue;
		}
		c.pidfd = pidfd;
		read_stat(c.pid, c.comm, c.ppid);
		c.last = clock::now();
		++stats_.connections;
		++per_uid_[c.uid];
		conns_.emplace(fd, std::move(c));
		epoll_event ev{};
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
	}
}

void report_server::drop(int fd)
{
	auto it = conns_.find(fd);
	if (it == conns_.end())
		return;
	flush(it->second, true);
	epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
	if (it->second.pidfd >= 0)
		close(it->second.pidfd);
	close(fd);
	if (auto u = per_uid_.find(it->second.uid); u != per_uid_.end() && --u->second == 0)
		per_uid_.erase(u);
	conns_.erase(it);
}

void report_server::on_ready(int fd, uint32_t events)
{
	auto it = conns_.find(fd);
	if (it == conns_.end())
		return;
	connection &c = it->second;
	char buf[report::max_message + 1];
	for (unsigned i = 0; i < read_burst; i++) {
		if (c.read_this_second >= rate_per_s) {
			// Not watched until the next tick: the client's sends wait in
			// its socket buffer (or fail with EAGAIN), ltrackd does not.
			++stats_.throttled;
			c.throttled = true;
			epoll_event ev{};
			ev.data.fd = fd;
			epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
			if (events & (EPOLLHUP | EPOLLERR))
				drop(fd);
			return;
		}
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			drop(fd); // closed (or failed)
			return;
		}
		++c.read_this_second;
		c.last = clock::now();
		if (static_cast<size_t>(n) > report::max_message) {
			++stats_.malformed;
			continue;
		}
		handle(fd, c, std::string_view(buf, n));
		if (!conns_.count(fd))
			return;
	}
}

void report_server::reply(int fd, std::string_view text)
{
	if (send(fd, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		++stats_.replies_lost; // not taken: the hook fails closed on its side
}

void report_server::handle(int fd, connection &c, std::string_view bytes)
{
	result<report::message> m = report::parse(bytes);
	if (!m) {
		++stats_.malformed;
		if (may_log())
			spdlog::warn("report socket: pid {}: malformed report ({})", c.pid, m.failure().error);
		return;
	}
	// Who sent it: the label of the process that connected, read now.
	uint32_t profile = labels_ ? labels_(c.pidfd) : 0;
	if (!profile) {
		++stats_.ungoverned;
		if (m->kind == report::op::hello)
			reply(fd, "ungoverned");
		else if (m->kind == report::op::find_class)
			reply(fd, "proceed");
		// An ungoverned process's reports are not ltrack's business, and
		// its connection is not kept (the hook closes it too, and connects
		// again should it report later).
		drop(fd);
		return;
	}
	++stats_.governed;
	profile_view v = modes_ ? modes_(profile) : profile_view{};
	bool audit = v.mode == LTRACK_MODE_AUDIT;
	switch (m->kind) {
	case report::op::hello: reply(fd, std::string("governed") + '\0' + (audit ? "audit" : "enforce")); return;
	case report::op::find_class: {
		// Decided here, with the scanner's own list: the client's claim
		// that a global is on it is not needed, nor trusted. The audit
		// event comes before find_class maps Python 2 names (protocol < 3,
		// not known here): dangerous under either name.
		bool dangerous = scanner::classify_import_py2(m->a, m->b) == scanner::import_ref::kind::dangerous;
		if (!dangerous) {
			reply(fd, "proceed");
			return;
		}
		reply(fd, audit ? "proceed" : "refuse");
		record(c, *m, profile, v, LTRACK_ACT_DENY, audit ? LTRACK_OUT_WOULD_DENY : LTRACK_OUT_DENIED);
		return;
	}
	default: record(c, *m, profile, v, LTRACK_ACT_AUDIT, LTRACK_OUT_AUDITED);
	}
}

void report_server::record(connection &c, const report::message &m, uint32_t profile, const profile_view &v,
			   uint8_t action, uint8_t outcome)
{
	ltrack_event e{};
	e.ts_ns = tracing::boot_time_now_ns();
	e.pid = e.tid = c.pid;
	e.ppid = c.ppid;
	e.uid = c.uid;
	e.gid = c.gid;
	e.profile = profile;
	e.hook = LTRACK_HOOK_PYTHON;
	e.action = action;
	e.mode = v.mode;
	e.outcome = outcome;
	e.flags = v.slot ? LTRACK_EV_SLOT1 : 0;
	std::memcpy(e.comm, c.comm, sizeof e.comm);
	static_assert(static_cast<int>(report::op::find_class) + 0 == 1 && LTRACK_PY_FIND_CLASS == 1);
	e.cred_op = static_cast<uint32_t>(m.kind); // op order matches enum ltrack_python_op
	std::string object = m.kind == report::op::find_class ? m.a + "." + m.b : m.a;
	std::size_t n = std::min(object.size(), sizeof e.path - 1);
	std::memcpy(e.path, object.data(), n);
	e.count = 1;

	std::string key = std::string(report::op_name(m.kind)) + '\0' + std::string(e.path) + '\0' +
			  std::to_string(outcome) + '\0' + std::to_string(profile);
	auto now = clock::now();
	auto it = c.keys.find(key);
	if (it != c.keys.end()) {
		++it->second.count; // within its window: counted, sent by tick()
		++stats_.coalesced;
		return;
	}
	if (c.keys.size() >= max_keys) {
		++stats_.dropped;
		if (may_log())
			spdlog::warn("report socket: pid {}: more than {} distinct reports in a second; dropped", c.pid,
				     max_keys);
		return;
	}
	if (budget_used_ >= records_per_s) {
		++stats_.over_budget;
		++over_budget_unlogged_; // logged once by tick()
		return;
	}
	++budget_used_;
	c.keys.emplace(key, pending{now, 0, e});
	++stats_.records;
	if (sink_)
		sink_(e);
}

void report_server::flush(connection &c, bool all)
{
	auto now = clock::now();
	for (auto it = c.keys.begin(); it != c.keys.end();) {
		if (!all && now - it->second.window < std::chrono::seconds(1)) {
			++it;
			continue;
		}
		if (it->second.count && sink_) {
			ltrack_event e = it->second.first;
			e.ts_ns = tracing::boot_time_now_ns();
			e.count = static_cast<uint32_t>(std::min<uint64_t>(it->second.count, UINT32_MAX));
			e.flags |= LTRACK_EV_TALLY;
			sink_(e);
		}
		it = c.keys.erase(it);
	}
}

void report_server::tick(clock::time_point now)
{
	pause_.resume(epoll_, fd_.get(), now);
	budget_used_ = 0;
	if (over_budget_unlogged_) {
		spdlog::warn("report socket: {} reports dropped: more than {} a second from all connections",
			     over_budget_unlogged_, records_per_s);
		over_budget_unlogged_ = 0;
	}
	std::vector<int> idle;
	for (auto &[fd, c] : conns_) {
		char b;
		// Idle: nothing read for idle_timeout and nothing waiting (a
		// message sent just now is read, not lost with the socket).
		if (now - c.last >= idle_timeout && !c.throttled && recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
		    errno == EAGAIN)
			idle.push_back(fd);
	}
	for (int fd : idle) {
		++stats_.idle_closed;
		drop(fd);
	}
	for (auto &[fd, c] : conns_) {
		flush(c, false);
		c.read_this_second = 0;
		if (c.throttled) {
			c.throttled = false;
			epoll_event ev{};
			ev.events = EPOLLIN;
			ev.data.fd = fd;
			epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
		}
	}
}

} // namespace ltrack
