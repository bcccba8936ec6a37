// The compiler's output: the exact map entries for every rule kind, ids,
// determinism, the ltrack format and the shipped policies.
#include "name_hash.h"
#include "net_address.h"
#include "policy.h"
#include "summary.h"
#include "test_files.h"

#include <sys/sysmacros.h>

#include <cstring>

using namespace ltrack::policy;

namespace {

compiled_policy must_compile(const std::string &text, const compile_options &opts = {})
{
	compile_result r = compile_string(text, "test.toml", opts);
	EXPECT_TRUE(r.ok()) << format_all(r.diagnostics);
	if (!r.ok())
		throw std::runtime_error("policy did not compile");
	return *r.policy;
}

const ltrack_inode_rule *find_inode(const compiled_policy &p, uint32_t profile, uint32_t hook, const std::string &path)
{
	struct stat st = stat_of(path);
	for (const auto &[k, v] : p.inode_rules)
		if (k.profile == profile && k.hook == hook && k.ino == st.st_ino &&
		    k.dev == ((uint64_t(major(st.st_dev)) << 20) | minor(st.st_dev)))
			return &v;
	return nullptr;
}

const ltrack_rule *find_name(const compiled_policy &p, uint32_t profile, uint32_t hook, uint32_t kind,
			     const std::string &text)
{
	for (const auto &[k, v] : p.name_rules)
		if (k.profile == profile && k.hook == hook && k.kind == kind && k.hash == name_hash(text))
			return &v;
	return nullptr;
}

// The map value of one net_rules entry, as the loader writes it.
std::optional<ltrack_net_val> find_net(const compiled_policy &p, uint32_t profile, const std::string &cidr_text)
{
	auto c = parse_cidr(cidr_text);
	EXPECT_TRUE(c) << c.failure().error;
	for (const auto &e : p.net_rules) {
		const ltrack_net_key &k = e.key;
		if (k.scope == profile && k.prefixlen == uint32_t(32 + c->len) &&
		    std::memcmp(k.addr, c->addr.data(), 16) == 0)
			return p.net_value(e);
	}
	return std::nullopt;
}

} // namespace

// Reference FNV-1a over the reversed text, written out independently.
TEST(NameHash, IsFnv1aOverTheBytesFromLastToFirst)
{
	uint64_t h = 14695981039346656037ULL;
	for (char c : std::string("lkp."))
		h = (h ^ uint8_t(c)) * 1099511628211ULL;
	EXPECT_EQ(name_hash(".pkl"), h);
	EXPECT_NE(name_hash(".pkl"), name_hash("lkp."));
}

TEST(KernelDev, EncodesMajorAndMinorLikeTheKernel)
{
	EXPECT_EQ(kernel_dev(makedev(254, 1)), (254ull << 20) | 1);
	EXPECT_EQ(kernel_dev(makedev(8, 17)), (8ull << 20) | 17);
}

