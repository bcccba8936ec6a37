// Precedence, checked end to end: compile real paths, then evaluate the
// compiled entries as the kernel would (explain_*).
#include "evaluate.h"
#include "policy.h"
#include "test_files.h"

using namespace ltrack::policy;

namespace {

class Explain : public ::testing::Test {
protected:
	void SetUp() override
	{
		models = d.dir("srv/models");
		untrusted = d.dir("srv/models/untrusted");
		pinned = d.file("srv/models/untrusted/pinned.bin");
		d.file("srv/models/untrusted/x.pkl");
		d.file("srv/models/ok.pt");
		d.file("srv/models/readme.txt");
		d.file("home/id_rsa");
		d.file("home/a.tar.gz");
		d.file("home/b.gz");
		d.file("home/notes.txt");
		d.file("bin/tool", "#!");
		d.file("bin/other", "#!");
		std::string text = R"(
mode = "enforce"
[profile.svc]
all = true
[profile.svc.file]
default = "deny"
rules = [
  { action = "allow", dir = ")" + models +
				   R"(" },
  { action = "deny", dir = ")" + untrusted +
				   R"(" },
  { action = "allow", file = ")" + pinned +
				   R"(" },
  { action = "audit", name = "*.gz" },
  { action = "allow", name = "*.tar.gz" },
  { action = "deny", name = "id_rsa" },
  { action = "allow", name = "*.txt" },
]
[profile.svc.exec]
default = "kill"
rules = [{ action = "allow", file = ")" +
				   d.path("bin/tool") + R"(" }]
[profile.svc.network]
default = "deny"
rules = [
  { action = "allow", to = "127.0.0.0/8" },
  { action = "deny", to = "127.0.0.0/8", ports = 6379 },
  { action = "allow", ports = 443, proto = "tcp" },
  { action = "kill", to = "2001:db8::/32" },
]
[profile.svc.model]
extensions = [".pt", ".pkl"]
allow = "safe"
[profile.aud]
executables = ["/usr/bin/env"]
mode = "audit"
[profile.aud.file]
default = "deny"
)";
		compile_result r = compile_string(text, "explain.toml");
		ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
		p = *r.policy;
	}

	explanation file(const std::string &rel, uint32_t verdict = LTRACK_VERDICT_SAFE, const char *profile = "svc")
	{
		explain_result r = explain_file(p, profile, d.path(rel), verdict);
		EXPECT_TRUE(r.ex) << r.error;
		return r.ex.value_or(explanation{});
	}
	std::string rule_text(const explanation &e)
	{
		return p.symbol(e.rule_id) ? std::string(p.symbol(e.rule_id)->text) : "";
	}
	explanation connect(const std::string &dest)
	{
		explain_result r = explain_connect(p, "svc", dest);
		EXPECT_TRUE(r.ex) << r.error;
		return r.ex.value_or(explanation{});
	}

	scratch_dir d;
	std::string models, untrusted, pinned;
	compiled_policy p;
};

} // namespace

TEST_F(Explain, ExactFileBeatsItsDirectory)
{
	explanation e = file("srv/models/untrusted/pinned.bin");
	EXPECT_EQ(e.action, LTRACK_ACT_ALLOW);
	EXPECT_EQ(rule_text(e), "allow file " + pinned);
}

TEST_F(Explain, NearestDirectoryWins)
{
	explanation deny = file("srv/models/untrusted/x.pkl");
	EXPECT_EQ(deny.action, LTRACK_ACT_DENY);
	EXPECT_EQ(rule_text(deny), "deny dir " + untrusted);
	EXPECT_EQ(deny.outcome, LTRACK_OUT_DENIED);
	explanation allow = file("srv/models/readme.txt");
	EXPECT_EQ(allow.action, LTRACK_ACT_ALLOW);
	EXPECT_EQ(rule_text(allow), "allow dir " + models);
}

TEST_F(Explain, DirectoryRuleBeatsNameRule)
{
	// *.txt allows, but the directory rule is nearer: the walk decides first.
	explanation e = file("srv/models/untrusted/x.pkl");
	EXPECT_EQ(rule_text(e), "deny dir " + untrusted);
}

