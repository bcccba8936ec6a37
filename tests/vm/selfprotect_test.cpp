// ltrack defends itself (lsm/self.bpf.c, docs/architecture.md "Threat
// model"): a governed ROOT process that tries to switch ltrack off (control
// socket, SIGKILL, unpinning), blind it (bpf() on its maps) or stall it
// (SIGSTOP, ptrace, nice) is refused with EPERM, each attempt is a critical
// tamper record, and the file it is denied stays denied. In audit mode the
// attempt proceeds and is logged as would_deny. The administrator (an
// ungoverned root process) can still do all of it.
#include "support.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <thread>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

using namespace std::chrono_literals;

// The actor governed (as root) by profile g, which denies one file and lets
// it connect anywhere, Unix sockets included: nothing but self-protection
// stands between it and ltrackd.
std::string governed_policy(const std::string &secret)
{
	return "mode = \"enforce\"\n"
	       "[profile.g]\n"
	       "executables = [\"" +
	       actor_path() +
	       "\"]\n"
	       "[profile.g.file]\n"
	       "rules = [ { action = \"deny\", file = \"" +
	       secret +
	       "\" } ]\n"
	       "[profile.g.network]\n"
	       "default = \"allow\"\n"
	       "unix = \"allow\"\n";
}

// The tamper record of this actor run (its pid) with this op and outcome.
json tamper_record(const ltrackd &d, const run_result &r, const std::string &op, const std::string &outcome)
{
	return d.wait_for([&](const json &j) {
		return j["process"]["pid"].i() == r.pid && j["hook"].s() == "tamper" && j["tamper"]["op"].s() == op &&
		       j["outcome"].s() == outcome;
	});
}

// Attempts by the governed actor, each refused with an errno, and the
// critical tamper record each must leave. The records are checked together
// (check()): the log is flushed once a second, one wait covers them all.
struct attempts {
	const ltrackd &d;
	struct expected {
		int pid;
		std::string what, op, arg;
		std::size_t count = 1; // attempts (sum of record counts) of this op by this process; 0: at least one
	};
	std::vector<expected> records;

	void refused(const std::vector<std::string> &args, const std::string &op, const std::string &arg = "",
		     int want_errno = EPERM, std::size_t count = 1)
	{
		std::vector<std::string> a{"tamper"};
		a.insert(a.end(), args.begin(), args.end());
		run_result r = actor(a);
		std::string what = args[0] + (args.size() > 1 ? " " + args[1] : "");
		EXPECT_EQ(r.actor_errno(), want_errno) << what << ": " << r.out;
		records.push_back({r.pid, what, op, arg, count});
	}

	void check()
	{
		auto of = [](const json &j, const expected &e) {
			return j["process"]["pid"].i() == e.pid && j["hook"].s() == "tamper" &&
			       j["tamper"]["op"].s() == e.op && j["outcome"].s() == "denied";
		};
		for (const auto &e : records) {
			json rec = d.wait_for([&](const json &j) { return of(j, e); });
			ASSERT_EQ(rec.kind, json::object_v) << "no denied tamper record for " << e.what << "\n"
							    << read_file(d.log_path());
			EXPECT_EQ(rec["severity"].s(), "critical") << e.what;
			EXPECT_EQ(rec["profile"].s(), "g") << e.what;
			if (!e.arg.empty()) {
				EXPECT_EQ(rec["tamper"]["arg"].s(), e.arg) << e.what;
			}
			std::size_t n = 0, want = e.count ? e.count : 1;
			for (int i = 0; i < 50 && n < want; i++) {
				if (i)
					std::this_thread::sleep_for(100ms);
				n = 0;
				for (const auto &j : d.decisions())
					n += of(j, e) ? static_cast<std::size_t>(j["count"].i()) : 0;
			}
			if (e.count) {
				EXPECT_EQ(n, e.count) << e.what;
			} else
				EXPECT_GE(n, 1u) << e.what;
		}
		records.clear();
	}
};

