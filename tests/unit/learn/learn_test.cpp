// Suggestions from would_deny records: what is learned, how it is grouped
// and generalised (conservatively), what is never learned, and the merged
// policy, which must compile.
#include "learn_fixture.h"

#include "learn.h"
#include "policy.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

using namespace ltrack;
using namespace learn_test;

namespace {

// A directory on this host whose subtree holds exactly these names.
learn::learn_options listing(const std::vector<std::string> &names, unsigned dir_min = 5)
{
	learn::learn_options o;
	o.dir_min = dir_min;
	o.list_subtree = [names](const std::string &, std::vector<std::string> &out) {
		out = names;
		return true;
	};
	return o;
}

learn::suggestion learn_from(const std::vector<decision_record> &rs, learn::learn_options o = listing({}))
{
	learn::learner l(std::move(o));
	for (const auto &r : rs)
		l.add(r);
	return l.suggest();
}

const learn::profile_suggestion &profile(const learn::suggestion &s, const std::string &name = "work")
{
	for (const auto &p : s.profiles)
		if (p.name == name)
			return p;
	static learn::profile_suggestion none;
	ADD_FAILURE() << "no profile " << name;
	return none;
}

std::string rules_of(const std::vector<learn::learned_rule> &v)
{
	std::string out;
	for (const auto &r : v)
		out += r.toml + "\n";
	return out;
}

std::string notes_of(const learn::profile_suggestion &p)
{
	std::string out;
	for (const auto &n : p.not_learned)
		out += n + "\n";
	return out;
}

std::vector<decision_record> files_in(const std::string &dir, int n, uint64_t count = 1)
{
	std::vector<decision_record> v;
	for (int i = 0; i < n; i++)
		v.push_back(rec("file", dir + "/f" + std::to_string(i) + ".dat", "would_deny", "", count));
	return v;
}

// /usr/share exists on every host running the tests and is not generalised
// away by the risky-directory list.
const std::string usr_dir = "/usr/share";

const std::string base_policy = R"(mode = "audit"

[profile.work]
executables = ["/usr/bin/wsh"]

[profile.work.file]
default = "deny"
rules = [
  { action = "allow", dir = "/usr/lib" },
  { action = "deny", name = "*.pem" }   # no trailing comma
]

[profile.work.exec]
default = "deny"
rules = []

[profile.work.network]
default = "deny"
)";

policy::compile_result compile(const std::string &text)
{
	policy::compile_options o;
	o.resolve_paths = false;
	return policy::compile_string(text, "merged.toml", o);
}

} // namespace

TEST(learn, groups_by_directory_with_counts)
{
	auto s = learn_from(files_in("/srv/app/data", 3, 4));
	const auto &p = profile(s);
	ASSERT_EQ(p.file.size(), 3u);
	EXPECT_EQ(p.file[0].toml, "{ action = \"allow\", file = \"/srv/app/data/f0.dat\", missing = \"warn\" }");
	EXPECT_EQ(p.file[0].group, "/srv/app/data");
	EXPECT_EQ(p.file[0].decisions, 4u);
	EXPECT_NE(p.file[0].comment.find("/srv/app/data: 3 files, 12 decisions"), std::string::npos)
		<< p.file[0].comment;
	EXPECT_EQ(s.records, 3u);
	EXPECT_EQ(s.decisions, 12u);
	std::string frag = learn::render_fragment(s);
	EXPECT_NO_THROW((void)toml::parse(frag)) << frag;
}

