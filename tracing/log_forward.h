// The decision log's other outputs: journald (one field per record field,
// through libsystemd's sd_journal_sendv) and syslog (libc's openlog and
// syslog(3), the local /dev/log datagram format). Both block when the
// receiver does not keep up, so they run on a thread of their own behind a
// bounded queue: send() never waits, and a record the queue has no room for
// is counted as dropped (and reported by a "forward" loss record), never
// allowed to stall the daemon's event loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace ltrack::tracing {

struct forward_config {
	bool journald = false;
	bool syslog = false;
	int syslog_facility = 3 << 3;       // LOG_DAEMON
	bool syslog_json = true;            // the record as JSON (else the text line) as the syslog message
	size_t queue_max = 4096;            // records waiting for the thread
	size_t queue_max_bytes = 32u << 20; // and their bytes: one record can be ~250 KB
	bool enabled() const { return journald || syslog; }
};

// "daemon", "user", "auth", "authpriv", "local0" ... "local7" -> LOG_*; -1 if unknown.
int parse_syslog_facility(const std::string &name);

class log_forwarder {
public:
	struct counters {
		uint64_t sent = 0;    // deliveries (a record to two outputs counts twice)
		uint64_t dropped = 0; // deliveries lost: queue full or the send failed
	};
	explicit log_forwarder(const forward_config &cfg);
	// Waits up to 2 s for the queue to drain; a thread still blocked in a send
	// after that is left to finish on its own (its state is shared, not ours).
	~log_forwarder();

	// Never blocks. json is the record as format_json writes it, text as
	// format_text writes it (journald's MESSAGE), priority a syslog severity
	// (LOG_CRIT, LOG_WARNING, LOG_INFO).
	void send(std::string json, std::string text, int priority);
	counters stats() const;
	const forward_config &config() const;

	struct state;

private:
	std::shared_ptr<state> st_;
};

} // namespace ltrack::tracing
