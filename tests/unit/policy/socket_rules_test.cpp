// The network section's `sockets` list and Unix socket rules: what they
// compile to (the profile's socket masks, inode and name entries under the
// NET hook), how explain decides them, and mistakes with their position.
#include "evaluate.h"
#include "name_hash.h"
#include "policy.h"
#include "rule_sets.h"

#include <gtest/gtest.h>

using namespace ltrack::policy;

namespace {

compile_result compile_text(const std::string &network)
{
	compile_options o;
	o.resolve_paths = false; // every path exists, with an identity from its text
	return compile_string("mode = \"enforce\"\n[profile.w]\nall = true\n[profile.w.network]\n" + network, "s.toml",
			      o);
}

const ltrack_profile &profile_of(const compile_result &r)
{
	return r.policy->profiles.at(0).value;
}

std::string errors(const std::string &network)
{
	return format_all(compile_text(network).diagnostics);
}

} // namespace

TEST(Sockets, DefaultListIsWhatAServiceNeeds)
{
	compile_result r = compile_text("default = \"deny\"\n");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	const ltrack_profile &v = profile_of(r);
	EXPECT_EQ(v.sock_families, 1ull << 1); // unix
	EXPECT_EQ(v.sock_inet, uint32_t(LTRACK_SOCK_INET | LTRACK_SOCK_INET6));
	EXPECT_EQ(v.netlink_protocols, 1u); // route
	EXPECT_EQ(v.sockets_rule, 0u);
	for (const char *spec :
	     {"packet", "inet/raw", "inet/dgram/icmp", "netlink/raw/netfilter", "vsock", "inet/stream/sctp"}) {
		explain_result e = explain_socket(*r.policy, "w", spec);
		ASSERT_TRUE(e.ex) << e.error;
		EXPECT_EQ(e.ex->hook, uint32_t(LTRACK_HOOK_SOCKET));
		EXPECT_EQ(e.ex->outcome, LTRACK_OUT_DENIED) << spec;
	}
	for (const char *spec : {"unix", "inet/stream", "inet6/dgram/udp", "netlink/raw/route", "netlink"}) {
		explain_result e = explain_socket(*r.policy, "w", spec);
		ASSERT_TRUE(e.ex) << e.error;
		EXPECT_EQ(e.ex->outcome, LTRACK_OUT_ALLOWED) << spec;
	}
}

TEST(Sockets, ListedKindsAndTheRuleThatListsThem)
{
	compile_result r =
		compile_text("sockets = [\"unix\", \"inet\", \"raw\", \"packet\", \"netlink-audit\", \"icmp\"]\n");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	const ltrack_profile &v = profile_of(r);
	EXPECT_EQ(v.sock_families, (1ull << 1) | (1ull << 17));
	EXPECT_EQ(v.sock_inet, uint32_t(LTRACK_SOCK_INET | LTRACK_SOCK_RAW | LTRACK_SOCK_ICMP));
	EXPECT_EQ(v.netlink_protocols, 1u << 9);
	const rule_symbol *s = r.policy->symbol(v.sockets_rule);
	ASSERT_NE(s, nullptr);
	EXPECT_EQ(s->kind, "sockets");
	EXPECT_EQ(s->text, "sockets unix, inet, raw, packet, netlink-audit, icmp");
	EXPECT_EQ(s->line, 5);
	explain_result e = explain_socket(*r.policy, "w", "inet6/stream");
	ASSERT_TRUE(e.ex);
	EXPECT_EQ(e.ex->outcome, LTRACK_OUT_DENIED);
	EXPECT_EQ(e.ex->rule_id, v.sockets_rule);
	EXPECT_EQ(explain_socket(*r.policy, "w", "netlink/raw/route").ex->outcome, LTRACK_OUT_DENIED);
	EXPECT_EQ(explain_socket(*r.policy, "w", "packet/raw").ex->outcome, LTRACK_OUT_ALLOWED);
	EXPECT_EQ(explain_socket(*r.policy, "w", "inet6/dgram/icmpv6").ex->outcome, LTRACK_OUT_ALLOWED);

	compile_result any = compile_text("sockets = [\"any\"]\n");
	ASSERT_TRUE(any.ok());
	EXPECT_EQ(explain_socket(*any.policy, "w", "netlink/raw/xfrm").ex->outcome, LTRACK_OUT_ALLOWED);
	compile_result none = compile_text("sockets = []\n");
	ASSERT_TRUE(none.ok());
	EXPECT_EQ(explain_socket(*none.policy, "w", "unix").ex->outcome, LTRACK_OUT_DENIED);
	EXPECT_EQ(none.policy->symbol(profile_of(none).sockets_rule)->text, "sockets none");
}

TEST(Sockets, MistakesAreErrorsWithTheirPosition)
{
	EXPECT_EQ(errors("sockets = [\"unix\", \"packets\"]\n"),
		  "s.toml:5:20: error: profile.w.network.sockets: \"packets\" is not a kind of socket; did you mean "
		  "\"packet\"?\n");
	EXPECT_EQ(errors("sockets = [\"netlink-routes\"]\n"),
		  "s.toml:5:12: error: profile.w.network.sockets: \"netlink-routes\" is not a kind of socket; did you "
		  "mean \"netlink-route\"?\n");
	EXPECT_NE(errors("sockets = \"unix\"\n").find("s.toml:5:11: error:"), std::string::npos);
	EXPECT_NE(errors("sockets = [\"unix\", 4]\n").find("s.toml:5:20: error:"), std::string::npos);
	compile_result ok = compile_text("sockets = [\"unix\"]\n");
	explain_result bad = explain_socket(*ok.policy, "w", "inet/weird");
	EXPECT_FALSE(bad.ex);
	EXPECT_NE(bad.error.find("not a socket type"), std::string::npos);
}

