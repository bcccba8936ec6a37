// Metrics for Prometheus ([metrics] in the policy): the text exposition
// format 0.0.4, served on a local TCP port (GET /metrics) and/or written
// for node_exporter's textfile collector.
//
// There is no counter here: a snapshot is filled from the same members
// `ltrackctl stats` prints (decision_pipeline, model_watch), at the moment
// it is asked for, so the two never disagree.
//
// The server is on the daemon's event loop and never waits for a client:
// non-blocking sockets, a request of at most 4 KiB read within 2 s of
// accept, the answer written as the socket takes it within the same
// deadline, at most 16 connections (more are closed at accept and
// counted). Any local user can connect to a loopback port, so the worst a
// local user can do is keep scrapes from being answered, never hold the
// daemon.
#pragma once

#include "libbpf_call.h"
#include "listen_pause.h"
#include "unique_fd.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace ltrack::metrics {

// Label values: backslash, double quote and line feed escaped (\\, \", \n).
void escape_label(std::string &out, std::string_view v);
// HELP text: backslash and line feed escaped.
void escape_help(std::string &out, std::string_view v);

// Writes families one after another: HELP and TYPE once, then samples.
class exposition {
public:
	void family(std::string_view name, std::string_view type, std::string_view help);
	// labels: name/value pairs; names are the caller's constants.
	void sample(std::string_view name, const std::vector<std::pair<std::string_view, std::string_view>> &labels,
		    double value);
	void sample(std::string_view name, const std::vector<std::pair<std::string_view, std::string_view>> &labels,
		    uint64_t value);
	const std::string &text() const { return out_; }

private:
	void head(std::string_view name, const std::vector<std::pair<std::string_view, std::string_view>> &labels);
	std::string out_;
};

// Reload durations: a histogram with fixed buckets, the last one and counts.
struct reload_stats {
	static constexpr std::array<double, 9> bounds{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}; // seconds
	std::array<uint64_t, bounds.size()> buckets{}; // not cumulative: [i] counts d <= bounds[i] and > bounds[i-1]
	uint64_t ok = 0, rejected = 0;
	double sum_s = 0, last_s = 0;
	void add(bool accepted, double seconds);
	uint64_t count() const { return ok + rejected; }
};

struct snapshot {
	// (hook, outcome, profile) -> decisions (a coalesced record counts all it stands for)
	std::map<std::tuple<std::string, std::string, std::string>, uint64_t> decisions;
	uint64_t records = 0;
	uint64_t ringbuf_drops = 0;
	uint64_t walk_limit_denials = 0;       // fail closed: path deeper than the walk limit
	uint64_t disconnected_denials = 0;     // fail closed: no path (a disconnected dentry)
	uint64_t tamper_refusals = 0;          // attempts on ltrack itself refused (or would be, in audit)
	std::map<std::string, uint64_t> scans; // verdict -> model files scanned
	reload_stats reloads;
	uint64_t log_forwarded = 0, log_forward_dropped = 0; // [log] journald, syslog
	// The endpoint's own counters.
	uint64_t http_served = 0, http_rejected = 0, http_timed_out = 0, http_shed = 0;
};

// The whole exposition of a snapshot (ends with a newline).
std::string render(const snapshot &s);

// The endpoint. fill() is asked for a fresh snapshot on each request.
class server {
public:
	using clock = std::chrono::steady_clock;
	static constexpr std::size_t max_connections = 16;
	static constexpr int accept_burst = 64; // per wake-up
	static constexpr std::size_t max_request = 4096;
	static constexpr std::chrono::milliseconds deadline{2000};

	struct counters {
		uint64_t served = 0, rejected = 0, timed_out = 0, shed = 0;
	};

	~server();
	// Binds addr ("127.0.0.1:9464", as validated by the policy compiler)
	// and adds the socket to epoll_fd.
	status listen(const std::string &addr, int epoll_fd, std::function<std::string()> body);
	void close_all();
	const std::string &address() const { return addr_; }
	int fd() const { return fd_.get(); }
	bool owns(int fd) const { return conns_.count(fd) != 0; }
	void on_listen_ready();
	void on_ready(int fd, uint32_t events);
	// Closes connections past their deadline; ms to the next one (-1: none).
	int expire();
	const counters &stats() const { return stats_; }

	// The answer to a complete request head (exposed for the unit tests):
	// 200 with the body for GET /metrics, else 404, 405 or 400.
	static std::string answer(std::string_view head, const std::function<std::string()> &body);

private:
	struct connection {
		std::string in, out;
		bool writing = false;
		clock::time_point deadline;
	};
	void drop(int fd);
	void write_out(int fd, connection &c);

	unique_fd fd_;
	int epoll_ = -1;
	std::string addr_;
	std::function<std::string()> body_;
	std::map<int, connection> conns_;
	counters stats_;
	listen_pause pause_;
};

// Writes text to path atomically: a new file beside it (never following a
// symlink), then rename. Returns an error message, empty on success.
std::string write_textfile(const std::string &path, const std::string &text);

} // namespace ltrack::metrics
