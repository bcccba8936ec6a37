// The explainer and the kernel decide models with the same code
// (lsm/model_decision.h); this proves they agree from the outside, over a
// matrix, in one daemon start:
//   verdicts   safe, suspicious, unsafe, error (as the real scanner finds
//              them) and unscanned (a safe file a writer holds open: the
//              kernel voids the verdict)
//   profiles   allow = "safe", "safe" with deny_suspicious = false,
//              "unscanned", "any", each in enforce and in audit mode
//   locations  under the model directory (by directory only), outside it
//              with a model extension (by name only), outside with neither,
//              and in an exclude directory inside the model directory
//              (with the extension).
// One inode per verdict, hard-linked into every location, so each file's
// verdict is the one its scan in the model directory found. For each cell,
// `ltrackctl check --explain-profile ... --json` says what should happen and
// a real governed process (the actor, in the profile's cgroup) opens the
// file: its errno and the decision record (hook, outcome, action, rule,
// verdict), or the absence of one, must be what the explanation says.
#include "support.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

using namespace ltrack::vmtest;

namespace {

const std::vector<std::string> verdicts = {"safe", "suspicious", "unsafe", "error", "unscanned"};

struct profile_spec {
	std::string name, allow, mode;
	bool deny_suspicious;
};

const std::vector<profile_spec> profiles = {
	{"safe-enforce", "safe", "enforce", true},
	{"safe-audit", "safe", "audit", true},
	{"lenient-enforce", "safe", "enforce", false},
	{"lenient-audit", "safe", "audit", false},
	{"unscanned-enforce", "unscanned", "enforce", true},
	{"unscanned-audit", "unscanned", "audit", true},
	{"any-enforce", "any", "enforce", true},
	{"any-audit", "any", "audit", true},
};

// pickle.dumps of an instance of mymodule.MyClass (neither list knows
// mymodule: suspicious), and a pickle that ends without STOP (error).
const char suspicious_bytes[] = "\x80\x02"
				"cmymodule\nMyClass\nq\x00)\x81q\x01.";
const char truncated_bytes[] = "\x80\x02}q\x00(X\x04\x00\x00\x00"
			       "nameq\x01X\x06\x00\x00\x00"
			       "benign";
const std::string suspicious_pickle(suspicious_bytes, sizeof(suspicious_bytes) - 1);
const std::string truncated_pickle(truncated_bytes, sizeof(truncated_bytes) - 1);

std::vector<json> json_lines(const std::string &out)
{
	std::vector<json> v;
	std::istringstream in(out);
	for (std::string line; std::getline(in, line);)
		if (line.rfind("{", 0) == 0)
			v.push_back(json::parse(line));
	return v;
}

// The guard's programs as the kernel verified them (bpftool, the host's,
// over 9p): their size, for the record of what a change costs.
void print_program_sizes()
{
	run_result r = run({"/usr/sbin/bpftool", "prog", "show", "--json"});
	if (r.exit_code != 0) {
		std::cout << "bpftool prog show: not available (" << r.exit_code << ")\n";
		return;
	}
	json all = json::parse(r.out);
	for (const auto &p : all.items) {
		std::string n = p["name"].s();
		if (n.rfind("guard_file_open", 0) == 0 || n.rfind("guard_path_", 0) == 0)
			std::cout << "program " << n << ": xlated " << p["bytes_xlated"].i() / 8 << " insns, jited "
				  << p["bytes_jited"].i() << " bytes\n";
	}
}

} // namespace

