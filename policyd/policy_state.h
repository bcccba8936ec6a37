// The policy the daemon enforces: where it came from (path, SHA-256, load
// time), what it compiled to, and the operator-facing views of it (status,
// mode switches by profile name). Built whole before it replaces the
// active one, so a rejected reload leaves nothing half-changed.
#pragma once

#include "abi.h"
#include "bpf_guard.h"
#include "compiled_policy.h"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ltrack {

class decision_pipeline;
using guard_profile_ids = std::map<std::string, uint32_t>;

class policy_state {
public:
	// Compiles path; on any error returns every diagnostic, formatted, and
	// changes nothing. previous_ids keeps existing profiles' ids stable
	// across a reload (governed tasks carry the id).
	std::string load(const std::string &path, const guard_profile_ids &previous_ids);
	// Compiles the text from's policy was loaded from (those bytes, not the
	// file as it is on disk now) again, resolving its paths on the host as
	// they are now: a rule's target replaced since names its new inode. Keeps
	// profile ids and the modes `ltrackctl mode` switched. Warnings are not
	// logged again.
	std::string load_again(const policy_state &from);
	void mark_applied(const apply_stats &st);

	const policy::compiled_policy &compiled() const { return *compiled_; }
	const policy::compiled_policy *active() const { return compiled_.get(); }
	std::shared_ptr<const policy::compiled_policy> shared() const { return compiled_; }
	const std::string &path() const { return path_; }
	guard_profile_ids profile_ids() const { return compiled_ ? compiled_->profile_ids() : guard_profile_ids{}; }
	const std::vector<std::string> &model_dirs() const { return compiled_->model_dirs; }
	const std::set<std::string> &trusted_digests() const { return compiled_->trusted_digests; }
	bool unload_on_exit() const { return compiled_ && compiled_->unload_on_exit; }
	std::size_t profile_count() const { return compiled_ ? compiled_->profiles.size() : 0; }
	std::size_t rule_count() const { return compiled_ ? compiled_->symbols.size() : 0; }
	std::string mode_name() const;
	double compile_ms() const { return compile_ms_; }

	// `ltrackctl mode MODE [PROFILE]`: the live maps change at once, and the
	// switch is kept beside the compiled policy (which stays as compiled:
	// the decision pipeline shares it) so status tells the truth. A reload
	// returns to the file's modes.
	std::string switch_mode(bpf_guard &guard, const std::string &mode, const std::string &profile);
	std::string status_text(const ltrack_state &st, const bpf_guard &guard, const decision_pipeline &pipeline,
				bool json, std::chrono::steady_clock::time_point daemon_started) const;

private:
	// A profile's mode: switched by `ltrackctl mode`, else as compiled (0 = the global one).
	uint32_t profile_mode(const policy::compiled_profile &p) const;

	std::shared_ptr<const policy::compiled_policy> compiled_;
	uint32_t mode_ = 0;                          // the global mode, as switched
	std::map<uint32_t, uint32_t> profile_modes_; // profile id -> mode, as switched
	std::string path_;
	std::string text_; // the policy as loaded
	std::string digest_;
	std::chrono::system_clock::time_point loaded_at_;
	double compile_ms_ = 0;
	apply_stats applied_;
};

} // namespace ltrack
