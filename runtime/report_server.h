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
// fails closed on its side).
//
// Nor can a client take the daemon's descriptors (each connection costs
// two: the socket and the pidfd): at most max_connections are open, at most
// max_per_uid of one uid (an unprivileged user cannot fill the rest); an
// ungoverned process's connection is closed right after its answer; a
// connection with no message for idle_timeout is closed (the hook connects
// again on its next report); at most accept_burst are accepted per wake-up,
// and an accept that fails for want of descriptors stops watching the
// socket for a moment (listen_pause.h) instead of spinning the loop. Across
// all connections at most records_per_s new records a second go to the log;
// the rest are dropped, counted (over_budget) and logged once a second.
#pragma once

#include "libbpf_call.h"
#include "listen_pause.h"
#include "unique_fd.h"
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

	static constexpr std::size_t max_connections = 256;
	static constexpr std::size_t max_per_uid = 32;
	static constexpr int accept_burst = 64;
	static constexpr std::chrono::seconds idle_timeout{30};
	static constexpr uint64_t records_per_s = 1000;
	static constexpr unsigned read_burst = 32;
	static constexpr unsigned rate_per_s = 200;
	static constexpr std::size_t max_keys = 64;

	struct counters {
		uint64_t connections = 0, governed = 0, ungoverned = 0, records = 0, coalesced = 0, dropped = 0,
			 malformed = 0, throttled = 0, shed = 0, replies_lost = 0;
		uint64_t shed_uid = 0;    // refused at accept: its uid has max_per_uid open
		uint64_t idle_closed = 0; // closed after idle_timeout without a message
		uint64_t over_budget = 0; // dropped: more than records_per_s in a second, all connections
		uint64_t paused = 0;      // accept failed for want of descriptors: not watched for a moment
	};

	~report_server();
	// Listens on path (mode 0666: any process may report; who it is, is
	// decided by its label) and adds the socket to epoll_fd.
	status listen(const std::string &path, int epoll_fd, label_reader labels, mode_reader modes, record_sink sink);
	int fd() const { return fd_.get(); }
	const std::string &path() const { return path_; }
	bool owns(int fd) const { return conns_.count(fd) != 0; }
	void on_listen_ready();
	void on_ready(int fd, uint32_t events);
	// The 1 s tick: sends the counts of coalesced reports whose window
	// ended, watches throttled connections (and a paused listener) again,
	// closes idle connections. now: for the tests.
	void tick(clock::time_point now = clock::now());
	const counters &stats() const { return stats_; }
	std::size_t open_connections() const { return conns_.size(); }
	bool paused() const { return pause_.paused(); }

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
		clock::time_point last; // accept or the last message
		bool throttled = false;
		std::map<std::string, pending> keys;
	};

	void handle(int fd, connection &c, std::string_view bytes);
	void record(connection &c, const report::message &m, uint32_t profile, const profile_view &v, uint8_t action,
		    uint8_t outcome);
	void reply(int fd, std::string_view text);
	void flush(connection &c, bool all);
	void drop(int fd);
	bool may_log();

	unique_fd fd_;
	int epoll_ = -1;
	std::string path_;
	label_reader labels_;
	mode_reader modes_;
	record_sink sink_;
	std::map<int, connection> conns_;
	std::map<uint32_t, std::size_t> per_uid_;
	uint64_t budget_used_ = 0, over_budget_unlogged_ = 0;
	listen_pause pause_;
	counters stats_;
	clock::time_point log_second_{};
	int logged_ = 0;
};

} // namespace ltrack
