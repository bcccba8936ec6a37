// `ltrackctl run` from the outside: a real command runs under a profile in a
// private guard (no ltrackd), the test checks the errno the command saw, the
// decisions streamed as JSON, the summary and ltrackctl's exit status, and
// that nothing the command started outlives the run or escapes it.
#include "support.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <thread>

using namespace ltrack::vmtest;

namespace {

// ltrackctl run's exit statuses (tracing/run_summary.h), as documented.
constexpr int clean = 0, could_not_run = 1, command_failed = 2, violation = 3, killed = 4;

struct ctl_run {
	run_result proc;
	std::vector<json> decisions;
	json summary;
};

// ltrackctl run --format json ARGS -- COMMAND...: every JSON line it printed.
ctl_run ltrackctl_run(const std::vector<std::string> &args, const std::vector<std::string> &command,
		      const run_options &opt = {})
{
	std::vector<std::string> argv{ltrackctl_path(), "run", "--format", "json"};
	argv.insert(argv.end(), args.begin(), args.end());
	argv.push_back("--");
	argv.insert(argv.end(), command.begin(), command.end());
	ctl_run r;
	r.proc = run(argv, opt);
	std::istringstream in(r.proc.out);
	for (std::string line; std::getline(in, line);) {
		if (line.empty() || line[0] != '{')
			continue;
		json j = json::parse(line);
		if (j["type"].s() == "decision")
			r.decisions.push_back(j);
		else if (j["type"].s() == "run_summary")
			r.summary = j;
	}
	return r;
}

const json *find_decision(const ctl_run &r, const std::string &hook, const std::string &outcome,
			  const std::string &object_part)
{
	for (const auto &d : r.decisions)
		if (d["hook"].s() == hook && d["outcome"].s() == outcome &&
		    (d["file"]["path"].s().find(object_part) != std::string::npos ||
		     d["net"]["addr"].s().find(object_part) != std::string::npos))
			return &d;
	return nullptr;
}

bool exists(const std::string &path)
{
	struct stat st;
	return stat(path.c_str(), &st) == 0;
}

// Processes whose command line contains needle (a unique sleep length).
int processes_with(const std::string &needle)
{
	int n = 0;
	for (const auto &e : std::filesystem::directory_iterator("/proc")) {
		std::string name = e.path().filename();
		if (name.find_first_not_of("0123456789") != std::string::npos || std::stoi(name) == getpid())
			continue;
		std::string cmd = read_file(e.path().string() + "/cmdline");
		for (auto &c : cmd)
			if (c == '\0')
				c = ' ';
		if (cmd.find(needle) != std::string::npos && cmd.find("sh -c") == std::string::npos)
			n++;
	}
	return n;
}

// A profile that refuses one file and every connect, and lets programs run.
// Its selector names the actor: were it used, the actor would be governed
// everywhere, not only under ltrackctl run.
std::string deny_policy(const std::string &secret)
{
	return "mode = \"audit\"\n"
	       "[profile.t]\n"
	       "executables = [\"" +
	       actor_path() +
	       "\"]\n"
	       "[profile.t.file]\n"
	       "rules = [ { action = \"deny\", file = \"" +
	       secret +
	       "\" } ]\n"
	       "[profile.t.network]\n"
	       "default = \"deny\"\n";
}

} // namespace

