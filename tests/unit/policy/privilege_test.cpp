// [profile.X.privilege]: what a privilege escalation does, compiled into the
// profile's priv_action and rule id (lsm/cred.bpf.c reads them).
#include "policy.h"
#include "summary.h"

#include <gtest/gtest.h>

using namespace ltrack::policy;

namespace {

compile_result compile(const std::string &text)
{
	compile_options o;
	o.resolve_paths = false;
	return compile_string(text, "priv.toml", o);
}

} // namespace

TEST(Privilege, DefaultBecomesTheProfilesActionAndARule)
{
	compile_result r = compile(R"(
[profile.w]
all = true
[profile.w.privilege]
default = "deny"
)");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	const compiled_profile &p = r.policy->profiles.at(0);
	EXPECT_EQ(p.value.priv_action, LTRACK_ACT_DENY);
	const rule_symbol *s = r.policy->symbol(p.value.priv_rule);
	ASSERT_NE(s, nullptr);
	EXPECT_EQ(s->text, "privilege escalation deny");
	EXPECT_EQ(s->kind, "priv-default");
	EXPECT_EQ(s->line, 5);
	EXPECT_NE(summary_text(*r.policy).find("privilege escalation: deny (#1 line 5)"), std::string::npos)
		<< summary_text(*r.policy);
	for (const char *a : {"allow", "audit", "kill"}) {
		compile_result k = compile(std::string("[profile.w]\nall = true\n[profile.w.privilege]\ndefault = \"") +
					   a + "\"\n");
		ASSERT_TRUE(k.ok()) << a << format_all(k.diagnostics);
		EXPECT_EQ(k.policy->profiles.at(0).value.priv_action, std::string(a) == "allow"   ? LTRACK_ACT_ALLOW
								      : std::string(a) == "audit" ? LTRACK_ACT_AUDIT
												  : LTRACK_ACT_KILL);
	}
}

// No section: an escalation is allowed but recorded (audit, rule id 0).
TEST(Privilege, WithoutASectionEscalationIsAudited)
{
	compile_result r = compile("[profile.w]\nall = true\n");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	EXPECT_EQ(r.policy->profiles.at(0).value.priv_action, LTRACK_ACT_AUDIT);
	EXPECT_EQ(r.policy->profiles.at(0).value.priv_rule, 0u);
	EXPECT_NE(summary_text(*r.policy).find("privilege escalation: audit (implicit)"), std::string::npos);
}

TEST(Privilege, MistakesAreErrors)
{
	compile_result typo = compile("[profile.w]\nall = true\n[profile.w.privilege]\ndefault = \"dney\"\n");
	EXPECT_EQ(
		format_all(typo.diagnostics),
		"priv.toml:4:11: error: profile.w.privilege.default: \"dney\" is not an action; use \"allow\", \"audit\", "
		"\"deny\" or \"kill\"\n");
	compile_result empty = compile("[profile.w]\nall = true\n[profile.w.privilege]\n");
	EXPECT_EQ(
		format_all(empty.diagnostics),
		"priv.toml:3:1: error: [profile.w.privilege] needs default = \"allow\", \"audit\", \"deny\" or \"kill\"\n");
	compile_result key =
		compile("[profile.w]\nall = true\n[profile.w.privilege]\ndefault = \"deny\"\nsetuid = \"allow\"\n");
	EXPECT_FALSE(key.ok());
	EXPECT_NE(format_all(key.diagnostics).find("unknown key \"setuid\""), std::string::npos)
		<< format_all(key.diagnostics);
}
