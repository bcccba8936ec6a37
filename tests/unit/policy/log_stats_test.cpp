// [log] stats_interval: the period of the decision log's "stats" records.
#include "policy.h"

#include <gtest/gtest.h>

using namespace ltrack::policy;

namespace {

uint32_t interval_of(const std::string &value)
{
	compile_result r = compile_string(
		"mode = \"audit\"\n[log]\nstats_interval = " + value + "\n[profile.a]\nall = true\n", "test.toml");
	EXPECT_TRUE(r.ok()) << format_all(r.diagnostics);
	return r.ok() ? r.policy->log.stats_interval_s : 12345;
}

TEST(StatsInterval, DurationsInSecondsMinutesHours)
{
	EXPECT_EQ(interval_of("\"60s\""), 60u);
	EXPECT_EQ(interval_of("\"5m\""), 300u);
	EXPECT_EQ(interval_of("\"1h\""), 3600u);
	EXPECT_EQ(interval_of("\"24h\""), 86400u);
	EXPECT_EQ(interval_of("15"), 15u) << "an integer is seconds";
	EXPECT_EQ(interval_of("\"0\""), 0u) << "0 = off";
	EXPECT_EQ(interval_of("0"), 0u);
}

TEST(StatsInterval, AbsentIsOff)
{
	compile_result r =
		compile_string("mode = \"audit\"\n[log]\nformat = \"json\"\n[profile.a]\nall = true\n", "t.toml");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	EXPECT_EQ(r.policy->log.stats_interval_s, 0u);
}

TEST(StatsInterval, BadValuesNameTheKeyAndPosition)
{
	for (const char *bad : {"\"60\"", "\"1d\"", "\"s\"", "\"-5s\"", "-5", "true", "\"99999999999s\""}) {
		compile_result r = compile_string(std::string("mode = \"audit\"\n[log]\nstats_interval = ") + bad +
							  "\n[profile.a]\nall = true\n",
						  "t.toml");
		EXPECT_FALSE(r.ok()) << bad;
		std::string all = format_all(r.diagnostics);
		EXPECT_NE(all.find("t.toml:3:18: error: log.stats_interval"), std::string::npos) << bad << ": " << all;
	}
}

} // namespace

// [log] journald, syslog, syslog_facility: the decision log's other outputs.
namespace {

compile_result log_policy(const std::string &log_keys)
{
	return compile_string("mode = \"audit\"\n[log]\n" + log_keys + "\n[profile.a]\nall = true\n", "t.toml");
}

TEST(LogOutputs, JournaldAndSyslogAreOffUnlessAsked)
{
	compile_result r = log_policy("format = \"json\"");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	EXPECT_FALSE(r.policy->log.journald);
	EXPECT_FALSE(r.policy->log.syslog);
	EXPECT_EQ(r.policy->log.syslog_facility, "daemon");

	r = log_policy("journald = true\nsyslog = true\nsyslog_facility = \"local3\"\noutput_path = \"-\"");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	EXPECT_TRUE(r.policy->log.journald);
	EXPECT_TRUE(r.policy->log.syslog);
	EXPECT_EQ(r.policy->log.syslog_facility, "local3");
}

TEST(LogOutputs, BadValuesNameTheKeyAndPosition)
{
	compile_result r = log_policy("journald = \"yes\"");
	EXPECT_FALSE(r.ok());
	EXPECT_NE(format_all(r.diagnostics).find("t.toml:3:12: error: log.journald"), std::string::npos)
		<< format_all(r.diagnostics);
	r = log_policy("syslog = true\nsyslog_facility = \"kern\"");
	EXPECT_FALSE(r.ok());
	EXPECT_NE(format_all(r.diagnostics).find("t.toml:4:19: error: log.syslog_facility"), std::string::npos)
		<< format_all(r.diagnostics);
	r = log_policy("journal = true");
	EXPECT_FALSE(r.ok()) << "a misspelt key is an error";
	EXPECT_NE(format_all(r.diagnostics).find("t.toml:3:1: error:"), std::string::npos) << format_all(r.diagnostics);
}

} // namespace