// The example: `ltrackctl run --audit -- python3 load.py model.pt`,
// with the built-in model-trial profile and the real loader. Audit mode
// refuses nothing (the payload runs: a harmless touch), and the run says
// what enforce mode would have refused, with exit status 3.
TEST(RunCommand, AuditRunOfAnUnsafeModelLoadReportsWhatWouldBeRefused)
{
	temp_dir t;
	std::string marker = t / "payload-ran";
	write_file(t / "model.pkl", malicious_pickle(marker));
	run_options o;
	o.timeout = std::chrono::seconds(110); // a python3 start takes 20-60 s under emulation
	ctl_run r = ltrackctl_run(
		{"--audit"},
		{"/usr/bin/python3", source_dir() + "/tests/vm/models/model_tool.py", "load", t / "model.pkl"}, o);
	EXPECT_EQ(r.proc.exit_code, violation) << r.proc.out;
	EXPECT_NE(r.proc.out.find("scanned " + t / "model.pkl" + ": pickle, unsafe (posix.system)"), std::string::npos)
		<< r.proc.out;
	EXPECT_TRUE(exists(marker)) << "audit mode must not refuse: the load runs";

	const json *model = find_decision(r, "model", "would_deny", "model.pkl");
	ASSERT_NE(model, nullptr) << r.proc.out;
	EXPECT_EQ((*model)["model"]["verdict"].s(), "unsafe");
	EXPECT_EQ((*model)["profile"].s(), "model-trial");
	EXPECT_EQ((*model)["mode"].s(), "audit");
	// The payload's shell: os.system executes /bin/sh.
	EXPECT_NE(find_decision(r, "exec", "would_deny", "dash"), nullptr) << r.proc.out;

	const json &s = r.summary;
	ASSERT_EQ(s["type"].s(), "run_summary") << r.proc.out;
	EXPECT_EQ(s["mode"].s(), "audit");
	EXPECT_EQ(s["profile"].s(), "model-trial");
	EXPECT_EQ(s["exit_code"].i(), 0); // the load itself succeeded
	EXPECT_GE(s["violations"].i(), 2);
	EXPECT_EQ(s["highest_severity"].s(), "warn");
	EXPECT_EQ(s["result"].s(), "violation");
	EXPECT_EQ(s["exit_status"].i(), violation);
	bool listed = false;
	for (const auto &f : s["refused"].items)
		listed |= f["hook"].s() == "model" && f["object"].s() == t / "model.pkl" &&
			  f["verdict"].s() == "unsafe" && f["imports"].items.size() == 1 &&
			  f["imports"].items[0].s() == "posix.system";
	EXPECT_TRUE(listed) << r.proc.out;
}

// Enforce mode (the default): the unsafe model is refused at open with
// EPERM, the run exits 3 and the refusal is critical; a safe model named on
// the command line is scanned and opens.
TEST(RunCommand, EnforceRefusesTheUnsafeModelAndLetsTheSafeOneOpen)
{
	temp_dir t;
	write_file(t / "evil.pkl", malicious_pickle(t / "marker"));
	write_file(t / "good.pkl", benign_pickle());
	std::string log = t / "decisions.log";
	ctl_run r = ltrackctl_run({"--log", log}, {actor_path(), "open", t / "evil.pkl"});
	EXPECT_NE(r.proc.out.find("errno=1 "), std::string::npos) << r.proc.out;
	EXPECT_EQ(r.proc.exit_code, violation) << r.proc.out;
	const json *d = find_decision(r, "model", "denied", "evil.pkl");
	ASSERT_NE(d, nullptr) << r.proc.out;
	EXPECT_EQ((*d)["severity"].s(), "critical");
	EXPECT_EQ((*d)["mode"].s(), "enforce");
	EXPECT_EQ(r.summary["highest_severity"].s(), "critical");
	EXPECT_EQ(r.summary["exit_code"].i(), 101); // the actor: 100 + EPERM
	EXPECT_NE(read_file(log).find("\"outcome\":\"denied\""), std::string::npos) << "--log writes the records";

	ctl_run ok = ltrackctl_run({}, {actor_path(), "open", t / "good.pkl"});
	EXPECT_EQ(ok.proc.exit_code, clean) << ok.proc.out;
	EXPECT_NE(ok.proc.out.find("scanned " + t / "good.pkl" + ": pickle, safe"), std::string::npos) << ok.proc.out;
	EXPECT_EQ(ok.summary["violations"].i(), 0);
	EXPECT_EQ(ok.summary["result"].s(), "clean");

	// The usual command line, `python3 load.py model.pt`: a script whose
	// first line reads as a pickle opcode (`import` is INST) scans as a
	// broken pickle, `error`. A `.py` file that is no model by its name
	// keeps no such verdict, so the interpreter may read its script.
	write_file(t / "load.py", "import pickle\nprint(pickle.load(open('good.pkl', 'rb')))\n");
	ctl_run script = ltrackctl_run({}, {actor_path(), "open", t / "load.py"});
	EXPECT_EQ(script.proc.exit_code, clean) << script.proc.out;
	EXPECT_NE(script.proc.out.find("a Python script, not a model by its name: no verdict is kept"),
		  std::string::npos)
		<< script.proc.out;
}

