// Shipped rule sets ({ action = ..., set = "sensitive-files" }): what a set
// expands to, how the decision names it, missing paths, and mistakes.
#include "evaluate.h"
#include "name_hash.h"
#include "policy.h"
#include "rule_sets.h"
#include "test_files.h"

using namespace ltrack::policy;

namespace {

const std::string set_policy = R"(
mode = "enforce"
[profile.w]
all = true
[profile.w.file]
rules = [
  { action = "deny", set = "sensitive-files" },
]
)";

compile_result compile_with(const std::string &text, path_resolver resolver)
{
	compile_options o;
	o.resolver = std::move(resolver);
	return compile_string(text, "sets.toml", o);
}

const rule_symbol *symbol_named(const compiled_policy &p, const std::string &text)
{
	for (const auto &s : p.symbols)
		if (s.text == text)
			return &s;
	return nullptr;
}

} // namespace

TEST(RuleSets, SensitiveFilesNamesTheSecretsItPromises)
{
	const rule_set *s = find_rule_set("sensitive-files");
	ASSERT_NE(s, nullptr);
	std::set<std::string> targets;
	for (const auto &e : s->entries)
		targets.insert(e.target);
	for (const char *t : {"/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d", "id_rsa", "id_ed25519",
			      "ssh_host_ed25519_key", "credentials", "application_default_credentials.json",
			      "msal_token_cache.json", "/var/run/secrets/kubernetes.io/serviceaccount", ".netrc",
			      ".bash_history", ".zsh_history", ".python_history"})
		EXPECT_EQ(targets.count(t), 1u) << t;
	EXPECT_EQ(find_rule_set("sensitive"), nullptr);
}

// Every entry becomes a rule of its own, at the line that named the set,
// whose text names the set: that text is what the decision log prints.
TEST(RuleSets, ExpandToInodeAndNameEntriesThatNameTheSet)
{
	compile_options o;
	o.resolve_paths = false; // every path exists, with an identity from its text
	compile_result r = compile_string(set_policy, "sets.toml", o);
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	const compiled_policy &p = *r.policy;
	EXPECT_EQ(p.symbols.size(), find_rule_set("sensitive-files")->entries.size());
	const rule_symbol *shadow = symbol_named(p, "deny file /etc/shadow (set sensitive-files)");
	ASSERT_NE(shadow, nullptr);
	EXPECT_EQ(shadow->line, 7);
	EXPECT_EQ(shadow->kind, "file");

	path_identity id = *resolve_synthetic("/etc/shadow");
	bool inode = false;
	for (const auto &[k, v] : p.inode_rules)
		if (k.hook == LTRACK_HOOK_FILE && k.dev == id.dev && k.ino == id.ino) {
			inode = true;
			EXPECT_EQ(v.self_action, LTRACK_ACT_DENY);
			EXPECT_EQ(v.self_rule, shadow->id);
		}
	EXPECT_TRUE(inode);

	const rule_symbol *aws = symbol_named(p, "deny name credentials (set sensitive-files)");
	ASSERT_NE(aws, nullptr);
	bool name = false;
	for (const auto &[k, v] : p.name_rules)
		if (k.hook == LTRACK_HOOK_FILE && k.kind == LTRACK_NAME_EXACT && k.hash == name_hash("credentials")) {
			name = true;
			EXPECT_EQ(v.action, LTRACK_ACT_DENY);
			EXPECT_EQ(v.rule_id, aws->id);
		}
	EXPECT_TRUE(name);
	EXPECT_TRUE(p.profiles[0].value.flags & LTRACK_PF_INODE_RULES);
	EXPECT_TRUE(p.profiles[0].value.flags & LTRACK_PF_NAME_RULES);
}