TEST(Compile, FileRulesBecomeInodeAndNameEntries)
{
	scratch_dir d;
	std::string models = d.dir("srv/models"), bad = d.dir("srv/models/untrusted"), key = d.file("etc/key");
	compiled_policy p = must_compile(R"(
mode = "enforce"
[profile.svc]
all = true
[profile.svc.file]
default = "deny"
rules = [
  { action = "allow", dir = ")" + models +
					 R"(" },
  { action = "deny", dir = ")" + bad + R"(" },
  { action = "audit", file = ")" + key + R"(" },
  { action = "deny", name = "*.pkl" },
  { action = "deny", name = "id_rsa" },
]
)");
	ASSERT_EQ(p.profiles.size(), 1u);
	const ltrack_profile &v = p.profiles[0].value;
	EXPECT_EQ(p.mode, uint32_t(LTRACK_MODE_ENFORCE));
	EXPECT_EQ(v.mode, uint32_t(LTRACK_MODE_INHERIT));
	EXPECT_EQ(v.flags, LTRACK_PF_INODE_RULES | LTRACK_PF_NAME_RULES | LTRACK_PF_ANCESTORS);
	EXPECT_EQ(v.file_default, LTRACK_ACT_DENY);
	EXPECT_EQ(p.symbol(v.file_default_rule)->line, 6);
	EXPECT_EQ(v.exec_default, LTRACK_ACT_ALLOW);
	EXPECT_EQ(v.exec_default_rule, 0u);
	EXPECT_EQ(p.all_profile, 1u);

	const ltrack_inode_rule *m = find_inode(p, 1, LTRACK_HOOK_FILE, models);
	ASSERT_TRUE(m);
	EXPECT_EQ(m->subtree_action, LTRACK_ACT_ALLOW);
	EXPECT_EQ(m->self_action, LTRACK_ACT_NONE);
	EXPECT_EQ(p.symbol(m->subtree_rule)->text, "allow dir " + models);
	const ltrack_inode_rule *b = find_inode(p, 1, LTRACK_HOOK_FILE, bad);
	ASSERT_TRUE(b);
	EXPECT_EQ(b->subtree_action, LTRACK_ACT_DENY);
	const ltrack_inode_rule *k = find_inode(p, 1, LTRACK_HOOK_FILE, key);
	ASSERT_TRUE(k);
	EXPECT_EQ(k->self_action, LTRACK_ACT_AUDIT);
	EXPECT_EQ(k->subtree_action, LTRACK_ACT_NONE);
	EXPECT_EQ(p.symbol(k->self_rule)->line, 10);

	const ltrack_rule *pkl = find_name(p, 1, LTRACK_HOOK_FILE, LTRACK_NAME_SUFFIX, ".pkl");
	ASSERT_TRUE(pkl);
	EXPECT_EQ(pkl->action, LTRACK_ACT_DENY);
	EXPECT_TRUE(find_name(p, 1, LTRACK_HOOK_FILE, LTRACK_NAME_EXACT, "id_rsa"));
	for (const auto &[key, val] : p.inode_rules)
		EXPECT_EQ(key.slot, 0u);
}

TEST(Compile, SymlinkedPathsAreResolvedAndAliasesConflictDenyWins)
{
	scratch_dir d;
	std::string real = d.dir("data/real");
	fs::create_directory_symlink(real, d.path("data/alias"));
	compile_result r = compile_string(R"(
[profile.p]
all = true
[profile.p.file]
rules = [
  { action = "allow", dir = ")" + real + R"(" },
  { action = "deny", dir = ")" + d.path("data/alias") +
						  R"(" },
]
)",
					  "alias.toml");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	ASSERT_EQ(r.diagnostics.size(), 1u);
	EXPECT_FALSE(r.diagnostics[0].error);
	EXPECT_EQ(r.diagnostics[0].line, 7);
	EXPECT_NE(r.diagnostics[0].message.find("stricter rule (deny)"), std::string::npos) << r.diagnostics[0].message;
	std::vector<ltrack_inode_rule> files;
	for (const auto &[k, v] : r.policy->inode_rules)
		if (k.hook == LTRACK_HOOK_FILE)
			files.push_back(v);
	ASSERT_EQ(files.size(), 1u);
	EXPECT_EQ(files[0].subtree_action, LTRACK_ACT_DENY);
	EXPECT_EQ(r.policy->symbol(files[0].subtree_rule)->line, 7);
	// The way to both: the directories and the symlink itself (a rename of
	// it would re-point the path the rule names), not the target.
	auto ancestor = [&](const std::string &path) -> const ltrack_inode_rule * {
		struct stat st {};
		if (lstat(path.c_str(), &st) < 0)
			return nullptr;
		for (const auto &[k, v] : r.policy->inode_rules)
			if (k.hook == LTRACK_HOOK_ANCESTOR && k.ino == st.st_ino &&
			    k.dev == ((uint64_t(major(st.st_dev)) << 20) | minor(st.st_dev)))
				return &v;
		return nullptr;
	};
	ASSERT_TRUE(ancestor(d.path("data/alias")));
	EXPECT_EQ(ancestor(d.path("data/alias"))->self_action, LTRACK_ACT_DENY);
	EXPECT_EQ(r.policy->symbol(ancestor(d.path("data/alias"))->self_rule)->line, 7);
	ASSERT_TRUE(ancestor(d.path("data")));
	EXPECT_EQ(r.policy->symbol(ancestor(d.path("data"))->self_rule)->line, 7) << "a deny rule is named first";
	EXPECT_FALSE(ancestor(real));
	EXPECT_TRUE(r.policy->profiles.at(0).value.flags & LTRACK_PF_ANCESTORS);
}