// Every map pinned for this daemon (names without the link_ prefix).
std::vector<std::string> pinned_maps(const ltrackd &d)
{
	std::vector<std::string> out;
	for (const auto &e : fs::directory_iterator(d.pin_dir()))
		if (e.path().filename().string().rfind("link_", 0) != 0)
			out.push_back(e.path());
	for (const auto &e : fs::directory_iterator("/sys/fs/bpf/ltrack-self"))
		out.push_back(e.path());
	return out;
}

} // namespace

TEST(SelfProtection, GovernedRootCannotSwitchOffBlindOrStallLtrackButTheAdministratorCan)
{
	temp_dir t;
	std::string secret = t / "secret";
	write_file(secret, "s\n");
	// ltrackd runs from its own directory here (as from /usr/sbin), so the
	// directories above its executable can be tried.
	fs::create_directories(t / "usr/sbin");
	fs::create_directories(t / "other");
	std::string sbin = t / "usr/sbin";
	fs::copy_file(ltrackd_path(), sbin + "/ltrackd");
	chmod((sbin + "/ltrackd").c_str(), 0755);
	daemon_options o;
	o.executable = sbin + "/ltrackd";
	ltrackd d(governed_policy(secret), o);
	ASSERT_TRUE(d.start()) << d.output();
	std::string pid = std::to_string(d.pid());
	auto still_denied = [&](const std::string &after) {
		run_result r = actor({"open", secret});
		EXPECT_EQ(r.actor_errno(), EPERM) << "after " << after << ": " << r.out;
		EXPECT_TRUE(d.running()) << "after " << after << ": " << d.output();
	};
	still_denied("start");
	attempts tries{d, {}};

	// Switch it off: the control socket, signals, the pins.
	tries.refused({"control", d.socket_path(), "ltrack/1\tunload"}, "connect");
	tries.refused({"control", d.socket_path(), "ltrack/1\tmode\taudit"}, "connect");
	still_denied("control socket");
	tries.refused({"kill", pid, std::to_string(SIGKILL)}, "signal", "SIGKILL");
	tries.refused({"kill", pid, std::to_string(SIGSTOP)}, "signal", "SIGSTOP");
	tries.refused({"kill", pid, std::to_string(SIGTERM)}, "signal", "SIGTERM");
	// An I/O signal is not refused to its sender (the write succeeds), it is
	// just never delivered: ltrackd must still be running below. How many
	// the kernel raises for one write and the exit is its business.
	tries.refused({"sigio", pid, std::to_string(SIGKILL)}, "signal", "SIGKILL", 0, 0);
	std::string link = d.pin_dir() + "/link_guard_file_open";
	tries.refused({"unlink", link}, "unlink");
	tries.refused({"rename", link, d.pin_dir() + "/moved"}, "rename");
	// Mounts on or of a bpffs: lsm/mount.bpf.c's built-in rule, a mount record.
	for (const std::string &m : {std::string("mount-tmpfs ") + d.pin_dir(), std::string("umount /sys/fs/bpf")}) {
		run_result r = actor({"tamper", m.substr(0, m.find(' ')), m.substr(m.find(' ') + 1)});
		EXPECT_EQ(r.actor_errno(), EPERM) << m << ": " << r.out;
		json rec = d.wait_for(decision_for(r.pid, "mount", "denied"));
		ASSERT_EQ(rec.kind, json::object_v) << m << "\n" << read_file(d.log_path());
		EXPECT_EQ(rec["builtin"].s(), "bpffs") << m;
	}
	tries.refused({"unlink", d.socket_path()}, "unlink");
	write_file(t / "elsewhere", "");
	tries.refused({"rename", t / "elsewhere", d.socket_path()}, "rename");
	tries.refused({"rename", d.dir(), d.dir() + ".moved"}, "rename"); // then put a fake socket there
	// The directories above ltrack's own files (not '/'): moved away, a new
	// one could hold a permissive policy for the next reload or a binary for
	// the next start. Either side of a rename, an exchange, an rmdir.
	tries.refused({"rename", sbin, sbin + ".moved"}, "rename");
	tries.refused({"rename", t / "usr", t / "usr.moved"}, "rename");
	tries.refused({"rename", t / "other", t / "usr"}, "rename", "", EPERM); // over it (were it empty: ENOTEMPTY)
	for (const auto &[args, op] : std::vector<std::pair<std::vector<std::string>, std::string>>{
		     {{"exchange", t / "other", sbin}, "rename"}, {{"rmdir", sbin}, "unlink"}}) {
		run_result r = actor(args);
		EXPECT_EQ(r.actor_errno(), EPERM) << args[0] << ": " << r.out;
		tries.records.push_back({r.pid, args[0] + " " + args[2 % args.size()], op, ""});
	}
	EXPECT_TRUE(fs::exists(sbin + "/ltrackd"));
	run_result rewrite = actor({"create", d.policy_path()});
	EXPECT_EQ(rewrite.actor_errno(), EPERM) << "rewriting the policy file: " << rewrite.out;
	tries.records.push_back({rewrite.pid, "rewriting the policy file", "open", ""});
	still_denied("signals and unpinning");

	// Blind or rewrite it: bpf() on every pinned map, a map update, a load.
	std::vector<std::string> every_map{"bpf-get"};
	for (const auto &map : pinned_maps(d))
		every_map.push_back(map);
	tries.refused(every_map, "bpf", "BPF_OBJ_GET", EPERM, every_map.size() - 1);
	tries.refused({"bpf-update", d.pin_dir() + "/tasks"}, "bpf", "BPF_OBJ_GET");
	tries.refused({"bpf-cmd", "2"}, "bpf", "BPF_MAP_UPDATE_ELEM");
	tries.refused({"bpf-cmd", "5"}, "bpf", "BPF_PROG_LOAD");
	run_result cat = actor({"open", d.pin_dir() + "/state"});
	EXPECT_EQ(cat.actor_errno(), EPERM) << cat.out;
	tries.records.push_back({cat.pid, "open of a pin", "open", ""});

	// Stall or take it over: ptrace, its memory, its descriptors, its priority.
	tries.refused({"ptrace", pid}, "ptrace", "attach");
	tries.refused({"vm-write", pid}, "ptrace", "attach");
	tries.refused({"proc-mem", pid}, "ptrace", "attach", EACCES); // mm_access says EACCES
	tries.refused({"pidfd-getfd", pid, "0"}, "ptrace", "attach"); // pidfd_open succeeds, the steal does not
	tries.refused({"nice", pid, "19"}, "sched", "nice");
	// Answer for ltrackd: a fanotify group of its own asking for open
	// permission events (what scan_at_open's waiter relies on) is refused;
	// a plain notification mark is not.
	tries.refused({"fanotify-mark", t.path, "perm"}, "notify", "FAN_OPEN_PERM");
	run_result plain = actor({"tamper", "fanotify-mark", t.path, "plain"});
	EXPECT_EQ(plain.actor_errno(), 0) << plain.out;
	still_denied("bpf, ptrace, nice and fanotify");
	// Another guard (an administrator's `ltrackctl run`) shares the map of
	// protected files: starting and ending it once wiped ltrackd's entries,
	// and the control socket was open to governed processes after it.
	run_result other = run({ltrackctl_path(), "run", "--", "/bin/true"});
	EXPECT_EQ(other.exit_code, 0) << other.out;
	tries.refused({"control", d.socket_path(), "ltrack/1\tunload"}, "connect");
	tries.refused({"unlink", d.socket_path()}, "unlink");
	still_denied("an ltrackctl run beside ltrackd");
	tries.check();

	run_result status = d.ctl({"status"});
	EXPECT_EQ(status.exit_code, 0) << status.out;
	EXPECT_NE(status.out.find("self-protection: active"), std::string::npos) << status.out;

	// Audit mode: a harmless attempt proceeds and is logged as would_deny.
	ASSERT_EQ(d.ctl({"mode", "audit"}).exit_code, 0);
	run_result get = actor({"tamper", "bpf-get", d.pin_dir() + "/state"});
	EXPECT_EQ(get.exit_code, 0) << get.out;
	EXPECT_EQ(tamper_record(d, get, "bpf", "would_deny")["severity"].s(), "critical") << read_file(d.log_path());
	run_result cont = actor({"tamper", "kill", pid, std::to_string(SIGCONT)});
	EXPECT_EQ(cont.exit_code, 0) << cont.out;
	EXPECT_EQ(tamper_record(d, cont, "signal", "would_deny")["tamper"]["arg"].s(), "SIGCONT")
		<< read_file(d.log_path());
	ASSERT_EQ(d.ctl({"mode", "enforce"}).exit_code, 0);

	// The administrator: the same program, not governed (another path).
	std::string admin = t / "admin-actor";
	fs::copy_file(actor_path(), admin);
	chmod(admin.c_str(), 0755);
	auto admin_ok = [&](const std::vector<std::string> &args, int want_errno = 0) {
		std::vector<std::string> argv{admin, "tamper"};
		argv.insert(argv.end(), args.begin(), args.end());
		run_result r = run(argv);
		EXPECT_EQ(r.actor_errno(), want_errno) << args[0] << ": " << r.out;
	};
	admin_ok({"kill", pid, std::to_string(SIGSTOP)});
	admin_ok({"kill", pid, std::to_string(SIGCONT)});
	admin_ok({"ptrace", pid});
	admin_ok({"vm-write", pid}, EFAULT); // permitted; address 1 is never mapped
	admin_ok({"proc-mem", pid});
	admin_ok({"bpf-get", d.pin_dir() + "/state"});
	admin_ok({"bpf-get", "/sys/fs/bpf/ltrack-self/guardians"});
	admin_ok({"rename", d.pin_dir() + "/models", d.pin_dir() + "/models_moved"});
	admin_ok({"rename", d.pin_dir() + "/models_moved", d.pin_dir() + "/models"});
	admin_ok({"control", d.socket_path(), "ltrack/1\tversion"});
	admin_ok({"rename", t / "usr", t / "usr.moved"});
	admin_ok({"rename", t / "usr.moved", t / "usr"});
	still_denied("the administrator's turn");

	// ltrackd stops; its programs stay pinned and enforcing. A process that
	// gets ltrackd's pid inherits nothing: the exemption was a label on
	// ltrackd's task, not its pid.
	int old = d.pid();
	d.stop();
	run_result reused;
	for (int attempt = 0; attempt < 5 && reused.pid != old; attempt++) {
		write_file("/proc/sys/kernel/ns_last_pid", std::to_string(old - 1));
		reused = actor({"open", secret});
	}
	ASSERT_EQ(reused.pid, old) << "could not reuse ltrackd's pid";
	EXPECT_EQ(reused.actor_errno(), EPERM) << "a process with ltrackd's old pid is governed: " << reused.out;
}

