// The compiler at scale compiles the same thing: every rule of a generated
// policy of N rules turns into the same map entries (keys, values, the rule
// each names) in the policy of 10 N rules, and the large policy holds exactly
// N x 9 more of them. What makes the compiler fast (its representation)
// cannot change what a rule compiles to.
#include "policy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace ltrack::policy;

namespace {

// bench/host.sh's shape (N file rules, N network /32 rules, one profile) with
// every kind the compiler folds or merges: dir and name rules, ports,
// protocols, IPv6, an enclosing prefix folded into each /32, loopback.
std::string generated(int n)
{
	std::string t = "mode = \"enforce\"\n[profile.bench]\nexecutables = [\"/usr/bin/true\"]\n"
			"[profile.bench.file]\ndefault = \"allow\"\nrules = [\n";
	char line[256];
	for (int i = 0; i < n; i++) {
		if (i % 10 == 3)
			std::snprintf(line, sizeof line, "  { action = \"audit\", dir = \"/bench/d%d\" },\n", i);
		else if (i % 10 == 7)
			std::snprintf(line, sizeof line, "  { action = \"deny\", name = \"*.k%d\" },\n", i);
		else
			std::snprintf(line, sizeof line, "  { action = \"deny\", file = \"/bench/f%d.bin\" },\n", i);
		t += line;
	}
	t += "]\n[profile.bench.network]\ndefault = \"deny\"\nunix = \"allow\"\nrules = [\n"
	     "  { action = \"allow\", to = \"loopback\", proto = \"tcp\" },\n"
	     "  { action = \"allow\", to = \"10.0.0.0/8\", ports = 22, proto = \"tcp\" },\n";
	for (int i = 0; i < n; i++) {
		if (i % 11 == 5)
			std::snprintf(line, sizeof line,
				      "  { action = \"deny\", to = \"fd00::%x/128\", ports = 443 },\n", i);
		else if (i % 5 == 1)
			std::snprintf(
				line, sizeof line,
				"  { action = \"deny\", to = \"10.%d.%d.%d/32\", ports = [443, \"8000-8100\"], proto = \"udp\" },\n",
				i / 65536, i / 256 % 256, i % 256);
		else
			std::snprintf(line, sizeof line,
				      "  { action = \"deny\", to = \"10.%d.%d.%d/32\", proto = \"tcp\" },\n", i / 65536,
				      i / 256 % 256, i % 256);
		t += line;
	}
	return t + "]\n";
}

// Every entry as text, each rule id replaced by its rule's text (ids and
// lines differ between the two policies, the rules do not).
std::vector<std::string> entries(const compiled_policy &p)
{
	auto rule = [&](uint32_t id) {
		const rule_symbol *s = p.symbol(id);
		return id == 0 ? std::string("-")
		       : s     ? std::string(s->kind) + ":" + std::string(s->text)
			       : "?" + std::to_string(id);
	};
	std::vector<std::string> out;
	char buf[512];
	for (const auto &[k, v] : p.inode_rules) {
		std::snprintf(buf, sizeof buf, "inode p%u h%u %llx:%llx self %u ", k.profile, k.hook,
			      (unsigned long long)k.dev, (unsigned long long)k.ino, v.self_action);
		out.push_back(buf + rule(v.self_rule) + " subtree " + std::to_string(v.subtree_action) + " " +
			      rule(v.subtree_rule));
	}
	for (const auto &[k, v] : p.name_rules) {
		std::snprintf(buf, sizeof buf, "name p%u h%u k%u %llx %u ", k.profile, k.hook, k.kind,
			      (unsigned long long)k.hash, v.action);
		out.push_back(buf + rule(v.rule_id));
	}
	for (const auto &e : p.net_rules) {
		const ltrack_net_val v = p.net_value(e); // what the loader writes
		std::string s = "net " + std::to_string(e.key.scope) + "/" + std::to_string(e.key.prefixlen) + " ";
		for (uint8_t b : e.key.addr)
			s += std::to_string(b) + ".";
		s += " count " + std::to_string(v.count);
		for (uint32_t i = 0; i < v.count; i++) {
			const ltrack_net_rule &r = v.rules[i];
			std::snprintf(buf, sizeof buf, " [%u-%u/%u %u ", r.port_lo, r.port_hi, r.proto, r.action);
			s += buf + rule(r.rule_id) + "]";
		}
		// The unused tail of the value is zero, as the kernel compares nothing there.
		for (uint32_t i = v.count; i < LTRACK_NET_RULES_PER_PREFIX; i++) {
			static const ltrack_net_rule zero{};
			if (std::memcmp(&v.rules[i], &zero, sizeof zero) != 0)
				s += " [garbage]";
		}
		out.push_back(s);
	}
	for (const auto &[k, v] : p.exe_profiles)
		out.push_back("exe " + std::to_string(k.dev) + ":" + std::to_string(k.ino) + " " + std::to_string(v));
	for (const auto &pr : p.profiles) {
		ltrack_profile v = pr.value;
		std::string s = "profile " + pr.name + " flags " + std::to_string(v.flags) + " defaults " +
				std::to_string(v.file_default) + rule(v.file_default_rule) +
				std::to_string(v.net_default) + rule(v.net_default_rule) +
				std::to_string(v.unix_action) + rule(v.unix_rule);
		out.push_back(s);
	}
	return out;
}

compiled_policy compiled(int n)
{
	compile_options o;
	o.resolve_paths = false; // synthetic identities: the same path, the same inode, on any host
	compile_result r = compile_string(generated(n), "scale.toml", o);
	EXPECT_TRUE(r.ok()) << format_all(r.diagnostics);
	if (!r.ok())
		throw std::runtime_error("the generated policy did not compile");
	EXPECT_TRUE(r.diagnostics.empty()) << format_all(r.diagnostics);
	return std::move(*r.policy);
}

} // namespace

