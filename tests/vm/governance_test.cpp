// Who is governed, from the outside (issue 4): a process no profile selects
// (the test itself, /bin/cat) is never denied; whatever a governed process
// starts stays governed (a forked child, a grandchild through a shell, the
// program it executes in its own place); and a profile that selects a cgroup
// governs what runs in it or in a cgroup below it, and nothing outside.
#include "support.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

std::string q(const std::string &s)
{
	return "\"" + s + "\"";
}

// Profile p (selected by `selector`) denies the directory `denied`.
std::string deny_dir_policy(const std::string &selector, const std::string &denied)
{
	return "mode = \"enforce\"\n[profile.p]\n" + selector + "\n[profile.p.file]\ndefault = \"allow\"\nrules = [\n" +
	       "  { action = \"deny\", dir = " + q(denied) + " },\n]\n"; // the rule is on line 7
}

void expect_denial_record(const json &r, const ltrackd &d, const std::string &path)
{
	ASSERT_EQ(r.kind, json::object_v) << "no record for " << path << "\n" << read_file(d.log_path());
	EXPECT_EQ(r["hook"].s(), "file");
	EXPECT_EQ(r["outcome"].s(), "denied");
	EXPECT_EQ(r["action"].s(), "deny");
	EXPECT_EQ(r["profile"].s(), "p");
	EXPECT_EQ(r["rule"]["line"].i(), 7);
	EXPECT_EQ(r["file"]["path"].s(), path);
}

run_options in_cgroup(const std::string &path)
{
	run_options o;
	o.cgroup = path;
	return o;
}

bool any_record_of(const ltrackd &d, int pid)
{
	for (const auto &r : d.decisions())
		if (r["process"]["pid"].i() == pid)
			return true;
	return false;
}

// The actor in open-per-line mode, started in a cgroup: one process that
// opens `path` each time it is asked, so the test can move it to another
// cgroup or reload the policy between two of its decisions.
class opener {
public:
	opener(const std::string &path, const std::string &cgroup)
	{
		int in[2], out[2];
		if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
			return;
		std::string exe = actor_path();
		pid_ = fork();
		if (pid_ == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			dup2(out[1], 2);
			std::ofstream procs(cgroup + "/cgroup.procs");
			procs << "0" << std::flush;
			if (!procs)
				_exit(126);
			execl(exe.c_str(), exe.c_str(), "open-per-line", path.c_str(), nullptr);
			_exit(127);
		}
		close(in[0]);
		close(out[1]);
		to_ = in[1];
		from_ = out[0];
	}
	~opener()
	{
		close(to_);
		close(from_);
		if (pid_ > 0) {
			kill(pid_, SIGKILL);
			waitpid(pid_, nullptr, 0);
		}
	}
	int pid() const { return pid_; }
	// One open: the actor's report ("ok", "errno=1 (Operation not permitted)").
	std::string open()
	{
		std::string line;
		if (write(to_, "\n", 1) != 1)
			return "[the actor is gone]";
		for (char c;;) {
			pollfd p{from_, POLLIN, 0};
			if (poll(&p, 1, 60000) <= 0 || read(from_, &c, 1) != 1)
				return line + "[no answer]";
			if (c == '\n')
				return line;
			line += c;
		}
	}

private:
	int pid_ = -1, to_ = -1, from_ = -1;
};

TEST(Governance, UngovernedProcessesAreNeverDenied)
{
	temp_dir t;
	fs::create_directories(t / "denied");
	write_file(t / "denied/f.txt", "content");
	std::string policy = deny_dir_policy("executables = [" + q(actor_path()) + "]", t / "denied");
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	// The test process and a /bin/cat it starts: not under the profile.
	EXPECT_EQ(read_file(t / "denied/f.txt"), "content");
	run_result cat = run({"/bin/cat", t / "denied/f.txt"});
	EXPECT_EQ(cat.exit_code, 0) << cat.out;
	EXPECT_EQ(cat.out, "content");

	// The governed actor is denied; once its record is in, nothing was
	// recorded for cat or for this process (records are in order).
	run_result denied = actor({"open", t / "denied/f.txt"});
	EXPECT_EQ(denied.actor_errno(), EPERM) << denied.out;
	expect_denial_record(d.wait_for(decision_for(denied.pid, "file", "denied")), d, t / "denied/f.txt");
	EXPECT_FALSE(any_record_of(d, cat.pid)) << read_file(d.log_path());
	EXPECT_FALSE(any_record_of(d, getpid())) << read_file(d.log_path());

	// Still ungoverned after the actor ran.
	EXPECT_EQ(run({"/bin/cat", t / "denied/f.txt"}).exit_code, 0);
}