TEST(Compile, ExecRulesAndExecutableSelectorFollowSymlinks)
{
	scratch_dir d;
	std::string py = d.file("bin/python3.11", "#!"), tools = d.dir("tools");
	fs::create_symlink(py, d.path("bin/python3"));
	compiled_policy p = must_compile(R"(
[profile.svc]
executables = [")" + d.path("bin/python3") +
					 R"("]
[profile.svc.exec]
default = "kill"
rules = [
  { action = "allow", file = ")" + py + R"(" },
  { action = "audit", dir = ")" + tools + R"(" },
]
)");
	struct stat st = stat_of(py);
	ASSERT_EQ(p.exe_profiles.size(), 1u);
	EXPECT_EQ(p.exe_profiles[0].first.ino, uint64_t(st.st_ino));
	EXPECT_EQ(p.exe_profiles[0].first.dev, kernel_dev(st.st_dev));
	EXPECT_EQ(p.exe_profiles[0].second, 1u);
	EXPECT_EQ(p.all_profile, 0u);
	const ltrack_profile &v = p.profiles[0].value;
	EXPECT_EQ(v.flags, LTRACK_PF_EXEC_RULES | LTRACK_PF_ANCESTORS);
	EXPECT_EQ(v.exec_default, LTRACK_ACT_KILL);
	const ltrack_inode_rule *r = find_inode(p, 1, LTRACK_HOOK_EXEC, py);
	ASSERT_TRUE(r);
	EXPECT_EQ(r->self_action, LTRACK_ACT_ALLOW);
	ASSERT_TRUE(find_inode(p, 1, LTRACK_HOOK_EXEC, tools));
	EXPECT_EQ(find_inode(p, 1, LTRACK_HOOK_EXEC, tools)->subtree_action, LTRACK_ACT_AUDIT);
	EXPECT_EQ(find_inode(p, 1, LTRACK_HOOK_FILE, py), nullptr);
}

TEST(Compile, CgroupSelectorUsesTheDirectoryInode)
{
	if (!fs::is_directory("/sys/fs/cgroup"))
		GTEST_SKIP() << "no /sys/fs/cgroup here";
	compiled_policy p = must_compile(R"(
[profile.svc]
cgroups = ["/sys/fs/cgroup"]
)");
	ASSERT_EQ(p.cgroup_profiles.size(), 1u);
	EXPECT_EQ(p.cgroup_profiles[0].first.cgroup_id, uint64_t(stat_of("/sys/fs/cgroup").st_ino));
	EXPECT_EQ(p.cgroup_profiles[0].second, 1u);
}

