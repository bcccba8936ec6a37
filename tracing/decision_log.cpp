#include "decision_log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace ltrack::tracing {

std::string apply_env_overrides(log_config &cfg)
{
	log_config next = cfg;
	if (const char *v = std::getenv("LTRACK_LOG_FORMAT"); v && *v) {
		std::optional<log_format> f = parse_format(v);
		if (!f)
			return std::string("LTRACK_LOG_FORMAT=\"") + v + "\" is not a log format; use json or text";
		next.format = *f;
	}
	if (const char *v = std::getenv("LTRACK_LOG_LEVEL"); v && *v) {
		std::optional<severity> s = parse_severity(v);
		if (!s)
			return std::string("LTRACK_LOG_LEVEL=\"") + v +
			       "\" is not a severity; use info, warn or critical (debug, warning and error are also accepted)";
		next.level = *s;
	}
	cfg = next;
	return "";
}

namespace {
bool has_file(const log_config &cfg)
{
	return !cfg.output_path.empty() && cfg.output_path != "-";
}
} // namespace

status check_config(const log_config &cfg)
{
	if (!has_file(cfg) && !cfg.foreground && !cfg.forward.enabled())
		return status::fail(
			"decision log: no output: set [log] output_path, journald or syslog, or run ltrackd in the "
			"foreground",
			EINVAL);
	if (has_file(cfg) && cfg.output_path.front() != '/')
		return status::fail("decision log: output_path \"" + cfg.output_path + "\" must be absolute", EINVAL);
	if (cfg.max_size_bytes == 0 && (cfg.max_size_mb == 0 || cfg.max_size_mb > (1ull << 20)))
		return status::fail("decision log: max_size " + std::to_string(cfg.max_size_mb) +
					    " MB is out of range; use 1 to 1048576",
				    EINVAL);
	return {};
}

result<std::unique_ptr<decision_log>> decision_log::open(const log_config &cfg)
{
	if (status s = check_config(cfg); !s.ok())
		return s;
	std::unique_ptr<decision_log> log(new decision_log());
	log->cfg_ = cfg;
	if (has_file(cfg)) {
		rotation_config rc;
		rc.path = cfg.output_path;
		rc.max_bytes = cfg.max_size_bytes ? cfg.max_size_bytes : cfg.max_size_mb << 20;
		rc.max_backups = cfg.max_backups;
		rc.max_age_days = cfg.max_age_days;
		rc.compress = cfg.compress;
		result<std::shared_ptr<rotating_file_sink>> file = rotating_file_sink::open(rc);
		if (!file)
			return file.failure();
		log->file_ = std::move(*file);
		// The file is written directly (rotating_file_sink::write_line),
		// not through a logger: no formatting of a formatted line.
		log->file_->set_pattern("%v");
	}
	if (cfg.foreground) {
		// Not registered in spdlog's registry: spdlog::set_level/set_pattern
		// calls for the operational log must not reach it.
		log->logger_ = std::make_shared<spdlog::logger>("ltrack.decisions",
								std::make_shared<spdlog::sinks::stdout_sink_mt>());
		log->logger_->set_pattern("%v");
		log->logger_->set_level(spdlog::level::trace);
		log->logger_->flush_on(spdlog::level::trace);
	}
	if (cfg.forward.enabled()) {
		log->forward_ = std::make_unique<log_forwarder>(cfg.forward);
	}
	return log;
}

decision_log::~decision_log()
{
	if (logger_)
		logger_->flush();
}

void decision_log::emit(const std::string &line)
{
	if (file_)
		file_->write_line(line);
	if (logger_)
		logger_->log(spdlog::level::info, "{}", line);
}

namespace {
int syslog_priority(severity s)
{
	switch (s) {
	case severity::critical: return 2; // LOG_CRIT
	case severity::warn: return 4;     // LOG_WARNING
	case severity::info: break;
	}
	return 6; // LOG_INFO
}
} // namespace

void decision_log::forward(std::string json, std::string text, severity level)
{
	forward_->send(std::move(json), std::move(text), syslog_priority(level));
}

template <class Record>
void decision_log::emit_record(const Record &r, severity level)
{
	if (!forward_) {
		emit(cfg_.format == log_format::json ? format_json(r) : format_text(r));
		return;
	}
	std::string json = format_json(r), text = format_text(r);
	emit(cfg_.format == log_format::json ? json : text);
	forward(std::move(json), std::move(text), level);
}

