// The running daemon from the outside (issue 6): policies reloaded while a
// governed process hammers the guarded files (every decision made by one
// whole policy), a policy with errors rejected with the old one still
// enforced, SIGHUP and `ltrackctl mode`, enforcement that outlives a
// kill -9 and is adopted (not attached twice) by the next ltrackd,
// `ltrackd --unload`, on_daemon_exit = "unload", and the control socket's
// refusals (non-root callers, no daemon).
#include "support.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

using namespace std::chrono_literals;

// Every BPF LSM program of the guard, read from lsm/'s sources (each
// `SEC("lsm/HOOK")` followed by `int BPF_PROG(NAME, ...)`), so a program
// added there is expected loaded once and attached once without a list here
// to keep in step. probe.bpf.c is the support probe, not part of the guard.
std::vector<std::string> guard_lsm_programs()
{
	static const std::regex prog(R"re(SEC\("lsm/[a-z0-9_]+"\)\s*int\s+BPF_PROG\(([a-z0-9_]+))re");
	std::vector<std::string> names;
	for (const auto &f : fs::directory_iterator(source_dir() + "/lsm")) {
		std::string file = f.path().filename();
		if (file == "probe.bpf.c" || !file.ends_with(".bpf.c"))
			continue;
		std::string text = read_file(f.path());
		for (std::sregex_iterator m(text.begin(), text.end(), prog), end; m != end; ++m)
			names.push_back((*m)[1]);
	}
	return names;
}
const std::vector<std::string> ltrack_programs = guard_lsm_programs();

std::string governed(const std::string &rest, const std::string &head = "")
{
	return head + "mode = \"enforce\"\n[profile.p]\nexecutables = [\"" + actor_path() + "\"]\n" + rest;
}

// A policy that denies one file (rule on line 6) and allows the rest.
std::string deny_one(const std::string &file, const std::string &head = "")
{
	return governed("[profile.p.file]\ndefault = \"allow\"\nrules = [ { action = \"deny\", file = \"" + file +
				"\" } ]\n",
			head);
}

// Polls cond until it holds or the time is up (conditions the daemon or the
// kernel reach on their own, never a fixed sleep).
bool eventually(const std::function<bool()> &cond, std::chrono::milliseconds timeout = 10000ms)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	while (true) {
		if (cond())
			return true;
		if (std::chrono::steady_clock::now() >= deadline)
			return false;
		std::this_thread::sleep_for(50ms);
	}
}

json status_json(const ltrackd &d)
{
	run_result st = d.ctl({"status", "--json"});
	return st.exit_code == 0 ? json::parse(st.out) : json{};
}

// ---- the kernel's view (bpftool) -------------------------------------------

struct kernel_view {
	std::map<std::string, int> programs; // ltrack program name -> how many are loaded
	std::set<long long> ltrack_ids;      // their program ids
	int lsm_links = 0;                   // links of BPF LSM programs
	std::string raw;                     // for failure messages
};

bool is_named(const std::string &name, const std::string &want)
{
	// The kernel keeps 15 characters of a name; bpftool prints the full one
	// when it has BTF, the truncated one otherwise.
	return name == want || (want.size() > 15 && name == want.substr(0, 15));
}

kernel_view bpf_view()
{
	kernel_view v;
	run_result progs = run({"/usr/sbin/bpftool", "-j", "prog", "show"});
	run_result links = run({"/usr/sbin/bpftool", "-j", "link", "show"});
	v.raw = "bpftool -j prog show:\n" + progs.out + "\nbpftool -j link show:\n" + links.out + "\n";
	std::set<long long> lsm_ids;
	for (const auto &p : json::parse(progs.out).items) {
		if (p["type"].s() == "lsm")
			lsm_ids.insert(p["id"].i());
		for (const auto &want : ltrack_programs)
			if (is_named(p["name"].s(), want)) {
				v.programs[want]++;
				v.ltrack_ids.insert(p["id"].i());
			}
	}
	for (const auto &l : json::parse(links.out).items)
		if (lsm_ids.count(l["prog_id"].i()) || l["attach_type"].s() == "lsm_mac")
			v.lsm_links++;
	return v;
}

int loaded_ltrack_programs()
{
	int n = 0;
	for (const auto &[name, count] : bpf_view().programs)
		n += count;
	return n;
}

// ---- processes in the background ------------------------------------------

// Starts argv without waiting (output discarded); the caller kills and reaps.
int spawn(const std::vector<std::string> &argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		std::vector<char *> args;
		for (const auto &a : argv)
			args.push_back(const_cast<char *>(a.c_str()));
		args.push_back(nullptr);
		execv(args[0], args.data());
		_exit(127);
	}
	return pid;
}

bool still_running(int pid)
{
	int st;
	return waitpid(pid, &st, WNOHANG) == 0;
}

void kill_and_reap(int pid)
{
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
}

// The decision log can hold tens of thousands of records after a flood:
// look for a process's records as text before parsing anything.
bool log_mentions_pid(const std::string &log, int pid)
{
	return read_file(log).find("\"pid\":" + std::to_string(pid) + ",") != std::string::npos;
}