TEST_F(Explain, NameRulesExactThenLongestSuffixThenDefault)
{
	EXPECT_EQ(rule_text(file("home/id_rsa")), "deny name id_rsa");
	EXPECT_EQ(rule_text(file("home/a.tar.gz")), "allow name *.tar.gz");
	EXPECT_EQ(rule_text(file("home/b.gz")), "audit name *.gz");
	EXPECT_EQ(file("home/b.gz").outcome, LTRACK_OUT_AUDITED);
	explanation e = file("bin/other");
	EXPECT_TRUE(e.is_default);
	EXPECT_EQ(e.action, LTRACK_ACT_DENY);
	EXPECT_EQ(rule_text(e), "file default deny");
}

TEST_F(Explain, NotYetCreatedFileIsCoveredByItsDirectory)
{
	explanation e = file("srv/models/untrusted/new-file");
	EXPECT_EQ(rule_text(e), "deny dir " + untrusted);
}

TEST_F(Explain, ModelLayerRefusesUnsafeModelsFirst)
{
	explanation unsafe = file("srv/models/ok.pt", LTRACK_VERDICT_UNSAFE);
	EXPECT_EQ(unsafe.hook, uint32_t(LTRACK_HOOK_MODEL));
	EXPECT_EQ(unsafe.action, LTRACK_ACT_DENY);
	EXPECT_EQ(p.symbol(unsafe.rule_id)->kind, "model");
	explanation unscanned = file("srv/models/ok.pt", LTRACK_VERDICT_UNSCANNED);
	EXPECT_EQ(unscanned.action, LTRACK_ACT_DENY);
	// A safe model still goes through the file rules.
	explanation safe = file("srv/models/ok.pt", LTRACK_VERDICT_SAFE);
	EXPECT_EQ(safe.hook, uint32_t(LTRACK_HOOK_FILE));
	EXPECT_EQ(rule_text(safe), "allow dir " + models);
	// Not a model extension: the model layer stays out of an unscanned file...
	EXPECT_EQ(file("srv/models/readme.txt", LTRACK_VERDICT_UNSCANNED).hook, uint32_t(LTRACK_HOOK_FILE));
	// ...but not of one a scan found dangerous (a hard link to a scanned model).
	explanation linked = file("home/notes.txt", LTRACK_VERDICT_UNSAFE);
	EXPECT_EQ(linked.hook, uint32_t(LTRACK_HOOK_MODEL));
	EXPECT_EQ(linked.action, LTRACK_ACT_DENY);
	EXPECT_EQ(file("home/notes.txt", LTRACK_VERDICT_SAFE).hook, uint32_t(LTRACK_HOOK_FILE));
}

TEST_F(Explain, AuditModeProfileTurnsDenyIntoWouldDeny)
{
	explanation e = file("home/notes.txt", LTRACK_VERDICT_SAFE, "aud");
	EXPECT_EQ(e.action, LTRACK_ACT_DENY);
	EXPECT_EQ(e.mode, uint32_t(LTRACK_MODE_AUDIT));
	EXPECT_EQ(e.outcome, LTRACK_OUT_WOULD_DENY);
}

TEST_F(Explain, ExecRulesThenExecDefault)
{
	explain_result ok = explain_exec(p, "svc", d.path("bin/tool"));
	ASSERT_TRUE(ok.ex) << ok.error;
	EXPECT_EQ(ok.ex->action, LTRACK_ACT_ALLOW);
	explain_result other = explain_exec(p, "svc", d.path("bin/other"));
	ASSERT_TRUE(other.ex);
	EXPECT_EQ(other.ex->action, LTRACK_ACT_KILL);
	EXPECT_EQ(other.ex->outcome, LTRACK_OUT_KILLED);
	EXPECT_TRUE(other.ex->is_default);
}

