#include "decision_pipeline.h"

#include "model_watch.h"
#include "provenance.h"
#include "record_format.h"

#include <spdlog/spdlog.h>

namespace ltrack {
namespace {

std::string json_counts(const std::map<std::string, uint64_t> &m)
{
	std::string out = "{";
	for (const auto &[k, v] : m) {
		if (out.size() > 1)
			out += ",";
		out += "\"";
		json_escape(out, k);
		out += "\":" + std::to_string(v);
	}
	return out + "}";
}

std::string text_counts(const char *title, const std::map<std::string, uint64_t> &m)
{
	std::string out = std::string(title) + ":\n";
	if (m.empty())
		out += "  (none)\n";
	for (const auto &[k, v] : m)
		out += fmt::format("  {:>10}  {}\n", v, k);
	return out;
}

} // namespace

std::string decision_pipeline::configure(const policy::compiled_policy *p, const std::string &path_override,
					 bool foreground)
{
	tracing::log_config cfg;
	if (p) {
		const auto &l = p->log;
		auto level = tracing::parse_severity(l.level);
		auto format = tracing::parse_format(l.format);
		if (!level)
			return "[log].level '" + l.level + "' is not a severity (info, warn, critical)";
		if (!format)
			return "[log].format '" + l.format + "' is not json or text";
		cfg.level = *level;
		cfg.format = *format;
		cfg.output_path = l.output_path;
		cfg.max_size_mb = l.max_size_mb;
		cfg.max_age_days = l.max_age_days;
		cfg.max_backups = l.max_backups;
		cfg.compress = l.compress;
		cfg.forward.journald = l.journald;
		cfg.forward.syslog = l.syslog;
		if (int f = tracing::parse_syslog_facility(l.syslog_facility); f >= 0)
			cfg.forward.syslog_facility = f;
		cfg.forward.syslog_json = cfg.format == tracing::log_format::json;
	}
	if (!path_override.empty())
		cfg.output_path = path_override == "-" ? "" : path_override;
	cfg.foreground = foreground;
	if (std::string err = tracing::apply_env_overrides(cfg); !err.empty())
		return err;
	if (log_ && cfg.level == log_cfg_.level && cfg.format == log_cfg_.format &&
	    cfg.output_path == log_cfg_.output_path && cfg.max_size_mb == log_cfg_.max_size_mb &&
	    cfg.max_age_days == log_cfg_.max_age_days && cfg.max_backups == log_cfg_.max_backups &&
	    cfg.compress == log_cfg_.compress && cfg.foreground == log_cfg_.foreground &&
	    cfg.forward.journald == log_cfg_.forward.journald && cfg.forward.syslog == log_cfg_.forward.syslog &&
	    cfg.forward.syslog_facility == log_cfg_.forward.syslog_facility &&
	    cfg.forward.syslog_json == log_cfg_.forward.syslog_json) {
		set_stats_interval(p ? p->log.stats_interval_s : 0);
		return {}; // unchanged: keep the open log (and its rotation state)
	}
	auto log = tracing::decision_log::open(cfg);
	if (!log)
		return log.failure().error;
	if (log_)
		log_->flush();
	log_ = std::move(*log);
	log_cfg_ = cfg;
	set_stats_interval(p ? p->log.stats_interval_s : 0);
	return {};
}

void decision_pipeline::set_stats_interval(uint32_t seconds)
{
	if (seconds == stats_interval_s_)
		return;
	stats_interval_s_ = seconds;
	stats_due_ = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
}

// From the 1 s tick: the "stats" record once its interval has passed.
void decision_pipeline::write_due_stats()
{
	auto now = std::chrono::steady_clock::now();
	if (stats_interval_s_ == 0 || !log_ || now < stats_due_)
		return;
	log_->write_stats(stats_window_, stats_interval_s_, {attempts_, drops_seen_});
	stats_due_ = now + std::chrono::seconds(stats_interval_s_);
}

void decision_pipeline::on_policy_applied(uint32_t slot, std::shared_ptr<const policy::compiled_policy> p)
{
	by_slot_[slot & 1] = std::move(p);
	origins_[slot & 1].clear();
}

const decision_pipeline::origin_entry &decision_pipeline::origin_of(const ltrack_event &e)
{
	uint32_t slot = (e.flags & LTRACK_EV_SLOT1) ? 1 : 0;
	uint64_t key = uint64_t(e.rule_id) << 32 | e.profile;
	auto [it, fresh] = origins_[slot].try_emplace(key);
	origin_entry &o = it->second;
	if (!fresh)
		return o;
	rule_origin_of(slot, e, o.origin);
	if (e.rule_id)
		o.rule_key = fmt::format("#{} {}:{} {}", e.rule_id, o.origin.file, o.origin.line, o.origin.text);
	return o;
}

void decision_pipeline::rule_origin_of(uint32_t slot, const ltrack_event &e, tracing::rule_origin &origin) const
{
	origin.rule_id = e.rule_id;
	if (const policy::compiled_policy *p = by_slot_[slot].get()) {
		if (const auto *sym = p->symbol(e.rule_id)) {
			origin.profile = sym->profile;
			origin.file = sym->file;
			origin.line = sym->line;
			origin.column = sym->column;
			origin.text = sym->text;
		}
		if (origin.profile.empty())
			if (const auto *prof = p->find_profile(e.profile))
				origin.profile = prof->name;
	}
}

void decision_pipeline::on_event(const ltrack_event &e, const model_watch &models)
{
	++decisions_;
	// The rule's origin and its by-rule counter's name: once per rule and
	// profile of a policy slot, not per record.
	const origin_entry &o = origin_of(e);
	tracing::model_info model;
	if (e.hook == LTRACK_HOOK_MODEL)
		if (const model_finding *f = models.find(e.dev, e.ino))
			model.imports = f->result.deciding;

	// One record may stand for several identical decisions (abi.h,
	// "coalescing"): every count below is of decisions, not records.
	tracing::decision_record r =
		tracing::make_record(e, procs_.lookup_shared(e.pid, e.ts_ns), o.origin, model, e.count, boot_offset_);
	attempts_ += r.count;

	by_decision_[{tracing::hook_name(r.hook), tracing::outcome_name(r.outcome),
		      o.origin.profile.empty() ? std::to_string(e.profile) : o.origin.profile}] += r.count;
	if (e.rule_id)
		by_rule_[o.rule_key] += r.count;
	else
		by_rule_[r.builtin.empty() ? "(profile default)" : "(built-in " + r.builtin + ")"] += r.count;

	if (stats_interval_s_)
		stats_window_.add(r);
	if (log_ && log_->enabled(r.level))
		log_->write(r);
	for (const auto &f : subscribers_)
		f(r);
	recent_.push_back(std::move(r));
	if (recent_.size() > recent_max)
		recent_.pop_front();
}

void decision_pipeline::on_counters(const counters &c)
{
	uint64_t drops = c.values[LTRACK_CNT_RINGBUF_DROPS];
	if (drops > drops_seen_) {
		if (log_)
			log_->write_loss(drops - drops_seen_, tracing::loss_source::ring_buffer);
		spdlog::warn("{} decision records were dropped: the ring buffer was full", drops - drops_seen_);
		drops_seen_ = drops;
	}
	uint64_t walks = c.values[LTRACK_CNT_WALK_LIMIT];
	if (walks > walk_limits_seen_) {
		spdlog::warn("{} opens or execs were denied because their path was deeper than {} levels",
			     walks - walk_limits_seen_, LTRACK_MAX_WALK);
		walk_limits_seen_ = walks;
	}
	uint64_t cut = c.values[LTRACK_CNT_DISCONNECTED];
	if (cut > disconnected_seen_) {
		spdlog::warn("{} opens, execs, links or renames were denied because their object's path was unknown "
			     "(a disconnected dentry, as open_by_handle_at makes)",
			     cut - disconnected_seen_);
		disconnected_seen_ = cut;
	}
	tamper_seen_ = std::max(tamper_seen_, c.values[LTRACK_CNT_TAMPER]);
	procs_.expire();
	write_due_stats();
}

void decision_pipeline::flush()
{
	if (log_)
		log_->flush();
}

std::string decision_pipeline::provenance_text(const tracing::event_filter &filter)
{
	std::vector<tracing::decision_record> selected;
	for (const auto &r : recent_)
		if (tracing::matches(filter, r))
			selected.push_back(r);
	tracing::provenance_options opt;
	opt.boot_id = tracing::read_boot_id();
	opt.start_of = [this](uint32_t pid, uint64_t at) { return procs_.lookup(pid, at).start_boot_ns; };
	std::string out;
	for (const auto &line : tracing::provenance_graph(selected, opt))
		out += line + "\n";
	return out;
}

void decision_pipeline::fill(metrics::snapshot &s) const
{
	s.decisions = by_decision_;
	s.records = decisions_;
	s.ringbuf_drops = drops_seen_;
	s.walk_limit_denials = walk_limits_seen_;
	s.disconnected_denials = disconnected_seen_;
	s.tamper_refusals = tamper_seen_;
	s.reloads = reloads_;
	if (log_) {
		tracing::decision_log::counters lc = log_->stats();
		s.log_forwarded = lc.forwarded;
		s.log_forward_dropped = lc.forward_dropped;
	}
}

std::string decision_pipeline::stats_text(bool json, const std::map<std::string, uint64_t> &scans) const
{
	tracing::decision_log::counters lc{};
	if (log_)
		lc = log_->stats();
	std::map<std::string, uint64_t> by_hook, by_profile, by_outcome;
	for (const auto &[k, n] : by_decision_) {
		by_hook[std::get<0>(k)] += n;
		by_outcome[std::get<1>(k)] += n;
		by_profile[std::get<2>(k)] += n;
	}
	if (json)
		return fmt::format(
			"{{\"decisions\":{},\"records\":{},\"ringbuf_drops\":{},\"walk_limit_denials\":{},"
			"\"disconnected_denials\":{},\"tamper_refusals\":{},"
			"\"log\":{{\"written\":{},\"below_level\":{},\"write_errors\":{},\"rotations\":{},"
			"\"forwarded\":{},\"forward_dropped\":{}}},"
			"\"reloads\":{{\"ok\":{},\"rejected\":{},\"last_seconds\":{},\"sum_seconds\":{}}},"
			"\"scans_by_verdict\":{},\"by_hook\":{},\"by_profile\":{},\"by_outcome\":{},\"by_rule\":{}}}",
			attempts_, decisions_, drops_seen_, walk_limits_seen_, disconnected_seen_, tamper_seen_,
			lc.written, lc.below_level, lc.write_errors, lc.rotations, lc.forwarded, lc.forward_dropped,
			reloads_.ok, reloads_.rejected, reloads_.last_s, reloads_.sum_s, json_counts(scans),
			json_counts(by_hook), json_counts(by_profile), json_counts(by_outcome), json_counts(by_rule_));
	std::string out =
		fmt::format("decisions received: {} (in {} records)\nring buffer drops: {}\nfail-closed "
			    "denials: {} walk limit, {} disconnected\ntamper refusals: {}\ndecision log: {} "
			    "written, {} below level, {} write errors, {} rotations, {} forwarded, {} forward "
			    "drops\nreloads: {} ok, {} rejected, last {:.3f} s\n",
			    attempts_, decisions_, drops_seen_, walk_limits_seen_, disconnected_seen_, tamper_seen_,
			    lc.written, lc.below_level, lc.write_errors, lc.rotations, lc.forwarded, lc.forward_dropped,
			    reloads_.ok, reloads_.rejected, reloads_.last_s);
	out += text_counts("model scans by verdict", scans);
	out += text_counts("by hook", by_hook);
	out += text_counts("by profile", by_profile);
	out += text_counts("by outcome", by_outcome);
	out += text_counts("by rule", by_rule_);
	return out;
}

} // namespace ltrack
