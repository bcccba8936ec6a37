#include "policy_state.h"

#include "abi_names.h"
#include "decision_pipeline.h"
#include "policy.h"
#include "record_format.h"
#include "sha256.h"

#include <spdlog/spdlog.h>

#include <ctime>

namespace ltrack {

std::string policy_state::load(const std::string &path, const guard_profile_ids &previous_ids)
{
	auto t0 = std::chrono::steady_clock::now();
	policy::compile_options opts;
	opts.previous_ids = previous_ids;
	std::string source;
	policy::compile_result r = policy::compile_file(path, opts, &source);
	for (const auto &d : r.diagnostics)
		if (!d.error)
			spdlog::warn("{}", policy::format(d));
	if (!r.ok())
		return "policy " + path + " has errors; nothing was loaded:\n" + policy::format_all(r.diagnostics);
	compile_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
	compiled_ = std::make_shared<const policy::compiled_policy>(std::move(*r.policy));
	path_ = path;
	digest_ = scanner::sha256_hex({reinterpret_cast<const unsigned char *>(source.data()), source.size()});
	text_ = std::move(source);
	mode_ = compiled_->mode;
	profile_modes_.clear();
	return {};
}

std::string policy_state::load_again(const policy_state &from)
{
	if (!from.compiled_)
		return "no policy is loaded";
	auto t0 = std::chrono::steady_clock::now();
	policy::compile_options opts;
	opts.previous_ids = from.profile_ids();
	policy::compile_result r = policy::compile_string(from.text_, from.path_, opts);
	if (!r.ok())
		return "policy " + from.path_ + " has errors:\n" + policy::format_all(r.diagnostics);
	// What `ltrackctl mode` switched at run time stays switched: written
	// into this copy before anyone shares it, so the swap applies it.
	r.policy->mode = from.mode_;
	for (auto &p : r.policy->profiles)
		if (const auto *was = from.compiled_->find_profile(p.name))
			p.value.mode = from.profile_mode(*was);
	compile_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
	compiled_ = std::make_shared<const policy::compiled_policy>(std::move(*r.policy));
	path_ = from.path_;
	text_ = from.text_;
	digest_ = from.digest_;
	mode_ = compiled_->mode;
	profile_modes_.clear();
	return {};
}

uint32_t policy_state::profile_mode(const policy::compiled_profile &p) const
{
	auto it = profile_modes_.find(p.id);
	return it == profile_modes_.end() ? p.value.mode : it->second;
}

void policy_state::mark_applied(const apply_stats &st)
{
	applied_ = st;
	loaded_at_ = std::chrono::system_clock::now();
}

std::string policy_state::mode_name() const
{
	return compiled_ ? policy::mode_name(mode_) : "none";
}

std::string policy_state::switch_mode(bpf_guard &guard, const std::string &mode, const std::string &profile)
{
	uint32_t m = abi::value_of<ltrack_mode>(mode).value_or(LTRACK_MODE_INHERIT);
	if (!compiled_)
		return "no policy is loaded";
	if (profile.empty()) {
		if (m == LTRACK_MODE_INHERIT)
			return "the global mode is enforce or audit; 'inherit' applies to a profile (--profile NAME)";
		if (status s = guard.set_mode(m); !s.ok())
			return s.error;
		mode_ = m;
		return {};
	}
	const policy::compiled_profile *p = compiled_->find_profile(profile);
	if (!p) {
		std::string names;
		for (const auto &q : compiled_->profiles)
			names += (names.empty() ? "" : ", ") + q.name;
		return "no profile '" + profile + "' in the active policy (profiles: " + names + ")";
	}
	if (status s = guard.set_profile_mode(p->id, m); !s.ok())
		return s.error;
	profile_modes_[p->id] = m;
	return {};
}

std::string policy_state::status_text(const ltrack_state &st, const bpf_guard &guard, const decision_pipeline &pipeline,
				      bool json, std::chrono::steady_clock::time_point daemon_started) const
{
	const auto &c = *compiled_;
	std::time_t t = std::chrono::system_clock::to_time_t(loaded_at_);
	char when[32];
	std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
	auto uptime =
		std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - daemon_started);
	std::vector<std::string> progs = guard.attached_programs();
	counters k = guard.read_counters();

