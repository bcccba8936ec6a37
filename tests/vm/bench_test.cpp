// The benchmark's smoke run (issue 8): bench/guest.sh with tiny counts, in
// the suite's boot, so the benchmark cannot rot unnoticed. It must produce
// every section of the report, with real timings, the denied open refused
// with EPERM, no allowed operation failing, reloads that kept their decisions
// during the swap, and kernel run-time statistics for ltrack's programs; and
// bench/report.py must accept the results.
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

} // namespace

TEST(BenchSmoke, EverySectionWithRealNumbers)
{
	temp_dir dir;
	std::string out = dir / "bench.jsonl";
	run_options opt;
	opt.timeout = std::chrono::seconds(105);
	run_result r = run({"/bin/bash", source_dir() + "/bench/guest.sh", "--smoke", "--build", build_dir(), "--out", out},
			   opt);
	ASSERT_EQ(r.exit_code, 0) << r.out;

	std::vector<json> recs = parse_lines(read_file(out));
	std::set<std::string> sections;
	for (const auto &j : recs)
		sections.insert(j["section"].s());
	for (const char *s : {"open", "exec", "connect", "start", "reload", "memory", "bpf_stats", "pipeline",
			      "fapolicyd", "apparmor"})
		EXPECT_TRUE(sections.count(s)) << "section " << s << " missing from " << read_file(out);

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

	// The report generator reads the same results (and checks them its own way).
	run_result check = run({"/usr/bin/python3", source_dir() + "/bench/report.py", out, "--check"});
	EXPECT_EQ(check.exit_code, 0) << check.out;
}