// ---- a second ltrackd on an existing pin directory -------------------------

// support.h's ltrackd always pins under a directory of its own; a restart
// must reuse the first daemon's. The same start-up (sd_notify READY=1) with
// the pin directory given.
class pinned_daemon {
public:
	pinned_daemon(const std::string &policy, const std::string &pin_dir) : policy_(policy), pins_(pin_dir)
	{
		log_ = dir_ / "decisions.jsonl";
		socket_ = dir_ / "ltrackd.sock";
	}
	~pinned_daemon()
	{
		stop();
		run({ltrackd_path(), "--unload", "--pin-dir", pins_});
	}

	bool start(std::chrono::seconds timeout = 60s)
	{
		std::string notify = dir_ / "notify.sock";
		int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		sockaddr_un addr{};
		addr.sun_family = AF_UNIX;
		std::strncpy(addr.sun_path, notify.c_str(), sizeof(addr.sun_path) - 1);
		bind(nfd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
		std::string out = dir_ / "ltrackd.out";
		pid_ = fork();
		if (pid_ == 0) {
			int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
			dup2(fd, 1);
			dup2(fd, 2);
			setenv("NOTIFY_SOCKET", notify.c_str(), 1);
			std::vector<std::string> argv{ltrackd_path(),   "--policy",  policy_,
						      "--decision-log", log_,        "--socket",
						      socket_,          "--pin-dir", pins_};
			std::vector<char *> args;
			for (auto &a : argv)
				args.push_back(a.data());
			args.push_back(nullptr);
			execv(args[0], args.data());
			_exit(127);
		}
		auto deadline = std::chrono::steady_clock::now() + timeout;
		bool ready = false;
		while (!ready && std::chrono::steady_clock::now() < deadline && still_running(pid_)) {
			pollfd p{nfd, POLLIN, 0};
			if (poll(&p, 1, 200) > 0) {
				char buf[256];
				ssize_t n = recv(nfd, buf, sizeof(buf), 0);
				ready = n > 0 && std::string(buf, n).find("READY=1") != std::string::npos;
			}
		}
		close(nfd);
		return ready;
	}
	int stop() // SIGTERM; the exit status
	{
		if (pid_ <= 0)
			return -1;
		kill(pid_, SIGTERM);
		int st;
		waitpid(pid_, &st, 0);
		pid_ = -1;
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	run_result ctl(const std::vector<std::string> &args) const
	{
		std::vector<std::string> argv{ltrackctl_path()};
		argv.insert(argv.end(), args.begin(), args.end());
		argv.push_back("--socket");
		argv.push_back(socket_);
		return run(argv);
	}
	std::string output() const { return read_file(dir_ / "ltrackd.out"); }
	const std::string &log_path() const { return log_; }
	std::vector<json> decisions() const
	{
		std::vector<json> out;
		std::istringstream in(read_file(log_));
		for (std::string line; std::getline(in, line);) {
			json j = json::parse(line);
			if (j["type"].s() == "decision")
				out.push_back(std::move(j));
		}
		return out;
	}
	json wait_for(const std::function<bool(const json &)> &pred, std::chrono::milliseconds timeout = 10000ms) const
	{
		json found;
		eventually(
			[&] {
				for (auto &j : decisions())
					if (pred(j)) {
						found = j;
						return true;
					}
				return false;
			},
			timeout);
		return found;
	}

private:
	temp_dir dir_;
	std::string policy_, pins_, log_, socket_;
	int pid_ = -1;
};

// ---- reload under load ------------------------------------------------------

// Two versions of one policy that flip which of two files is allowed. Both
// rules are explicit, so every decision is recorded, and the versions give
// those rules different ids (B has two rules on other files first) and lines
// (B starts with a comment), so a record says which version decided it:
//   A: id 1 default, id 2 line 7 allow fileA, id 3 line 8 deny fileB
//   B: id 1 default, ids 2-3 padding, id 4 line 10 deny fileA,
//      id 5 line 11 allow fileB
struct flip_policies {
	temp_dir t;
	std::string a_file = t / "fileA", b_file = t / "fileB";
	std::string a_policy = t / "a.toml", b_policy = t / "b.toml";

	struct expected_rule {
		char version;
		std::string path, outcome, policy;
		int line;
	};
	std::map<long long, expected_rule> by_id;
	std::vector<std::string> fillers; // opened in the loop, allowed by default: never recorded

	flip_policies()
	{
		for (const char *f : {"fileA", "fileB", "pad1", "pad2"})
			write_file(t / f, f);
		for (int i = 0; i < 192; i++) {
			fillers.push_back(t / ("filler" + std::to_string(i)));
			write_file(fillers.back(), "f");
		}
		write_file(a_policy, governed("[profile.p.file]\ndefault = \"allow\"\nrules = [\n"
					      "  { action = \"allow\", file = \"" +
					      a_file +
					      "\" },\n"
					      "  { action = \"deny\", file = \"" +
					      b_file + "\" },\n]\n"));
		write_file(b_policy, governed("[profile.p.file]\ndefault = \"allow\"\nrules = [\n"
					      "  { action = \"allow\", file = \"" +
						      t / "pad1" +
						      "\" },\n"
						      "  { action = \"allow\", file = \"" +
						      t / "pad2" +
						      "\" },\n"
						      "  { action = \"deny\", file = \"" +
						      a_file +
						      "\" },\n"
						      "  { action = \"allow\", file = \"" +
						      b_file + "\" },\n]\n",
					      "# version B: the rules sit on other lines and have other ids\n"));
		by_id[2] = {'A', a_file, "allowed", a_policy, 7};
		by_id[3] = {'A', b_file, "denied", a_policy, 8};
		by_id[4] = {'B', a_file, "denied", b_policy, 10};
		by_id[5] = {'B', b_file, "allowed", b_policy, 11};
	}
	// Version A is the daemon's own policy file (it starts with it and
	// reloads it by name), so A's records name that file.
	void use_daemon_policy_as_a(const ltrackd &d)
	{
		a_policy = d.policy_path();
		by_id[2].policy = by_id[3].policy = a_policy;
	}
};

struct load_run {
	std::vector<json> records;   // every record of the loop actor about fileA or fileB
	std::vector<double> swap_ms; // "swapped in X ms" of each reload
	std::vector<double> compile_ms;
	int reloads = 0;
	bool actor_outlived_reloads = false;
};

double reported_ms(const std::string &out, const std::string &what)
{
	std::smatch m;
	if (std::regex_search(out, m, std::regex(what + " in ([0-9.]+) ms")))
		return std::stod(m[1]);
	return -1;
}

// Starts the daemon on A, checks the numbering once on a quiet system, then
// reloads A/B `reloads` times while one governed actor opens fileA and fileB
// in a tight loop, and returns every record of that actor about the two.
// With `paced`, each round of the loop also opens 192 files the default
// allows (never recorded), so the daemon can keep up with the records (see
// ReloadIsServedDuringADecisionFlood for why it must).
void reload_under_load(ltrackd &d, flip_policies &fp, int reloads, load_run &out, bool paced = true)
{
	// Quiet first: the ids and lines are what the comment above says.
	run_result a = actor({"open", fp.a_file});
	ASSERT_EQ(a.exit_code, 0) << a.out;
	json r = d.wait_for(decision_for(a.pid, "file", "allowed"));
	ASSERT_EQ(r.kind, json::object_v) << read_file(d.log_path());
	ASSERT_EQ(r["rule"]["id"].i(), 2) << "rule numbering changed; fix flip_policies";
	ASSERT_EQ(r["rule"]["line"].i(), 7);

	std::vector<std::string> loop_argv{actor_path(), "loop-open", "100000000", fp.a_file, fp.b_file};
	if (paced)
		loop_argv.insert(loop_argv.end(), fp.fillers.begin(), fp.fillers.end());
	int loop = spawn(loop_argv);
	ASSERT_TRUE(eventually([&] { return log_mentions_pid(d.log_path(), loop); }, 20000ms))
		<< "the loop actor made no recorded decision";

	for (int i = 0; i < reloads; i++) {
		const std::string &p = i % 2 == 0 ? fp.b_policy : fp.a_policy;
		run_options within;
		within.timeout = 30s;
		run_result rl = d.ctl({"reload", p}, within);
		EXPECT_EQ(rl.exit_code, 0) << "reload " << i << ": " << rl.out;
		if (rl.exit_code != 0)
			break;
		out.reloads++;
		out.swap_ms.push_back(reported_ms(rl.out, "swapped"));
		out.compile_ms.push_back(reported_ms(rl.out, "compiled"));
		if (i == 0)
			std::cout << "first reload reported: " << rl.out;
	}
	out.actor_outlived_reloads = still_running(loop);
	kill_and_reap(loop);

	// Decisions are logged in the order the kernel made them: once a later
	// process's record is in the log, every earlier one is there (or was
	// counted as a drop).
	run_result marker = actor({"open", fp.b_file});
	EXPECT_TRUE(eventually([&] { return log_mentions_pid(d.log_path(), marker.pid); }, 30000ms))
		<< "the marker's decision never reached the log";
	for (auto &rec : d.decisions()) {
		const std::string &path = rec["file"]["path"].s();
		if (rec["process"]["pid"].i() == loop && (path == fp.a_file || path == fp.b_file))
			out.records.push_back(std::move(rec));
	}
	std::sort(out.records.begin(), out.records.end(),
		  [](const json &x, const json &y) { return x["ts_boot_ns"].num < y["ts_boot_ns"].num; });

	auto summary = [](std::vector<double> v) {
		std::sort(v.begin(), v.end());
		if (v.empty())
			return std::string("none");
		std::ostringstream s;
		s << "min " << v.front() << " ms, median " << v[v.size() / 2] << " ms, max " << v.back() << " ms";
		return s.str();
	};
	std::cout << out.reloads << " reloads under load; swap " << summary(out.swap_ms) << "; compile "
		  << summary(out.compile_ms) << "; " << out.records.size() << " records of the loop actor\n";
	::testing::Test::RecordProperty("reload_swap_ms", summary(out.swap_ms));
	::testing::Test::RecordProperty("reload_compile_ms", summary(out.compile_ms));
}

TEST(Daemon, ReloadUnderLoadEveryDecisionIsOneWholePolicy)
{
	flip_policies fp;
	ltrackd d(read_file(fp.a_policy));
	fp.use_daemon_policy_as_a(d);
	ASSERT_TRUE(d.start()) << d.output();

	load_run lr;
	reload_under_load(d, fp, 20, lr);
	if (HasFatalFailure())
		return;
	EXPECT_EQ(lr.reloads, 20);
	EXPECT_TRUE(lr.actor_outlived_reloads) << "the loop ended before the reloads did: not under load";
	for (double ms : lr.swap_ms)
		EXPECT_GT(ms, 0) << "reload did not report its swap time";

	// Every decision (as the kernel made it: rule id, object, outcome) is
	// one of the four that a whole version A or a whole version B makes.
	int bad = 0;
	std::map<char, int> per_version;
	int switches = 0;
	char last = 0;
	for (const auto &rec : lr.records) {
		auto it = fp.by_id.find(rec["rule"]["id"].i());
		bool ok = it != fp.by_id.end() && it->second.path == rec["file"]["path"].s() &&
			  it->second.outcome == rec["outcome"].s();
		if (!ok) {
			if (++bad <= 5)
				ADD_FAILURE() << "a decision no whole policy makes: rule id " << rec["rule"]["id"].i()
					      << ", " << rec["file"]["path"].s() << " " << rec["outcome"].s();
			continue;
		}
		per_version[it->second.version]++;
		EXPECT_EQ(rec["action"].s(), it->second.outcome == "allowed" ? "allow" : "deny");
		if (last && it->second.version != last)
			switches++;
		last = it->second.version;
	}
	EXPECT_EQ(bad, 0);
	EXPECT_GT(per_version['A'], 0) << "no decision by version A under load";
	EXPECT_GT(per_version['B'], 0) << "no decision by version B under load";
	// In time order, the deciding version changes only at a flip: at most
	// once per reload (fewer when a version's records were dropped).
	EXPECT_LE(switches, lr.reloads) << "decisions of the two versions interleave: a decision read a mix";
	std::cout << "decisions by A: " << per_version['A'] << ", by B: " << per_version['B'] << ", version changes "
		  << switches << "\n";
}

TEST(Daemon, ReloadUnderLoadRecordsNameTheDecidingRule)
{
	// Regression (fixed): a decision made by the old policy but read from the ring
	// buffer after a reload is described with the NEW policy's symbol table.
	// runtime/decision_pipeline.cpp on_event (line ~138) resolves e.rule_id
	// in policy.active(), and policyd/daemon.cpp reload() (line ~232,
	// `policy_ = std::move(next)`) replaces that table right after the flip,
	// while records of the old slot are still queued. Seen in the VM: 398 of
	// 13798 records of version A (rule ids 2, 3) were logged as b.toml:8/9
	// "allow file .../pad1" / "pad2", i.e. the record names a rule that did
	// not decide. Fix: stamp the slot into the record (lsm/decision.bpf.h, record.bpf.h:
	// keep view.slot in struct decision and write it to a byte of
	// ltrack_event.pad in new_record; lsm/abi.h: name it `slot`), keep the
	// previous compiled policy in the daemon until no record of its slot can
	// still be queued (e.g. until the next reload), and resolve the rule in
	// the table of the record's slot. (Draining the ring buffer between the
	// flip and `policy_ = std::move(next)` narrows the window but cannot
	// close it: a hook that read the old slot may submit after the drain.)

	flip_policies fp;
	ltrackd d(read_file(fp.a_policy));
	fp.use_daemon_policy_as_a(d);
	ASSERT_TRUE(d.start()) << d.output();

	load_run lr;
	reload_under_load(d, fp, 20, lr);
	if (HasFatalFailure())
		return;

	// A record's rule file, line and text must be those of the rule that
	// made the decision, also for decisions the daemon reads after it
	// swapped in the next policy.
	int wrong = 0;
	for (const auto &rec : lr.records) {
		auto it = fp.by_id.find(rec["rule"]["id"].i());
		if (it == fp.by_id.end())
			continue; // the other test's business
		const auto &want = it->second;
		if (rec["rule"]["file"].s() != want.policy || rec["rule"]["line"].i() != want.line) {
			if (++wrong <= 5)
				ADD_FAILURE() << "decision by version " << want.version << " (rule id "
					      << rec["rule"]["id"].i() << ": " << want.policy << ":" << want.line
					      << ") recorded as " << rec["rule"]["file"].s() << ":"
					      << rec["rule"]["line"].i() << " \"" << rec["rule"]["text"].s() << "\" ("
					      << rec["file"]["path"].s() << " " << rec["outcome"].s() << ")";
		}
	}
	EXPECT_EQ(wrong, 0) << "of " << lr.records.size() << " records";
}

// A reload (or any control request, or SIGTERM) must be served while
// governed processes make decisions faster than the daemon logs them: here
// the tight loop opens only the two recorded files.
TEST(Daemon, ReloadIsServedDuringADecisionFlood)
{
	// Regression (fixed): the daemon never gets back to its control socket during a
	// flood. loader/event_reader.cpp event_reader::poll calls
	// ring_buffer__poll, and libbpf (1.1, Debian 12) keeps consuming in
	// ringbuf_process_ring for as long as the producer keeps adding records;
	// with a governed process producing faster than daemon.cpp's loop can log,
	// events_.poll(0) never returns, so control requests, SIGHUP/SIGTERM and
	// the 1 s tick (drop reports) starve. Seen in the VM: the first
	// `ltrackctl reload` under this load got no reply in 60 s. Fix: bound the
	// work per wake-up, e.g. have event_reader::on_sample count records and
	// return -EAGAIN after 1024 in one poll (libbpf then stores the consumer
	// position and returns; the ring's epoll fd is level-triggered, so the
	// loop comes back after serving the other fds), or ring_buffer__consume_n
	// where libbpf has it.

	flip_policies fp;
	ltrackd d(read_file(fp.a_policy));
	fp.use_daemon_policy_as_a(d);
	ASSERT_TRUE(d.start()) << d.output();
	load_run lr;
	reload_under_load(d, fp, 2, lr, /*paced=*/false);
	if (HasFatalFailure())
		return;
	EXPECT_EQ(lr.reloads, 2);
}

// ---- rejected reloads, SIGHUP, mode ----------------------------------------

TEST(Daemon, ReloadWithErrorsIsRejectedAndTheActivePolicyStays)
{
	temp_dir t;
	write_file(t / "secret", "s");
	ltrackd d(deny_one(t / "secret"));
	ASSERT_TRUE(d.start()) << d.output();
	json before = status_json(d);
	ASSERT_EQ(before.kind, json::object_v);
	std::string sha = run({"/usr/bin/sha256sum", d.policy_path()}).out.substr(0, 64);
	EXPECT_EQ(before["policy_sha256"].s(), sha);

	// Two errors: a misspelt key (line 5) and a rule on a missing file (line 6).
	std::string bad = t / "bad.toml";
	write_file(bad, governed("[profile.p.file]\ndefualt = \"allow\"\nrules = [ { action = \"allow\", file = \"" +
				 t / "missing" + "\" } ]\n"));
	run_result r = d.ctl({"reload", bad});
	EXPECT_NE(r.exit_code, 0) << r.out;
	EXPECT_NE(r.out.find(bad + ":5:1: error:"), std::string::npos) << r.out;
	EXPECT_NE(r.out.find("defualt"), std::string::npos) << r.out;
	EXPECT_TRUE(std::regex_search(
		r.out, std::regex(std::regex_replace(bad, std::regex("[.]"), "\\.") + ":6:[0-9]+: error:.*missing")))
		<< "the second error, with its line and column:\n"
		<< r.out;
	EXPECT_NE(r.out.find("stays in force"), std::string::npos) << r.out;
	ASSERT_TRUE(d.running()) << d.output();

	json after = status_json(d);
	EXPECT_EQ(after["policy_sha256"].s(), before["policy_sha256"].s());
	EXPECT_EQ(after["policy"].s(), d.policy_path());
	EXPECT_EQ(after["slot"].i(), before["slot"].i()) << "a rejected policy must not flip the slot";

	run_result denied = actor({"open", t / "secret"});
	EXPECT_EQ(denied.actor_errno(), EPERM) << denied.out;
	json rec = d.wait_for(decision_for(denied.pid, "file", "denied"));
	ASSERT_EQ(rec.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(rec["rule"]["file"].s(), d.policy_path());
	EXPECT_EQ(rec["rule"]["line"].i(), 6);
	EXPECT_EQ(rec["file"]["path"].s(), t / "secret");
}

TEST(Daemon, SighupReloadsThePolicyFileAndRejectsErrors)
{
	temp_dir t;
	write_file(t / "one", "1");
	write_file(t / "two", "2");
	ltrackd d(deny_one(t / "one"));
	ASSERT_TRUE(d.start()) << d.output();
	ASSERT_GT(d.pid(), 0);
	std::string first_sha = status_json(d)["policy_sha256"].s();
	EXPECT_EQ(actor({"open", t / "one"}).actor_errno(), EPERM);

	// A broken file and SIGHUP: rejected, logged by the daemon, still enforcing.
	write_file(d.policy_path(), deny_one(t / "one") + "[profile.p.bogus]\n");
	kill(d.pid(), SIGHUP);
	ASSERT_TRUE(eventually([&] { return d.output().find("SIGHUP: rejected") != std::string::npos; })) << d.output();
	EXPECT_NE(d.output().find("error:"), std::string::npos) << d.output();
	EXPECT_EQ(status_json(d)["policy_sha256"].s(), first_sha);
	EXPECT_EQ(actor({"open", t / "one"}).actor_errno(), EPERM);

	// A good file and SIGHUP: the new policy (deny "two" instead) is in force.
	write_file(d.policy_path(), deny_one(t / "two", "# second version\n"));
	kill(d.pid(), SIGHUP);
	ASSERT_TRUE(eventually([&] { return status_json(d)["policy_sha256"].s() != first_sha; })) << d.output();
	EXPECT_NE(d.output().find("SIGHUP: reloaded"), std::string::npos) << d.output();
	run_result one = actor({"open", t / "one"});
	run_result two = actor({"open", t / "two"});
	EXPECT_EQ(one.exit_code, 0) << one.out;
	EXPECT_EQ(two.actor_errno(), EPERM) << two.out;
	json rec = d.wait_for(decision_for(two.pid, "file", "denied"));
	ASSERT_EQ(rec.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(rec["rule"]["line"].i(), 7); // one line lower: the comment
}

TEST(Daemon, ModeSwitchesAtOnceWithoutReload)
{
	temp_dir t;
	write_file(t / "secret", "s");
	ltrackd d(deny_one(t / "secret"));
	ASSERT_TRUE(d.start()) << d.output();
	int slot = status_json(d)["slot"].i();

	run_result m = d.ctl({"mode", "audit"});
	ASSERT_EQ(m.exit_code, 0) << m.out;
	EXPECT_EQ(status_json(d)["mode"].s(), "audit");
	run_result audited = actor({"open", t / "secret"});
	EXPECT_EQ(audited.exit_code, 0) << "audit mode refuses nothing: " << audited.out;
	json rec = d.wait_for(decision_for(audited.pid, "file", "would_deny"));
	ASSERT_EQ(rec.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(rec["mode"].s(), "audit");
	EXPECT_EQ(rec["action"].s(), "deny");

	m = d.ctl({"mode", "enforce"});
	ASSERT_EQ(m.exit_code, 0) << m.out;
	run_result denied = actor({"open", t / "secret"});
	EXPECT_EQ(denied.actor_errno(), EPERM) << denied.out;
	EXPECT_EQ(d.wait_for(decision_for(denied.pid, "file", "denied")).kind, json::object_v);
	EXPECT_EQ(status_json(d)["slot"].i(), slot) << "a mode switch is not a reload";

	run_result bad = d.ctl({"mode", "audit", "--profile", "nope"});
	EXPECT_NE(bad.exit_code, 0) << bad.out;
	EXPECT_NE(bad.out.find("no profile 'nope'"), std::string::npos) << bad.out;
}

// ---- pinning: kill -9, adoption, --unload ----------------------------------

// ltrackd dies by SIGKILL; the pinned links keep enforcing; a new ltrackd on
// the same pins adopts them; `ltrackd --unload` ends it all.
TEST(Daemon, KillNineKeepsEnforcingAndRestartAdopts)
{
	ASSERT_GE(ltrack_programs.size(), 10u) << "the LSM programs were not found in lsm/*.bpf.c";
	temp_dir t;
	write_file(t / "secret", "s");
	daemon_options o;
	o.keep_pins = true;
	ltrackd d1(deny_one(t / "secret", "on_daemon_exit = \"keep\"\n"), o);
	ASSERT_TRUE(d1.start()) << d1.output();
	run_result before = actor({"open", t / "secret"});
	ASSERT_EQ(before.actor_errno(), EPERM) << before.out;

	d1.kill9();
	ASSERT_FALSE(d1.running());
	for (const auto &p : ltrack_programs)
		EXPECT_TRUE(fs::exists(d1.pin_dir() + "/link_" + p)) << p << " link not pinned";
	run_result gap = actor({"open", t / "secret"});
	EXPECT_EQ(gap.actor_errno(), EPERM) << "no daemon: enforcement must continue. " << gap.out;
	EXPECT_EQ(actor({"open", t / "other-missing"}).actor_errno(), ENOENT) << "the actor itself works";
	kernel_view orphaned = bpf_view();
	for (const auto &p : ltrack_programs)
		EXPECT_EQ(orphaned.programs[p], 1) << p << "\n" << orphaned.raw;
	EXPECT_EQ(orphaned.lsm_links, static_cast<int>(ltrack_programs.size())) << orphaned.raw;

	// The restart adopts.
	pinned_daemon d2(d1.policy_path(), d1.pin_dir());
	ASSERT_TRUE(d2.start()) << d2.output();
	EXPECT_NE(d2.output().find("adopted " + std::to_string(ltrack_programs.size()) + " programs"), std::string::npos)
		<< d2.output();
	run_result st = d2.ctl({"status", "--json"});
	ASSERT_EQ(st.exit_code, 0) << st.out;
	EXPECT_EQ(json::parse(st.out)["adopted"].i(), static_cast<long long>(ltrack_programs.size())) << st.out;
	run_result text = d2.ctl({"status"});
	EXPECT_NE(text.out.find("adopted from pins"), std::string::npos) << text.out;
	kernel_view adopted = bpf_view();
	EXPECT_EQ(adopted.lsm_links, static_cast<int>(ltrack_programs.size())) << "the restart attached again:\n"
									       << adopted.raw;

	run_result after = actor({"open", t / "secret"});
	EXPECT_EQ(after.actor_errno(), EPERM) << after.out;
	json rec = d2.wait_for(decision_for(after.pid, "file", "denied"));
	ASSERT_EQ(rec.kind, json::object_v) << read_file(d2.log_path()) << d2.output();
	EXPECT_EQ(rec["rule"]["line"].i(), 7); // under the on_daemon_exit line
	// The denial made while no daemon ran waited in the pinned ring buffer.
	EXPECT_EQ(d2.wait_for(decision_for(gap.pid, "file", "denied"), 3000ms).kind, json::object_v)
		<< "the denial during the gap was not logged by the next daemon:\n"
		<< read_file(d2.log_path());

	// A clean stop with "keep": still enforcing, the pins stay.
	EXPECT_EQ(d2.stop(), 0) << d2.output();
	EXPECT_EQ(actor({"open", t / "secret"}).actor_errno(), EPERM);
	EXPECT_TRUE(fs::exists(d1.pin_dir()));

	run_result un = run({ltrackd_path(), "--unload", "--pin-dir", d1.pin_dir()});
	EXPECT_EQ(un.exit_code, 0) << un.out;
	EXPECT_NE(un.out.find("no longer enforces"), std::string::npos) << un.out;
	EXPECT_FALSE(fs::exists(d1.pin_dir()));
	EXPECT_TRUE(eventually([] { return loaded_ltrack_programs() == 0; })) << bpf_view().raw;
	EXPECT_EQ(bpf_view().lsm_links, 0) << bpf_view().raw;
	run_result free_open = actor({"open", t / "secret"});
	EXPECT_EQ(free_open.exit_code, 0) << free_open.out;
}

// The restarted daemon adopts the pinned links: the kernel must then hold
// exactly one set of ltrack's programs, the attached one.
TEST(Daemon, RestartLoadsNoSecondSetOfPrograms)
{
	ASSERT_GE(ltrack_programs.size(), 10u) << "the LSM programs were not found in lsm/*.bpf.c";
	// Regression (fixed): loader/bpf_guard.cpp bpf_guard::start loads every program
	// (guard__load) before it looks for pinned links; for each adopted link
	// it then skips the attach, but the freshly loaded program stays loaded
	// (held by the skeleton) for the daemon's lifetime. Seen in the VM:
	// after a kill -9 and a restart, `bpftool prog show` lists each of the
	// five programs twice (five attached, five loaded for nothing), and
	// `ltrackctl status` lists the unattached set as its "programs". Fix:
	// before guard__load, for every program whose link pin
	// (PIN_DIR/link_NAME) exists, bpf_program__set_autoload(prog, false), so
	// only the maps are reused and only missing programs are loaded and
	// attached; status should then name the adopted links' programs.

	temp_dir t;
	write_file(t / "secret", "s");
	daemon_options o;
	o.keep_pins = true;
	ltrackd d1(deny_one(t / "secret"), o);
	ASSERT_TRUE(d1.start()) << d1.output();
	d1.kill9();
	pinned_daemon d2(d1.policy_path(), d1.pin_dir());
	ASSERT_TRUE(d2.start()) << d2.output();
	kernel_view v = bpf_view();
	for (const auto &p : ltrack_programs)
		EXPECT_EQ(v.programs[p], 1) << p << " loaded " << v.programs[p] << " times\n" << v.raw;
	EXPECT_EQ(v.lsm_links, static_cast<int>(ltrack_programs.size())) << v.raw;
	EXPECT_EQ(actor({"open", t / "secret"}).actor_errno(), EPERM);
}

TEST(Daemon, UnloadOnExitDetachesEverything)
{
	temp_dir t;
	write_file(t / "secret", "s");
	ltrackd d(deny_one(t / "secret", "on_daemon_exit = \"unload\"\n"));
	ASSERT_TRUE(d.start()) << d.output();
	ASSERT_EQ(actor({"open", t / "secret"}).actor_errno(), EPERM);
	ASSERT_TRUE(fs::exists(d.pin_dir()));

	d.stop(); // SIGTERM
	EXPECT_EQ(d.exit_status(), 0) << d.output();
	EXPECT_NE(d.output().find("unloaded"), std::string::npos) << d.output();
	EXPECT_FALSE(fs::exists(d.pin_dir())) << "pins left under " << d.pin_dir();
	EXPECT_TRUE(eventually([] { return loaded_ltrack_programs() == 0; })) << bpf_view().raw;
	EXPECT_EQ(bpf_view().lsm_links, 0) << bpf_view().raw;
	run_result free_open = actor({"open", t / "secret"});
	EXPECT_EQ(free_open.exit_code, 0) << "nothing may be denied after unload: " << free_open.out;
}

TEST(Daemon, CtlUnloadStopsTheDaemonAndDetaches)
{
	temp_dir t;
	write_file(t / "secret", "s");
	ltrackd d(deny_one(t / "secret")); // on_daemon_exit defaults to keep
	ASSERT_TRUE(d.start()) << d.output();
	ASSERT_EQ(actor({"open", t / "secret"}).actor_errno(), EPERM);

	run_result r = d.ctl({"unload"});
	EXPECT_EQ(r.exit_code, 0) << r.out;
	EXPECT_TRUE(eventually([&] { return !d.running(); })) << d.output();
	EXPECT_EQ(d.exit_status(), 0) << d.output();
	EXPECT_FALSE(fs::exists(d.pin_dir()));
	EXPECT_TRUE(eventually([] { return loaded_ltrack_programs() == 0; })) << bpf_view().raw;
	EXPECT_EQ(actor({"open", t / "secret"}).exit_code, 0);
}

// ---- the control socket's refusals -----------------------------------------

run_options nobody()
{
	run_options o;
	o.uid = 65534;
	o.gid = 65534;
	return o;
}

// Whatever a non-root caller asks, it is refused (exit 1), nothing it asked
// for happens, the daemon logs the refusal and keeps running.
TEST(Daemon, NonRootCallerIsRefused)
{
	temp_dir t;
	write_file(t / "secret", "s");
	ltrackd d(deny_one(t / "secret"));
	ASSERT_TRUE(d.start()) << d.output();

	for (std::vector<std::string> cmd : {std::vector<std::string>{"status"}, {"unload"}, {"mode", "audit"}}) {
		run_result r = d.ctl(cmd, nobody());
		EXPECT_EQ(r.exit_code, 1) << cmd[0] << ": " << r.out;
		EXPECT_NE(r.out.find("ltrackctl: "), std::string::npos) << cmd[0] << ": " << r.out;
	}
	ASSERT_TRUE(d.running()) << d.output();
	auto refusals = [&] {
		std::string out = d.output();
		int n = 0;
		for (std::size_t at = 0; (at = out.find("refused a request from uid 65534", at)) != std::string::npos;
		     at++)
			n++;
		return n;
	};
	EXPECT_TRUE(eventually([&] { return refusals() == 3; })) << d.output();
	// Nothing the refused caller asked for happened.
	json st = status_json(d);
	EXPECT_EQ(st["mode"].s(), "enforce");
	EXPECT_TRUE(fs::exists(d.pin_dir()));
	EXPECT_EQ(actor({"open", t / "secret"}).actor_errno(), EPERM);
}

// The refused caller must be told why: "permission denied", with its uid.
TEST(Daemon, NonRootCallerIsToldPermissionDenied)
{
	// Regression (fixed): control_server::accept_request (policyd/control_server.cpp,
	// the SO_PEERCRED refusal) replies and closes the connection before
	// reading the request; when ltrackctl's send() comes after that close it
	// fails with EPIPE, and ctl/daemon_client.cpp (stream_daemon) gives up with
	// "sending the request to ltrackd: Broken pipe" without reading the reply
	// already queued for it. Seen in the VM for `ltrackctl unload` as uid
	// 65534. Remove the skip when the refusal reads the request line first
	// (or the client reads the reply after a failed send).

	temp_dir t;
	ltrackd d(deny_one("/etc/hostname"));
	ASSERT_TRUE(d.start()) << d.output();
	int told = 0, tries = 0;
	for (std::vector<std::string> cmd : {std::vector<std::string>{"status"}, {"unload"}, {"mode", "audit"}})
		for (int i = 0; i < 3; i++, tries++) {
			run_result r = d.ctl(cmd, nobody());
			EXPECT_EQ(r.exit_code, 1) << cmd[0] << ": " << r.out;
			bool ok = r.out.find("permission denied") != std::string::npos &&
				  r.out.find("uid 65534") != std::string::npos;
			told += ok;
			EXPECT_TRUE(ok) << cmd[0] << " (try " << i << "): " << r.out;
		}
	EXPECT_EQ(told, tries);
	EXPECT_TRUE(d.running()) << d.output();
}

TEST(Daemon, CtlWithoutDaemonSaysSoAndExitsOne)
{
	temp_dir t;
	for (const char *cmd : {"status", "reload", "stats"}) {
		run_result r = run({ltrackctl_path(), cmd, "--socket", t / "none.sock"});
		EXPECT_EQ(r.exit_code, 1) << r.out;
		EXPECT_NE(r.out.find("ltrackd is not running"), std::string::npos) << r.out;
		EXPECT_NE(r.out.find(t / "none.sock"), std::string::npos) << r.out;
	}

	// The socket file a killed daemon leaves behind: the same answer.
	ltrackd d("mode = \"audit\"\n[profile.p]\nexecutables = [\"" + actor_path() + "\"]\n");
	ASSERT_TRUE(d.start()) << d.output();
	d.kill9();
	ASSERT_TRUE(fs::exists(d.socket_path()));
	run_result r = run({ltrackctl_path(), "status", "--socket", d.socket_path()});
	EXPECT_EQ(r.exit_code, 1) << r.out;
	EXPECT_NE(r.out.find("ltrackd is not running"), std::string::npos) << r.out;
}

} // namespace
