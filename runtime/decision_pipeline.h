// From the ring buffer to the operator: each ltrack_event is joined with its
// process (tracing/process_cache), its rule's origin in the policy and the
// scanner's findings, then written to the decision log, published to
// subscribers (ltrackctl run's stream and summary, ltrackd's `events
// --follow` clients: policyd/event_stream.h), kept in a bounded history for
// `ltrackctl events`, and counted.
#pragma once

#include "bpf_guard.h"
#include "compiled_policy.h"
#include "decision_log.h"
#include "filter.h"
#include "metrics.h"
#include "process_cache.h"
#include "record.h"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ltrack {

class policy_state;
class model_watch;

class decision_pipeline {
public:
	// (Re)opens the decision log from the policy's [log] table, the
	// environment (LTRACK_LOG_*) and the command line; on error the
	// previous log stays.
	std::string configure(const policy::compiled_policy *p, const std::string &path_override, bool foreground);
	// The policy now live in a slot: records decided by that slot are named
	// from its symbols (the other slot's policy stays for records in flight).
	void on_policy_applied(uint32_t slot, std::shared_ptr<const policy::compiled_policy> p);
	void on_event(const ltrack_event &e, const model_watch &models);
	// Every record, once decided and logged, to f, in the order received.
	using subscriber = std::function<void(const tracing::decision_record &)>;
	void subscribe(subscriber f) { subscribers_.push_back(std::move(f)); }
	// Reports ring-buffer drops (and fail-closed walk limits) as they grow.
	void on_counters(const counters &c);
	void flush();
	// Realtime minus boottime for the records' times (tests pin it; the
	// daemon reads the clocks).
	void set_boot_offset(int64_t ns) { boot_offset_ = ns; }

	// scans: model_watch::scans_by_verdict() (the daemon's watcher).
	std::string stats_text(bool json, const std::map<std::string, uint64_t> &scans) const;
	// The metrics from the very counters stats_text prints (metrics.h).
	void fill(metrics::snapshot &s) const;
	// A reload (accepted or rejected) and how long it took.
	void on_reload(bool accepted, double seconds) { reloads_.add(accepted, seconds); }
	// Fed by the process tracepoints (tracing/process_tracer.h).
	tracing::process_cache &processes() { return procs_; }
	uint64_t ringbuf_drops() const { return drops_seen_; }
	uint64_t decisions() const { return decisions_; } // records received
	uint64_t attempts() const { return attempts_; }   // decisions they stand for (sum of counts)

	// The most recent records (at most recent_max), oldest first.
	static constexpr std::size_t recent_max = 4096;
	const std::deque<tracing::decision_record> &recent() const { return recent_; }
	// `ltrackctl export --provenance`: the recent records filter matches as
	// a graph; parents that made no decision are dated from the process cache.
	std::string provenance_text(const tracing::event_filter &filter);

private:
	// A rule's origin in the policy of a slot, and the name of its by_rule_
	// counter ("" for rule id 0, whose name depends on the record).
	struct origin_entry {
		tracing::rule_origin origin;
		std::string rule_key;
	};
	const origin_entry &origin_of(const ltrack_event &e);
	void rule_origin_of(uint32_t slot, const ltrack_event &e, tracing::rule_origin &origin) const;
	void set_stats_interval(uint32_t seconds);
	void write_due_stats();

	std::shared_ptr<const policy::compiled_policy> by_slot_[2];
	// By slot: (rule id << 32 | profile id) -> origin, until the slot's policy changes.
	std::unordered_map<uint64_t, origin_entry> origins_[2];
	std::unique_ptr<tracing::decision_log> log_;
	tracing::log_config log_cfg_;
	tracing::process_cache procs_;
	std::deque<tracing::decision_record> recent_;
	std::vector<subscriber> subscribers_;
	int64_t boot_offset_ = tracing::boot_to_realtime_offset_ns();

	uint64_t decisions_ = 0, attempts_ = 0, drops_seen_ = 0, walk_limits_seen_ = 0, disconnected_seen_ = 0,
		 tamper_seen_ = 0;
	// (hook, outcome, profile): by hook, by outcome and by profile are its sums.
	std::map<std::tuple<std::string, std::string, std::string>, uint64_t> by_decision_;
	std::map<std::string, uint64_t> by_rule_;
	metrics::reload_stats reloads_;
	// [log] stats_interval: the window of the next "stats" record.
	tracing::stats_window stats_window_;
	uint32_t stats_interval_s_ = 0;
	std::chrono::steady_clock::time_point stats_due_{};
};

} // namespace ltrack
