// Privilege escalation from the outside (lsm/cred.bpf.c, docs/policy.md
// "Privilege"): a governed process that gains root in a uid or gid, raises
// a capability, or executes a set-user-ID-root program is refused with
// EPERM under privilege default = "deny" and recorded as critical; one that
// only drops privilege is neither refused nor recorded; without a
// [privilege] section an escalation is allowed and recorded (audited).
#include "support.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <thread>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

using namespace std::chrono_literals;

constexpr int nobody = 65534;
constexpr int cap_net_admin = 12;

// The actor governed by profile p; privilege is the [privilege] default, or
// empty for no section.
std::string priv_policy(const std::string &privilege)
{
	std::string out = "mode = \"enforce\"\n[profile.p]\nexecutables = [\"" + actor_path() + "\"]\n";
	if (!privilege.empty())
		out += "[profile.p.privilege]\ndefault = \"" + privilege + "\"\n";
	return out;
}

json priv_record(const ltrackd &d, int pid, const std::string &outcome)
{
	json r = d.wait_for(decision_for(pid, "priv", outcome));
	EXPECT_EQ(r.kind, json::object_v) << "no " << outcome << " priv record for pid " << pid << "\n"
					  << read_file(d.log_path());
	return r;
}

// The record of a denial by "privilege escalation deny" (line 5 of priv_policy).
void expect_denied_record(const json &r, const ltrackd &d, const std::string &op)
{
	ASSERT_EQ(r.kind, json::object_v);
	EXPECT_EQ(r["severity"].s(), "critical");
	EXPECT_EQ(r["action"].s(), "deny");
	EXPECT_EQ(r["mode"].s(), "enforce");
	EXPECT_EQ(r["profile"].s(), "p");
	EXPECT_EQ(r["rule"]["text"].s(), "privilege escalation deny");
	EXPECT_EQ(r["rule"]["line"].i(), 5);
	EXPECT_EQ(r["rule"]["file"].s(), d.policy_path());
	EXPECT_EQ(r["privilege"]["op"].s(), op);
}

std::vector<json> priv_records_of(const ltrackd &d, int pid)
{
	std::vector<json> out;
	for (const auto &r : d.decisions())
		if (r["process"]["pid"].i() == pid && r["hook"].s() == "priv")
			out.push_back(r);
	return out;
}

TEST(Escalation, DroppingPrivilegeIsNeitherRefusedNorRecorded)
{
	ltrackd d(priv_policy("deny"));
	ASSERT_TRUE(d.start()) << d.output();
	run_result uid = actor({"setresuid", "65534", "65534", "65534"});
	EXPECT_EQ(uid.exit_code, 0) << uid.out;
	run_result gid = actor({"setresgid", "65534", "65534", "65534"});
	EXPECT_EQ(gid.exit_code, 0) << gid.out;
	// A decision after them, from a process that escalates, proves the
	// ring was drained past the drops before the check.
	run_result marker = actor({"regain-root", "65534"});
	EXPECT_EQ(marker.actor_errno(), EPERM) << marker.out;
	priv_record(d, marker.pid, "denied");
	EXPECT_TRUE(priv_records_of(d, uid.pid).empty()) << read_file(d.log_path());
	EXPECT_TRUE(priv_records_of(d, gid.pid).empty()) << read_file(d.log_path());
}

