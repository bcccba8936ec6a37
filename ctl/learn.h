// Policy learning and replay (`ltrackctl learn`, `ltrackctl replay`,
// docs/policy.md "Learning a policy"): audit-mode decisions read back from
// the decision log become the rules a profile lacks, and a recorded log is
// replayed against a candidate policy through the policy evaluator
// (policy/evaluate.h), the same code as `ltrackctl check --explain-*`.
#pragma once

#include "compiled_policy.h"
#include "path_resolver.h"
#include "record.h"

#include <cstdint>
#include <functional>
#include <tuple>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ltrack::learn {

// ---- learning ---------------------------------------------------------------

struct learn_options {
	// A dir rule replaces file rules only when at least this many distinct
	// files of one directory were learned (0: never a dir rule).
	unsigned dir_min = 5;
	bool include_denied = false; // also learn from denied/killed (enforce-mode) records
	// Whether a directory rule may be checked on this host (its subtree read
	// for sensitive names); without it no dir rule is suggested.
	bool inspect_host = true;
	// Per-process /proc files (/proc/PID/..., /proc/self/...) can only be
	// allowed by a dir rule on /proc, which also reaches other processes'
	// files: suggested only when asked (--proc), else a commented-out line.
	bool allow_proc = false;
	// Per profile: name patterns the current policy denies in its file
	// section ("id_rsa", "*.pem"), which a dir rule would outrank.
	std::map<std::string, std::vector<std::string>> denied_names;
	// For tests: the names found under a directory (recursively), or false
	// when they cannot all be read. Default: the host's file system.
	std::function<bool(const std::string &dir, std::vector<std::string> &names)> list_subtree;
};

struct learned_rule {
	std::string toml;                // one inline table: { action = "allow", file = "..." }
	std::string comment;             // "" or what to know about it (one line)
	std::string group;               // the directory (file rules), "" otherwise
	uint64_t decisions = 0;          // decisions it covers
	uint64_t objects = 0;            // distinct files/programs/destinations it covers
	bool needs_missing_warn = false; // its path is not on this host
};

struct profile_suggestion {
	std::string name;
	std::vector<learned_rule> file, exec, network;
	std::set<std::string> sockets; // `sockets` entries to add ("raw", "netlink-audit")
	uint64_t socket_decisions = 0;
	std::vector<std::string> not_learned;        // one line each: what and why
	uint64_t proc_decisions = 0, proc_files = 0; // per-process /proc files seen
	bool empty() const { return file.empty() && exec.empty() && network.empty() && sockets.empty(); }
};

struct suggestion {
	std::vector<profile_suggestion> profiles; // by name
	uint64_t records = 0, decisions = 0;      // learned from
	uint64_t ignored_records = 0;             // other outcomes (allowed, audited, denied without --include-denied)
	std::set<std::string> policy_files;       // rule.file of the learned records
	std::vector<std::string> warnings;        // skipped names and the like
};

// Collects records (any order, any outcome), then suggests.
class learner {
public:
	explicit learner(learn_options opt) : opt_(std::move(opt)) {}
	void add(const tracing::decision_record &r);
	suggestion suggest() const;

private:
	struct seen {
		uint64_t decisions = 0, records = 0;
		std::string rule_text; // the deciding rule
		bool by_default = true;
		std::string verdict; // model records
	};
	learn_options opt_;
	// profile -> hook -> object -> seen
	std::map<std::string, std::map<std::string, std::map<std::string, seen>>> seen_;
	uint64_t records_ = 0, decisions_ = 0, ignored_ = 0;
	std::set<std::string> files_;
	std::vector<std::string> warnings_;
};

// The rules to add, as TOML: one table per profile section with `rules`
// (and `sockets`), grouped by directory with counts in comments, and what
// was not learned (and why) as comments. Valid TOML; to be merged by hand.
std::string render_fragment(const suggestion &s);

// The policy text with the learned rules added to its profiles' sections
// (inserted into the existing `rules` and `sockets` arrays, or new keys or
// sections appended), comments and layout kept. error set when the text's
// layout cannot be edited safely (an inline section table, for example).
struct merge_result {
	std::string text;
	std::string error;
};
merge_result merge_into(const std::string &policy_text, const suggestion &s);

// A unified diff (3 lines of context); "" when equal.
std::string unified_diff(const std::string &a, const std::string &b, const std::string &name_a,
			 const std::string &name_b);

// TOML basic string, quotes included; false when s cannot be written as the
// same bytes (invalid UTF-8).
bool toml_quote(const std::string &s, std::string &out);

// Whether the sensitive-files rule set names this path (file, dir or name).
bool sensitive_path(const std::string &path);
// Whether name matches a file-rule name pattern ("id_rsa" or "*.pem").
bool name_matches(const std::string &pattern, const std::string &name);

// ---- replay -------------------------------------------------------------------

struct replay_item {
	std::string profile, hook, object; // object as ltrackctl prints it
	std::string outcome;               // the candidate's: denied, killed, would_deny
	std::string rule;                  // the deciding rule, described
	std::string was;                   // the recorded outcome
	uint64_t decisions = 0, records = 0;
	std::string reason; // for items not replayed: why
};

struct replay_result {
	uint64_t records = 0, decisions = 0;
	uint64_t refused_records = 0, refused_decisions = 0;
	std::vector<replay_item> refused;      // what the candidate would refuse
	std::vector<replay_item> not_replayed; // profile missing, partial path, priv records ...
};

class replayer {
public:
	void add(const tracing::decision_record &r);
	replay_result run(const policy::compiled_policy &p, const policy::path_resolver &resolve) const;

private:
	struct key {
		std::string profile, hook, object, verdict, was;
		bool operator<(const key &o) const
		{
			return std::tie(profile, hook, object, verdict, was) <
			       std::tie(o.profile, o.hook, o.object, o.verdict, o.was);
		}
	};
	std::map<key, std::pair<uint64_t, uint64_t>> seen_; // decisions, records
};

std::string replay_text(const replay_result &r, const std::string &policy_file);
std::string replay_json(const replay_result &r, const std::string &policy_file);

} // namespace ltrack::learn