TEST(learn, a_dir_rule_only_for_many_files_and_a_clean_subtree)
{
	auto many = files_in(usr_dir, 6);
	auto s = learn_from(many, listing({"a.txt", "sub", "b.txt"}));
	ASSERT_EQ(profile(s).file.size(), 1u);
	EXPECT_EQ(profile(s).file[0].toml, "{ action = \"allow\", dir = \"/usr/share\" }");
	EXPECT_EQ(profile(s).file[0].objects, 6u);
	EXPECT_NE(profile(s).file[0].comment.find("whatever their name"), std::string::npos);

	// Too few files: one rule per file.
	EXPECT_EQ(learn_from(files_in(usr_dir, 4)).profiles[0].file.size(), 4u);
	// A credential's name somewhere below: no dir rule (it would outrank
	// the name rule that protects it).
	auto s2 = learn_from(many, listing({"a.txt", "id_ed25519"}));
	EXPECT_EQ(profile(s2).file.size(), 6u);
	EXPECT_NE(profile(s2).file[0].comment.find("id_ed25519"), std::string::npos) << profile(s2).file[0].comment;
	// A name the profile itself denies, likewise.
	auto o = listing({"server.pem"});
	o.denied_names["work"] = {"*.pem"};
	EXPECT_EQ(profile(learn_from(many, o)).file.size(), 6u);
	// A subtree that cannot be read completely: no dir rule.
	auto unreadable = listing({});
	unreadable.list_subtree = [](const std::string &, std::vector<std::string> &) { return false; };
	EXPECT_EQ(profile(learn_from(many, unreadable)).file.size(), 6u);
	// dir_min 0: never.
	EXPECT_EQ(profile(learn_from(many, listing({}, 0))).file.size(), 6u);
	// A directory that does not exist here cannot be checked: no dir rule.
	EXPECT_EQ(profile(learn_from(files_in("/nonexistent-ltrack/data", 8))).file.size(), 8u);
}

TEST(learn, never_generalises_configuration_homes_scratch_or_top_level)
{
	for (const char *dir :
	     {"/etc/app", "/home/svc/data", "/root/x", "/tmp/work", "/var/tmp/w", "/dev/shm/w", "/srv"}) {
		auto s = learn_from(files_in(dir, 8));
		EXPECT_EQ(profile(s).file.size(), 8u) << dir;
		EXPECT_EQ(rules_of(profile(s).file).find("dir ="), std::string::npos) << dir;
	}
	// Nor a directory holding a sensitive-files target.
	auto s = learn_from(files_in("/var/run/secrets", 8));
	EXPECT_EQ(rules_of(profile(s).file).find("dir ="), std::string::npos);
}

TEST(learn, never_learns_what_the_sensitive_files_set_protects)
{
	auto s = learn_from({rec("file", "/etc/shadow"), rec("file", "/home/u/.ssh/id_rsa"),
			     rec("file", "/home/u/.aws/credentials"),
			     rec("file", "/run/secrets/kubernetes.io/serviceaccount/token"),
			     rec("exec", "/etc/sudoers"), rec("file", "/srv/ok.txt")});
	const auto &p = profile(s);
	EXPECT_EQ(rules_of(p.file), "{ action = \"allow\", file = \"/srv/ok.txt\", missing = \"warn\" }\n");
	EXPECT_TRUE(p.exec.empty());
	std::string notes = notes_of(p);
	for (const char *what : {"/etc/shadow", "id_rsa", "credentials", "serviceaccount/token", "/etc/sudoers"})
		EXPECT_NE(notes.find(what), std::string::npos) << what << "\n" << notes;
	EXPECT_NE(notes.find("sensitive-files"), std::string::npos);
	// Said in the output as a comment.
	EXPECT_NE(learn::render_fragment(s).find("# not learned: /etc/shadow"), std::string::npos);
}

TEST(learn, never_learns_model_refusals_or_explicit_denials)
{
	decision_record m = rec("model", "/srv/models/evil.pkl", "would_deny", "model allow safe");
	m.model.verdict = "unsafe";
	auto s = learn_from({m, rec("file", "/srv/keys/server.pem", "would_deny", "deny name *.pem"),
			     rec("net", "10.0.0.5 6379 tcp", "would_deny", "deny 10.0.0.0/8 port 6379")});
	const auto &p = profile(s);
	EXPECT_TRUE(p.empty());
	std::string notes = notes_of(p);
	EXPECT_NE(notes.find("model layer (verdict unsafe)"), std::string::npos) << notes;
	EXPECT_NE(notes.find("explicit rule: deny name *.pem"), std::string::npos) << notes;
	EXPECT_NE(notes.find("explicit rule: deny 10.0.0.0/8"), std::string::npos) << notes;
}