TEST(Compile, NetworkEntriesFoldEnclosingPrefixes)
{
	compiled_policy p = must_compile(R"(
[profile.n]
all = true
[profile.n.network]
default = "deny"
unix = "allow"
rules = [
  { action = "allow", ports = 53, proto = "udp" },
  { action = "allow", to = "10.0.0.0/8", ports = ["8000-8100", 443], proto = "tcp" },
  { action = "deny", to = "10.0.0.0/8", ports = 8080 },
  { action = "kill", to = "10.1.0.0/16" },
  { action = "allow", to = "loopback" },
  { action = "allow", to = "fd00::/8", ports = 443 },
]
)");
	const ltrack_profile &v = p.profiles[0].value;
	EXPECT_EQ(v.flags, LTRACK_PF_NET_RULES);
	EXPECT_EQ(v.net_default, LTRACK_ACT_DENY);
	EXPECT_EQ(v.unix_action, LTRACK_ACT_ALLOW);
	EXPECT_EQ(p.symbol(v.unix_rule)->kind, "unix");

	// The port-only rule is the ::/0 entry, key prefixlen 32.
	const std::optional<ltrack_net_val> any = find_net(p, 1, "::/0");
	ASSERT_TRUE(any);
	ASSERT_EQ(any->count, 1u);
	EXPECT_EQ(any->rules[0].port_lo, 53);
	EXPECT_EQ(any->rules[0].proto, 17);

	// 10.0.0.0/8: prefixlen 32 + 96 + 8; deny before allow, then ::/0 folded
	// in. One rule's port ranges stay together, by port.
	const std::optional<ltrack_net_val> ten = find_net(p, 1, "10.0.0.0/8");
	ASSERT_TRUE(ten);
	ASSERT_EQ(ten->count, 4u);
	EXPECT_EQ(ten->rules[0].action, LTRACK_ACT_DENY);
	EXPECT_EQ(ten->rules[0].port_lo, 8080);
	EXPECT_EQ(ten->rules[1].action, LTRACK_ACT_ALLOW);
	EXPECT_EQ(ten->rules[1].port_lo, 443);
	EXPECT_EQ(ten->rules[2].port_lo, 8000);
	EXPECT_EQ(ten->rules[2].port_hi, 8100);
	EXPECT_EQ(ten->rules[1].rule_id, ten->rules[2].rule_id);
	EXPECT_EQ(ten->rules[3].port_lo, 53);

	// 10.1.0.0/16 holds its own kill, then 10/8's rules, then ::/0's.
	const std::optional<ltrack_net_val> sub = find_net(p, 1, "10.1.0.0/16");
	ASSERT_TRUE(sub);
	ASSERT_EQ(sub->count, 5u);
	EXPECT_EQ(sub->rules[0].action, LTRACK_ACT_KILL);
	EXPECT_EQ(sub->rules[0].port_lo, 0);
	EXPECT_EQ(sub->rules[0].port_hi, 65535);
	EXPECT_EQ(sub->rules[4].port_lo, 53);

	ASSERT_TRUE(find_net(p, 1, "127.0.0.0/8"));
	ASSERT_TRUE(find_net(p, 1, "::1/128"));
	EXPECT_EQ(find_net(p, 1, "::1/128")->count, 2u);
	// A v6 prefix gets ::/0's rules but not the IPv4 ones.
	const std::optional<ltrack_net_val> fd = find_net(p, 1, "fd00::/8");
	ASSERT_TRUE(fd);
	EXPECT_EQ(fd->count, 2u);
	for (const auto &e : p.net_rules)
		EXPECT_EQ(e.key.scope, 1u) << "scope = profile id, slot left 0 for the loader";
}