// --policy and --profile: the profile's rules apply to the command whatever
// its selectors say, and to nothing else; the exit statuses tell a refusal
// from a failing command.
TEST(RunCommand, APolicyFilesProfileGovernsTheCommandAndItsChildren)
{
	temp_dir t;
	write_file(t / "secret", "s\n");
	write_file(t / "policy.toml", deny_policy(t / "secret"));
	// The actor is not among the profile's executables: run governs it anyway,
	// and its forked child too.
	ctl_run r = ltrackctl_run({"--policy", t / "policy.toml", "--profile", "t"},
				  {actor_path(), "child", "connect", "10.9.9.9", "80"});
	EXPECT_EQ(r.proc.exit_code, violation) << r.proc.out;
	EXPECT_NE(r.proc.out.find("errno=1 "), std::string::npos) << r.proc.out;
	const json *d = find_decision(r, "net", "denied", "10.9.9.9");
	ASSERT_NE(d, nullptr) << r.proc.out;
	EXPECT_EQ((*d)["profile"].s(), "t");
	EXPECT_EQ(r.summary["refused"].items.at(0)["object"].s(), "10.9.9.9:80/tcp");

	// While a run is going on, the same actor outside it is not governed:
	// the policy's selectors play no part in a run.
	std::string ready = t / "ready";
	ctl_run during;
	std::thread bg([&] {
		during = ltrackctl_run(
			{"--policy", t / "policy.toml"},
			{"/bin/sh", "-c", "touch " + ready + "; sleep 8; " + actor_path() + " open " + t / "secret"});
	});
	for (int i = 0; i < 600 && !exists(ready); i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	EXPECT_TRUE(exists(ready));
	run_result outside = actor({"open", t / "secret"});
	bg.join();
	EXPECT_EQ(outside.exit_code, 0) << outside.out;
	EXPECT_EQ(during.proc.exit_code, violation) << during.proc.out; // inside the run it is refused
	EXPECT_NE(find_decision(during, "file", "denied", "secret"), nullptr) << during.proc.out;

	ctl_run failed = ltrackctl_run({"--policy", t / "policy.toml"}, {"/usr/bin/false"});
	EXPECT_EQ(failed.proc.exit_code, command_failed) << failed.proc.out;
	EXPECT_EQ(failed.summary["exit_code"].i(), 1);
	EXPECT_EQ(failed.summary["result"].s(), "command_failed");
}

// --kill-on-violation: the first violation ends the command and everything
// it started, before the command's next step.
TEST(RunCommand, KillOnViolationEndsTheCommandAndEverythingItStarted)
{
	temp_dir t;
	write_file(t / "secret", "s\n");
	write_file(t / "policy.toml", deny_policy(t / "secret"));
	std::string marker = t / "after";
	std::string script = "sleep 303 & " + actor_path() + " open " + t / "secret" + "; sleep 20; touch " + marker;
	ctl_run r = ltrackctl_run({"--policy", t / "policy.toml", "--audit", "--kill-on-violation"},
				  {"/bin/sh", "-c", script});
	EXPECT_EQ(r.proc.exit_code, killed) << r.proc.out;
	EXPECT_NE(find_decision(r, "file", "would_deny", "secret"), nullptr) << r.proc.out;
	EXPECT_TRUE(r.summary["killed_on_violation"].b) << r.proc.out;
	EXPECT_EQ(r.summary["signal"].i(), SIGKILL);
	EXPECT_EQ(r.summary["result"].s(), "killed_on_violation");
	EXPECT_FALSE(exists(marker)) << "the command went on after the violation";
	EXPECT_EQ(processes_with("sleep 303"), 0) << "a process the command started survived";
}

// Whatever the command leaves running when it exits is killed: the guard
// detaches with ltrackctl, and nothing may run on ungoverned.
TEST(RunCommand, ProcessesLeftBehindAreKilledWhenTheCommandEnds)
{
	temp_dir t;
	write_file(t / "secret", "s\n");
	write_file(t / "policy.toml", deny_policy(t / "secret"));
	ctl_run r = ltrackctl_run({"--policy", t / "policy.toml"}, {"/bin/sh", "-c", "setsid sleep 304 & exit 0"});
	EXPECT_EQ(r.proc.exit_code, clean) << r.proc.out;
	EXPECT_GE(r.summary["leftover_killed"].i(), 1) << r.proc.out;
	std::this_thread::sleep_for(std::chrono::milliseconds(300));
	EXPECT_EQ(processes_with("sleep 304"), 0);
}

// Bad input: each refusal names the problem and runs nothing.
TEST(RunCommand, BadInputIsRefusedWithAClearErrorAndNothingRuns)
{
	temp_dir t;
	std::string marker = t / "ran";
	write_file(t / "x", "x\n");
	write_file(t / "two.toml", deny_policy(t / "x") + "[profile.u]\nall = true\n");
	write_file(t / "bad.toml", "[profile.x]\nall = true\nbogus = 1\n");
	chmod(t.path.c_str(), 0755);

	ctl_run two = ltrackctl_run({"--policy", t / "two.toml"}, {"/usr/bin/touch", marker});
	EXPECT_EQ(two.proc.exit_code, could_not_run);
	EXPECT_NE(two.proc.out.find("has 2 profiles (t, u): choose one with --profile NAME"), std::string::npos)
		<< two.proc.out;

	ctl_run missing = ltrackctl_run({"--policy", t / "two.toml", "--profile", "nope"}, {"/usr/bin/touch", marker});
	EXPECT_EQ(missing.proc.exit_code, could_not_run);
	EXPECT_NE(missing.proc.out.find("profile 'nope' is not in " + t / "two.toml" + "; its profiles: t, u"),
		  std::string::npos)
		<< missing.proc.out;

	ctl_run bad = ltrackctl_run({"--policy", t / "bad.toml"}, {"/usr/bin/touch", marker});
	EXPECT_EQ(bad.proc.exit_code, could_not_run);
	EXPECT_NE(bad.proc.out.find(t / "bad.toml" + ":3:1: error: unknown key \"bogus\""), std::string::npos)
		<< bad.proc.out;

	run_options nobody;
	nobody.uid = nobody.gid = 65534;
	ctl_run user = ltrackctl_run({}, {"/usr/bin/touch", marker}, nobody);
	EXPECT_EQ(user.proc.exit_code, could_not_run);
	EXPECT_NE(user.proc.out.find("must run as root"), std::string::npos) << user.proc.out;
	EXPECT_FALSE(exists(marker));

	ctl_run nosuch = ltrackctl_run({}, {t / "no-such-program"});
	EXPECT_EQ(nosuch.proc.exit_code, could_not_run) << nosuch.proc.out;
	EXPECT_NE(nosuch.summary["exec_error"].s().find("No such file or directory"), std::string::npos)
		<< nosuch.proc.out;
}

// The example with the model written a moment before it is loaded,
// by the command itself (a download finishing, then the load): the run's scan
// waiter decides that first open by the file's content. A benign pickle
// loads (exit 0, the record says it was scanned at open); a malicious one
// written and opened at once is refused (EPERM, unsafe, scanned at open).
// The second command also pickle.loads a malicious pickle from memory with
// the Python audit hook loaded: the run serves the hook's report socket, so
// the hook is installed, refuses the global, and the python record is in the
// run's stream under the command's pid.
TEST(RunCommand, AModelTheCommandWritesIsScannedAtItsFirstOpen)
{
	temp_dir t;
	const std::string fresh = t / "fresh.pkl", evil = t / "fresh-evil.pkl";
	run_options o;
	o.timeout = std::chrono::seconds(110); // a python3 start takes 20-60 s under emulation
	ctl_run r = ltrackctl_run({},
				  {"/usr/bin/python3", "-c",
				   "import pickle; p = '" + fresh +
					   "'; "
					   "open(p, 'wb').write(pickle.dumps({'w': [1.5]}, protocol=2)); "
					   "print(pickle.load(open(p, 'rb')))"},
				  o);
	EXPECT_EQ(r.proc.exit_code, clean) << r.proc.out;
	EXPECT_NE(r.proc.out.find("{'w': [1.5]}"), std::string::npos) << r.proc.out;
	const json *d = find_decision(r, "model", "allowed", "fresh.pkl");
	ASSERT_NE(d, nullptr) << r.proc.out;
	EXPECT_EQ((*d)["model"]["verdict"].s(), "safe");
	EXPECT_EQ((*d)["model"]["at_open"].s(), "scanned");

	// Written by the command itself, from bytes in its own code: a file named
	// on the command line would be scanned before the command starts.
	std::string hex;
	for (unsigned char c : malicious_pickle(t / "marker"))
		hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
	// The same process then loads a malicious pickle from memory, with the
	// Python audit hook loaded (imported as the shipped .pth imports it from
	// dist-packages; the build's copy of the .pth is outside model-trial's
	// excluded site directories, so it is a model file there, and unsafe):
	// the hook asks the run's own report socket
	// (LTRACK_REPORT_SOCKET, set by the run), is told it is governed, and
	// refuses the global; the record is in the run's stream.
	std::string in_memory_hex;
	for (unsigned char c : malicious_pickle(t / "marker2"))
		in_memory_hex += "0123456789abcdef"[c >> 4], in_memory_hex += "0123456789abcdef"[c & 15];
	ctl_run e = ltrackctl_run(
		{},
		{"/usr/bin/python3", "-c",
		 "import sys; sys.path.insert(0, '" + build_dir() +
			 "/python'); import ltrack_pyhook\n"
			 "import pickle; p = '" +
			 evil + "'; open(p, 'wb').write(bytes.fromhex('" + hex +
			 "'));\ntry:\n pickle.load(open(p, 'rb'))\nexcept OSError as x:\n print('errno=%d ' % x.errno)\n"
			 "try:\n pickle.loads(bytes.fromhex('" +
			 in_memory_hex +
			 "'))\n print('loads: loaded')\n"
			 "except Exception as x:\n print('loads: ' + type(x).__name__)"},
		o);
	EXPECT_NE(e.proc.out.find("errno=1 "), std::string::npos) << e.proc.out;
	EXPECT_EQ(e.proc.exit_code, violation) << e.proc.out;
	d = find_decision(e, "model", "denied", "fresh-evil.pkl");
	ASSERT_NE(d, nullptr) << e.proc.out;
	EXPECT_EQ((*d)["model"]["verdict"].s(), "unsafe");
	EXPECT_EQ((*d)["model"]["at_open"].s(), "scanned");
	EXPECT_FALSE(exists(t / "marker"));
	EXPECT_NE(e.proc.out.find("loads: RefusedByLtrack"), std::string::npos) << e.proc.out;
	EXPECT_FALSE(exists(t / "marker2")) << "the in-memory pickle's payload ran";
	const json *py = nullptr;
	for (const auto &rec : e.decisions)
		if (rec["hook"].s() == "python" && rec["outcome"].s() == "denied" &&
		    rec["python"]["global"].s() == "posix.system")
			py = &rec;
	ASSERT_NE(py, nullptr) << "no python record in the run's stream:\n" << e.proc.out;
	EXPECT_EQ((*py)["profile"].s(), "model-trial");
	EXPECT_EQ((*py)["mode"].s(), "enforce");
	EXPECT_EQ((*py)["python"]["event"].s(), "find_class");
	EXPECT_EQ((*py)["process"]["pid"].i(), (*d)["process"]["pid"].i()) << "attributed to the command's python3";
}
