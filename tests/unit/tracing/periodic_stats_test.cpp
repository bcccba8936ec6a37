// The periodic "stats" record: counts of the interval, top deniers, reset.
#include "decision_log.h"
#include "periodic_stats.h"
#include "test_records.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace ltrack::tracing;
using namespace test_records;

namespace {

decision_record allowed_open()
{
	decision_record r = file_denial();
	r.outcome = LTRACK_OUT_ALLOWED;
	r.action = LTRACK_ACT_ALLOW;
	return r;
}

TEST(PeriodicStats, CountsPerHookActionOutcomeProfileAndTopDeniers)
{
	stats_window w;
	decision_record other = file_denial();
	other.pid = 7;
	other.process.mut().exe = "/usr/bin/curl";
	for (int i = 0; i < 3; i++)
		w.add(file_denial());
	w.add(other);
	w.add(allowed_open());
	w.add(connect(LTRACK_OUT_WOULD_DENY, AF_INET, "10.1.2.3", 80));
	std::string j = w.take_json(5, "T", 60, {100, 2});
	EXPECT_EQ(
		j,
		"{\"type\":\"stats\",\"time\":\"T\",\"host\":" + ltrack::json_string(host_name()) +
			",\"ts_boot_ns\":5,\"severity\":\"info\",\"interval_s\":60,"
			"\"decisions\":6,\"denials\":5,\"by_hook\":{\"file\":5,\"net\":1},"
			"\"by_action\":{\"allow\":1,\"deny\":5},\"by_outcome\":{\"allowed\":1,\"denied\":4,\"would_deny\":1},"
			"\"by_profile\":{\"inference\":6},\"top_denied\":["
			"{\"pid\":4242,\"start_boot_ns\":100,\"exe\":\"/usr/bin/python3.11\",\"denials\":4},"
			"{\"pid\":7,\"start_boot_ns\":100,\"exe\":\"/usr/bin/curl\",\"denials\":1}],"
			"\"total_decisions\":100,\"total_ringbuf_drops\":2}");
	// The next interval starts empty.
	EXPECT_EQ(w.decisions(), 0u);
	EXPECT_NE(w.take_json(6, "T2", 60, {100, 2}).find("\"decisions\":0,\"denials\":0,\"by_hook\":{}"),
		  std::string::npos);
}

TEST(PeriodicStats, TopDeniedIsBounded)
{
	stats_window w;
	for (uint32_t pid = 1; pid <= 20; pid++) {
		decision_record r = file_denial();
		r.pid = pid;
		r.count = pid; // pid 20 denied most
		w.add(r);
	}
	std::string t = w.take_text(0, "T", 10, {});
	EXPECT_NE(t.find("top denied /usr/bin/python3.11[20]=20 /usr/bin/python3.11[19]=19"), std::string::npos) << t;
	EXPECT_NE(t.find("[11]=11"), std::string::npos) << t;
	EXPECT_EQ(t.find("[10]=10"), std::string::npos) << "only the top " << stats_window::top_max << ": " << t;
}

TEST(PeriodicStats, WrittenToTheDecisionLogWhateverTheLevel)
{
	std::string dir = ::testing::TempDir() + "/ltrack-stats-" + std::to_string(getpid());
	std::filesystem::create_directories(dir);
	log_config cfg;
	cfg.output_path = dir + "/decisions.log";
	cfg.level = severity::critical;
	auto opened = decision_log::open(cfg);
	ASSERT_TRUE(opened.ok()) << opened.failure().error;
	auto log = std::move(*opened);
	stats_window w;
	w.add(allowed_open());
	log->write_stats(w, 30, {1, 0});
	log->flush();
	std::ifstream in(cfg.output_path);
	std::stringstream ss;
	ss << in.rdbuf();
	EXPECT_NE(ss.str().find("\"type\":\"stats\""), std::string::npos) << ss.str();
	EXPECT_NE(ss.str().find("\"interval_s\":30,\"decisions\":1"), std::string::npos) << ss.str();
	std::filesystem::remove_all(dir);
}

} // namespace