TEST(ModelDecision, ExplainAgreesWithTheKernelOverVerdictsModesAndLocations)
{
	temp_dir t;
	const std::string models = t / "models", site = models + "/site", outside = t / "outside", bar = t / "barrier",
			  marker = t / "payload-ran";
	for (const auto &d : {models, site, outside})
		ASSERT_EQ(mkdir(d.c_str(), 0755), 0) << d << ": " << std::strerror(errno);
	write_file(bar, "b");

	// One inode per verdict, named in every location.
	const std::map<std::string, std::string> content = {{"safe", benign_pickle()},
							    {"suspicious", suspicious_pickle},
							    {"unsafe", malicious_pickle(marker)},
							    {"error", truncated_pickle},
							    {"unscanned", benign_pickle()}};
	const std::vector<std::string> locations = {"dir", "name", "outside", "excluded"};
	auto path_of = [&](const std::string &verdict, const std::string &location) {
		if (location == "dir")
			return models + "/" + verdict + ".bin";
		if (location == "name")
			return outside + "/" + verdict + ".pkl";
		if (location == "outside")
			return outside + "/" + verdict + ".dat";
		return site + "/" + verdict + ".pkl";
	};
	std::vector<std::string> paths;
	for (const auto &v : verdicts) {
		write_file(path_of(v, "dir"), content.at(v));
		for (const auto &l : locations) {
			if (l != "dir") {
				ASSERT_EQ(::link(path_of(v, "dir").c_str(), path_of(v, l).c_str()), 0)
					<< std::strerror(errno);
			}
			paths.push_back(path_of(v, l));
		}
	}
	// A writer holds the unscanned one open (from before ltrackd scans): no
	// safe verdict holds while it does.
	int writer = open(path_of("unscanned", "dir").c_str(), O_WRONLY | O_CLOEXEC);
	ASSERT_GE(writer, 0) << std::strerror(errno);
	std::unique_ptr<int, void (*)(int *)> close_writer(&writer, [](int *fd) { close(*fd); });

	std::vector<std::unique_ptr<test_cgroup>> cgroups;
	std::string pol = "mode = \"enforce\"\n";
	for (const auto &p : profiles) {
		cgroups.push_back(std::make_unique<test_cgroup>(p.name));
		pol += "[profile." + p.name + "]\ncgroups = [\"" + cgroups.back()->path + "\"]\nmode = \"" + p.mode +
		       "\"\n[profile." + p.name +
		       ".file]\ndefault = \"allow\"\nrules = [ { action = \"deny\", file = \"" + bar +
		       "\" } ]\n[profile." + p.name + ".model]\ndirectories = [\"" + models +
		       "\"]\nextensions = [\".pkl\"]\nexclude = [\"" + site + "\"]\nallow = \"" + p.allow +
		       "\"\ndeny_suspicious = " + (p.deny_suspicious ? "true" : "false") + "\n";
	}
	auto t0 = std::chrono::steady_clock::now();
	auto phase = [&](const char *what) {
		std::cout << what << " at "
			  << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
	};
	ltrackd d(pol);
	ASSERT_TRUE(d.start()) << d.output();
	phase("ltrackd ready");
	run_options in_safe;
	in_safe.cgroup = cgroups[0]->path;
	// The watcher has scanned the model directory once the safe file opens
	// under allow = "safe" (the start-up scan normally finishes first).
	run_result ready;
	for (int i = 0; i < 100; i++) {
		ready = actor({"open", path_of("safe", "dir")}, in_safe);
		if (ready.exit_code == 0)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	}
	ASSERT_EQ(ready.exit_code, 0) << "the safe model never opened\n" << d.output();

	// Each profile: every explanation in one ltrackctl run (each path under
	// each verdict, only the file's own verdict is used), every open in one
	// actor.
	struct cell {
		std::string profile, verdict, location, path;
		json ex;
		int err = -1;
		int pid = 0;
	};
	phase("models scanned");
	std::vector<cell> cells;
	for (std::size_t pi = 0; pi < profiles.size(); pi++) {
		const profile_spec &p = profiles[pi];
		std::vector<std::string> argv{"check", d.policy_path(), "--explain-profile",
					      p.name,  "--json",        "--path"};
		argv.insert(argv.end(), paths.begin(), paths.end());
		argv.push_back("--verdict");
		argv.insert(argv.end(), verdicts.begin(), verdicts.end());
		std::vector<std::string> full{ltrackctl_path()};
		full.insert(full.end(), argv.begin(), argv.end());
		run_result ex = run(full);
		ASSERT_EQ(ex.exit_code, 0) << ex.out;
		std::vector<json> exs = json_lines(ex.out);
		ASSERT_EQ(exs.size(), paths.size() * verdicts.size()) << ex.out;

		run_options in_cg;
		in_cg.cgroup = cgroups[pi]->path;
		std::vector<std::string> opens{"open-each"};
		opens.insert(opens.end(), paths.begin(), paths.end());
		run_result got = actor(opens, in_cg);
		ASSERT_EQ(got.exit_code, 0) << got.out;
		std::map<std::string, int> err;
		std::istringstream in(got.out);
		for (std::string line; std::getline(in, line);) {
			std::size_t sp = line.find(' ');
			if (sp != std::string::npos)
				err[line.substr(sp + 1)] = std::atoi(line.substr(0, sp).c_str());
		}
		for (std::size_t vi = 0; vi < verdicts.size(); vi++)
			for (std::size_t li = 0; li < locations.size(); li++) {
				cell c;
				c.profile = p.name;
				c.verdict = verdicts[vi];
				c.location = locations[li];
				c.path = path_of(verdicts[vi], locations[li]);
				std::size_t at = std::find(paths.begin(), paths.end(), c.path) - paths.begin();
				c.ex = exs[at * verdicts.size() + vi];
				ASSERT_TRUE(err.count(c.path)) << got.out;
				c.err = err[c.path];
				c.pid = got.pid;
				cells.push_back(c);
			}
	}

	phase("matrix explained and opened");
	// What each explanation says the kernel records. Opens of one inode
	// under one decision are coalesced into one record (hard links: its
	// first path, `count` = how many), so the records are compared per
	// actor and inode: the decisions and how often each was made.
	auto ino_of = [](const std::string &path) {
		struct stat st {};
		stat(path.c_str(), &st);
		return static_cast<long long>(st.st_ino);
	};
	using decision = std::string; // hook outcome action rule verdict
	auto key = [](const json &hook, const json &outcome, const json &action, long long rule, const std::string &v) {
		return hook.s() + " " + outcome.s() + " " + action.s() + " rule " + std::to_string(rule) + " " +
		       (hook.s() == "model" ? v : std::string("-"));
	};
	std::map<std::pair<int, long long>, std::map<decision, long long>> want;
	std::map<std::string, int> tally;
	for (const cell &c : cells) {
		std::string where = c.profile + " / " + c.verdict + " / " + c.location + " (" + c.path + ")";
		const json &ex = c.ex;
		std::string outcome = ex["outcome"].s();
		tally[ex["hook"].s() + " " + outcome]++;
		int want_err = outcome == "denied" || outcome == "killed" ? EPERM : 0;
		EXPECT_EQ(c.err, want_err)
			<< where << ": explain says " << outcome << ", the kernel gave errno " << c.err;
		// An implicit allow is not recorded.
		if (outcome != "allowed")
			want[{c.pid, ino_of(c.path)}]
			    [key(ex["hook"], ex["outcome"], ex["action"], ex["rule_id"].i(), c.verdict)]++;
	}

	// The barrier: every record made before its is in the log once its is;
	// the last counts come with ltrackd's once-a-second flush.
	run_result b = actor({"open", bar}, in_safe);
	ASSERT_EQ(b.actor_errno(), EPERM) << b.out;
	ASSERT_EQ(d.wait_for(decision_for(b.pid, "file", "denied")).kind, json::object_v) << read_file(d.log_path());
	std::set<int> actors;
	for (const cell &c : cells)
		actors.insert(c.pid);
	std::map<std::pair<int, long long>, std::map<decision, long long>> got;
	for (int i = 0; i < 50; i++) {
		got.clear();
		for (const auto &r : d.decisions()) {
			int pid = int(r["process"]["pid"].i());
			if (actors.count(pid))
				got[{pid, r["file"]["ino"].i()}][key(r["hook"], r["outcome"], r["action"],
								     r["rule"]["id"].i(), r["model"]["verdict"].s())] +=
					r["count"].i();
		}
		if (got == want)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	}
	phase("records compared");
	auto show = [](const std::map<std::pair<int, long long>, std::map<decision, long long>> &m) {
		std::string s;
		for (const auto &[k, ds] : m)
			for (const auto &[dk, n] : ds)
				s += "  pid " + std::to_string(k.first) + " ino " + std::to_string(k.second) + ": " +
				     dk + " x" + std::to_string(n) + "\n";
		return s;
	};
	EXPECT_EQ(got, want) << "explained:\n" << show(want) << "recorded:\n" << show(got);

	// The matrix is no tautology: each kind of outcome occurs, and a few
	// cells are what the policy language promises whatever both say.
	std::string seen;
	for (const auto &[k, n] : tally)
		seen += k + ": " + std::to_string(n) + "\n";
	std::cout << "cells by explained hook and outcome:\n" << seen;
	for (const char *k : {"model denied", "model would_deny", "model audited", "file allowed"})
		EXPECT_GT(tally[k], 0) << k << "\n" << seen;
	auto find = [&](const std::string &p, const std::string &v, const std::string &l) -> const cell & {
		for (const cell &c : cells)
			if (c.profile == p && c.verdict == v && c.location == l)
				return c;
		static const cell none;
		return none;
	};
	EXPECT_EQ(find("safe-enforce", "unsafe", "outside").err, EPERM) << "an unsafe file under any name";
	EXPECT_EQ(find("safe-enforce", "unsafe", "excluded").err, EPERM) << "an unsafe file in an exclude dir";
	EXPECT_EQ(find("safe-enforce", "safe", "dir").err, 0);
	EXPECT_EQ(find("safe-enforce", "unscanned", "name").err, EPERM);
	EXPECT_EQ(find("safe-enforce", "unscanned", "excluded").err, 0) << "excluded: not a model file";
	EXPECT_EQ(find("lenient-enforce", "suspicious", "dir").err, 0) << "deny_suspicious = false";
	EXPECT_EQ(find("unscanned-enforce", "unscanned", "dir").err, 0);
	EXPECT_EQ(find("unscanned-enforce", "error", "dir").err, EPERM);
	EXPECT_EQ(find("any-enforce", "unsafe", "dir").err, 0);
	EXPECT_EQ(find("safe-audit", "unsafe", "dir").err, 0);
	struct stat st {};
	EXPECT_NE(stat(marker.c_str(), &st), 0) << "nothing loads the malicious pickle here";

	print_program_sizes();
}
