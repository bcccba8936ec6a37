// ltrackd's end of the control socket, on the daemon's event loop: every
// connection is a small state machine on a non-blocking socket, so no caller
// can hold the loop (the decision pipeline, the scanner, other callers).
//
// Who is served is decided at accept, before a byte is read:
// - the peer's uid (SO_PEERCRED) must be 0, for every command: the read-only
//   ones show decision records (paths, command lines of other users'
//   processes) and the policy, which are not for unprivileged users;
// - the peer must carry no ltrack profile label (read through a pidfd of
//   the SO_PEERCRED pid): a governed process, even as root, may not switch
//   ltrack off. Under `all = true` a process without a label of its own is
//   not refused here (that would lock the administrator out); see
//   docs/operations.md. The label is checked again when the request is
//   complete: a process that connected and then executed a governed
//   program is refused too.
// A refused caller is told why and its connection drained (read and
// discarded, bounded) so its send does not fail before it reads the answer.
// An admitted request line is read within control::request_reader's bounds
// (4 KiB, 2 s from accept); the reply is written as the socket takes it,
// within the same kind of deadline.
#pragma once

#include "control_protocol.h"
#include "libbpf_call.h"
#include "listen_pause.h"
#include "unique_fd.h"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ltrack {

struct control_request {
	int fd = -1; // the connection: answer it with control_server::respond
	uint32_t uid = 0;
	pid_t pid = 0;                   // SO_PEERCRED: the process that connected
	std::vector<std::string> fields; // command and arguments
};

class control_server {
public:
	using clock = std::chrono::steady_clock;
	// The ltrack profile labelling a process (by pidfd), 0 if none.
	using label_reader = std::function<uint32_t(int pidfd)>;
	using request_handler = std::function<void(control_request &)>;

	struct counters {
		uint64_t served = 0;
		uint64_t refused_uid = 0;      // not root
		uint64_t refused_governed = 0; // carries an ltrack label
		uint64_t refused_gone = 0;     // exited before it could be checked
		uint64_t timed_out = 0;        // no full request (or reply not taken) in time
		uint64_t too_large = 0;
		uint64_t shed = 0; // closed at once: too many connections open
	};

	~control_server();
	// Listens on path (mode 0666: a non-root caller gets a clear refusal,
	// not EACCES) and adds the socket to epoll_fd.
	status listen(const std::string &path, int epoll_fd, label_reader labels, request_handler on_request);
	int fd() const { return fd_.get(); }
	bool paused() const { return pause_.paused(); }
	bool owns(int fd) const { return conns_.count(fd) != 0; }

	// Accepts up to accept_burst pending connections; out of descriptors
	// (EMFILE), the listener is not watched for listen_pause::pause.
	static constexpr int accept_burst = 64;
	void on_listen_ready();
	void on_ready(int fd, uint32_t events); // a connection's epoll events
	// Closes connections past their deadline; returns the milliseconds to
	// the next deadline (-1: none), the event loop's epoll timeout.
	int expire();

	// Queues the reply; the connection closes once it is written (or at its
	// deadline).
	void respond(int fd, bool ok, std::string_view body);
	// Before respond: one progress line (control::format_progress), sent
	// at once if the socket takes it, else queued ahead of the reply.
	// Never waits: a client that does not read gets it with the reply.
	void progress(int fd, std::string_view phase, std::string_view text);
	// Hands the connection over (`events --follow`): no longer watched or
	// closed by the server. Returns the fd.
	int release(int fd);

	const counters &stats() const { return stats_; }

private:
	enum class phase { reading, writing, draining };
	struct connection {
		control::request_reader reader;
		phase state = phase::reading;
		std::string out;
		std::size_t drained = 0;
		clock::time_point deadline;
		uint32_t uid = 0;
		pid_t pid = 0;
		int pidfd = -1; // the connecting process, held from accept to the request
		bool admitted = false;
	};

	void admit(int fd, connection &c);
	bool refuse_if_governed(int fd, connection &c);
	void refuse(int fd, connection &c, const std::string &why);
	void read_request(int fd, connection &c);
	void write_out(int fd, connection &c);
	void watch(int fd, uint32_t events, bool add);
	bool may_log();
	void drop(int fd);

	unique_fd fd_;
	int epoll_ = -1;
	std::string path_;
	label_reader labels_;
	request_handler on_request_;
	std::map<int, connection> conns_;
	counters stats_;
	listen_pause pause_;
	// Refusals logged in the current second (a caller that opens thousands
	// of connections must not flood the daemon's own log).
	clock::time_point log_second_{};
	int logged_ = 0;
	uint64_t unlogged_ = 0;
};

} // namespace ltrack