TEST_F(Explain, ConnectLongestPrefixDenyBeforeAllowThenDefault)
{
	EXPECT_EQ(connect("127.0.0.1:8080").action, LTRACK_ACT_ALLOW);
	explanation redis = connect("127.0.0.1:6379");
	EXPECT_EQ(redis.action, LTRACK_ACT_DENY);
	EXPECT_EQ(rule_text(redis), "deny connect 127.0.0.0/8 port 6379");
	// An IPv4 rule covers the IPv4-mapped IPv6 address too.
	EXPECT_EQ(connect("[::ffff:127.0.0.1]:6379").action, LTRACK_ACT_DENY);
	// The ::/0 port rule is folded into the IPv4 and IPv6 entries.
	EXPECT_EQ(connect("8.8.8.8:443/tcp").action, LTRACK_ACT_ALLOW);
	EXPECT_EQ(connect("8.8.8.8:443/udp").action, LTRACK_ACT_DENY);
	EXPECT_EQ(connect("[2001:db8::1]:443").action, LTRACK_ACT_KILL);
	EXPECT_EQ(connect("[2001:db9::1]:443").action, LTRACK_ACT_ALLOW);
	explanation dflt = connect("8.8.8.8:80");
	EXPECT_TRUE(dflt.is_default);
	EXPECT_EQ(dflt.action, LTRACK_ACT_DENY);
	explanation unix_sock = connect("unix:/run/x.sock");
	EXPECT_EQ(unix_sock.action, LTRACK_ACT_DENY); // no unix rule: the network default
	EXPECT_TRUE(unix_sock.is_default);
}

TEST_F(Explain, ErrorsNameTheProblem)
{
	explain_result r = explain_file(p, "nope", "/etc/hosts");
	EXPECT_FALSE(r.ex);
	EXPECT_EQ(r.error, "no profile \"nope\" in explain.toml (profiles: svc, aud)");
	explain_result c = explain_connect(p, "svc", "1.2.3.4");
	EXPECT_FALSE(c.ex);
	EXPECT_EQ(c.error, "--connect 1.2.3.4: write the destination as ADDR:PORT, [ADDR6]:PORT or unix:PATH");
}

namespace {

// The bound is on directories above the file ("/" included), whatever mount
// crossings the path has: 64 are walked, a 65th is refused (fail closed).
TEST_F(Explain, WalkBoundIsSixtyFourDirectoriesAboveTheFile)
{
	auto at_depth = [&](std::size_t above) {
		std::string rel = "w" + std::to_string(above);
		const std::string root = d.path();
		std::size_t base = std::count(root.begin(), root.end(), '/') + 1; // root's directories, "/" included
		for (std::size_t i = base + 1; i < above; i++)
			rel += "/d";
		std::string f = d.file(rel + "/f");
		EXPECT_EQ(static_cast<std::size_t>(std::count(f.begin(), f.end(), '/')), above) << f;
		return file(f.substr(root.size() + 1));
	};
	explanation ok = at_depth(64);
	EXPECT_FALSE(ok.walk_limit);
	EXPECT_EQ(ok.action, LTRACK_ACT_DENY); // the profile's default, not the bound
	EXPECT_TRUE(ok.is_default);
	explanation deep = at_depth(65);
	EXPECT_TRUE(deep.walk_limit);
	EXPECT_EQ(deep.action, LTRACK_ACT_DENY);
}

} // namespace