TEST(Governance, ChildrenAndGrandchildrenOfAGovernedProcessAreGoverned)
{
	temp_dir t;
	fs::create_directories(t / "denied");
	write_file(t / "denied/f.txt", "content");
	std::string policy = deny_dir_policy("executables = [" + q(actor_path()) + "]", t / "denied");
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();
	std::string f = t / "denied/f.txt";

	// A forked child (same program): governed, its exit status passed up.
	run_result child = actor({"child", "open", f});
	EXPECT_EQ(child.actor_errno(), EPERM) << child.out;
	json rec = d.wait_for([&](const json &r) {
		return r["hook"].s() == "file" && r["outcome"].s() == "denied" && r["process"]["ppid"].i() == child.pid;
	});
	expect_denial_record(rec, d, f);
	EXPECT_NE(rec["process"]["pid"].i(), child.pid) << "the child, not the parent";

	// The actor executing another program keeps its profile: cat, in the
	// actor's own process, is denied.
	run_result same = actor({"exec", "/bin/cat", f});
	EXPECT_NE(same.exit_code, 0) << same.out;
	EXPECT_NE(same.out.find("Operation not permitted"), std::string::npos) << same.out;
	json rec_same = d.wait_for(decision_for(same.pid, "file", "denied"));
	expect_denial_record(rec_same, d, f);
	EXPECT_EQ(rec_same["process"]["comm"].s(), "cat");

	// A grandchild through a shell: actor -> child -> sh -> cat.
	run_result shell = actor({"child", "exec", "/bin/sh", "-c", "/bin/cat " + f + "; echo rc=$?"});
	EXPECT_EQ(shell.exit_code, 0) << shell.out;
	EXPECT_NE(shell.out.find("Operation not permitted"), std::string::npos) << shell.out;
	EXPECT_NE(shell.out.find("rc=1"), std::string::npos) << shell.out;
	EXPECT_EQ(shell.out.find("content"), std::string::npos) << shell.out;
	json rec_gc = d.wait_for([&](const json &r) {
		return r["hook"].s() == "file" && r["outcome"].s() == "denied" && r["process"]["comm"].s() == "cat" &&
		       r["process"]["pid"].i() != same.pid;
	});
	expect_denial_record(rec_gc, d, f);
	EXPECT_NE(rec_gc["process"]["pid"].i(), shell.pid);
	EXPECT_NE(rec_gc["process"]["ppid"].i(), shell.pid) << "cat's parent is the shell, the actor's child";
}

TEST(Governance, ByCgroupAndTheCgroupsBelowIt)
{
	temp_dir t;
	fs::create_directories(t / "denied");
	write_file(t / "denied/f.txt", "content");
	test_cgroup cg("governed");
	test_cgroup below("governed/below");
	test_cgroup sibling("sibling");
	std::string policy = deny_dir_policy("cgroups = [" + q(cg.path) + "]", t / "denied");
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();
	std::string f = t / "denied/f.txt";

	for (const std::string &where : {cg.path, below.path}) {
		run_result cat = run({"/bin/cat", f}, in_cgroup(where));
		EXPECT_EQ(cat.exit_code, 1) << where << ": " << cat.out;
		EXPECT_NE(cat.out.find("Operation not permitted"), std::string::npos) << cat.out;
		json rec = d.wait_for(decision_for(cat.pid, "file", "denied"));
		expect_denial_record(rec, d, f);
		EXPECT_EQ(rec["process"]["comm"].s(), "cat");
	}
	// A shell in the cgroup: its child cat is governed too.
	run_result sh = run({"/bin/sh", "-c", "/bin/cat " + f + "; echo rc=$?"}, in_cgroup(cg.path));
	EXPECT_NE(sh.out.find("rc=1"), std::string::npos) << sh.out;
	EXPECT_EQ(sh.out.find("content"), std::string::npos) << sh.out;

	// Outside the cgroup (a sibling, or the test's own): not governed.
	run_result out = run({"/bin/cat", f}, in_cgroup(sibling.path));
	EXPECT_EQ(out.exit_code, 0) << out.out;
	EXPECT_EQ(out.out, "content");
	run_result here = run({"/bin/cat", f});
	EXPECT_EQ(here.exit_code, 0) << here.out;
	// The actor is not selected by this policy either.
	EXPECT_EQ(actor({"open", f}).exit_code, 0);
}

// An ungoverned process's "no cgroup profile" is remembered in its label for
// the policy generation and the cgroup it was found in (lsm/maps.bpf.h,
// current_profile), so the cgroup walk runs once per process, not per hook.
// Moving the process into the profile's cgroup, or a reload that selects
// the cgroup it is in, must still govern it at its very next decision.
TEST(Governance, MovedIntoTheCgroupOrSelectedByAReloadIsGovernedAtOnce)
{
	temp_dir t;
	fs::create_directories(t / "denied");
	write_file(t / "denied/f.txt", "content");
	std::string f = t / "denied/f.txt";
	test_cgroup cg("governed");
	test_cgroup outside("outside");
	ltrackd d(deny_dir_policy("cgroups = [" + q(cg.path) + "]", t / "denied"));
	ASSERT_TRUE(d.start()) << d.output();

	opener moved(f, outside.path);
	ASSERT_EQ(moved.open(), "ok");
	ASSERT_EQ(moved.open(), "ok") << "the remembered answer";
	write_file(cg.path + "/cgroup.procs", std::to_string(moved.pid()));
	EXPECT_EQ(moved.open(), "errno=1 (Operation not permitted)");
	expect_denial_record(d.wait_for(decision_for(moved.pid(), "file", "denied")), d, f);

	opener stayed(f, outside.path);
	ASSERT_EQ(stayed.open(), "ok");
	ASSERT_EQ(stayed.open(), "ok");
	std::string p2 = t / "selects-outside.toml";
	write_file(p2, deny_dir_policy("cgroups = [" + q(outside.path) + "]", t / "denied"));
	run_result rl = d.ctl({"reload", p2});
	ASSERT_EQ(rl.exit_code, 0) << rl.out;
	EXPECT_EQ(stayed.open(), "errno=1 (Operation not permitted)");
	json rec = d.wait_for(decision_for(stayed.pid(), "file", "denied"));
	ASSERT_EQ(rec.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(rec["profile"].s(), "p");
	EXPECT_EQ(rec["file"]["path"].s(), f);
	EXPECT_NE(rec["rule"]["file"].s().find("selects-outside.toml"), std::string::npos) << rec["rule"]["file"].s();
}

} // namespace