// Called with mu_ held: records journald or syslog did not get are a loss,
// said in the file (and to them, should they take it now) like any other;
// at most once a second, so a stalled journald does not double the file.
void decision_log::report_forward_loss()
{
	if (!forward_)
		return;
	uint64_t dropped = forward_->stats().dropped;
	if (dropped == reported_forward_drops_)
		return;
	auto now = std::chrono::steady_clock::now();
	if (now - forward_loss_said_ < std::chrono::seconds(1))
		return;
	forward_loss_said_ = now;
	// No message of the daemon's own here: it goes to journald too, which is
	// what may be stalled (a governed root process can SIGSTOP it), and this
	// runs on the event loop with mu_ held. The loss record says it.
	loss_record l;
	l.ts_boot_ns = boot_time_now_ns();
	l.time = format_rfc3339(l.ts_boot_ns, boot_to_realtime_offset_ns());
	l.source = loss_source::forward;
	l.count = dropped - reported_forward_drops_;
	reported_forward_drops_ = dropped;
	emit_record(l, severity::critical);
}

// Called with mu_ held after each emit: a record the file sink failed to
// write is a loss to report once writing works again.
void decision_log::account_write_errors()
{
	if (!file_)
		return;
	uint64_t now = file_->write_errors();
	if (now == seen_write_errors_)
		return;
	if (unreported_write_errors_ == 0)
		spdlog::error("decision log: writing {} failed; records are being lost", cfg_.output_path);
	counters_.write_errors += now - seen_write_errors_;
	unreported_write_errors_ += now - seen_write_errors_;
	seen_write_errors_ = now;
}

void decision_log::write(const decision_record &r)
{
	std::lock_guard lock(mu_);
	if (!enabled(r.level)) {
		counters_.below_level++;
		return;
	}
	if (unreported_write_errors_ > 0) {
		loss_record l;
		l.ts_boot_ns = boot_time_now_ns();
		l.time = format_rfc3339(l.ts_boot_ns, boot_to_realtime_offset_ns());
		l.source = loss_source::write_error;
		l.count = unreported_write_errors_;
		uint64_t before = file_->write_errors();
		emit_record(l, severity::critical);
		uint64_t after = file_->write_errors();
		if (after == before) {
			spdlog::info("decision log: writing {} works again after {} lost records", cfg_.output_path,
				     unreported_write_errors_);
			unreported_write_errors_ = 0;
		} else {
			// Still failing: an error, but not one more lost decision.
			counters_.write_errors += after - before;
			seen_write_errors_ = after;
		}
	}
	report_forward_loss();
	emit_record(r, r.level);
	counters_.written++;
	account_write_errors();
}

void decision_log::write_loss(uint64_t count, loss_source source)
{
	if (count == 0)
		return;
	std::lock_guard lock(mu_);
	loss_record l;
	l.ts_boot_ns = boot_time_now_ns();
	l.time = format_rfc3339(l.ts_boot_ns, boot_to_realtime_offset_ns());
	l.source = source;
	l.count = count;
	if (source == loss_source::ring_buffer)
		counters_.dropped += count;
	else if (source == loss_source::coalesced)
		counters_.coalesced += count;
	report_forward_loss();
	emit_record(l, source == loss_source::coalesced ? severity::info : severity::critical);
	account_write_errors();
}

void decision_log::write_stats(stats_window &window, uint32_t interval_s, const stats_window::totals &totals)
{
	std::lock_guard lock(mu_);
	uint64_t ts = boot_time_now_ns();
	std::string time = format_rfc3339(ts, boot_to_realtime_offset_ns());
	report_forward_loss();
	if (!forward_) {
		emit(cfg_.format == log_format::json ? window.take_json(ts, time, interval_s, totals)
						     : window.take_text(ts, time, interval_s, totals));
	} else {
		std::string text = window.take_text(ts, time, interval_s, totals, false);
		std::string json = window.take_json(ts, time, interval_s, totals);
		emit(cfg_.format == log_format::json ? json : text);
		forward(std::move(json), std::move(text), severity::info);
	}
	account_write_errors();
}

void decision_log::flush()
{
	if (logger_)
		logger_->flush();
}

decision_log::counters decision_log::stats() const
{
	std::lock_guard lock(mu_);
	counters c = counters_;
	if (file_)
		c.rotations = file_->rotations();
	if (forward_) {
		log_forwarder::counters f = forward_->stats();
		c.forwarded = f.sent;
		c.forward_dropped = f.dropped;
	}
	return c;
}

} // namespace ltrack::tracing