TEST(learn, only_audit_mode_refusals_unless_asked)
{
	std::vector<decision_record> rs{rec("file", "/srv/a", "allowed", "allow dir /srv"),
					rec("file", "/srv/b", "audited", "audit dir /srv"),
					rec("file", "/srv/c", "denied"), rec("file", "/srv/d", "would_deny")};
	auto s = learn_from(rs);
	EXPECT_EQ(rules_of(profile(s).file), "{ action = \"allow\", file = \"/srv/d\", missing = \"warn\" }\n");
	EXPECT_EQ(s.ignored_records, 3u);
	auto o = listing({});
	o.include_denied = true;
	EXPECT_EQ(profile(learn_from(rs, o)).file.size(), 2u);
}

TEST(learn, exec_network_and_sockets)
{
	auto s = learn_from({rec("exec", "/usr/bin/id", "would_deny", "", 3), rec("net", "127.0.0.1 8080 tcp"),
			     rec("net", "127.0.0.1 8081 tcp", "would_deny", "", 2), rec("net", "::1 53 udp"),
			     rec("net", "unix:/run/app.sock"), rec("net", "unix:/run/docker.sock"),
			     rec("socket", "inet/raw/icmp", "would_deny", "sockets = [...]"),
			     rec("socket", "netlink/raw/audit"), rec("file", "/proc/4242/status"),
			     rec("file", "/proc/self/maps")});
	const auto &p = profile(s);
	EXPECT_EQ(rules_of(p.exec), "{ action = \"allow\", file = \"/usr/bin/id\" }\n");
	EXPECT_EQ(p.exec[0].decisions, 3u);
	std::string net = rules_of(p.network);
	EXPECT_NE(net.find("{ action = \"allow\", to = \"127.0.0.1/32\", ports = [8080, 8081], proto = \"tcp\" }"),
		  std::string::npos)
		<< net;
	EXPECT_NE(net.find("{ action = \"allow\", to = \"::1/128\", ports = 53, proto = \"udp\" }"), std::string::npos)
		<< net;
	EXPECT_NE(net.find("{ action = \"allow\", unix = \"/run/app.sock\" }"), std::string::npos) << net;
	EXPECT_EQ(net.find("docker"), std::string::npos) << net;
	EXPECT_EQ(p.sockets, (std::set<std::string>{"netlink-audit", "raw"}));
	std::string notes = notes_of(p);
	EXPECT_NE(notes.find("host control socket"), std::string::npos) << notes;
	EXPECT_NE(notes.find("2 per-process /proc files (2 decisions)"), std::string::npos) << notes;
	EXPECT_NE(notes.find("--proc"), std::string::npos) << notes;
	EXPECT_EQ(rules_of(p.file).find("/proc"), std::string::npos);
}

TEST(learn, per_process_proc_files_only_with_proc_and_deleted_files_never)
{
	std::vector<decision_record> rs{rec("file", "/proc/4242/status"),
					rec("file", "/proc/self/maps", "would_deny", "", 3),
					rec("file", "/proc/cpuinfo"), rec("file", "/srv/tmpfile (deleted)")};
	auto o = listing({});
	o.allow_proc = true;
	auto s = learn_from(rs, o);
	const auto &p = profile(s);
	std::string rules = rules_of(p.file);
	EXPECT_NE(rules.find("{ action = \"allow\", dir = \"/proc\" }"), std::string::npos) << rules;
	EXPECT_NE(rules.find("file = \"/proc/cpuinfo\""), std::string::npos) << rules; // not per-process: a file rule
	EXPECT_EQ(p.file[0].decisions, 4u);
	EXPECT_EQ(rules.find("deleted"), std::string::npos) << rules;
	EXPECT_NE(notes_of(p).find("was deleted"), std::string::npos) << notes_of(p);
}

