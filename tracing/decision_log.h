// The decision log: records at or above the configured severity, in the
// configured format, to a rotating file and (in the foreground) stdout,
// and ([log] journald, syslog) to journald or syslog.
// It has its own spdlog logger, never registered, so the daemon's
// operational log (the default logger) and the decision log stay apart.
#pragma once

#include "log_forward.h"
#include "periodic_stats.h"
#include "record.h"
#include "record_format.h"
#include "rotating_file_sink.h"

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace ltrack::tracing {

struct log_config {
	severity level = severity::info; // minimum severity written
	log_format format = log_format::json;
	std::string output_path = "/var/log/ltrack/decisions.log"; // "" or "-": no file
	uint64_t max_size_mb = 100;
	uint32_t max_age_days = 30; // 0 = keep regardless of age
	uint32_t max_backups = 10;  // 0 = no limit
	bool compress = true;
	bool foreground = false;     // also to stdout
	uint64_t max_size_bytes = 0; // overrides max_size_mb when non-zero (tests)
	forward_config forward;      // [log] journald, syslog, syslog_facility
};

// LTRACK_LOG_FORMAT (json|text) and LTRACK_LOG_LEVEL (a severity name)
// override the policy's values. Returns "" or the error, naming the variable,
// the bad value and the accepted ones; cfg is untouched on error.
std::string apply_env_overrides(log_config &cfg);
// What is wrong with cfg and how to fix it, if anything.
status check_config(const log_config &cfg);

class decision_log {
public:
	struct counters {
		uint64_t written = 0;     // decision records written
		uint64_t below_level = 0; // decision records under the configured severity
		uint64_t dropped = 0;     // reported by write_loss(ring_buffer)
		uint64_t coalesced = 0;   // reported by write_loss(coalesced)
		uint64_t write_errors = 0;
		uint64_t rotations = 0;
		uint64_t forwarded = 0;       // records delivered to journald or syslog (per output)
		uint64_t forward_dropped = 0; // records journald or syslog did not get (queue full, send failed)
	};

	// Fails with check_config's reason or the file's.
	static result<std::unique_ptr<decision_log>> open(const log_config &cfg);
	~decision_log();

	// Whether a record of this severity would be written: lets the caller
	// skip enriching records nobody will read.
	bool enabled(severity s) const { return s >= cfg_.level; }
	void write(const decision_record &r);
	// Loss is never silent: one record saying count records were dropped
	// (ring buffer full) or coalesced, written whatever the level.
	void write_loss(uint64_t count, loss_source source);
	// The periodic "stats" record ([log] stats_interval) for the interval
	// window holds, whatever the level; window starts afresh.
	void write_stats(stats_window &window, uint32_t interval_s, const stats_window::totals &totals);
	void flush();

	counters stats() const;
	const log_config &config() const { return cfg_; }
	// The file sink, for tests (nullptr without a file).
	rotating_file_sink *file_sink() const { return file_.get(); }

private:
	decision_log() = default;
	void emit(const std::string &line);
	// A record to the file/stdout in the configured format, and to journald
	// and syslog.
	template <class Record>
	void emit_record(const Record &r, severity level);
	void forward(std::string json, std::string text, severity level);
	void account_write_errors();
	void report_forward_loss();

	log_config cfg_;
	std::shared_ptr<rotating_file_sink> file_;
	std::shared_ptr<spdlog::logger> logger_;
	std::unique_ptr<log_forwarder> forward_;
	uint64_t reported_forward_drops_ = 0;
	std::chrono::steady_clock::time_point forward_loss_said_{};
	mutable std::mutex mu_; // counters and pending loss, across the daemon's threads
	counters counters_;
	uint64_t seen_write_errors_ = 0;
	uint64_t unreported_write_errors_ = 0;
};

} // namespace ltrack::tracing