TEST(Compile, ModelRules)
{
	scratch_dir d;
	std::string models = d.dir("models");
	compiled_policy p = must_compile(R"(
[profile.m]
all = true
[profile.m.model]
directories = [")" + models + R"("]
extensions = [".pt", ".pkl"]
allow = "unscanned"
deny_suspicious = false
action = "audit"
trusted_sha256 = ["ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"]
)");
	const ltrack_profile &v = p.profiles[0].value;
	EXPECT_EQ(v.model_policy, LTRACK_MODEL_ALLOW_UNSCANNED);
	EXPECT_EQ(v.model_action, LTRACK_ACT_AUDIT);
	EXPECT_EQ(v.flags, LTRACK_PF_MODEL_DIRS | LTRACK_PF_MODEL_NAMES | LTRACK_PF_ANCESTORS);
	EXPECT_EQ(p.symbol(v.model_rule)->kind, "model");
	const ltrack_inode_rule *r = find_inode(p, 1, LTRACK_HOOK_MODEL, models);
	ASSERT_TRUE(r);
	EXPECT_NE(r->subtree_action, LTRACK_ACT_NONE);
	EXPECT_TRUE(find_name(p, 1, LTRACK_HOOK_MODEL, LTRACK_NAME_SUFFIX, ".pt"));
	EXPECT_TRUE(find_name(p, 1, LTRACK_HOOK_MODEL, LTRACK_NAME_SUFFIX, ".pkl"));
	EXPECT_EQ(p.model_dirs, std::vector<std::string>{models});
	EXPECT_EQ(p.trusted_digests.count("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"), 1u);

	compiled_policy strict = must_compile(R"(
[profile.m]
all = true
[profile.m.model]
extensions = [".pt"]
)");
	EXPECT_EQ(strict.profiles[0].value.model_policy, LTRACK_MODEL_SAFE_ONLY);
	EXPECT_EQ(strict.profiles[0].value.model_action, LTRACK_ACT_DENY);
	EXPECT_EQ(strict.profiles[0].value.flags, LTRACK_PF_MODEL_NAMES | LTRACK_PF_DENY_SUSPICIOUS);
	EXPECT_EQ(strict.profiles[0].scan_at_open_max_bytes, 0u) << "scan_at_open is off unless asked for";

	compiled_policy waits = must_compile(R"(
[profile.m]
all = true
[profile.m.model]
directories = [")" + models + R"("]
scan_at_open = true
[profile.n]
all = false
executables = ["/usr/bin/true"]
[profile.n.model]
directories = [")" + models + R"("]
scan_at_open = true
scan_at_open_max_mb = 64
)");
	EXPECT_TRUE(waits.profiles[0].value.flags & LTRACK_PF_MODEL_WAIT);
	EXPECT_EQ(waits.profiles[0].scan_at_open_max_bytes, 1024ull << 20) << "default: 1 GiB (about 1 s of scanning)";
	EXPECT_EQ(waits.profiles[1].scan_at_open_max_bytes, 64ull << 20);
	compile_result bad = compile_string(R"(
[profile.m]
all = true
[profile.m.model]
extensions = [".pt"]
scan_at_open_max_mb = 0
)",
					    "test.toml");
	EXPECT_FALSE(bad.ok()) << "a zero limit is refused";
}

TEST(Compile, ProfileModeOverrideAndRuleIdsInSourceOrder)
{
	compiled_policy p = must_compile(R"(
mode = "enforce"
[profile.zeta]
all = true
mode = "audit"
[profile.zeta.network]
default = "deny"
[profile.alpha]
executables = ["/usr/bin/env"]
[profile.alpha.file]
rules = [{ action = "deny", name = "*.key" }]
)");
	ASSERT_EQ(p.profiles.size(), 2u);
	EXPECT_EQ(p.profiles[0].name, "zeta"); // source order, not key order
	EXPECT_EQ(p.profiles[0].id, 1u);
	EXPECT_EQ(p.profiles[0].value.mode, uint32_t(LTRACK_MODE_AUDIT));
	EXPECT_EQ(p.profiles[1].id, 2u);
	ASSERT_EQ(p.symbols.size(), 2u);
	EXPECT_EQ(p.symbols[0].id, 1u);
	EXPECT_EQ(p.symbols[0].line, 7);
	EXPECT_EQ(p.symbols[0].text, "network default deny");
	EXPECT_EQ(p.symbols[1].line, 11);
	EXPECT_EQ(p.symbols[1].profile, "alpha");
	EXPECT_EQ(p.symbols[1].text, "deny name *.key");
}

