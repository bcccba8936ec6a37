// The first proof that ltrack enforces: ltrackd's own programs load and
// attach in a kernel with BPF LSM, and a governed process that opens a file
// the policy denies gets EPERM while other files open normally, with the
// decision in the log.
#include "support.h"

#include <gtest/gtest.h>

#include <cerrno>

using namespace ltrack::vmtest;

namespace {

TEST(EnforceBasics, ProgramsLoadAndAttach)
{
	temp_dir t;
	ltrackd d("mode = \"enforce\"\n[profile.p]\nexecutables = [\"" + actor_path() + "\"]\n");
	ASSERT_TRUE(d.start()) << d.output();
	run_result st = d.ctl({"status", "--json"});
	ASSERT_EQ(st.exit_code, 0) << st.out;
	json s = json::parse(st.out);
	EXPECT_EQ(s["mode"].s(), "enforce");
	std::vector<std::string> progs;
	for (const auto &p : s["programs"].items)
		progs.push_back(p.s());
	for (const char *want :
	     {"guard_file_open", "guard_bprm_check", "guard_socket_connect", "guard_socket_sendmsg", "guard_setuid",
	      "guard_setgid", "guard_capset", "guard_exec_creds", "track_task_alloc", "track_exec"})
		EXPECT_NE(std::find(progs.begin(), progs.end(), want), progs.end()) << want << " in " << st.out;
	// The kernel's own view: each program is loaded and has an lsm link.
	run_result progs_out = run({"/usr/sbin/bpftool", "prog", "show"});
	run_result links = run({"/usr/sbin/bpftool", "link", "show"});
	for (const char *want :
	     {"guard_file_open", "guard_bprm_check", "guard_socket_connect", "guard_socket_sendmsg", "guard_setuid",
	      "guard_setgid", "guard_capset", "guard_exec_creds", "track_task_alloc", "track_exec"}) {
		std::size_t at = progs_out.out.find(std::string("name ") + want + " ");
		ASSERT_NE(at, std::string::npos) << want << " not loaded:\n" << progs_out.out;
		std::size_t line = progs_out.out.rfind('\n', at);
		std::string id = progs_out.out.substr(line == std::string::npos ? 0 : line + 1);
		id = id.substr(0, id.find(':'));
		EXPECT_NE(links.out.find("prog " + id + " "), std::string::npos)
			<< want << " (prog " << id << ") has no link:\n"
			<< links.out;
	}
}

TEST(EnforceBasics, DeniedFileIsEpermOthersOpen)
{
	temp_dir t;
	write_file(t / "secret.txt", "secret");
	write_file(t / "public.txt", "public");
	ltrackd d("mode = \"enforce\"\n[profile.p]\nexecutables = [\"" + actor_path() +
		  "\"]\n[profile.p.file]\ndefault = \"allow\"\nrules = [ { action = \"deny\", file = \"" +
		  t / "secret.txt" + "\" } ]\n");
	ASSERT_TRUE(d.start()) << d.output();

	run_result denied = actor({"open", t / "secret.txt"});
	EXPECT_EQ(denied.actor_errno(), EPERM) << denied.out;
	run_result allowed = actor({"open", t / "public.txt"});
	EXPECT_EQ(allowed.exit_code, 0) << allowed.out;

	// Not governed (this test process is not the actor): no denial.
	EXPECT_FALSE(read_file(t / "secret.txt").empty());

	json r = d.wait_for(decision_for(denied.pid, "file", "denied"));
	ASSERT_EQ(r.kind, json::object_v) << "no decision record for pid " << denied.pid << "\n"
					  << read_file(d.log_path());
	EXPECT_EQ(r["file"]["path"].s(), t / "secret.txt");
	EXPECT_EQ(r["action"].s(), "deny");
	EXPECT_EQ(r["severity"].s(), "critical");
	EXPECT_EQ(r["process"]["exe"].s(), actor_path());
	EXPECT_EQ(r["rule"]["line"].i(), 6); // the rules = [ ... ] line
	EXPECT_EQ(r["rule"]["file"].s(), d.policy_path());
}

} // namespace
