// bprm_check_security enforcement from the outside (issue 4): a governed
// actor executes programs; a deny rule or a deny default refuses with EPERM
// (execve fails, the actor reports it), an allow rule lets the program run,
// a dir rule covers programs copied in after the policy was loaded, a
// script's interpreter is checked in its own round, and a kill rule leaves
// the caller dead by SIGKILL. Each time: the errno or signal the process got,
// and the decision record.
#include "support.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

std::string q(const std::string &s)
{
	return "\"" + s + "\"";
}

int line_of(const std::string &text, const std::string &needle)
{
	std::size_t at = text.find(needle);
	if (at == std::string::npos)
		return 0;
	return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

std::string exec_policy(const std::vector<std::string> &rules, const std::string &def = "allow")
{
	std::string out = "mode = \"enforce\"\n[profile.p]\nexecutables = [" + q(actor_path()) +
			  "]\n[profile.p.exec]\ndefault = " + q(def) + "\nrules = [\n";
	for (const auto &r : rules)
		out += "  " + r + ",\n";
	return out + "]\n";
}

std::string rule(const std::string &action, const std::string &kind, const std::string &target)
{
	return "{ action = " + q(action) + ", " + kind + " = " + q(target) + " }";
}

void expect_exec_record(const json &r, const ltrackd &d, const std::string &policy, const std::string &outcome,
			const std::string &action, const std::string &rule_text, const std::string &needle,
			const std::string &path)
{
	ASSERT_EQ(r.kind, json::object_v) << "no exec record for " << path << "\n" << read_file(d.log_path());
	EXPECT_EQ(r["hook"].s(), "exec");
	EXPECT_EQ(r["outcome"].s(), outcome);
	EXPECT_EQ(r["action"].s(), action);
	EXPECT_EQ(r["mode"].s(), "enforce");
	EXPECT_EQ(r["profile"].s(), "p");
	EXPECT_EQ(r["rule"]["text"].s(), rule_text);
	EXPECT_EQ(r["rule"]["line"].i(), line_of(policy, needle)) << needle;
	EXPECT_EQ(r["rule"]["file"].s(), d.policy_path());
	EXPECT_EQ(r["file"]["path"].s(), path);
	struct stat st {};
	if (stat(path.c_str(), &st) == 0) {
		EXPECT_EQ(static_cast<unsigned long long>(r["file"]["ino"].i()),
			  static_cast<unsigned long long>(st.st_ino));
	}
}

void copy_program(const std::string &from, const std::string &to)
{
	fs::copy_file(from, to, fs::copy_options::overwrite_existing);
	chmod(to.c_str(), 0755);
}

TEST(ExecEnforce, DenyRuleRefusesTheProgramOthersRun)
{
	std::string policy = exec_policy({rule("deny", "file", "/usr/bin/true")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	run_result denied = actor({"exec", "/usr/bin/true"});
	EXPECT_EQ(denied.actor_errno(), EPERM) << denied.out;
	expect_exec_record(d.wait_for(decision_for(denied.pid, "exec", "denied")), d, policy, "denied", "deny",
			   "deny exec file /usr/bin/true", "file = \"/usr/bin/true\"", "/usr/bin/true");

	// Through the /bin -> usr/bin symlink: the same program, the same rule.
	run_result via_link = actor({"exec", "/bin/true"});
	EXPECT_EQ(via_link.actor_errno(), EPERM) << via_link.out;
	expect_exec_record(d.wait_for(decision_for(via_link.pid, "exec", "denied")), d, policy, "denied", "deny",
			   "deny exec file /usr/bin/true", "file = \"/usr/bin/true\"", "/usr/bin/true");

	run_result other = actor({"exec", "/usr/bin/echo", "still-runs"});
	EXPECT_EQ(other.exit_code, 0) << other.out;
	EXPECT_NE(other.out.find("still-runs"), std::string::npos) << other.out;

	// Not governed: the test runs it.
	EXPECT_EQ(run({"/usr/bin/true"}).exit_code, 0);
}

TEST(ExecEnforce, DefaultDenyRunsOnlyWhatIsAllowed)
{
	std::string policy = exec_policy({rule("allow", "file", "/usr/bin/true")}, "deny");
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	run_result allowed = actor({"exec", "/usr/bin/true"});
	EXPECT_EQ(allowed.exit_code, 0) << allowed.out;
	expect_exec_record(d.wait_for(decision_for(allowed.pid, "exec", "allowed")), d, policy, "allowed", "allow",
			   "allow exec file /usr/bin/true", "file = \"/usr/bin/true\"", "/usr/bin/true");

	run_result denied = actor({"exec", "/usr/bin/echo", "must-not-print"});
	EXPECT_EQ(denied.actor_errno(), EPERM) << denied.out;
	EXPECT_EQ(denied.out.find("must-not-print"), std::string::npos) << denied.out;
	expect_exec_record(d.wait_for(decision_for(denied.pid, "exec", "denied")), d, policy, "denied", "deny",
			   "exec default deny", "default = \"deny\"", "/usr/bin/echo");
}

TEST(ExecEnforce, DirRuleCoversProgramsCreatedAfterLoad)
{
	temp_dir t;
	fs::create_directories(t / "bin/sub");
	fs::create_directories(t / "ok");
	std::string policy = exec_policy({rule("deny", "dir", t / "bin")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	copy_program("/usr/bin/true", t / "bin/sub/mytrue");
	copy_program("/usr/bin/true", t / "ok/mytrue");
	run_result denied = actor({"exec", t / "bin/sub/mytrue"});
	EXPECT_EQ(denied.actor_errno(), EPERM) << denied.out;
	expect_exec_record(d.wait_for(decision_for(denied.pid, "exec", "denied")), d, policy, "denied", "deny",
			   "deny exec dir " + (t / "bin"), "dir = " + q(t / "bin"), t / "bin/sub/mytrue");

	run_result ok = actor({"exec", t / "ok/mytrue"});
	EXPECT_EQ(ok.exit_code, 0) << ok.out;
}

TEST(ExecEnforce, ScriptInterpreterIsCheckedInItsOwnRound)
{
	temp_dir t;
	write_file(t / "dash-script", "#!/bin/sh\nexit 7\n");
	write_file(t / "bash-script", "#!/usr/bin/bash\nexit 7\n");
	chmod((t / "dash-script").c_str(), 0755);
	chmod((t / "bash-script").c_str(), 0755);
	// /bin/sh is resolved at compile time: the rule is on dash's inode.
	std::string policy = exec_policy({rule("deny", "file", "/bin/sh")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();
	std::string dash = fs::canonical("/bin/sh");

	run_result denied = actor({"exec", t / "dash-script"});
	EXPECT_EQ(denied.actor_errno(), EPERM) << denied.out;
	expect_exec_record(d.wait_for(decision_for(denied.pid, "exec", "denied")), d, policy, "denied", "deny",
			   "deny exec file /bin/sh", "file = \"/bin/sh\"", dash);

	run_result other = actor({"exec", t / "bash-script"});
	EXPECT_EQ(other.exit_code, 7) << other.out;
}

TEST(ExecEnforce, KillRuleKillsTheCaller)
{
	std::string policy = exec_policy({rule("kill", "file", "/usr/bin/true")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	run_result killed = actor({"exec", "/usr/bin/true"});
	EXPECT_EQ(killed.signal, 9) << "exit " << killed.exit_code << ": " << killed.out;
	EXPECT_EQ(killed.exit_code, -1);
	expect_exec_record(d.wait_for(decision_for(killed.pid, "exec", "killed")), d, policy, "killed", "kill",
			   "kill exec file /usr/bin/true", "file = \"/usr/bin/true\"", "/usr/bin/true");

	// Only the offender dies: a governed parent whose child runs it sees
	// the child killed by SIGKILL and lives on to say so.
	run_result parent = actor({"child", "exec", "/usr/bin/true"});
	EXPECT_EQ(parent.signal, 0) << parent.out;
	EXPECT_EQ(parent.exit_code, 128 + 9) << parent.out;
	EXPECT_NE(parent.out.find("child killed by signal 9"), std::string::npos) << parent.out;
	json rec = d.wait_for([&](const json &r) {
		return r["hook"].s() == "exec" && r["outcome"].s() == "killed" &&
		       r["process"]["ppid"].i() == parent.pid;
	});
	ASSERT_EQ(rec.kind, json::object_v) << read_file(d.log_path());
	EXPECT_NE(rec["process"]["pid"].i(), parent.pid);
	EXPECT_EQ(rec["rule"]["text"].s(), "kill exec file /usr/bin/true");
}

} // namespace
