// ltrackd's end of the report socket: the one ltrack socket a governed
// process may reach (lsm/self.bpf.c and lsm/net.bpf.c let it connect; the
// control socket stays refused). Governed Python interpreters report their
// audit events here (report_protocol.h); each becomes a decision record,
// hook "python".
//
// Who sent a report is never taken from the report: at accept, the peer's
// pid (SO_PEERCRED, or the kernel's own pidfd via SO_PEERPIDFD on 6.5+)
// becomes a pidfd, and the process's ltrack profile is read from its task
// label through it (bpf_guard::task_profile), again for every message. The
// mode is the profile's mode in the live policy; the verdict of a
// find_class is decided here with the scanner's list. A process that is
// not governed is answered "ungoverned" and nothing it sends is recorded.
//
// A client can never stall the daemon: every socket is non-blocking; a
// connection is read at most read_burst messages per wake-up and
// rate_per_s per second (then it is not watched until the next tick: its
// own sends block, not ltrackd); identical reports within a second are
// coalesced into one record with a count (like lsm/record.bpf.c), with at
// most max_keys distinct pending ones per connection (the rest are dropped
// and counted); a reply the client does not take is dropped (the hook then
// fails closed on its side); at most max_connections are open.
#pragma once

#include "libbpf_call.h"
#include "report_protocol.h"

#include <abi.h>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace ltrack {

class report_server {
public:
	using clock = std::chrono::steady_clock;
	struct profile_view {
		uint32_t mode = LTRACK_MODE_ENFORCE; // enum ltrack_mode, never INHERIT
		uint32_t slot = 0;                   // the live policy slot (names the profile in the log)
	};
	using label_reader = std::function<uint32_t(int pidfd)>;
	using mode_reader = std::function<profile_view(uint32_t profile)>;
	using record_sink = std::function<void(const ltrack_event &)>;

	static constexpr std::size_t max_connections = 1024;
	static constexpr unsigned read_burst = 32;
	static constexpr unsigned rate_per_s = 200;
	static constexpr std::size_t max_keys = 64;

	struct counters {
		uint64_t connections = 0, governed = 0, ungoverned = 0, records = 0, coalesced = 0, dropped = 0,
			 malformed = 0, throttled = 0, shed = 0, replies_lost = 0;
	};

	~report_server();
	// Listens on path (mode 0666: any process may report; who it is, is
	// decided by its label) and adds the socket to epoll_fd.
	status listen(const std::string &path, int epoll_fd, label_reader labels, mode_reader modes,
		      record_sink sink);
	int fd() const { return fd_; }
	const std::string &path() const { return path_; }
	bool owns(int fd) const { return conns_.count(fd) != 0; }
	void on_listen_ready();
	void on_ready(int fd, uint32_t events);
	// The 1 s tick: sends the counts of coalesced reports whose window
	// ended, watches throttled connections again.
	void tick();
	const counters &stats() const { return stats_; }

private:
	struct pending {
		clock::time_point window;
		uint64_t count = 0; // repeats since the window's first record
		ltrack_event first{};
	};
	struct connection {
		int pidfd = -1;
		pid_t pid = 0;
		uint32_t uid = 0, gid = 0, ppid = 0;
		char comm[LTRACK_COMM_LEN] = {};
		unsigned read_this_second = 0;
		bool throttled = false;
		std::map<std::string, pending> keys;
	};

	void handle(int fd, connection &c, std::string_view bytes);
	void record(connection &c, const report::message &m, uint32_t profile, const profile_view &v,
		    uint8_t action, uint8_t outcome);
	void reply(int fd, std::string_view text);
	void flush(connection &c, bool all);
	void drop(int fd);
	bool may_log();

	int fd_ = -1, epoll_ = -1;
	std::string path_;
	label_reader labels_;
	mode_reader modes_;
	record_sink sink_;
	std::map<int, connection> conns_;
	counters stats_;
	clock::time_point log_second_{};
	int logged_ = 0;
};

} // namespace ltrack