TEST(Compile, PreviousProfileIdsAreKept)
{
	const char *text = R"(
[profile.a]
all = true
[profile.b]
executables = ["/usr/bin/env"]
[profile.c]
cgroups = ["/sys/fs/cgroup/x"]
)";
	compile_options o;
	o.resolve_paths = false;
	o.previous_ids = {{"b", 7}, {"gone", 9}};
	compiled_policy p = must_compile(text, o);
	EXPECT_EQ(p.find_profile("b")->id, 7u);
	EXPECT_EQ(p.find_profile("a")->id, 10u);
	EXPECT_EQ(p.find_profile("c")->id, 11u);
	EXPECT_EQ(p.all_profile, 10u);
	EXPECT_EQ(p.exe_profiles[0].second, 7u);
}

TEST(Compile, SameInputSameOutput)
{
	std::string text;
	std::ifstream in(std::string(LTRACK_SOURCE_DIR) + "/policies/inference.toml");
	text.assign(std::istreambuf_iterator<char>(in), {});
	ASSERT_FALSE(text.empty());
	compile_options o;
	o.resolve_paths = false;
	compiled_policy a = must_compile(text, o), b = must_compile(text, o);
	auto same = [](const auto &x, const auto &y) {
		ASSERT_EQ(x.size(), y.size());
		for (std::size_t i = 0; i < x.size(); i++) {
			EXPECT_EQ(std::memcmp(&x[i].first, &y[i].first, sizeof(x[i].first)), 0);
			EXPECT_EQ(std::memcmp(&x[i].second, &y[i].second, sizeof(x[i].second)), 0);
		}
	};
	same(a.inode_rules, b.inode_rules);
	same(a.name_rules, b.name_rules);
	ASSERT_EQ(a.net_rules.size(), b.net_rules.size());
	for (std::size_t i = 0; i < a.net_rules.size(); i++) {
		EXPECT_EQ(std::memcmp(&a.net_rules[i].key, &b.net_rules[i].key, sizeof(ltrack_net_key)), 0);
		ltrack_net_val x = a.net_value(a.net_rules[i]), y = b.net_value(b.net_rules[i]);
		EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0);
	}
	same(a.exe_profiles, b.exe_profiles);
	EXPECT_EQ(summary_json(&a, {}), summary_json(&b, {}));
	EXPECT_FALSE(a.inode_rules.empty());
	EXPECT_FALSE(a.net_rules.empty());
}

TEST(Compile, LtrackFormatBecomesAuditRulesForEveryProcess)
{
	scratch_dir d;
	std::string watched = d.dir("watched");
	compile_result r = compile_string(R"(
[file_monitor]
enabled = true
directories = [")" + watched + R"("]
[exec_monitor]
enabled = true
watch_commands = ["sh", "no-such-command-ltrack"]
[network_monitor]
enabled = true
ports = [2333, 8888]
protocols = ["tcp"]
[log]
level = "debug"
format = "text"
output_path = "/var/log/ltrack/app.log"
max_size = 10
[storage]
enabled = true
)",
					  "compat.toml");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	const compiled_policy &p = *r.policy;
	EXPECT_TRUE(p.ltrack_compat);
	EXPECT_EQ(p.mode, uint32_t(LTRACK_MODE_AUDIT));
	ASSERT_EQ(p.profiles.size(), 1u);
	EXPECT_EQ(p.all_profile, p.profiles[0].id);
	EXPECT_EQ(p.profiles[0].value.mode, uint32_t(LTRACK_MODE_AUDIT));
	EXPECT_EQ(p.log.level, "debug");
	EXPECT_EQ(p.log.format, "text");
	EXPECT_EQ(p.log.max_size_mb, 10u);
	for (const auto &s : p.symbols)
		EXPECT_EQ(s.action, LTRACK_ACT_AUDIT) << s.text;
	const ltrack_inode_rule *w = find_inode(p, 1, LTRACK_HOOK_FILE, watched);
	ASSERT_TRUE(w);
	EXPECT_EQ(w->subtree_action, LTRACK_ACT_AUDIT);
	bool sh = false;
	for (const auto &[k, v] : p.inode_rules)
		sh |= k.hook == LTRACK_HOOK_EXEC && v.self_action == LTRACK_ACT_AUDIT;
	EXPECT_TRUE(sh);
	const std::optional<ltrack_net_val> any = find_net(p, 1, "::/0");
	ASSERT_TRUE(any);
	ASSERT_EQ(any->count, 2u);
	EXPECT_EQ(any->rules[0].proto, 6);
	// The unknown command and [storage] are warnings, with their positions.
	ASSERT_EQ(r.diagnostics.size(), 2u);
	EXPECT_EQ(format(r.diagnostics[0]).substr(0, 17), "compat.toml:7:25:");
	EXPECT_NE(r.diagnostics[0].message.find("no-such-command-ltrack"), std::string::npos);
	EXPECT_EQ(r.diagnostics[1].line, 17);
	EXPECT_FALSE(r.diagnostics[1].error);
}