	if (json) {
		std::string out = "{";
		auto str = [&out](const char *key, const std::string &v) {
			out += std::string("\"") + key + "\":\"";
			json_escape(out, v);
			out += "\",";
		};
		str("mode", policy::mode_name(st.mode));
		str("policy", path_);
		str("policy_sha256", digest_);
		str("loaded_at", when);
		out += fmt::format("\"slot\":{},\"uptime_s\":{},\"rules\":{},\"map_entries\":{},", st.active_slot,
				   uptime.count(), c.symbols.size(), c.entry_count());
		out += "\"profiles\":[";
		for (std::size_t i = 0; i < c.profiles.size(); i++) {
			const auto &p = c.profiles[i];
			out += i ? "," : "";
			out += "{\"name\":\"";
			json_escape(out, p.name);
			out += fmt::format("\",\"id\":{},\"mode\":\"{}\"}}", p.id,
					   policy::mode_name(profile_mode(p) ? profile_mode(p) : st.mode));
		}
		out += "],\"programs\":[";
		for (std::size_t i = 0; i < progs.size(); i++)
			out += (i ? ",\"" : "\"") + progs[i] + "\"";
		out += fmt::format("],\"adopted\":{},\"kernel_support\":\"ok\",\"decisions\":{},\"ringbuf_drops\":{},"
				   "\"walk_limit_denials\":{},\"disconnected_denials\":{},\"ancestor_walks\":{},"
				   "\"self_protection\":\"{}\",\"tamper_refused\":{}}}",
				   guard.adopted().size(), pipeline.decisions(), k.values[LTRACK_CNT_RINGBUF_DROPS],
				   k.values[LTRACK_CNT_WALK_LIMIT], k.values[LTRACK_CNT_DISCONNECTED],
				   k.values[LTRACK_CNT_WALKS], guard.self_protected() ? "active" : "inactive",
				   k.values[LTRACK_CNT_TAMPER]);
		return out;
	}
	std::string out = fmt::format("mode:        {}\npolicy:      {}\nsha256:      {}\nloaded:      {} (slot {})\n"
				      "uptime:      {}s\nrules:       {} ({} map entries)\n",
				      policy::mode_name(st.mode), path_, digest_, when, st.active_slot, uptime.count(),
				      c.symbols.size(), c.entry_count());
	out += "profiles:\n";
	for (const auto &p : c.profiles)
		out += fmt::format("  {} (id {}, {} mode{})\n", p.name, p.id,
				   policy::mode_name(profile_mode(p) ? profile_mode(p) : st.mode),
				   profile_mode(p) ? ", overridden" : "");
	out += "programs:   ";
	for (const auto &n : progs)
		out += " " + n;
	out += guard.adopted().empty() ? " (attached)\n" : " (adopted from pins)\n";
	out += fmt::format(
		"kernel:      BPF LSM ok\ndecisions:   {}\ndrops:       {} (ring buffer full)\n"
		"walk limit:  {} fail-closed denials\ndisconnected: {} fail-closed denials (path unknown: "
		"open_by_handle_at)\nwalks:       {} ancestor walks (the other lookups answered by directory "
		"memos)\n",
		pipeline.decisions(), k.values[LTRACK_CNT_RINGBUF_DROPS], k.values[LTRACK_CNT_WALK_LIMIT],
		k.values[LTRACK_CNT_DISCONNECTED], k.values[LTRACK_CNT_WALKS]);
	out += fmt::format("self-protection: {} ({} tampering attempts by governed processes refused or, in audit "
			   "mode, logged)\n",
			   guard.self_protected() ? "active" : "INACTIVE (ltrackd is not labelled as ltrack's own)",
			   k.values[LTRACK_CNT_TAMPER]);
	return out;
}

} // namespace ltrack
