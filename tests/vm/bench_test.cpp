// The benchmark's smoke run (issue 8): bench/guest.sh with tiny counts, in
// the suite's boot, so the benchmark cannot rot unnoticed. In two parts, each
// within the suite's per-test limit: ltrack's sections (real timings, the
// denied open refused with EPERM, no allowed operation failing, a reload that
// kept its decisions during the swap, kernel run-time statistics, memory, the
// decision-log flood) and the fapolicyd/AppArmor comparison. bench/report.py
// must accept each part's results.
#include "support.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace ltrack::vmtest;

namespace {

std::vector<json> parse_lines(const std::string &text)
{
	std::vector<json> out;
	std::stringstream ss(text);
	int n = 0;
	for (std::string line; std::getline(ss, line);) {
		n++;
		if (line.empty())
			continue;
		std::string err;
		json j = json::parse(line, &err);
		EXPECT_TRUE(err.empty()) << "line " << n << " is not JSON (" << err << "): " << line;
		out.push_back(j);
	}
	return out;
}

const json *find(const std::vector<json> &recs, const std::string &section, const std::string &kase)
{
	for (const auto &r : recs)
		if (r["section"].s() == section && r["case"].s() == kase)
			return &r;
	return nullptr;
}

// Runs bench/guest.sh --smoke --part PART; the results, which must hold
// SECTIONS (and bench/report.py --check must agree).
std::vector<json> smoke(const std::string &part, const std::string &sections)
{
	temp_dir dir;
	std::string out = dir / "bench.jsonl";
	run_options opt;
	opt.timeout = std::chrono::seconds(400); // a busy or 1.6x slower CI host: see slow_tests in tests/vm/run
	run_result r = run({"/bin/bash", source_dir() + "/bench/guest.sh", "--smoke", "--part", part, "--build",
			    build_dir(), "--out", out},
			   opt);
	EXPECT_EQ(r.exit_code, 0) << r.out;
	std::vector<json> recs = parse_lines(read_file(out));
	std::set<std::string> have;
	for (const auto &j : recs)
		have.insert(j["section"].s());
	std::stringstream ss(sections);
	for (std::string s; std::getline(ss, s, ',');)
		EXPECT_TRUE(have.count(s)) << "section " << s << " missing from " << read_file(out) << r.out;
	run_result check =
		run({"/usr/bin/python3", source_dir() + "/bench/report.py", out, "--check", "--sections", sections});
	EXPECT_EQ(check.exit_code, 0) << check.out;
	return recs;
}

} // namespace

TEST(BenchSmoke, FapolicydAndAppArmor)
{
	std::vector<json> recs = smoke("compare", "open,fapolicyd,apparmor");
	for (const char *tool : {"fapolicyd", "apparmor"}) {
		const json *un = find(recs, tool, "unavailable");
		EXPECT_FALSE(un) << tool << ": " << (un ? (*un)["result"]["reason"].s() : "");
		const json *allowed = find(recs, tool, "allowed");
		const json *denied = find(recs, tool, "denied");
		ASSERT_TRUE(allowed && denied) << tool;
		EXPECT_EQ((*allowed)["result"]["failed"].i(), 0) << tool;
		EXPECT_GT((*allowed)["result"]["ok"].i(), 0) << tool;
		EXPECT_EQ((*denied)["result"]["ok"].i(), 0) << tool << " let the denied file be opened";
	}
}

TEST(BenchSmoke, LtrackSections)
{
	std::vector<json> recs = smoke("ltrack", "open,exec,connect,start,reload,memory,bpf_stats,pipeline");

	for (const auto &j : recs) {
		std::string s = j["section"].s(), c = j["case"].s();
		if (s != "open" && s != "exec" && s != "connect")
			continue;
		const json &res = j["result"];
		SCOPED_TRACE(s + "/" + c + "/" + std::to_string(j["rules"].i()));
		ASSERT_FALSE(res["ns_per_op"].items.empty());
		for (const auto &x : res["ns_per_op"].items)
			EXPECT_GT(x.num, 0);
		if (c == "denied") {
			EXPECT_EQ(res["ok"].i(), 0);
			EXPECT_EQ(res["errno"].i(), 1); // EPERM: ltrack refused it
		} else {
			EXPECT_EQ(res["failed"].i(), 0) << "errno " << res["errno"].i();
		}
	}
	for (const char *c : {"none", "ungoverned", "allowed", "denied"})
		EXPECT_TRUE(find(recs, "open", c)) << "no open/" << c;

	const json *reload = find(recs, "reload", "ltrackd");
	ASSERT_TRUE(reload);
	EXPECT_EQ((*reload)["result"]["status"].i(), 0);
	EXPECT_GT((*reload)["result"]["allowed_during"]["ops"].i(), 0);
	EXPECT_EQ((*reload)["result"]["allowed_during"]["failed"].i(), 0);
	EXPECT_EQ((*reload)["result"]["denied_during"]["ok"].i(), 0);

	const json *stats = find(recs, "bpf_stats", "open-allowed");
	ASSERT_TRUE(stats);
	long long runs = 0, ns = 0;
	for (const auto &p : (*stats)["result"]["after"].items)
		if (p["name"].s() == "guard_file_open") {
			runs += p["run_cnt"].i();
			ns += p["run_time_ns"].i();
		}
	for (const auto &p : (*stats)["result"]["before"].items)
		if (p["name"].s() == "guard_file_open") {
			runs -= p["run_cnt"].i();
			ns -= p["run_time_ns"].i();
		}
	EXPECT_GE(runs, 100) << "guard_file_open did not run for each governed open";
	EXPECT_GT(ns, 0);

	const json *mem = find(recs, "memory", "ltrackd");
	ASSERT_TRUE(mem);
	EXPECT_GT((*mem)["result"]["rss_bytes"].i(), 0);
	EXPECT_FALSE((*mem)["result"]["maps"].items.empty());

	const json *flood = find(recs, "pipeline", "rate-500");
	ASSERT_TRUE(flood);
	EXPECT_GT((*flood)["result"]["worker"]["ops"].i(), 0);
	EXPECT_GT((*flood)["result"]["logged_lines"].i(), 0);
	EXPECT_GT((*flood)["result"]["stats_after"]["log"]["written"].i(), 0);
	// Distinct files: every refusal is a record of its own (nothing coalesced).
	EXPECT_EQ((*flood)["result"]["stats_after"]["decisions"].i() -
			  (*flood)["result"]["stats_before"]["decisions"].i(),
		  (*flood)["result"]["stats_after"]["records"].i() - (*flood)["result"]["stats_before"]["records"].i());
	// The backlog made while ltrackd was stopped is in the log after it continues.
	const json *drain = find(recs, "pipeline", "drain");
	ASSERT_TRUE(drain);
	EXPECT_EQ((*drain)["result"]["burst"]["failed"].i(), (*drain)["result"]["burst"]["ops"].i());
	EXPECT_EQ((*drain)["result"]["drain"]["lines"].i(), (*drain)["result"]["burst"]["ops"].i());
	EXPECT_GT((*drain)["result"]["drain"]["seconds"].num, 0);
}