// Issue 20: model exclude directories (Python's site directories) take
// files out of the model layer by name and by directory; the nearest of
// the model and exclude directories decides; a dangerous verdict still
// makes a file a model file under any name.
TEST(ExplainModelExclude, NearestModelOrExcludeDirectoryDecides)
{
	scratch_dir d;
	std::string site = d.dir("usr/lib/python3/dist-packages");
	std::string models = d.dir("srv/models");
	std::string inner = d.dir("srv/models/site");
	std::string back = d.dir("srv/models/site/models");
	d.file("usr/lib/python3/dist-packages/distutils-precedence.pth");
	d.file("srv/models/site/x.pth");
	d.file("srv/models/site/readme.txt");
	d.file("srv/models/site/models/m.bin");
	d.file("srv/models/a.pth");
	d.file("tmp/b.pth");
	compile_result r = compile_string(R"(
mode = "enforce"
[profile.svc]
all = true
[profile.svc.file]
default = "allow"
[profile.svc.model]
directories = [")" + models + R"(", ")" + back + R"("]
extensions = [".pth", ".bin"]
exclude = [")" + site + R"(", ")" + inner + R"("]
)",
					  "exclude.toml");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	const compiled_policy &p = *r.policy;
	EXPECT_EQ(p.profiles[0].value.flags & LTRACK_PF_MODEL_EXCLUDES, LTRACK_PF_MODEL_EXCLUDES);
	EXPECT_EQ(p.model_dirs, (std::vector<std::string>{models, back})); // ltrackd scans no exclude dir
	auto hook = [&](const std::string &rel, uint32_t verdict) {
		explain_result e = explain_file(p, "svc", d.path(rel), verdict);
		EXPECT_TRUE(e.ex) << e.error;
		return e.ex ? e.ex->hook : 0u;
	};
	// A site .pth by name: not a model file (the file rules decide).
	EXPECT_EQ(hook("usr/lib/python3/dist-packages/distutils-precedence.pth", LTRACK_VERDICT_UNSCANNED),
		  uint32_t(LTRACK_HOOK_FILE));
	// An exclude directory inside a model directory is nearer: not a model.
	EXPECT_EQ(hook("srv/models/site/x.pth", LTRACK_VERDICT_UNSCANNED), uint32_t(LTRACK_HOOK_FILE));
	EXPECT_EQ(hook("srv/models/site/readme.txt", LTRACK_VERDICT_UNSCANNED), uint32_t(LTRACK_HOOK_FILE));
	// A model directory inside an exclude directory is nearer: a model.
	EXPECT_EQ(hook("srv/models/site/models/m.bin", LTRACK_VERDICT_UNSCANNED), uint32_t(LTRACK_HOOK_MODEL));
	// Elsewhere, names and model directories work as before.
	EXPECT_EQ(hook("srv/models/a.pth", LTRACK_VERDICT_UNSCANNED), uint32_t(LTRACK_HOOK_MODEL));
	EXPECT_EQ(hook("tmp/b.pth", LTRACK_VERDICT_UNSCANNED), uint32_t(LTRACK_HOOK_MODEL));
	// A scan's dangerous verdict holds in an exclude directory too.
	EXPECT_EQ(hook("usr/lib/python3/dist-packages/distutils-precedence.pth", LTRACK_VERDICT_UNSAFE),
		  uint32_t(LTRACK_HOOK_MODEL));
}

// The model layer is lsm/model_decision.h's: under scan_at_open an unscanned
// model's open may wait for the scan (said, the refusal stands as the
// fallback), a link or rename of it never waits (no open), and the rule the
// refusal names is the profile's model rule either way.
TEST(ExplainModelDecision, ScanAtOpenWaitsForAnOpenNotForALink)
{
	scratch_dir d;
	std::string models = d.dir("srv/models");
	d.file("srv/models/m.pkl");
	compile_result r = compile_string(R"(
mode = "enforce"
[profile.svc]
all = true
[profile.svc.file]
default = "allow"
[profile.svc.model]
directories = [")" + models + R"("]
allow = "safe"
scan_at_open = true
)",
					  "wait.toml");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	auto says_wait = [](const explanation &ex) {
		for (const auto &s : ex.steps)
			if (s.find("scan_at_open") != std::string::npos)
				return true;
		return false;
	};
	explain_result open = explain_file(*r.policy, "svc", d.path("srv/models/m.pkl"), LTRACK_VERDICT_UNSCANNED);
	ASSERT_TRUE(open.ex) << open.error;
	EXPECT_EQ(open.ex->hook, uint32_t(LTRACK_HOOK_MODEL));
	EXPECT_EQ(open.ex->action, LTRACK_ACT_DENY);
	EXPECT_TRUE(says_wait(*open.ex));
	explain_result link = explain_link(*r.policy, "svc", d.path("srv/models/m.pkl"), LTRACK_VERDICT_UNSCANNED);
	ASSERT_TRUE(link.ex) << link.error;
	EXPECT_EQ(link.ex->action, LTRACK_ACT_DENY);
	EXPECT_EQ(link.ex->rule_id, open.ex->rule_id);
	EXPECT_FALSE(says_wait(*link.ex));
	// A scanned-unsafe file waits for nothing: its verdict is known.
	explain_result bad = explain_file(*r.policy, "svc", d.path("srv/models/m.pkl"), LTRACK_VERDICT_UNSAFE);
	ASSERT_TRUE(bad.ex) << bad.error;
	EXPECT_FALSE(says_wait(*bad.ex));
}