// A home-directory secret created after the policy was compiled is refused
// by its name; a file next to it is not.
TEST(RuleSets, ExplainRefusesACredentialsFileCreatedAnywhere)
{
	scratch_dir d;
	compile_result r = compile_with(set_policy, resolve_on_host);
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	std::string creds = d.file("home/u/.aws/credentials"), config = d.file("home/u/.aws/config");
	std::string hist = d.file("home/u/.bash_history");
	explain_result c = explain_file(*r.policy, "w", creds);
	ASSERT_TRUE(c.ex) << c.error;
	EXPECT_EQ(c.ex->outcome, LTRACK_OUT_DENIED);
	EXPECT_EQ(r.policy->symbol(c.ex->rule_id)->text, "deny name credentials (set sensitive-files)");
	explain_result h = explain_file(*r.policy, "w", hist);
	ASSERT_TRUE(h.ex) << h.error;
	EXPECT_EQ(h.ex->outcome, LTRACK_OUT_DENIED);
	explain_result ok = explain_file(*r.policy, "w", config);
	ASSERT_TRUE(ok.ex) << ok.error;
	EXPECT_EQ(ok.ex->outcome, LTRACK_OUT_ALLOWED);
}

// A set names files of many hosts: the absent ones are listed as missing
// targets (ltrackctl check shows them), not errors, not one warning each.
TEST(RuleSets, PathsAbsentOnThisHostAreListedNotErrors)
{
	compile_result r = compile_with(set_policy, [](const std::string &) {
		return resolve_result{ltrack::status::fail("No such file or directory", ENOENT)};
	});
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	EXPECT_TRUE(r.diagnostics.empty()) << format_all(r.diagnostics);
	std::size_t missing = 0;
	for (const auto &t : r.policy->targets)
		missing += !t.found;
	EXPECT_EQ(missing, 8u); // every file and dir entry of the set
	EXPECT_TRUE(r.policy->inode_rules.empty());
	EXPECT_FALSE(r.policy->name_rules.empty());
}

// A rule the policy writes for a name the set also holds: no conflict
// error, the stricter of the two applies (as for two paths to one inode).
TEST(RuleSets, AnExplicitRuleOnASetEntryIsNoConflictAndDenyWins)
{
	compile_options o;
	o.resolve_paths = false;
	compile_result r = compile_string(R"(
[profile.w]
all = true
[profile.w.file]
rules = [
  { action = "audit", set = "sensitive-files" },
  { action = "deny", name = ".bash_history" },
]
)",
					  "sets.toml", o);
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	for (const auto &[k, v] : r.policy->name_rules) {
		if (k.hash == name_hash(".bash_history")) {
			EXPECT_EQ(v.action, LTRACK_ACT_DENY);
		} else if (k.hash == name_hash(".zsh_history")) {
			EXPECT_EQ(v.action, LTRACK_ACT_AUDIT);
		}
	}
}

TEST(RuleSets, MistakesAreErrorsWithTheirPosition)
{
	compile_options o;
	o.resolve_paths = false;
	auto errors = [&](const std::string &rules, const std::string &section = "file") {
		compile_result r = compile_string("[profile.w]\nall = true\n[profile.w." + section + "]\nrules = [\n" +
							  rules + "\n]\n",
						  "sets.toml", o);
		EXPECT_FALSE(r.ok());
		return format_all(r.diagnostics);
	};
	EXPECT_EQ(errors(R"(  { action = "deny", set = "sensitive-file" },)"),
		  "sets.toml:5:28: error: profile.w.file.rules.set: \"sensitive-file\" is not a rule set; did you mean "
		  "\"sensitive-files\"?\n");
	EXPECT_EQ(
		errors(R"(  { action = "deny", set = "secrets" },)"),
		"sets.toml:5:28: error: profile.w.file.rules.set: \"secrets\" is not a rule set; use \"sensitive-files\", "
		"\"python-runtime\" or \"host-control-sockets\"\n");
	EXPECT_NE(errors(R"(  { action = "deny", set = "sensitive-files", name = "x" },)")
			  .find("a rule needs exactly one of \"file\", \"dir\", \"name\" or \"set\", found 2"),
		  std::string::npos);
	EXPECT_NE(errors(R"(  { action = "deny", set = "sensitive-files" },)", "exec").find("unknown key \"set\""),
		  std::string::npos);
	EXPECT_NE(errors(R"(  { set = "sensitive-files" },)").find("rule has no action"), std::string::npos);
}
