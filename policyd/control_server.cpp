#include "control_server.h"

#include "unix_listener.h"

#include <spdlog/spdlog.h>

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

namespace ltrack {
namespace {

// Connections open at once. A refused caller's connection is only drained,
// and refused ones have their own, smaller share: unprivileged callers can
// never take the slots the administrator needs.
constexpr std::size_t max_connections = 256;
constexpr std::size_t max_refused = 32;
// What a refused caller may still send (read and discarded) before its
// connection closes.
constexpr std::size_t drain_max = control::request_reader::max_bytes;

int pidfd_open(pid_t pid)
{
	return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

} // namespace

control_server::~control_server()
{
	for (auto &[fd, c] : conns_)
		close(fd);
	if (fd_)
		unlink(path_.c_str());
}

status control_server::listen(const std::string &path, int epoll_fd, label_reader labels, request_handler on_request)
{
	// Non-root callers may reach and connect to the socket, so they get a
	// clear refusal instead of EACCES; the check at accept decides who is
	// served.
	std::error_code ec;
	std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
	chmod(std::filesystem::path(path).parent_path().c_str(), 0755);
	if (status s = listen_unix(path, SOCK_STREAM, 64, 0666, epoll_fd, "control socket", fd_); !s.ok())
		return s;
	path_ = path;
	epoll_ = epoll_fd;
	labels_ = std::move(labels);
	on_request_ = std::move(on_request);
	return {};
}

void control_server::watch(int fd, uint32_t events, bool add)
{
	epoll_event ev{};
	ev.events = events;
	ev.data.fd = fd;
	epoll_ctl(epoll_, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

// At most 10 refusal lines a second; the rest are summed up in one line.
bool control_server::may_log()
{
	auto now = clock::now();
	if (now - log_second_ >= std::chrono::seconds(1)) {
		if (unlogged_)
			spdlog::warn("control socket: {} more refusals in the last second (not logged one by one)",
				     unlogged_);
		log_second_ = now;
		logged_ = 0;
		unlogged_ = 0;
	}
	if (logged_ < 10) {
		++logged_;
		return true;
	}
	++unlogged_;
	return false;
}

void control_server::drop(int fd)
{
	epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
	close(fd);
	release(fd);
}

void control_server::on_listen_ready()
{
	for (int i = 0; i < accept_burst; i++) {
		int c = pause_.accept_next(epoll_, fd_.get(), "control socket");
		if (c < 0)
			return;
		auto now = clock::now();
		connection conn{control::request_reader(now)};
		conn.deadline = conn.reader.deadline();
		ucred cred{};
		socklen_t len = sizeof(cred);
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(c);
			continue;
		}
		conn.uid = cred.uid;
		conn.pid = cred.pid;
		if (conns_.size() >= max_connections) {
			++stats_.shed;
			close(c);
			continue;
		}
		auto &ref = conns_.emplace(c, std::move(conn)).first->second;
		watch(c, EPOLLIN, true);
		admit(c, ref);
	}
}

// The caller's identity, before anything it sent is looked at.
void control_server::admit(int fd, connection &c)
{
	if (c.uid != 0) {
		++stats_.refused_uid;
		if (may_log())
			spdlog::warn("control socket: refused a request from uid {} (pid {}): only root may control "
				     "ltrack",
				     c.uid, c.pid);
		refuse(fd, c,
		       "permission denied: only root may control ltrackd (you are uid " + std::to_string(c.uid) + ")");
		return;
	}
	// The label of the process that connected, through a pidfd: it names
	// that process for as long as we hold it, whatever happens to its pid
	// afterwards. The pid itself comes from SO_PEERCRED, taken at connect();
	// if that process had exited and its pid were reused before this
	// pidfd_open, we would check the wrong process. On 6.1 there is no
	// SO_PEERPIDFD to close that gap; see docs/operations.md for why it is
	// not an open door (the connector must be gone, the pid recycled to an
	// ungoverned process, and the kernel refuses governed connects anyway).
	c.pidfd = pidfd_open(c.pid);
	if (c.pidfd < 0) {
		++stats_.refused_gone;
		refuse(fd, c,
		       "refused: the connecting process (pid " + std::to_string(c.pid) +
			       ") could not be checked: " + std::strerror(errno));
		return;
	}
	if (!refuse_if_governed(fd, c))
		c.admitted = true;
}

// True (and the caller told why) when an ltrack profile labels the process
// that connected.
bool control_server::refuse_if_governed(int fd, connection &c)
{
	uint32_t profile = labels_ ? labels_(c.pidfd) : 0;
	if (profile) {
		++stats_.refused_governed;
		if (may_log())
			spdlog::warn("control socket: refused a request from pid {} (uid 0): it is governed by ltrack "
				     "profile id {}, and a governed process may not control ltrack",
				     c.pid, profile);
		refuse(fd, c,
		       "permission denied: this process is governed by ltrack (profile id " + std::to_string(profile) +
			       "); a governed process may not control ltrackd");
		return true;
	}
	return false;
}

// Answers at once, then reads and discards what the caller still sends
// (bounded) until it closes or the deadline: closing with its request
// unread would reset the connection before the caller sees the answer.
void control_server::refuse(int fd, connection &c, const std::string &why)
{
	std::size_t refused =
		std::count_if(conns_.begin(), conns_.end(), [](const auto &kv) { return !kv.second.admitted; });
	if (refused > max_refused) {
		++stats_.shed;
		drop(fd);
		return;
	}
	c.admitted = false;
	c.state = phase::draining;
	c.deadline = std::min(c.deadline, clock::now() + control::request_reader::max_time);
	c.out = "error\n" + why + "\n";
	send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
	c.out.clear();
}

void control_server::on_ready(int fd, uint32_t events)
{
	auto it = conns_.find(fd);
	if (it == conns_.end())
		return;
	connection &c = it->second;
	if (c.state == phase::writing) {
		if (events & (EPOLLERR | EPOLLHUP))
			drop(fd);
		else
			write_out(fd, c);
		return;
	}
	if (c.state == phase::draining) {
		char buf[1024];
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			c.drained += n;
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || c.drained > drain_max)
			drop(fd);
		return;
	}
	read_request(fd, c);
}

void control_server::read_request(int fd, connection &c)
{
	char buf[1024];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(fd); // gone before a whole request
		return;
	}
	using st = control::request_reader::state;
	st s = c.reader.feed(std::string_view(buf, n), clock::now());
	if (s == st::reading)
		return;
	if (s != st::complete) {
		(s == st::too_large ? stats_.too_large : stats_.timed_out)++;
		if (may_log())
			spdlog::warn("control socket: closed a connection from pid {}: request {}", c.pid,
				     control::state_name(s));
		drop(fd);
		return;
	}
	// Again now: it may have executed a governed program since it connected.
	if (refuse_if_governed(fd, c))
		return;
	control_request req;
	req.fd = fd;
	req.uid = c.uid;
	req.pid = c.pid;
	result<std::vector<std::string>> fields = control::parse_request(c.reader.line());
	if (!fields) {
		respond(fd, false, fields.failure().error);
		return;
	}
	req.fields = std::move(*fields);
	++stats_.served;
	on_request_(req);
}

void control_server::respond(int fd, bool ok, std::string_view body)
{
	auto it = conns_.find(fd);
	if (it == conns_.end())
		return;
	connection &c = it->second;
	c.state = phase::writing;
	c.out += ok ? "ok\n" : "error\n"; // after any progress lines not yet sent
	c.out += body;
	if (!body.empty() && body.back() != '\n')
		c.out += '\n';
	// A reply has as long as a request to be taken: a reader that stops
	// loses it, the daemon does not wait.
	c.deadline = clock::now() + control::request_reader::max_time;
	write_out(fd, c);
}

void control_server::progress(int fd, std::string_view phase, std::string_view text)
{
	auto it = conns_.find(fd);
	if (it == conns_.end())
		return;
	connection &c = it->second;
	bool queued = !c.out.empty();
	c.out += control::format_progress(phase, text);
	if (queued)
		return; // behind what the socket did not take: keeps the order
	while (!c.out.empty()) {
		ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; // full or gone: respond's write_out finishes (or drops) it
		c.out.erase(0, n);
	}
}

void control_server::write_out(int fd, connection &c)
{
	while (!c.out.empty()) {
		ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			watch(fd, EPOLLOUT, false);
			return;
		}
		if (n <= 0)
			break;
		c.out.erase(0, n);
	}
	drop(fd);
}

int control_server::release(int fd)
{
	epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
	if (auto it = conns_.find(fd); it != conns_.end()) {
		if (it->second.pidfd >= 0)
			close(it->second.pidfd);
		conns_.erase(it);
	}
	return fd;
}

int control_server::expire()
{
	auto now = clock::now();
	int resume_ms = pause_.resume(epoll_, fd_.get(), now);
	expiry due = expired(conns_, now);
	for (int fd : due.late) {
		connection &c = conns_.at(fd);
		if (c.state == phase::reading) {
			++stats_.timed_out;
			if (may_log())
				spdlog::warn(
					"control socket: closed a connection from uid {} pid {}: no complete request "
					"within {} ms",
					c.uid, c.pid, control::request_reader::max_time.count());
		} else if (c.state == phase::writing) {
			++stats_.timed_out;
			if (may_log())
				spdlog::warn(
					"control socket: closed a connection from pid {}: it did not take its reply "
					"within {} ms",
					c.pid, control::request_reader::max_time.count());
		}
		drop(fd);
	}
	return min_wait(resume_ms, due.next_ms);
}

} // namespace ltrack