class ShippedPolicy : public ::testing::TestWithParam<const char *> {};

TEST_P(ShippedPolicy, CompilesOnThisHostWithoutErrors)
{
	std::string path = std::string(LTRACK_SOURCE_DIR) + "/policies/" + GetParam();
	compile_result r = compile_file(path);
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	for (const auto &d : r.diagnostics)
		EXPECT_NE(d.message.find("cannot be resolved"), std::string::npos)
			<< "only missing-path warnings: " << format(d);
	EXPECT_FALSE(r.policy->profiles.empty());
	EXPECT_FALSE(r.policy->symbols.empty());
}

INSTANTIATE_TEST_SUITE_P(Policies, ShippedPolicy,
			 ::testing::Values("inference.toml", "inference-audit.toml", "default.toml",
					   "ltrack-compat.toml"));

TEST(ShippedPolicies, InferenceAndItsAuditTwinDifferOnlyInMode)
{
	compile_options o;
	o.resolve_paths = false;
	compile_result e = compile_file(std::string(LTRACK_SOURCE_DIR) + "/policies/inference.toml", o);
	compile_result a = compile_file(std::string(LTRACK_SOURCE_DIR) + "/policies/inference-audit.toml", o);
	ASSERT_TRUE(e.ok() && a.ok());
	EXPECT_EQ(e.policy->mode, uint32_t(LTRACK_MODE_ENFORCE));
	EXPECT_EQ(a.policy->mode, uint32_t(LTRACK_MODE_AUDIT));
	ASSERT_EQ(e.policy->symbols.size(), a.policy->symbols.size());
	for (std::size_t i = 0; i < e.policy->symbols.size(); i++)
		EXPECT_EQ(e.policy->symbols[i].text, a.policy->symbols[i].text);
	const ltrack_profile &v = e.policy->profiles[0].value;
	EXPECT_EQ(v.exec_default, LTRACK_ACT_KILL);
	EXPECT_EQ(v.file_default, LTRACK_ACT_DENY);
	EXPECT_EQ(v.net_default, LTRACK_ACT_DENY);
	EXPECT_EQ(v.model_policy, LTRACK_MODEL_SAFE_ONLY);
	// A model written into /srv/models a moment ago is scanned at its first open.
	EXPECT_TRUE(v.flags & LTRACK_PF_MODEL_WAIT);
	EXPECT_EQ(v.flags, a.policy->profiles[0].value.flags);

	compile_result def = compile_file(std::string(LTRACK_SOURCE_DIR) + "/policies/default.toml", o);
	ASSERT_TRUE(def.ok());
	EXPECT_EQ(def.policy->mode, uint32_t(LTRACK_MODE_AUDIT));
	for (const auto &s : def.policy->symbols)
		EXPECT_LE(s.action, LTRACK_ACT_AUDIT) << "the default policy refuses nothing: " << s.text;
}