TEST(UnixRules, CompileToInodeAndNameEntriesUnderTheNetHook)
{
	compile_result r = compile_text("unix = \"allow\"\nrules = [\n"
					"  { action = \"deny\", unix = \"/run/app/x.sock\" },\n"
					"  { action = \"deny\", unix = \"@abstract\" },\n]\n");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	const compiled_policy &p = *r.policy;
	EXPECT_TRUE(profile_of(r).flags & LTRACK_PF_UNIX_RULES);
	int inodes = 0, names = 0;
	for (const auto &[k, v] : p.inode_rules)
		if (k.hook == LTRACK_HOOK_NET) {
			inodes++;
			EXPECT_EQ(v.self_action, LTRACK_ACT_DENY);
		}
	std::set<uint64_t> hashes;
	for (const auto &[k, v] : p.name_rules)
		if (k.hook == LTRACK_HOOK_NET) {
			names++;
			hashes.insert(k.hash);
			EXPECT_EQ(k.kind, uint32_t(LTRACK_NAME_EXACT));
		}
	EXPECT_EQ(inodes, 1); // the abstract socket has no inode
	EXPECT_EQ(names, 2);
	EXPECT_EQ(hashes.count(name_hash("/run/app/x.sock")), 1u);
	EXPECT_EQ(hashes.count(name_hash("@abstract")), 1u);
	const rule_symbol *s = nullptr;
	for (const auto &sym : p.symbols)
		if (sym.kind == "unix-socket" && sym.line == 8)
			s = &sym;
	ASSERT_NE(s, nullptr);
	EXPECT_EQ(s->text, "deny connect unix @abstract");

	explain_result e = explain_connect(p, "w", "unix:@abstract");
	ASSERT_TRUE(e.ex) << e.error;
	EXPECT_EQ(e.ex->outcome, LTRACK_OUT_DENIED);
	EXPECT_EQ(explain_connect(p, "w", "unix:@other").ex->outcome, LTRACK_OUT_ALLOWED);
	// By name, as its server would bind it (the path need not exist here).
	EXPECT_EQ(explain_connect(p, "w", "unix:/run/app/x.sock").ex->outcome, LTRACK_OUT_DENIED);
}

TEST(UnixRules, TheHostControlSetInANetworkSection)
{
	compile_result r = compile_text("rules = [\n  { action = \"deny\", set = \"host-control-sockets\" },\n]\n");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	const rule_set *set = find_rule_set("host-control-sockets");
	ASSERT_NE(set, nullptr);
	std::set<std::string> targets;
	for (const auto &e : set->entries)
		targets.insert(e.target);
	for (const char *t : {"/run/docker.sock", "/var/run/docker.sock", "/run/containerd/containerd.sock",
			      "/run/crio/crio.sock", "/run/podman/podman.sock", "/run/systemd/private",
			      "/run/dbus/system_bus_socket", "/run/ltrack/ltrackd.sock"})
		EXPECT_EQ(targets.count(t), 1u) << t;
	EXPECT_EQ(targets.count("/run/systemd/notify"), 0u) << "services report readiness there";
	explain_result e = explain_connect(*r.policy, "w", "unix:/run/dbus/system_bus_socket");
	ASSERT_TRUE(e.ex);
	EXPECT_EQ(e.ex->outcome, LTRACK_OUT_DENIED);
	EXPECT_EQ(r.policy->symbol(e.ex->rule_id)->text,
		  "deny connect unix /run/dbus/system_bus_socket (set host-control-sockets)");
	EXPECT_EQ(r.policy->symbol(e.ex->rule_id)->line, 6);
}

TEST(UnixRules, MistakesAreErrorsWithTheirPosition)
{
	EXPECT_EQ(errors("rules = [\n  { action = \"deny\", unix = \"run/x.sock\" },\n]\n"),
		  "s.toml:6:29: error: profile.w.network.rules.unix: \"run/x.sock\" is not an absolute path; write it "
		  "from / (e.g. \"/run/x.sock\")\n");
	EXPECT_EQ(errors("rules = [\n  { action = \"deny\", unix = \"/run/x.sock\", ports = 80 },\n]\n"),
		  "s.toml:6:52: error: profile.w.network.rules.ports: a Unix socket rule names its socket only; write "
		  "ports in a rule of its own\n");
	EXPECT_EQ(errors("rules = [\n  { action = \"deny\", set = \"sensitive-files\" },\n]\n"),
		  "s.toml:6:28: error: profile.w.network.rules.set: \"sensitive-files\" is a set of files; name it in "
		  "the file section's rules\n");
	EXPECT_EQ(errors("rules = [\n  { action = \"deny\", unix = \"@\" },\n]\n"),
		  "s.toml:6:29: error: profile.w.network.rules.unix: an abstract socket is \"@\" and 1 to 107 bytes of "
		  "name\n");
	EXPECT_NE(errors("unix = { action = \"deny\" }\n")
			  .find("s.toml:5:8: error: profile.w.network.unix: expected the "
				"verdict for Unix sockets"),
		  std::string::npos);
	compile_options o;
	o.resolve_paths = false;
	compile_result f = compile_string("[profile.w]\nall = true\n[profile.w.file]\nrules = [\n"
					  "  { action = \"deny\", set = \"host-control-sockets\" },\n]\n",
					  "s.toml", o);
	EXPECT_EQ(format_all(f.diagnostics),
		  "s.toml:5:28: error: profile.w.file.rules.set: \"host-control-sockets\" is a "
		  "set of Unix sockets; name it in the network section's rules\n");
}