// `ltrackctl run`: the command (root) cannot kill or stop its supervisor;
// when the administrator kills the supervisor anyway, the run's guard stays
// pinned and keeps refusing the command's denied open; once the command has
// gone too, the next run removes the orphaned pins.
TEST(SelfProtection, RunSupervisorCannotBeKilledByItsCommandAndItsGuardOutlivesIt)
{
	temp_dir t;
	std::string secret = t / "secret";
	write_file(secret, "s\n");
	write_file(t / "policy.toml", governed_policy(secret));
	// The orphaned command must be reaped here, not by the guest's init, so
	// the test can tell when it is gone.
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	std::string a = actor_path(), dir = t.path;
	std::string script = a + " tamper kill $PPID 9 >" + dir + "/kill.out; " + a + " tamper kill $PPID 19 >>" + dir +
			     "/kill.out; echo $PPID >" + dir + "/ready; while [ ! -e " + dir +
			     "/go ]; do sleep 0.1; done; " + a + " open " + secret + " >" + dir + "/after.out; touch " +
			     dir + "/opened; while [ ! -e " + dir + "/done ]; do sleep 0.1; done";
	std::string out = t / "run.out";
	pid_t sup = fork();
	if (sup == 0) {
		int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		std::string ctl = ltrackctl_path();
		execl(ctl.c_str(), ctl.c_str(), "run", "--format", "json", "--policy", (t / "policy.toml").c_str(),
		      "--", "/bin/sh", "-c", script.c_str(), nullptr);
		_exit(127);
	}
	auto wait_file = [](const std::string &path, const std::string &needle, std::chrono::seconds limit) {
		auto until = std::chrono::steady_clock::now() + limit;
		while (std::chrono::steady_clock::now() < until) {
			if (fs::exists(path) && read_file(path).find(needle) != std::string::npos)
				return true;
			std::this_thread::sleep_for(100ms);
		}
		return false;
	};
	ASSERT_TRUE(wait_file(t / "ready", "\n", 240s)) << read_file(out); // a guard load, emulated
	EXPECT_EQ(std::stoi(read_file(t / "ready")), sup);
	std::string kills = read_file(t / "kill.out");
	EXPECT_EQ(kills, "errno=1 (Operation not permitted)\nerrno=1 (Operation not permitted)\n") << kills;
	// Both attempts are in the run's stream of decisions.
	ASSERT_TRUE(wait_file(out, "\"arg\":\"SIGSTOP\"", 20s)) << read_file(out);
	std::string stream = read_file(out);
	EXPECT_NE(stream.find("\"hook\":\"tamper\""), std::string::npos) << stream;
	EXPECT_NE(stream.find("\"arg\":\"SIGKILL\""), std::string::npos) << stream;
	std::string pins;
	for (const auto &e : fs::directory_iterator("/sys/fs/bpf/ltrack-run"))
		if (e.path().filename().string().rfind(std::to_string(sup) + "-", 0) == 0)
			pins = e.path();
	ASSERT_FALSE(pins.empty()) << "the run's guard is not pinned under /sys/fs/bpf/ltrack-run";

	// The administrator kills the supervisor: the command stays governed.
	ASSERT_EQ(kill(sup, SIGKILL), 0);
	int st;
	ASSERT_EQ(waitpid(sup, &st, 0), sup);
	write_file(t / "go", "");
	ASSERT_TRUE(wait_file(t / "opened", "", 30s));
	EXPECT_EQ(read_file(t / "after.out"), "errno=1 (Operation not permitted)\n")
		<< "the run's guard must outlive its supervisor";
	EXPECT_TRUE(fs::exists(pins));

	// The command ends; the next run cleans the orphaned pins up.
	write_file(t / "done", "");
	for (int i = 0; i < 100 && waitpid(-1, nullptr, WNOHANG) >= 0; i++)
		std::this_thread::sleep_for(100ms);
	run_result next = run({ltrackctl_path(), "run", "--policy", t / "policy.toml", "--", "/bin/true"});
	EXPECT_EQ(next.exit_code, 0) << next.out;
	EXPECT_FALSE(fs::exists(pins)) << "a later run removes the pins of one whose supervisor and command are gone";
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

// all = true governs every process but ltrack's own, so in enforce mode it
// would lock the administrator out (no bpf(2), no control socket) unless the
// profile names the administrator's except_cgroups: a process there that was
// never governed is not governed, nor is what it starts there. Governance
// sticks: a governed process that moves itself into an except cgroup stays
// governed. The test process is the administrator here: it joins the except
// cgroup before ltrackd starts (so ltrackd and ltrackctl run there too).
TEST(SelfProtection, AllTrueLeavesTheAdministratorsExceptCgroupUngovernedAndNothingElse)
{
	temp_dir t;
	std::string secret = t / "secret";
	write_file(secret, "s\n");
	test_cgroup admin("admin"), work("work");
	std::string self = read_file("/proc/self/cgroup");
	std::string home = "/sys/fs/cgroup" + self.substr(self.find("::") + 2);
	while (!home.empty() && home.back() == '\n')
		home.pop_back();
	write_file(admin.path + "/cgroup.procs", std::to_string(getpid()));
	struct go_home {
		std::string procs;
		~go_home() { write_file(procs, std::to_string(getpid())); }
	} back{home + "/cgroup.procs"};
	ltrackd d("mode = \"enforce\"\n"
		  "[profile.everyone]\n"
		  "all = true\n"
		  "except_cgroups = [\"" +
		  admin.path +
		  "\"]\n"
		  "[profile.everyone.file]\n"
		  "rules = [ { action = \"deny\", file = \"" +
		  secret +
		  "\" } ]\n"
		  "[profile.everyone.network]\n"
		  "default = \"allow\"\n"
		  "unix = \"allow\"\n");
	ASSERT_TRUE(d.start()) << d.output();
	run_options in_work;
	in_work.cgroup = work.path;

	// Anyone else (here: a root process in another cgroup) is governed.
	run_result open = actor({"open", secret}, in_work);
	EXPECT_EQ(open.actor_errno(), EPERM) << open.out;
	run_result get = actor({"tamper", "bpf-get", d.pin_dir() + "/state"}, in_work);
	EXPECT_EQ(get.actor_errno(), EPERM) << get.out;
	run_result unload = actor({"tamper", "control", d.socket_path(), "ltrack/1\tunload"}, in_work);
	EXPECT_EQ(unload.actor_errno(), EPERM) << unload.out;
	// Moving into the administrator's cgroup is refused (cgroup.procs is
	// cgroup control, FsEscape.MountsHandlesAndLaunchPoints), and it would
	// shed nothing: governance sticks (see the Governance tests).
	run_result moved = run(
		{"/bin/sh", "-c", "echo $$ >" + admin.path + "/cgroup.procs; exec " + actor_path() + " open " + secret},
		in_work);
	EXPECT_NE(moved.out.find("Operation not permitted"), std::string::npos) << moved.out;
	EXPECT_EQ(moved.actor_errno(), EPERM) << "a governed process moved into an except cgroup: " << moved.out;
	for (const run_result *r : {&open, &moved}) {
		json rec = d.wait_for(decision_for(r->pid, "file", "denied"));
		ASSERT_EQ(rec.kind, json::object_v) << read_file(d.log_path());
		EXPECT_EQ(rec["profile"].s(), "everyone");
	}
	json tamper = tamper_record(d, get, "bpf", "denied");
	ASSERT_EQ(tamper.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(tamper["profile"].s(), "everyone");
	// A second ltrackd started by a governed process is refused bpf() too,
	// and says so rather than calling the kernel unsupported.
	run_result second = run({ltrackd_path(), "--check-support"}, in_work);
	EXPECT_EQ(second.exit_code, 1) << second.out;
	EXPECT_NE(second.out.find("cannot enforce: bpf() system call: refused: Operation not permitted; run as root; "
				  "if already root, an ltrack policy may govern this process"),
		  std::string::npos)
		<< second.out;

	// The administrator (this cgroup) is not: its tools work.
	run_result mine = actor({"open", secret});
	EXPECT_EQ(mine.actor_errno(), 0) << mine.out;
	run_result admin_get = actor({"tamper", "bpf-get", d.pin_dir() + "/state"});
	EXPECT_EQ(admin_get.actor_errno(), 0) << admin_get.out;
	run_result status = d.ctl({"status"});
	EXPECT_EQ(status.exit_code, 0) << status.out;
	EXPECT_NE(status.out.find("self-protection: active"), std::string::npos) << status.out;
	EXPECT_TRUE(d.running()) << d.output();
}
