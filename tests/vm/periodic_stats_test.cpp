// [log] stats_interval from the outside: ltrackd writes a "stats" record
// into the decision log every interval, and over the intervals the records
// count exactly the decisions made: per hook, action, outcome, profile, and
// the process with the denials at the top.
#include "support.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

using namespace ltrack::vmtest;

namespace {

std::vector<json> stats_records(const std::string &log)
{
	std::vector<json> out;
	// Whole lines only: ltrackd may be appending the last one as it is read
	// (a half-read stats line parsed as a record of zeros).
	std::size_t end = log.rfind('\n');
	std::istringstream in(end == std::string::npos ? std::string() : log.substr(0, end + 1));
	for (std::string line; std::getline(in, line);) {
		std::string error;
		json j = json::parse(line, &error);
		if (error.empty() && j["type"].s() == "stats")
			out.push_back(j);
	}
	return out;
}

TEST(PeriodicStats, RecordsCountTheDenialsOfEachInterval)
{
	temp_dir t;
	write_file(t / "secret", "s");
	write_file(t / "public", "p");
	ltrackd d("mode = \"enforce\"\n[log]\nstats_interval = \"2s\"\n"
		  "[profile.worker]\nexecutables = [\"" +
		  actor_path() +
		  "\"]\n"
		  "[profile.worker.file]\nrules = [ { action = \"deny\", file = \"" +
		  t / "secret" +
		  "\" },\n"
		  "  { action = \"allow\", file = \"" +
		  t / "public" + "\" } ]\n");
	ASSERT_TRUE(d.start()) << d.output();

	run_result flood = actor({"loop-open", "7", t / "secret"});
	EXPECT_NE(flood.out.find("denied=7"), std::string::npos) << flood.out;
	run_result ok = actor({"open", t / "public"});
	ASSERT_EQ(ok.exit_code, 0) << ok.out;
	ASSERT_EQ(d.wait_for(decision_for(ok.pid, "file", "allowed")).kind, json::object_v);

	// Wait until the stats records account for all 8 decisions, and then
	// for one more (empty) interval.
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
	std::vector<json> stats;
	long long decisions = 0;
	size_t settled_at = 0;
	while (std::chrono::steady_clock::now() < deadline) {
		stats = stats_records(read_file(d.log_path()));
		decisions = 0;
		for (const auto &s : stats)
			decisions += s["decisions"].i();
		if (decisions >= 8 && settled_at == 0)
			settled_at = stats.size();
		if (settled_at && stats.size() > settled_at)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(500));
	}
	ASSERT_GE(stats.size(), 2u) << read_file(d.log_path());
	long long denied = 0, file = 0, deny_action = 0, allow_action = 0, allowed = 0, worker = 0, top = 0;
	for (const auto &s : stats) {
		EXPECT_EQ(s["interval_s"].i(), 2);
		EXPECT_EQ(s["severity"].s(), "info");
		denied += s["by_outcome"]["denied"].i();
		allowed += s["by_outcome"]["allowed"].i();
		file += s["by_hook"]["file"].i();
		deny_action += s["by_action"]["deny"].i();
		allow_action += s["by_action"]["allow"].i();
		worker += s["by_profile"]["worker"].i();
		for (const auto &p : s["top_denied"].items) {
			EXPECT_EQ(p["pid"].i(), flood.pid) << "only the flood was denied";
			EXPECT_EQ(p["exe"].s(), actor_path());
			top += p["denials"].i();
		}
	}
	EXPECT_EQ(decisions, 8);
	EXPECT_EQ(denied, 7);
	EXPECT_EQ(allowed, 1);
	EXPECT_EQ(file, 8);
	EXPECT_EQ(deny_action, 7);
	EXPECT_EQ(allow_action, 1);
	EXPECT_EQ(worker, 8);
	EXPECT_EQ(top, 7);
	EXPECT_EQ(stats.back()["decisions"].i(), 0) << "an interval without decisions still has its record";
	EXPECT_EQ(stats.back()["total_decisions"].i(), 8);
	// Consecutive records are about one interval apart.
	for (size_t i = 1; i < stats.size(); i++) {
		double gap = double(stats[i]["ts_boot_ns"].num - stats[i - 1]["ts_boot_ns"].num) / 1e9;
		EXPECT_GT(gap, 1.5) << i;
		EXPECT_LT(gap, 4.0) << i;
	}
}

TEST(PeriodicStats, NoIntervalNoRecords)
{
	temp_dir t;
	write_file(t / "secret", "s");
	ltrackd d("mode = \"enforce\"\n[profile.worker]\nexecutables = [\"" + actor_path() +
		  "\"]\n"
		  "[profile.worker.file]\nrules = [ { action = \"deny\", file = \"" +
		  t / "secret" + "\" } ]\n");
	ASSERT_TRUE(d.start()) << d.output();
	run_result r = actor({"open", t / "secret"});
	ASSERT_EQ(d.wait_for(decision_for(r.pid, "file", "denied")).kind, json::object_v);
	std::this_thread::sleep_for(std::chrono::seconds(3));
	d.stop();
	EXPECT_TRUE(stats_records(read_file(d.log_path())).empty()) << read_file(d.log_path());
}

} // namespace