namespace {

// A copy of the actor at path (another inode running the same code).
void copy_actor(const std::string &path)
{
	fs::copy_file(actor_path(), path, fs::copy_options::overwrite_existing);
	fs::permissions(path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
}

const std::string ld_so = "/lib64/ld-linux-x86-64.so.2";

} // namespace

// Issue 17, item 9: a program selected by its executable is governed however
// it is started: through the dynamic loader (ld.so maps it executable, no
// exec of it happens), by mapping its file executable with mprotect (a
// loader of one's own), and the same for python3.11 run by ld.so. A copy of
// the program is another inode: not selected, ungoverned (docs/policy.md
// says so and points at cgroups). Audit mode proceeds with would_deny; an
// ungoverned process is untouched.
TEST(Governance, ProgramRunThroughTheLoaderOrMappedIsGoverned)
{
	temp_dir t;
	fs::create_directories(t / "denied");
	write_file(t / "denied/f.txt", "content");
	const std::string gov = t / "gov", audited = t / "audited", copy = t / "copy", f = t / "denied/f.txt";
	copy_actor(gov);
	copy_actor(audited);
	copy_actor(copy);
	const std::string python = "/usr/bin/python3.11";
	std::string rules =
		"[profile.p.file]\ndefault = \"allow\"\nrules = [\n  { action = \"deny\", dir = " + q(t / "denied") +
		" },\n]\n";
	std::string policy =
		"mode = \"enforce\"\n[profile.p]\nexecutables = [" + q(gov) + ", " + q(python) + "]\n" + rules +
		"[profile.a]\nexecutables = [" + q(audited) + "]\nmode = \"audit\"\n" +
		"[profile.a.file]\ndefault = \"allow\"\nrules = [ { action = \"deny\", dir = " + q(t / "denied") +
		" } ]\n";
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	// Ungoverned: the copy run by ld.so, the original actor (not selected
	// here), and the original mapping a file no profile selects.
	run_result by_copy = run({ld_so, copy, "open", f});
	EXPECT_EQ(by_copy.exit_code, 0) << "a copy is another inode, not selected: " << by_copy.out;
	run_result plain = actor({"open", f});
	EXPECT_EQ(plain.exit_code, 0) << plain.out;
	run_result map_copy = actor({"map-exec", copy, "open", f});
	EXPECT_EQ(map_copy.exit_code, 0) << map_copy.out;

	// Governed: through ld.so, by an mprotect to executable, python3.11 through ld.so.
	run_result by_ld = run({ld_so, gov, "open", f});
	EXPECT_EQ(by_ld.actor_errno(), EPERM) << by_ld.out;
	run_result by_map = actor({"map-exec", gov, "open", f});
	EXPECT_EQ(by_map.actor_errno(), EPERM) << by_map.out;
	run_options slow;
	slow.timeout = std::chrono::seconds(100); // a python3 start takes 5-60 s under emulation
	run_result py = run({ld_so, python, "-c",
			     "import sys\ntry:\n open(sys.argv[1])\nexcept PermissionError:\n sys.exit(13)\n", f},
			    slow);
	EXPECT_EQ(py.exit_code, 13) << "python3.11 run by ld.so opened the denied file: " << py.out;
	// Audit mode: would_deny, and the open goes through.
	run_result by_ld_audit = run({ld_so, audited, "open", f});
	EXPECT_EQ(by_ld_audit.exit_code, 0) << by_ld_audit.out;

	for (const auto *r : {&by_ld, &by_map, &py})
		expect_denial_record(d.wait_for(decision_for(r->pid, "file", "denied")), d, f);
	json a = d.wait_for(decision_for(by_ld_audit.pid, "file", "would_deny"));
	ASSERT_EQ(a.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(a["profile"].s(), "a");
	EXPECT_EQ(a["file"]["path"].s(), f);
	// Records are in order: the ungoverned runs, before them, left none.
	for (const auto *r : {&by_copy, &plain, &map_copy})
		EXPECT_FALSE(any_record_of(d, r->pid)) << read_file(d.log_path());
	EXPECT_EQ(read_file(f), "content");
}
