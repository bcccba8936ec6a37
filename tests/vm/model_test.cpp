// Issue 7 from the outside: model files are refused in the kernel, at open,
// before a loader can read a byte. Each test runs the real loader
// (/usr/bin/python3, pickle.load, tests/vm/models/model_tool.py) as a
// governed process against files the real ltrackd scanned, checks the errno
// python saw, whether the pickle's payload ran (a marker file), and the
// decision record (hook model, verdict, the import that decided it, the
// rule). The malicious pickle's payload is os.system("touch <marker>") with
// the marker under the test's temp dir, so even where a test expects it to
// run (audit mode, a trusted digest) it is harmless.
#include "support.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

using namespace ltrack::vmtest;

namespace {

const std::string python = "/usr/bin/python3";

std::string tool()
{
	return source_dir() + "/tests/vm/models/model_tool.py";
}

bool exists(const std::string &path)
{
	struct stat st;
	return stat(path.c_str(), &st) == 0;
}

unsigned long long inode_of(const std::string &path)
{
	struct stat st {};
	stat(path.c_str(), &st);
	return st.st_ino;
}

// 1-based number of the first line of text containing needle (0: none).
int line_of(const std::string &text, const std::string &needle)
{
	std::istringstream in(text);
	int n = 0;
	for (std::string line; std::getline(in, line);) {
		n++;
		if (line.find(needle) != std::string::npos)
			return n;
	}
	return 0;
}

// The model files, as pickle.dumps(..., protocol=2) writes them (what
// `tests/vm/models/model_tool.py make DIR MARKER` produces, byte for byte;
// built here because every python3 start costs 20-60 s in the emulated
// guest, and a test has 120 s):
//   malicious: {"name": "malicious", "hook": Payload(marker)} where
//              Payload.__reduce__ returns (os.system, ("touch " + marker,)):
//              GLOBAL posix.system, the command, TUPLE1, REDUCE. Loading it
//              runs the command; the scanner must call it unsafe (posix.system).
//   benign:    {"name": "benign", "weights": [0.5, 1.5, 2.5], "layers": 3}
//              (no imports at all: safe).
// DIR/malicious.pkl (payload: touch MARKER) and DIR/benign.pkl.
void make_models(const std::string &dir, const std::string &marker)
{
	mkdir(dir.c_str(), 0755);
	write_file(dir + "/malicious.pkl", malicious_pickle(marker));
	write_file(dir + "/benign.pkl", benign_pickle());
	ASSERT_TRUE(exists(dir + "/malicious.pkl") && exists(dir + "/benign.pkl"));
	ASSERT_FALSE(exists(marker));
}

std::string sha256_of(const std::string &path)
{
	run_result r = run({"/usr/bin/sha256sum", path});
	return r.out.substr(0, 64);
}

// pickle.load of each path in one python3 process; what it printed per path.
struct load_run {
	run_result proc;
	std::map<std::string, json> by_path;
	const json &operator[](const std::string &path) const
	{
		static const json none;
		auto it = by_path.find(path);
		return it == by_path.end() ? none : it->second;
	}
};

load_run py_load(const std::vector<std::string> &paths, const run_options &opt)
{
	std::vector<std::string> argv{python, tool(), "load"};
	argv.insert(argv.end(), paths.begin(), paths.end());
	run_options o = opt;
	o.timeout = std::chrono::seconds(100); // a python3 start takes 20-60 s under emulation
	load_run l;
	l.proc = run(argv, o);
	std::istringstream in(l.proc.out);
	for (std::string line; std::getline(in, line);) {
		json j = json::parse(line);
		if (j.kind == json::object_v && j.has("path"))
			l.by_path[j["path"].s()] = j;
	}
	return l;
}

std::vector<std::string> strings(const json &array)
{
	std::vector<std::string> out;
	for (const auto &i : array.items)
		out.push_back(i.s());
	return out;
}

bool contains(const std::vector<std::string> &v, const std::string &s)
{
	return std::find(v.begin(), v.end(), s) != v.end();
}

std::function<bool(const json &)> model_record(int pid, const std::string &outcome, const std::string &path)
{
	return [=](const json &r) {
		return r["process"]["pid"].i() == pid && r["hook"].s() == "model" && r["outcome"].s() == outcome &&
		       r["file"]["path"].s() == path;
	};
}

// The profile every test uses, selected by `selector` (a cgroups = or
// executables = line). `model` is the body of its [profile.inference.model]
// table; a file rule denies `barrier` so a test can prove the log has caught
// up (see barrier()).
std::string policy(const std::string &mode, const std::string &selector, const std::string &model,
		   const std::string &barrier)
{
	return "mode = \"" + mode +
	       "\"\n"
	       "[profile.inference]\n" +
	       selector +
	       "\n"
	       "[profile.inference.file]\n"
	       "default = \"allow\"\n"
	       "rules = [ { action = \"deny\", file = \"" +
	       barrier +
	       "\" } ]\n"
	       "[profile.inference.model]\n" +
	       model;
}

// A governed actor opens the barrier file (denied by a file rule) and the
// test waits for that record. The ring buffer is one ordered queue, so once
// it is in the log every decision made before the actor started is too:
// "no record for X" can then be asserted without sleeping.
void barrier(const ltrackd &d, const std::string &barrier_path, const run_options &governed)
{
	run_result b = actor({"open", barrier_path}, governed);
	ASSERT_EQ(b.actor_errno(), EPERM) << "the barrier actor must be governed: " << b.out;
	json r = d.wait_for(decision_for(b.pid, "file", "denied"));
	ASSERT_EQ(r.kind, json::object_v) << "no barrier record\n" << read_file(d.log_path());
}

std::vector<json> records_for_path(const ltrackd &d, const std::string &path)
{
	std::vector<json> out;
	for (auto &r : d.decisions())
		if (r["file"]["path"].s() == path)
			out.push_back(r);
	return out;
}

std::string dump(const std::vector<json> &rs)
{
	std::string s;
	for (const auto &r : rs)
		s += r["hook"].s() + " " + r["outcome"].s() + " pid " + std::to_string(r["process"]["pid"].i()) + " " +
		     r["file"]["path"].s() + " verdict " + r["model"]["verdict"].s() + "\n";
	return s;
}

// What most tests share: models/{malicious,benign}.pkl, an empty outside/
// directory and the barrier file in a temp dir, and a cgroup that the
// "inference" profile governs.
struct scene {
	temp_dir t;
	const std::string models = t / "models", outside = t / "outside", marker = t / "payload-ran",
			  bar = t / "barrier";
	test_cgroup cg{"inference"};
	run_options in_cg;
	scene()
	{
		make_models(models, marker);
		mkdir(outside.c_str(), 0755);
		write_file(bar, "b");
		in_cg.cgroup = cg.path;
	}
	// An enforce-mode policy governing the cgroup; `model` is the body of
	// its [profile.inference.model] table.
	std::string enforce(const std::string &model) const
	{
		return policy("enforce", "cgroups = [\"" + cg.path + "\"]", model, bar);
	}
};

// Enforce mode: pickle.load of a malicious model fails at open() with EPERM
// and its payload never runs; a benign model next to it loads; the record
// names the verdict and the import that decided it.
TEST(ModelGuard, MaliciousPickleRefusedAtOpenBenignLoads)
{
	scene sc;
	const auto &[models, marker, bar, in_cg] = std::tie(sc.models, sc.marker, sc.bar, sc.in_cg);
	std::string pol = sc.enforce("directories = [\"" + models + "\"]\nextensions = [\".pkl\"]\nallow = \"safe\"\n");
	ltrackd d(pol);
	ASSERT_TRUE(d.start()) << d.output();

	const std::string mal = models + "/malicious.pkl", ben = models + "/benign.pkl";
	load_run l = py_load({mal, ben}, in_cg);
	ASSERT_EQ(l[mal].kind, json::object_v) << l.proc.out;
	EXPECT_FALSE(l[mal]["ok"].b) << l.proc.out;
	EXPECT_EQ(l[mal]["errno"].i(), EPERM) << l.proc.out;
	EXPECT_EQ(l[mal]["error"].s(), "PermissionError") << l.proc.out;
	ASSERT_EQ(l[ben].kind, json::object_v) << l.proc.out;
	EXPECT_TRUE(l[ben]["ok"].b) << l.proc.out;
	EXPECT_NE(l[ben]["value"].s().find("'benign'"), std::string::npos) << l.proc.out;
	EXPECT_EQ(l.proc.exit_code, 1) << "one load failed: " << l.proc.out;

	json r = d.wait_for(model_record(l.proc.pid, "denied", mal));
	ASSERT_EQ(r.kind, json::object_v) << "no model denial for pid " << l.proc.pid << "\n"
					  << read_file(d.log_path());
	EXPECT_EQ(r["action"].s(), "deny");
	EXPECT_EQ(r["mode"].s(), "enforce");
	EXPECT_EQ(r["severity"].s(), "critical");
	EXPECT_EQ(r["profile"].s(), "inference");
	EXPECT_EQ(r["file"]["ino"].i(), static_cast<long long>(inode_of(mal)));
	EXPECT_EQ(r["model"]["verdict"].s(), "unsafe");
	// pickle records os.system by its defining module: posix.system.
	std::vector<std::string> imports = strings(r["model"]["imports"]);
	EXPECT_TRUE(contains(imports, "posix.system")) << read_file(d.log_path());
	EXPECT_EQ(r["rule"]["file"].s(), d.policy_path());
	EXPECT_EQ(r["rule"]["line"].i(), line_of(pol, "[profile.inference.model]")) << pol;
	EXPECT_EQ(r["rule"]["text"].s(), "model allow safe, deny the rest");
	EXPECT_GT(r["rule"]["id"].i(), 0);

	// Nothing about the benign model: it was allowed silently.
	ASSERT_NO_FATAL_FAILURE(barrier(d, bar, in_cg));
	EXPECT_TRUE(records_for_path(d, ben).empty()) << dump(records_for_path(d, ben));
	// The payload never ran (checked after the barrier: nothing was still on its way).
	EXPECT_FALSE(exists(marker)) << "the malicious pickle's payload ran";
}

// A benign model modified after its scan is unscanned (refused under
// allow = "safe") until the watcher rescans it; then it loads again.
//
// The watcher rescans within about a second (inotify, and a 1 s recheck of
// the content generation), so the window is held open by stopping ltrackd
// (SIGSTOP) around the write and the load: what refuses the load is then the
// kernel's own content generation, moved by the open for writing.
TEST(ModelGuard, ModifiedAfterScanIsUnscannedUntilRescanned)
{
	scene sc;
	const auto &[models, marker, in_cg] = std::tie(sc.models, sc.marker, sc.in_cg);
	const std::string ben = models + "/benign.pkl";
	std::string pol = sc.enforce("directories = [\"" + models + "\"]\nallow = \"safe\"\n");
	ltrackd d(pol);
	ASSERT_TRUE(d.start()) << d.output();

	// Scanned safe at start: a governed process opens it.
	run_result before = actor({"open", ben}, in_cg);
	ASSERT_EQ(before.exit_code, 0) << before.out << d.output();

	// Modify it while the daemon cannot rescan: a second, benign pickle
	// appended after the first one's STOP (still a valid and safe model file).
	ASSERT_EQ(kill(d.pid(), SIGSTOP), 0) << std::strerror(errno);
	struct stat st0 {
	}, st1{};
	stat(ben.c_str(), &st0);
	int fd = open(ben.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
	std::string more = appended_pickle();
	bool wrote = fd >= 0 && write(fd, more.data(), more.size()) == static_cast<ssize_t>(more.size());
	if (fd >= 0)
		close(fd);
	stat(ben.c_str(), &st1);
	load_run during;
	if (wrote)
		during = py_load({ben}, in_cg);
	ASSERT_EQ(kill(d.pid(), SIGCONT), 0) << std::strerror(errno);
	ASSERT_TRUE(wrote) << std::strerror(errno);
	ASSERT_GT(st1.st_size, st0.st_size);
	ASSERT_EQ(during[ben].kind, json::object_v) << during.proc.out;
	EXPECT_FALSE(during[ben]["ok"].b) << during.proc.out;
	EXPECT_EQ(during[ben]["errno"].i(), EPERM) << during.proc.out;
	json r = d.wait_for(model_record(during.proc.pid, "denied", ben));
	ASSERT_EQ(r.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(r["model"]["verdict"].s(), "unscanned");
	EXPECT_EQ(r["action"].s(), "deny");
	EXPECT_EQ(r["rule"]["line"].i(), line_of(pol, "[profile.inference.model]")) << pol;
	EXPECT_EQ(r["file"]["ino"].i(), static_cast<long long>(st1.st_ino));

	// Running again, the daemon rescans by itself; the governed actor retries
	// the open until the new verdict is in.
	run_result probe;
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
	do {
		probe = actor({"open", ben}, in_cg);
		if (probe.exit_code == 0)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	} while (std::chrono::steady_clock::now() < deadline);
	ASSERT_EQ(probe.exit_code, 0) << "still refused 30 s after the daemon resumed: " << probe.out << "\n"
				      << d.output();
	EXPECT_FALSE(exists(marker));
}

// The watcher's contract (runtime/model_watch.h): every file under the
// model directories is scanned again "whenever it is written". A write
// through another name of the same inode (a hard link outside the model
// directory) is a write too. Under allow = "unscanned" this matters for
// safety, not only liveness: the kernel sees the moved content generation, calls
// the file unscanned, and "unscanned" lets it through, so a model replaced
// by a malicious pickle this way stays loadable for as long as nothing
// touches it under its model-directory name.
//
// Regression (fixed): model_watch only watched the model directories, and
// inotify reports a write only to the watchers of the parent directory of
// the name that was opened, so a write through a link elsewhere was never
// seen. Now the daemon also rechecks every scanned file's content
// generation each second (model_watch::recheck) and rescans what changed.
TEST(ModelGuard, WriteThroughAnotherLinkIsRescanned)
{
	scene sc;
	const auto &[models, marker, in_cg] = std::tie(sc.models, sc.marker, sc.in_cg);
	const std::string ben = models + "/benign.pkl", link = sc.outside + "/same-inode";
	ASSERT_EQ(::link(ben.c_str(), link.c_str()), 0) << std::strerror(errno);
	std::string pol = sc.enforce("directories = [\"" + models + "\"]\nallow = \"unscanned\"\n");
	ltrackd d(pol);
	ASSERT_TRUE(d.start()) << d.output();
	ASSERT_EQ(actor({"open", models + "/malicious.pkl"}, in_cg).actor_errno(), EPERM) << "scanned unsafe";

	// Replace the benign model's content with the malicious pickle, written
	// (and closed) through the other link by an ungoverned process.
	{
		int fd = open(link.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
		ASSERT_GE(fd, 0) << std::strerror(errno);
		std::string bad = malicious_pickle(marker);
		ASSERT_EQ(write(fd, bad.data(), bad.size()), static_cast<ssize_t>(bad.size()));
		close(fd);
	}
	// A rescan would make it unsafe: refused. Give the watcher 15 s.
	run_result probe;
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
	do {
		probe = actor({"open", ben}, in_cg);
		if (probe.actor_errno() == EPERM)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	} while (std::chrono::steady_clock::now() < deadline);
	EXPECT_EQ(probe.actor_errno(), EPERM) << "the rewritten model was never rescanned: still opens as unscanned";

	load_run l = py_load({ben}, in_cg);
	EXPECT_FALSE(l[ben]["ok"].b) << l.proc.out;
	EXPECT_EQ(l[ben]["errno"].i(), EPERM) << l.proc.out;
	EXPECT_FALSE(exists(marker)) << "pickle.load ran the payload of a model rewritten after its scan";
}

// A model the scanner found unsafe is refused under any name: a hard link
// to it outside the model directories, without a model extension, opens as
// nothing less than the model it is. (Before: the model layer asked only
// "is it under a model directory or named like a model?", so the link
// skipped it and the file rules' default let pickle.load run the payload.)
TEST(ModelGuard, UnsafeModelIsRefusedThroughAHardLinkElsewhere)
{
	scene sc;
	const auto &[models, outside, marker, in_cg] = std::tie(sc.models, sc.outside, sc.marker, sc.in_cg);
	const std::string mal = models + "/malicious.pkl", link = outside + "/notes.txt";
	ASSERT_EQ(::link(mal.c_str(), link.c_str()), 0) << std::strerror(errno);
	std::string pol = sc.enforce("directories = [\"" + models + "\"]\nallow = \"safe\"\n");
	ltrackd d(pol);
	ASSERT_TRUE(d.start()) << d.output();

	load_run l = py_load({link}, in_cg);
	ASSERT_EQ(l[link].kind, json::object_v) << l.proc.out;
	EXPECT_FALSE(l[link]["ok"].b) << l.proc.out;
	EXPECT_EQ(l[link]["errno"].i(), EPERM) << l.proc.out;
	json r = d.wait_for(model_record(l.proc.pid, "denied", link));
	ASSERT_EQ(r.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(r["model"]["verdict"].s(), "unsafe");
	EXPECT_EQ(r["file"]["ino"].i(), static_cast<long long>(inode_of(mal)));
	EXPECT_EQ(r["rule"]["line"].i(), line_of(pol, "[profile.inference.model]")) << pol;
	EXPECT_FALSE(exists(marker)) << "the payload ran through the hard link";

	// Another file outside, never scanned, is no model: the file rules allow it.
	write_file(outside + "/plain.txt", "p");
	EXPECT_EQ(actor({"open", outside + "/plain.txt"}, in_cg).exit_code, 0);
}

// Audit mode (global), process selected by its executable: the malicious
// load is logged as a would-be denial and goes through, so the payload runs
// (it only touches the marker under the temp dir).
TEST(ModelGuard, AuditModeLogsWouldDenyAndLetsTheLoadThrough)
{
	temp_dir t;
	const std::string models = t / "models", marker = t / "payload-ran", bar = t / "barrier";
	// Before the daemon starts: this python3 must not be governed.
	make_models(models, marker);
	write_file(bar, "b");

	std::string pol = policy("audit", "executables = [\"/usr/bin/python3.11\"]",
				 "directories = [\"" + models + "\"]\nallow = \"safe\"\n", bar);
	ltrackd d(pol);
	ASSERT_TRUE(d.start()) << d.output();

	const std::string mal = models + "/malicious.pkl";
	load_run l = py_load({mal}, {});
	ASSERT_EQ(l[mal].kind, json::object_v) << l.proc.out;
	EXPECT_TRUE(l[mal]["ok"].b) << l.proc.out;
	EXPECT_EQ(l.proc.exit_code, 0) << l.proc.out;
	EXPECT_TRUE(exists(marker)) << "audit mode let the open through, so pickle.load ran the payload";

	json r = d.wait_for(model_record(l.proc.pid, "would_deny", mal));
	ASSERT_EQ(r.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(r["action"].s(), "deny");
	EXPECT_EQ(r["mode"].s(), "audit");
	EXPECT_EQ(r["severity"].s(), "warn");
	EXPECT_EQ(r["model"]["verdict"].s(), "unsafe");
	EXPECT_TRUE(contains(strings(r["model"]["imports"]), "posix.system")) << read_file(d.log_path());
	EXPECT_EQ(r["rule"]["line"].i(), line_of(pol, "[profile.inference.model]")) << pol;
	EXPECT_EQ(r["rule"]["text"].s(), "model allow safe, deny the rest");
	for (const auto &x : d.decisions())
		EXPECT_NE(x["outcome"].s(), "denied") << "audit mode denied something: " << dump({x});
}

// trusted_sha256: the malicious file's digest on the list makes exactly that
// file openable (and loadable: its payload runs, harmlessly); another
// malicious file in the same directory is still refused.
TEST(ModelGuard, TrustedDigestMakesTheMaliciousFileOpenable)
{
	temp_dir t;
	const std::string models = t / "models", bar = t / "barrier";
	mkdir(models.c_str(), 0755);
	const std::string marker_a = t / "payload-a-ran", marker_b = t / "payload-b-ran";
	make_models(models + "/a", marker_a);
	make_models(models + "/b", marker_b);
	const std::string mal_a = models + "/a/malicious.pkl", mal_b = models + "/b/malicious.pkl";
	std::string digest = sha256_of(mal_a);
	ASSERT_EQ(digest.size(), 64u);
	ASSERT_NE(digest, sha256_of(mal_b)) << "the two payloads differ (their markers)";
	write_file(bar, "b");
	test_cgroup cg("inference");
	run_options in_cg;
	in_cg.cgroup = cg.path;

	std::string pol = policy(
		"enforce", "cgroups = [\"" + cg.path + "\"]",
		"directories = [\"" + models + "\"]\nallow = \"safe\"\ntrusted_sha256 = [\"" + digest + "\"]\n", bar);
	ltrackd d(pol);
	ASSERT_TRUE(d.start()) << d.output();

	load_run l = py_load({mal_a, mal_b}, in_cg);
	ASSERT_EQ(l[mal_a].kind, json::object_v) << l.proc.out;
	EXPECT_TRUE(l[mal_a]["ok"].b) << l.proc.out << "\n" << d.output();
	EXPECT_TRUE(exists(marker_a)) << "the trusted model was loaded";
	ASSERT_EQ(l[mal_b].kind, json::object_v) << l.proc.out;
	EXPECT_FALSE(l[mal_b]["ok"].b) << l.proc.out;
	EXPECT_EQ(l[mal_b]["errno"].i(), EPERM) << l.proc.out;

	json r = d.wait_for(model_record(l.proc.pid, "denied", mal_b));
	ASSERT_EQ(r.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(r["model"]["verdict"].s(), "unsafe");
	ASSERT_NO_FATAL_FAILURE(barrier(d, bar, in_cg));
	EXPECT_TRUE(records_for_path(d, mal_a).empty()) << "a trusted model is allowed silently:\n"
							<< dump(records_for_path(d, mal_a));
	EXPECT_FALSE(exists(marker_b));
}

// A file with a model extension outside every model directory is a model
// file the watcher never scans: unscanned, refused under allow = "safe" even
// though its content is benign; the same content inside the model directory
// loads, and a profile with allow = "unscanned" opens the outside file.
TEST(ModelGuard, ExtensionOutsideModelDirsIsUnscanned)
{
	temp_dir t;
	const std::string models = t / "models", elsewhere = t / "elsewhere", marker = t / "payload-ran",
			  bar = t / "barrier";
	make_models(models, marker);
	mkdir(elsewhere.c_str(), 0755);
	const std::string inside = models + "/benign.pkl", outside = elsewhere + "/weights.pkl";
	write_file(outside, read_file(inside));
	ASSERT_EQ(read_file(outside), read_file(inside));
	write_file(bar, "b");
	test_cgroup strict("strict"), lenient("lenient");
	run_options in_strict, in_lenient;
	in_strict.cgroup = strict.path;
	in_lenient.cgroup = lenient.path;

	std::string pol =
		policy("enforce", "cgroups = [\"" + strict.path + "\"]",
		       "directories = [\"" + models + "\"]\nextensions = [\".pkl\"]\nallow = \"safe\"\n", bar) +
		"[profile.lenient]\ncgroups = [\"" + lenient.path +
		"\"]\n"
		"[profile.lenient.model]\nextensions = [\".pkl\"]\nallow = \"unscanned\"\n";
	ltrackd d(pol);
	ASSERT_TRUE(d.start()) << d.output();

	load_run l = py_load({outside, inside}, in_strict);
	ASSERT_EQ(l[outside].kind, json::object_v) << l.proc.out;
	EXPECT_FALSE(l[outside]["ok"].b) << l.proc.out;
	EXPECT_EQ(l[outside]["errno"].i(), EPERM) << l.proc.out;
	EXPECT_TRUE(l[inside]["ok"].b) << l.proc.out;

	json r = d.wait_for(model_record(l.proc.pid, "denied", outside));
	ASSERT_EQ(r.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(r["model"]["verdict"].s(), "unscanned");
	EXPECT_TRUE(r["model"]["imports"].items.empty());
	EXPECT_EQ(r["profile"].s(), "inference");
	EXPECT_EQ(r["rule"]["line"].i(), line_of(pol, "[profile.inference.model]")) << pol;
	EXPECT_EQ(r["file"]["ino"].i(), static_cast<long long>(inode_of(outside)));

	run_result len = actor({"open", outside}, in_lenient);
	EXPECT_EQ(len.exit_code, 0) << "allow = \"unscanned\" opens an unscanned model: " << len.out;
	EXPECT_FALSE(exists(marker));
}

} // namespace

namespace {

// Replaces the first "benign" in the file with "Benign" through a shared
// writable mapping (size unchanged); the mapping and fd are closed again.
bool rewrite_through_mapping(const std::string &path)
{
	int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st {};
	fstat(fd, &st);
	void *p = mmap(nullptr, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return false;
	char *b = static_cast<char *>(p);
	char *at = static_cast<char *>(memmem(b, st.st_size, "benign", 6));
	if (at)
		*at = 'B';
	munmap(p, st.st_size);
	return at != nullptr;
}

// Retries a governed open until it succeeds (the daemon rescanned).
run_result open_when_rescanned(const std::string &path, const run_options &opt)
{
	run_result r;
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
	do {
		r = actor({"open", path}, opt);
		if (r.exit_code == 0)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	} while (std::chrono::steady_clock::now() < deadline);
	return r;
}

} // namespace

// Issue 17, item 7: a verdict belongs to the inode's content, decided in
// the kernel. Each change below is made by an ungoverned process (the test)
// while ltrackd is stopped (SIGSTOP), so what refuses the next governed
// open is the kernel's own content generation, not a rescan:
//   - a rewrite through a shared writable mapping, a write(2) and a
//     truncate(2) to the same size: a safe verdict stops holding at once
//     (unscanned: refused under allow = "safe"; audit: would_deny);
//   - a writer that held the file open (and mapped, its page already
//     dirty) from before the scan: no safe verdict is ever planted while it
//     exists, and its later stores (no hook sees them) change nothing;
//   - an unsafe verdict survives chmod, a hard link and a rename out of the
//     model directory to a non-model name, and even a rewrite: refused under
//     any name until a new scan replaces it;
//   - symlinks in the model directory (to libc, to a library directory,
//     present at start or created later) give their targets no verdict:
//     governed processes still load libc.
// An ungoverned actor opens everything untouched and leaves no record.
TEST(ModelGuard, VerdictFollowsTheInodesContentNotItsNames)
{
	temp_dir t;
	const std::string models = t / "models", outside = t / "outside", marker = t / "payload-ran",
			  bar = t / "barrier";
	const std::string libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	make_models(models, marker);
	mkdir(outside.c_str(), 0755);
	write_file(bar, "b");
	const std::string mm = models + "/mm.pkl", wr = models + "/wr.pkl", tr = models + "/tr.pkl",
			  held = models + "/held.pkl", mal = models + "/malicious.pkl";
	for (const auto &p : {mm, wr, tr, held})
		write_file(p, benign_pickle());
	ASSERT_EQ(symlink(libc.c_str(), (models + "/libc.so.6").c_str()), 0) << std::strerror(errno);

	// The held writer: open and mapped shared writable before ltrackd scans,
	// its page dirtied so a later store takes no fault and moves no ctime.
	int held_fd = open(held.c_str(), O_RDWR | O_CLOEXEC);
	ASSERT_GE(held_fd, 0) << std::strerror(errno);
	const std::string benign = benign_pickle();
	char *held_map =
		static_cast<char *>(mmap(nullptr, benign.size(), PROT_READ | PROT_WRITE, MAP_SHARED, held_fd, 0));
	ASSERT_NE(held_map, MAP_FAILED) << std::strerror(errno);
	held_map[0] = benign[0];

	test_cgroup cg("inference"), cg_audit("auditor");
	run_options in_cg, in_audit;
	in_cg.cgroup = cg.path;
	in_audit.cgroup = cg_audit.path;
	const std::string model_table = "directories = [\"" + models + "\"]\nallow = \"safe\"\n";
	std::string pol = policy("enforce", "cgroups = [\"" + cg.path + "\"]", model_table, bar) +
			  "[profile.auditor]\ncgroups = [\"" + cg_audit.path +
			  "\"]\nmode = \"audit\"\n"
			  "[profile.auditor.model]\n" +
			  model_table;
	ltrackd d(pol);
	ASSERT_TRUE(d.start()) << d.output();

	// Symlinks created while it watches, then a file whose scan proves the
	// watcher has handled every event before it.
	ASSERT_EQ(symlink(libc.c_str(), (models + "/late-libc.pkl").c_str()), 0);
	ASSERT_EQ(symlink("/usr/lib/x86_64-linux-gnu", (models + "/libdir").c_str()), 0);
	write_file(models + "/sync.pkl", benign);
	ASSERT_EQ(open_when_rescanned(models + "/sync.pkl", in_cg).exit_code, 0) << d.output();

	for (const auto &p : {mm, wr, tr})
		ASSERT_EQ(actor({"open", p}, in_cg).exit_code, 0) << p << " scanned safe\n" << d.output();
	run_result r_held = actor({"open", held}, in_cg);
	EXPECT_EQ(r_held.actor_errno(), EPERM) << "safe content, but a writer held it through the scan";
	// libc: the governed actor runs (ld.so loads libc) and opens it by name and through the links.
	for (const auto &p : {libc, models + "/libc.so.6", models + "/late-libc.pkl", models + "/libdir/libc.so.6"})
		EXPECT_EQ(actor({"open", p}, in_cg).exit_code, 0) << p << "\n" << d.output();

	// ltrackd stopped: only the kernel can notice what follows.
	ASSERT_EQ(kill(d.pid(), SIGSTOP), 0) << std::strerror(errno);
	struct stat before {
	}, after{};
	stat(mm.c_str(), &before);
	bool mapped = rewrite_through_mapping(mm);
	stat(mm.c_str(), &after);
	int fd = open(wr.c_str(), O_WRONLY | O_CLOEXEC);
	std::string changed = benign;
	changed[changed.find("benign")] = 'B';
	bool written = fd >= 0 && pwrite(fd, changed.data(), changed.size(), 0) == static_cast<ssize_t>(changed.size());
	if (fd >= 0)
		close(fd);
	bool truncated = truncate(tr.c_str(), static_cast<off_t>(benign.size())) == 0;
	std::memcpy(held_map, changed.data(), changed.size()); // no hook sees this store
	const std::string notes = outside + "/notes.txt", moved = outside + "/moved.dat";
	bool renamed = chmod(mal.c_str(), 0600) == 0 && ::link(mal.c_str(), notes.c_str()) == 0 &&
		       rename(mal.c_str(), moved.c_str()) == 0;
	std::map<std::string, run_result> enforce, audit;
	for (const auto &p : {mm, wr, tr, held, notes, moved})
		enforce[p] = actor({"open", p}, in_cg);
	audit[mm] = actor({"open", mm}, in_audit);
	audit[notes] = actor({"open", notes}, in_audit);
	run_result ungoverned = actor({"open", mm});
	run_result ungoverned_notes = actor({"open", notes});
	// A rewrite of the unsafe file does not clear its verdict: only a scan does.
	write_file(notes, benign);
	run_result rewritten_bad = actor({"open", moved}, in_cg);
	ASSERT_EQ(kill(d.pid(), SIGCONT), 0) << std::strerror(errno);

	ASSERT_TRUE(mapped && written && truncated && renamed) << std::strerror(errno);
	EXPECT_EQ(after.st_size, before.st_size);
	for (const auto &[p, r] : enforce)
		EXPECT_EQ(r.actor_errno(), EPERM) << p << ": " << r.out;
	EXPECT_EQ(rewritten_bad.actor_errno(), EPERM) << "a rewritten unsafe file opened before any rescan";
	for (const auto &[p, r] : audit)
		EXPECT_EQ(r.exit_code, 0) << "audit mode proceeds: " << p << ": " << r.out;
	EXPECT_EQ(ungoverned.exit_code, 0) << ungoverned.out;
	EXPECT_EQ(ungoverned_notes.exit_code, 0) << ungoverned_notes.out;

	auto expect_record = [&](const run_result &r, const std::string &path, const std::string &outcome,
				 const std::string &verdict) {
		json rec = d.wait_for(model_record(r.pid, outcome, path));
		ASSERT_EQ(rec.kind, json::object_v) << "no " << outcome << " record for " << path << "\n"
						    << read_file(d.log_path());
		EXPECT_EQ(rec["model"]["verdict"].s(), verdict) << path;
		EXPECT_EQ(rec["action"].s(), "deny") << path;
	};
	expect_record(r_held, held, "denied", "unscanned");
	for (const auto &p : {mm, wr, tr, held})
		expect_record(enforce[p], p, "denied", "unscanned");
	for (const auto &p : {notes, moved})
		expect_record(enforce[p], p, "denied", "unsafe");
	expect_record(rewritten_bad, moved, "denied", "unsafe");
	expect_record(audit[mm], mm, "would_deny", "unscanned");
	expect_record(audit[notes], notes, "would_deny", "unsafe");

	ASSERT_NO_FATAL_FAILURE(barrier(d, bar, in_cg));
	for (const auto &r : d.decisions()) {
		EXPECT_NE(r["process"]["pid"].i(), ungoverned.pid) << dump({r});
		EXPECT_NE(r["process"]["pid"].i(), ungoverned_notes.pid) << dump({r});
		EXPECT_EQ(r["file"]["path"].s().find("libc.so.6"), std::string::npos)
			<< "libc got a verdict: " << dump({r});
	}
	EXPECT_EQ(d.output().find("libc.so.6:"), std::string::npos) << "the watcher scanned libc:\n" << d.output();

	// Running again, the watcher rescans what changed; the held file once
	// its writer is gone.
	EXPECT_EQ(open_when_rescanned(mm, in_cg).exit_code, 0) << d.output();
	munmap(held_map, benign.size());
	close(held_fd);
	EXPECT_EQ(open_when_rescanned(held, in_cg).exit_code, 0) << d.output();
	EXPECT_FALSE(exists(marker));
}

// scan_at_open (runtime/scan_waiter.h): a model written a moment ago is
// decided by its content at its first open, not refused as unscanned. One
// daemon start, in order:
//   - a governed process writes a benign pickle beside the model directory,
//     renames it in (as downloaders finish a file) and opens it at once: it
//     succeeds, and the record says it was scanned at open and found safe;
//   - the same with a malicious pickle: EPERM, the record says unsafe,
//     scanned at open, with the import that decided it;
//   - both again written in place, slowly (4 writes 300 ms apart): the
//     watcher scans the half-written file at IN_CREATE while the writer holds
//     it; no verdict may come of that (a truncated pickle is `error`, which
//     refused the finished file before ltrackd stored nothing for files
//     open for writing): the benign one opens (safe, scanned at open), the
//     malicious one is refused (unsafe);
//   - an ungoverned process opening a fresh, unscanned file is answered at
//     once (no scan) and leaves no record;
//   - ltrackd killed (SIGKILL, by this ungoverned test): the pinned programs
//     still enforce, and a fresh file is refused unscanned again (fail
//     closed: fanotify would allow what a dead listener left, so the kernel
//     stops passing files on to it).
TEST(ModelGuard, FirstOpenOfAFreshModelIsDecidedByItsScan)
{
	scene sc;
	const auto &[t, models, marker, bar, in_cg] = std::tie(sc.t, sc.models, sc.marker, sc.bar, sc.in_cg);
	const std::string ben_src = t / "benign.src", mal_src = t / "malicious.src";
	write_file(ben_src, benign_pickle());
	write_file(mal_src, malicious_pickle(marker));
	std::string pol = sc.enforce("directories = [\"" + models +
				     "\"]\nallow = \"safe\"\nscan_at_open = true\n"
				     "scan_at_open_max_mb = 64\n");
	ltrackd d(pol); // killed below; its destructor unloads the pins
	ASSERT_TRUE(d.start()) << d.output();

	auto open_us = [](const run_result &r) {
		auto at = r.out.find("open_us ");
		return at == std::string::npos ? -1LL : std::stoll(r.out.substr(at + 8));
	};

	// The watcher (ltrackd's main thread) scans every file closed after a
	// write too; when it wins the race to a fresh file the kernel decides
	// the open by its verdict, with no wait. To test the wait, it is kept
	// busy first: a large file written just before (about 1-3 s to scan
	// under emulation) that it scans while the governed actor writes and
	// opens its own.
	auto keep_watcher_busy = [&](const std::string &name) {
		write_file(models + "/" + name, std::string(192u << 20, '\0'));
	};

	// 1. Benign, written and opened at once by a governed process.
	const std::string fresh_ben = models + "/fresh-benign.pkl";
	keep_watcher_busy("busy1.bin");
	run_result rb = actor({"copy-rename-open", ben_src, sc.outside + "/ben.part", fresh_ben}, in_cg);
	EXPECT_EQ(rb.exit_code, 0) << rb.out << d.output();
	// The watcher can still win the race on a loaded host (then the kernel
	// allowed the open by the stored safe verdict, which logs nothing); the
	// waiter's own path is proved without a race in 2c.
	json r = d.wait_for(model_record(rb.pid, "allowed", fresh_ben), std::chrono::seconds(5));
	if (r.kind == json::object_v) {
		EXPECT_EQ(r["model"]["verdict"].s(), "safe");
		EXPECT_EQ(r["model"]["at_open"].s(), "scanned");
		EXPECT_EQ(r["profile"].s(), "inference");
		EXPECT_EQ(r["file"]["ino"].i(), static_cast<long long>(inode_of(fresh_ben)));
		std::printf("first open of a fresh benign model (governed, waits for its scan): %lld us\n",
			    open_us(rb));
	} else {
		std::printf("first open of a fresh benign model: the watcher's verdict came first (no wait)\n");
	}

	// 2. Malicious, written and opened at once: refused by its content.
	const std::string fresh_mal = models + "/fresh-malicious.pkl";
	keep_watcher_busy("busy2.bin");
	run_result rm = actor({"copy-rename-open", mal_src, sc.outside + "/mal.part", fresh_mal}, in_cg);
	EXPECT_EQ(rm.actor_errno(), EPERM) << rm.out << d.output();
	r = d.wait_for(model_record(rm.pid, "denied", fresh_mal));
	ASSERT_EQ(r.kind, json::object_v) << "no denied record\n" << read_file(d.log_path());
	EXPECT_EQ(r["model"]["verdict"].s(), "unsafe");
	// "scanned": the waiter's scan; none: the watcher's verdict came first.
	EXPECT_TRUE(r["model"]["at_open"].s() == "scanned" || r["model"]["at_open"].s().empty()) << dump({r});
	EXPECT_TRUE(contains(strings(r["model"]["imports"]), "posix.system")) << read_file(d.log_path());
	EXPECT_EQ(r["action"].s(), "deny");
	EXPECT_EQ(r["mode"].s(), "enforce");
	EXPECT_EQ(r["rule"]["line"].i(), line_of(pol, "[profile.inference.model]")) << pol;
	// The verdict stays: a second open is refused by the kernel itself.
	run_result again = actor({"open", fresh_mal}, in_cg);
	EXPECT_EQ(again.actor_errno(), EPERM) << again.out;

	// 2b. Written in place (a download into its final name), slowly: the
	// watcher sees the file at IN_CREATE, half written and held open for
	// writing by the governed writer. No verdict may come of that scan (a
	// half-written pickle is `error`, and a bad verdict stored then would
	// refuse the finished file); the writer closes and opens it at once
	// (while the watcher scans the large file it wrote last): the open waits
	// for a scan of the finished bytes.
	unlink((models + "/busy1.bin").c_str()); // the guest's /tmp is memory
	unlink((models + "/busy2.bin").c_str());
	const std::string inplace_ben = models + "/inplace-benign.pkl";
	run_result ri =
		actor({"slow-copy-open", ben_src, inplace_ben, "4", "300", models + "/busy3.bin", "192"}, in_cg);
	EXPECT_EQ(ri.exit_code, 0) << "the first open of a safe model written in place was refused: " << ri.out
				   << dump(records_for_path(d, inplace_ben)) << d.output();
	r = d.wait_for(model_record(ri.pid, "allowed", inplace_ben));
	ASSERT_EQ(r.kind, json::object_v) << "no allowed record\n" << read_file(d.log_path()) << d.output();
	EXPECT_EQ(r["model"]["verdict"].s(), "safe");
	EXPECT_EQ(r["model"]["at_open"].s(), "scanned");
	std::printf("first open of a benign model written in place (4 writes, 300 ms apart): %lld us\n", open_us(ri));
	// The malicious one written the same way is refused by its content.
	unlink((models + "/busy3.bin").c_str());
	const std::string inplace_mal = models + "/inplace-malicious.pkl";
	run_result rim =
		actor({"slow-copy-open", mal_src, inplace_mal, "4", "300", models + "/busy4.bin", "192"}, in_cg);
	EXPECT_EQ(rim.actor_errno(), EPERM) << rim.out << d.output();
	r = d.wait_for(model_record(rim.pid, "denied", inplace_mal));
	ASSERT_EQ(r.kind, json::object_v) << "no denied record\n" << read_file(d.log_path());
	EXPECT_EQ(r["model"]["verdict"].s(), "unsafe");
	EXPECT_TRUE(contains(strings(r["model"]["imports"]), "posix.system")) << read_file(d.log_path());

	// 2c. Attack: keep ltrackd's fanotify reader busy (three ungoverned
	// threads opening a scanned model in the directory without pause) while
	// a governed process opens a malicious file that is still held open for
	// writing (so no verdict can be stored for it and every open of it waits
	// for the waiter's scan). The reader once took its clock before such a
	// stream of reads, so a pending open stamped after it looked ancient and
	// was allowed unscanned. Each open must be refused.
	{
		const std::string held = models + "/held-malicious.pkl";
		int wfd = open(held.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ASSERT_GE(wfd, 0);
		std::string bytes = malicious_pickle(marker);
		ASSERT_EQ(write(wfd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
		std::atomic<bool> stop{false};
		std::atomic<long> flood_opens{0};
		std::vector<std::thread> flood;
		for (int i = 0; i < 3; i++)
			flood.emplace_back([&] {
				while (!stop) {
					int fd = open(fresh_ben.c_str(), O_RDONLY | O_CLOEXEC);
					if (fd >= 0)
						close(fd);
					flood_opens++;
				}
			});
		int let_through = 0;
		std::vector<int> pids;
		for (int i = 0; i < 8; i++) {
			run_result h = actor({"open", held}, in_cg);
			pids.push_back(h.pid);
			if (h.actor_errno() != EPERM) {
				let_through++;
				ADD_FAILURE() << "try " << i
					      << ": an unscanned model held open for writing was opened during "
					      << "a flood of opens: " << h.out;
			}
		}
		stop = true;
		for (auto &th : flood)
			th.join();
		close(wfd);
		std::printf(
			"governed opens of a held malicious model during a flood of %ld opens: %d of 8 let through\n",
			flood_opens.load(), let_through);
		// Each was refused by the waiter (no verdict can be stored while a
		// writer holds the file, so the kernel passed it on as pending).
		for (int pid : pids) {
			json h = d.wait_for(model_record(pid, "denied", held));
			ASSERT_EQ(h.kind, json::object_v) << "no denied record for pid " << pid << "\n"
							  << read_file(d.log_path());
			EXPECT_EQ(h["model"]["at_open"].s(), "failed") << dump({h});
		}
	}

	// 3. Ungoverned: answered at once, no scan, no record.
	const std::string fresh_ungov = models + "/fresh-ungoverned.pkl";
	run_result ru = actor({"copy-open", mal_src, fresh_ungov});
	EXPECT_EQ(ru.exit_code, 0) << ru.out;
	std::printf("first open of a fresh model by an ungoverned process: %lld us\n", open_us(ru));
	ASSERT_NO_FATAL_FAILURE(barrier(d, bar, in_cg));
	for (const auto &rec : d.decisions())
		EXPECT_NE(rec["process"]["pid"].i(), ru.pid) << dump({rec});

	// What the marks cost (docs/models.md): 2,000 open+close of a scanned
	// file by an ungoverned process, in a model directory (each open waits
	// for the reader's FAN_ALLOW) and outside (no mark, no event), in turns.
	const std::string outside_file = sc.outside + "/plain.pkl";
	write_file(outside_file, benign_pickle());
	auto mean_ns = [](const run_result &r) {
		auto at = r.out.find("open_ns ");
		return at == std::string::npos ? -1LL : std::stoll(r.out.substr(at + 8));
	};
	long long in_ns = 0, out_ns = 0;
	for (int round = 0; round < 3; round++) {
		run_result a = actor({"open-repeat", fresh_ben, "2000"});
		run_result b = actor({"open-repeat", outside_file, "2000"});
		ASSERT_EQ(a.exit_code, 0) << a.out;
		ASSERT_EQ(b.exit_code, 0) << b.out;
		in_ns += mean_ns(a);
		out_ns += mean_ns(b);
	}
	std::printf("ungoverned open+close, mean of 3x2000: in a model directory (marked) %lld ns, outside %lld ns\n",
		    in_ns / 3, out_ns / 3);

	// 4. ltrackd killed: the kernel refuses fresh files unscanned again.
	d.kill9();
	const std::string after = models + "/after-kill.pkl";
	auto t0 = std::chrono::steady_clock::now();
	run_result rk = actor({"copy-open", ben_src, after}, in_cg);
	auto took = std::chrono::steady_clock::now() - t0;
	EXPECT_EQ(rk.actor_errno(), EPERM) << "a fresh model opened with no waiter alive: " << rk.out;
	EXPECT_LT(took, std::chrono::seconds(20)) << "the open waited for a dead waiter";
	EXPECT_FALSE(exists(marker)) << "the malicious pickle's payload ran";
	unlink((models + "/busy4.bin").c_str());
}