TEST(learn, odd_bytes_are_escaped_or_skipped_never_guessed)
{
	std::string nl = "/srv/app/a \"quoted\"\tname\nwith\x01"
			 "controls\x7f\xc3\xa9";
	auto s = learn_from({rec("file", nl), rec("file", "/srv/app/lost\xef\xbf\xbd"), rec("file", "/srv/app/raw\xff"),
			     rec("file", "relative/path")});
	const auto &p = profile(s);
	ASSERT_EQ(p.file.size(), 1u);
	// The TOML string reads back as the very same bytes.
	toml::table t = toml::parse("r = " + p.file[0].toml);
	EXPECT_EQ(t["r"]["file"].value<std::string>().value_or(""), nl);
	std::string notes = notes_of(p);
	EXPECT_NE(notes.find("lost"), std::string::npos);
	EXPECT_NE(notes.find("exact bytes"), std::string::npos);
	EXPECT_NE(notes.find("raw\\xff"), std::string::npos) << notes; // escaped in the comment
	EXPECT_NE(notes.find("not an absolute path"), std::string::npos);
	// Comments never break a line.
	std::string frag = learn::render_fragment(s);
	EXPECT_NO_THROW((void)toml::parse(frag)) << frag;
	std::string q;
	EXPECT_FALSE(learn::toml_quote("\xff", q));
}

TEST(learn, merged_into_the_policy_it_compiles_and_keeps_everything_else)
{
	auto s = learn_from({rec("file", "/srv/data/x.csv", "would_deny", "", 5), rec("exec", "/usr/bin/id"),
			     rec("net", "127.0.0.1 9000 tcp"), rec("socket", "inet/raw/icmp")});
	auto m = learn::merge_into(base_policy, s);
	ASSERT_TRUE(m.error.empty()) << m.error;
	auto c = compile(m.text);
	ASSERT_TRUE(c.ok()) << policy::format_all(c.diagnostics) << m.text;
	// The original lines are all there (one gained its comma).
	EXPECT_NE(m.text.find("{ action = \"deny\", name = \"*.pem\" },   # no trailing comma"), std::string::npos)
		<< m.text;
	EXPECT_NE(m.text.find("  { action = \"allow\", file = \"/srv/data/x.csv\", missing = \"warn\" },"),
		  std::string::npos);
	EXPECT_NE(m.text.find("{ action = \"allow\", file = \"/usr/bin/id\" }"), std::string::npos);
	EXPECT_NE(m.text.find("sockets = [\"inet\", \"inet6\", \"netlink-route\", \"raw\", \"unix\"]"),
		  std::string::npos);
	toml::table t = toml::parse(m.text);
	EXPECT_EQ(t["profile"]["work"]["file"]["rules"].as_array()->size(), 3u);
	EXPECT_EQ(t["profile"]["work"]["exec"]["rules"].as_array()->size(), 1u);
	EXPECT_EQ(t["profile"]["work"]["network"]["rules"].as_array()->size(), 1u);

	// The diff shows only additions and the one changed line.
	std::string d = learn::unified_diff(base_policy, m.text, "a", "b");
	EXPECT_EQ(d.rfind("--- a\n+++ b\n@@ ", 0), 0u) << d;
	EXPECT_NE(
		d.find("\n-  { action = \"deny\", name = \"*.pem\" }   # no trailing comma\n+  { action = \"deny\", name = \"*.pem\" },"),
		std::string::npos)
		<< d;
	EXPECT_EQ(learn::unified_diff(base_policy, base_policy, "a", "b"), "");
}

