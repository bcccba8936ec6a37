// Links, renames and mounts (issue 17 items 4, 5): the [mount] section, what it
// compiles to, and how explain decides a link/rename and a mount change.
#include "evaluate.h"
#include "policy.h"

#include <gtest/gtest.h>

using namespace ltrack::policy;

namespace {

compile_result compile_text(const std::string &profile)
{
	compile_options o;
	o.resolve_paths = false; // every path exists, with an identity from its text
	return compile_string("mode = \"enforce\"\n[profile.w]\nall = true\n" + profile, "f.toml", o);
}

} // namespace

TEST(FsOps, MountsAreRefusedWithoutASectionAndAllowedWithOne)
{
	compile_result none = compile_text("");
	ASSERT_TRUE(none.ok()) << format_all(none.diagnostics);
	EXPECT_EQ(none.policy->profiles.at(0).value.mount_action, LTRACK_ACT_DENY);
	EXPECT_EQ(none.policy->profiles.at(0).value.mount_rule, 0u);
	explain_result e = explain_mount(*none.policy, "w");
	ASSERT_TRUE(e.ex) << e.error;
	EXPECT_EQ(e.ex->hook, uint32_t(LTRACK_HOOK_MOUNT));
	EXPECT_EQ(e.ex->outcome, LTRACK_OUT_DENIED);

	compile_result allow = compile_text("[profile.w.mount]\ndefault = \"allow\"\n");
	ASSERT_TRUE(allow.ok()) << format_all(allow.diagnostics);
	const ltrack_profile &v = allow.policy->profiles.at(0).value;
	EXPECT_EQ(v.mount_action, LTRACK_ACT_ALLOW);
	ASSERT_NE(allow.policy->symbol(v.mount_rule), nullptr);
	EXPECT_EQ(allow.policy->symbol(v.mount_rule)->line, 5);
	EXPECT_EQ(explain_mount(*allow.policy, "w").ex->outcome, LTRACK_OUT_ALLOWED);

	compile_result bad = compile_text("[profile.w.mount]\nallow = true\n");
	EXPECT_FALSE(bad.ok());
	EXPECT_NE(format_all(bad.diagnostics).find("needs default"), std::string::npos) << format_all(bad.diagnostics);
}

TEST(FsOps, ALinkOrRenameIsRefusedExactlyWhenTheOpenIs)
{
	compile_result r = compile_text("[profile.w.file]\ndefault = \"allow\"\nrules = [\n"
					"  { action = \"deny\", dir = \"/srv/denied\" },\n"
					"  { action = \"audit\", name = \"*.log\" },\n"
					"  { action = \"deny\", name = \"*.pkl\" },\n]\n");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	auto link = [&](const std::string &path) {
		explain_result e = explain_link(*r.policy, "w", path, LTRACK_VERDICT_UNSCANNED, resolve_synthetic);
		EXPECT_TRUE(e.ex) << e.error;
		EXPECT_EQ(e.ex->hook, uint32_t(LTRACK_HOOK_LINK));
		return e.ex->outcome;
	};
	EXPECT_EQ(link("/srv/denied/secret.txt"), LTRACK_OUT_DENIED);
	EXPECT_EQ(link("/srv/open/x.pkl"), LTRACK_OUT_DENIED);
	// An audited open is not refused: the link is neither refused nor recorded.
	EXPECT_EQ(link("/srv/open/a.log"), LTRACK_OUT_ALLOWED);
	EXPECT_EQ(link("/srv/open/a.txt"), LTRACK_OUT_ALLOWED);
}

// Issue 17, "hard links and renames": the directories on the way to every
// inode-bound target are marked, so a governed process cannot move one and
// have the re-resolved rule bind to a replacement it made.
TEST(FsOps, AncestorsOfInodeTargetsAreMarkedAndTheirRenameRefused)
{
	compile_result r =
		compile_text("[profile.w.file]\ndefault = \"allow\"\nrules = [\n"
			     "  { action = \"allow\", dir = \"/srv/app/data\" },\n"
			     "  { action = \"deny\", file = \"/srv/secret/key\" },\n"
			     "  { action = \"deny\", dir = \"/srv/vault/inner\" },\n"
			     "  { action = \"deny\", name = \"*.pkl\" },\n]\n"
			     "[profile.w.exec]\nrules = [ { action = \"deny\", file = \"/usr/bin/curl\" } ]\n"
			     "[profile.w.model]\ndirectories = [\"/srv/models/m\"]\nallow = \"safe\"\n");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	const compiled_policy &p = *r.policy;
	EXPECT_TRUE(p.profiles.at(0).value.flags & LTRACK_PF_ANCESTORS);
	auto mark = [&](const std::string &path) -> std::string {
		path_identity id = *resolve_synthetic(path);
		for (const auto &[k, v] : p.inode_rules)
			if (k.hook == LTRACK_HOOK_ANCESTOR && k.dev == id.dev && k.ino == id.ino) {
				EXPECT_EQ(v.self_action, LTRACK_ACT_DENY) << path;
				EXPECT_EQ(v.subtree_action, LTRACK_ACT_NONE) << path;
				return std::string(p.symbol(v.self_rule)->text);
			}
		return "";
	};
	EXPECT_EQ(mark("/srv/secret"), "deny file /srv/secret/key");
	EXPECT_EQ(mark("/srv/vault"), "deny dir /srv/vault/inner");
	EXPECT_EQ(mark("/srv/app"), "allow dir /srv/app/data");
	EXPECT_EQ(mark("/srv/models"), "model dir /srv/models/m");
	EXPECT_EQ(mark("/usr/bin"), "deny exec file /usr/bin/curl");
	EXPECT_NE(mark("/srv"), "allow dir /srv/app/data") << "a deny rule below is named first";
	EXPECT_NE(mark("/srv"), "");
	// Not the targets, not what leads to none, not "/" (never renamed).
	EXPECT_EQ(mark("/srv/secret/key"), "");
	EXPECT_EQ(mark("/srv/vault/inner"), "");
	EXPECT_EQ(mark("/srv/other"), "");
	EXPECT_EQ(mark("/"), "");

	auto link = [&](const std::string &path) {
		explain_result e = explain_link(p, "w", path, LTRACK_VERDICT_UNSCANNED, resolve_synthetic);
		EXPECT_TRUE(e.ex) << e.error;
		return e.ex ? std::make_pair(e.ex->outcome, e.ex->rule_id) : std::make_pair(uint8_t(0), 0u);
	};
	auto [out, rule] = link("/srv/secret");
	EXPECT_EQ(out, LTRACK_OUT_DENIED);
	EXPECT_EQ(p.symbol(rule)->text, "deny file /srv/secret/key");
	EXPECT_EQ(link("/srv/models").first, LTRACK_OUT_DENIED);
	EXPECT_EQ(link("/srv/other").first, LTRACK_OUT_ALLOWED);
	EXPECT_EQ(link("/srv/secret/notes").first, LTRACK_OUT_ALLOWED) << "a rename inside stays allowed";
	EXPECT_EQ(link("/srv/app/data/tmp").first, LTRACK_OUT_ALLOWED);
}