TEST(CompileAtScale, EachRuleCompilesToTheSameEntriesAtNAndTenTimesN)
{
	const int n = 1000;
	compiled_policy small = compiled(n), large = compiled(10 * n);

	// The rule table: the same rules, each with its text, kind and action.
	ASSERT_EQ(large.symbols.size() - small.symbols.size(), std::size_t(2 * 9 * n));
	std::map<std::string, int> large_rules;
	for (const auto &s : large.symbols)
		large_rules[std::string(s.kind) + ":" + std::string(s.text) + ":" + std::to_string(s.action)]++;
	for (const auto &s : small.symbols)
		EXPECT_EQ(large_rules[std::string(s.kind) + ":" + std::string(s.text) + ":" + std::to_string(s.action)],
			  1)
			<< s.text;

	// Every entry of the small policy is in the large one, unchanged.
	std::vector<std::string> a = entries(small), b = entries(large);
	std::map<std::string, int> in_large;
	for (const auto &e : b)
		in_large[e]++;
	for (const auto &e : a) {
		EXPECT_EQ(in_large[e], 1) << "the small policy's entry differs at 10 N rules: " << e;
		if (in_large[e] != 1)
			break;
	}
	// One entry per rule: the large policy has 9 N rules more of each kind
	// (inode or name per file rule, a net entry per network rule), and no
	// other entry changes (the profile's flags and defaults are in both).
	EXPECT_EQ(large.inode_rules.size() + large.name_rules.size() - small.inode_rules.size() -
			  small.name_rules.size(),
		  std::size_t(9 * n));
	EXPECT_EQ(large.net_rules.size() - small.net_rules.size(), std::size_t(9 * n));
	EXPECT_EQ(b.size() - a.size(), std::size_t(2 * 9 * n));
	// The compact form holds each entry's rules once: a /32 folds in 10/8's
	// rule, so 2 or 3 rules per entry, never the 16 a map value has room for.
	EXPECT_LE(large.net_entry_rules.size(), 3 * large.net_rules.size());
	// The resolved targets: one per file or dir rule, none per name rule.
	EXPECT_EQ(large.targets.size() - small.targets.size(), std::size_t(9 * n - 9 * n / 10));
}