TEST(learn, merge_layouts)
{
	auto s = learn_from({rec("file", "/srv/x"), rec("net", "127.0.0.1 1 tcp"), rec("socket", "packet/raw/")});
	// rules on one line, a trailing comma, sockets listed, sections missing.
	const std::string policies[] = {
		"[profile.work]\nall = true\n[profile.work.file]\ndefault = \"deny\"\nrules = [{ action = \"allow\", dir = \"/usr\" }]\n",
		"[profile.work]\nall = true\n[profile.work.file]\ndefault = \"deny\"\nrules = [\n  { action = \"allow\", dir = \"/usr\" },  # c\n  # end\n]\n",
		"[profile.work]\nall = true\n[profile.work.file]\ndefault = \"deny\"\n[profile.work.network]\nsockets = [\"unix\"] # only\ndefault = \"deny\"\n",
		"[profile.work]\nall = true\n",
		"[profile.work]\nall = true\n[profile.work.file]\n",
	};
	for (const auto &pt : policies) {
		auto m = learn::merge_into(pt, s);
		ASSERT_TRUE(m.error.empty()) << m.error << "\n" << pt;
		auto c = compile(m.text);
		ASSERT_TRUE(c.ok()) << policy::format_all(c.diagnostics) << m.text;
		toml::table t = toml::parse(m.text);
		auto *rules = t["profile"]["work"]["file"]["rules"].as_array();
		ASSERT_TRUE(rules) << m.text;
		EXPECT_EQ((*rules->back().as_table())["file"].value<std::string>().value_or(""), "/srv/x") << m.text;
		auto *sockets = t["profile"]["work"]["network"]["sockets"].as_array();
		ASSERT_TRUE(sockets) << m.text;
		bool packet = false;
		for (const auto &e : *sockets)
			packet |= e.value<std::string>().value_or("") == "packet";
		EXPECT_TRUE(packet) << m.text;
	}
	// What cannot be edited safely is an error, not a guess.
	EXPECT_NE(learn::merge_into("[profile.work]\nall = true\nfile = { default = \"deny\" }\n", s).error, "");
	EXPECT_NE(learn::merge_into("[profile.other]\nall = true\n", s).error.find("no profile \"work\""),
		  std::string::npos);
	EXPECT_NE(learn::merge_into("not toml [", s).error, "");
}

TEST(learn, name_patterns_as_the_kernel_matches_them)
{
	EXPECT_TRUE(learn::name_matches("*.pem", "a.pem"));
	EXPECT_FALSE(learn::name_matches("*.pem", ".pem"));
	EXPECT_TRUE(learn::name_matches("id_rsa", "id_rsa"));
	EXPECT_FALSE(learn::name_matches("id_rsa", "id_rsa.pub"));
	EXPECT_TRUE(learn::sensitive_path("/etc/sudoers.d/x"));
	EXPECT_FALSE(learn::sensitive_path("/etc/sudoers.dx"));
}

TEST(learn, a_path_that_now_resolves_elsewhere_is_not_learned)
{
	temp_dir t;
	write(t / "real.txt", "x");
	std::filesystem::create_symlink("/etc/hostname", t / "planted");
	auto s = learn_from({rec("file", t / "planted"), rec("file", t / "real.txt"), rec("exec", t / "planted")});
	const auto &p = profile(s);
	EXPECT_EQ(rules_of(p.file), "{ action = \"allow\", file = \"" + t / "real.txt" + "\" }\n");
	EXPECT_TRUE(p.exec.empty());
	EXPECT_NE(notes_of(p).find("now resolves to /etc/hostname"), std::string::npos) << notes_of(p);
}

TEST(learn, a_crafted_log_cannot_inject_toml)
{
	decision_record r = rec("net", "127.0.0.1 80 tcp");
	r.addr_text = "1.2.3.4\", ports = 1 }, { action = \"allow\", to = \"any";
	decision_record bad_rule = rec("file", "/srv/x", "would_deny", "deny dir /srv\n[profile.evil]");
	auto s = learn_from({r, bad_rule});
	const auto &p = profile(s);
	EXPECT_TRUE(p.network.empty());
	std::string frag = learn::render_fragment(s);
	toml::table t = toml::parse(frag);
	EXPECT_FALSE(t["profile"]["evil"]) << frag;
	EXPECT_NE(notes_of(p).find("no usable destination"), std::string::npos) << notes_of(p);
}

TEST(learn, never_learns_an_attempt_on_ltrack_itself)
{
	decision_record t = rec("tamper", "", "would_deny", "self-protection");
	t.rule.rule_id = 0;
	t.tamper_op = "bpf";
	t.tamper_arg = "BPF_OBJ_GET";
	auto s = learn_from({t});
	const auto &p = profile(s);
	EXPECT_TRUE(p.empty());
	std::string notes = notes_of(p);
	EXPECT_NE(notes.find("tamper bpf BPF_OBJ_GET"), std::string::npos) << notes;
	EXPECT_NE(notes.find("an attempt on ltrack itself"), std::string::npos) << notes;
}