TEST(Escalation, RegainingRootUidOrGidIsDeniedWithACriticalRecord)
{
	ltrackd d(priv_policy("deny"));
	ASSERT_TRUE(d.start()) << d.output();

	// Real and saved uid 0, effective 65534: seteuid(0) is escalation.
	run_result r = actor({"regain-root", "65534"});
	EXPECT_EQ(r.actor_errno(), EPERM) << r.out;
	EXPECT_NE(r.out.find("euid 65534\neuid 65534\n"), std::string::npos) << r.out; // still not root after
	json rec = priv_record(d, r.pid, "denied");
	expect_denied_record(rec, d, "setuid");
	EXPECT_EQ(rec["privilege"]["old"]["effective"].i(), nobody);
	EXPECT_EQ(rec["privilege"]["new"]["effective"].i(), 0);
	EXPECT_EQ(rec["privilege"]["old"]["real"].i(), 0);

	// All gids 65534 (uid still 0, so CAP_SETGID holds): back to gid 0.
	run_options as_nogroup;
	as_nogroup.gid = nobody;
	run_result g = actor({"setresgid", "0", "0", "0"}, as_nogroup);
	EXPECT_EQ(g.actor_errno(), EPERM) << g.out;
	json grec = priv_record(d, g.pid, "denied");
	expect_denied_record(grec, d, "setgid");
	EXPECT_EQ(grec["privilege"]["old"]["effective"].i(), nobody);
	EXPECT_EQ(grec["privilege"]["new"]["real"].i(), 0);
}

TEST(Escalation, RaisingADroppedCapabilityIsDenied)
{
	ltrackd d(priv_policy("deny"));
	ASSERT_TRUE(d.start()) << d.output();
	run_result r = actor({"regain-cap", std::to_string(cap_net_admin)});
	EXPECT_EQ(r.actor_errno(), EPERM) << r.out;
	json rec = priv_record(d, r.pid, "denied");
	expect_denied_record(rec, d, "capset");
	auto bit = [](long long caps) { return (static_cast<unsigned long long>(caps) >> cap_net_admin) & 1; };
	EXPECT_EQ(bit(rec["privilege"]["old_caps"].i()), 0u);
	EXPECT_EQ(bit(rec["privilege"]["new_caps"].i()), 1u);
}

TEST(Escalation, ExecutingASetuidRootProgramIsDenied)
{
	temp_dir t;
	fs::permissions(t.path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
					fs::perms::others_read | fs::perms::others_exec);
	std::string suid = t / "suid-actor";
	fs::copy_file(actor_path(), suid);
	ASSERT_EQ(chown(suid.c_str(), 0, 0), 0);
	ASSERT_EQ(chmod(suid.c_str(), 04755), 0);
	ltrackd d(priv_policy("deny"));
	ASSERT_TRUE(d.start()) << d.output();

	// Ungoverned, the copy does become root (the test's own control).
	run_options as_nobody;
	as_nobody.uid = nobody;
	run_result control = run({suid, "setresuid", "0", "0", "0"}, as_nobody);
	EXPECT_EQ(control.exit_code, 0) << "the set-user-ID copy does not work here: " << control.out;

	// Governed (the actor, as 65534), executing it is refused.
	run_result r = actor({"exec", suid, "open", "/etc/hostname"}, as_nobody);
	EXPECT_EQ(r.actor_errno(), EPERM) << r.out;
	json rec = priv_record(d, r.pid, "denied");
	expect_denied_record(rec, d, "exec");
	EXPECT_EQ(rec["privilege"]["old"]["effective"].i(), nobody);
	EXPECT_EQ(rec["privilege"]["new"]["effective"].i(), 0);
	EXPECT_EQ(rec["file"]["path"].s(), suid);
}

TEST(Escalation, WithoutAPrivilegeSectionEscalationIsAllowedAndRecorded)
{
	ltrackd d(priv_policy(""));
	ASSERT_TRUE(d.start()) << d.output();
	run_result r = actor({"regain-root", "65534"});
	EXPECT_EQ(r.exit_code, 0) << r.out;
	EXPECT_NE(r.out.find("euid 0\n"), std::string::npos) << r.out;
	json rec = priv_record(d, r.pid, "audited");
	ASSERT_EQ(rec.kind, json::object_v);
	EXPECT_EQ(rec["severity"].s(), "critical");
	EXPECT_EQ(rec["action"].s(), "audit");
	EXPECT_EQ(rec["rule"]["id"].i(), 0);
	EXPECT_EQ(rec["privilege"]["op"].s(), "setuid");
}

} // namespace
