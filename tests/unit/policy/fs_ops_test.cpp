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
