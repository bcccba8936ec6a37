// ltrackctl run's summary and exit status, from decision records built as the
// daemon builds them.
#include "run_summary.h"
#include "test_records.h"

#include <gtest/gtest.h>

using namespace ltrack::tracing;
using namespace test_records;

namespace {

run_end exited(int code, const char *mode = "enforce")
{
	run_end e;
	e.command = {"python3", "load.py", "model.pt"};
	e.profile = "model-trial";
	e.policy = "built-in model-trial policy";
	e.mode = mode;
	e.exit_code = code;
	e.seconds = 1.25;
	return e;
}

decision_record allowed_with_rule()
{
	decision_record r = file_denial();
	r.outcome = LTRACK_OUT_ALLOWED;
	r.action = LTRACK_ACT_ALLOW;
	r.level = severity::info;
	return r;
}

decision_record audited()
{
	decision_record r = file_denial();
	r.outcome = LTRACK_OUT_AUDITED;
	r.action = LTRACK_ACT_AUDIT;
	r.level = severity::warn;
	return r;
}

} // namespace

TEST(RunSummary, NoDecisionsAndExitZeroIsClean)
{
	run_summary s;
	EXPECT_EQ(s.exit_status(exited(0)), run_exit_clean);
	EXPECT_EQ(s.highest_severity(), -1);
	EXPECT_NE(s.text(exited(0)).find("highest severity none"), std::string::npos);
	EXPECT_NE(s.json(exited(0)).find("\"highest_severity\":null"), std::string::npos);
}

TEST(RunSummary, AllowsAndAuditMatchesAreNotViolations)
{
	run_summary s;
	s.add(allowed_with_rule());
	s.add(audited());
	EXPECT_EQ(s.decisions(), 2u);
	EXPECT_EQ(s.violations(), 0u);
	EXPECT_EQ(s.highest_severity(), int(severity::warn));
	EXPECT_EQ(s.exit_status(exited(0)), run_exit_clean);
	EXPECT_EQ(s.exit_status(exited(5)), run_exit_command_failed);
	run_end sig = exited(0);
	sig.signal = 9;
	EXPECT_EQ(s.exit_status(sig), run_exit_command_failed);
}

TEST(RunSummary, DenialsDecideTheExitStatusWhateverTheCommandDid)
{
	run_summary s;
	s.add(file_denial());
	EXPECT_TRUE(ltrack::abi::is_denial(file_denial().outcome));
	EXPECT_EQ(s.violations(), 1u);
	EXPECT_EQ(s.highest_severity(), int(severity::critical));
	EXPECT_EQ(s.exit_status(exited(0)), run_exit_violation);
	EXPECT_EQ(s.exit_status(exited(1)), run_exit_violation);
	run_end killed = exited(0);
	killed.signal = 9;
	killed.killed_on_violation = true;
	EXPECT_EQ(s.exit_status(killed), run_exit_killed);
}

TEST(RunSummary, WouldBeDenialsInAuditModeAreViolations)
{
	run_summary s;
	decision_record r = model_refusal();
	ASSERT_EQ(r.outcome, LTRACK_OUT_WOULD_DENY);
	s.add(r);
	EXPECT_EQ(s.exit_status(exited(0, "audit")), run_exit_violation);
	std::string text = s.text(exited(0, "audit"));
	EXPECT_NE(text.find("would be refused in enforce mode:"), std::string::npos) << text;
	EXPECT_NE(text.find("model /models/evil.pkl (unsafe: os.system, builtins.eval)"), std::string::npos) << text;
	EXPECT_NE(text.find("rule /etc/ltrack/policy.toml:50"), std::string::npos) << text;
	std::string json = s.json(exited(0, "audit"));
	EXPECT_NE(json.find("\"verdict\":\"unsafe\",\"imports\":[\"os.system\",\"builtins.eval\"]"), std::string::npos)
		<< json;
	EXPECT_NE(json.find("\"result\":\"violation\",\"exit_status\":3}"), std::string::npos) << json;
}

TEST(RunSummary, CountsByHookActionAndOutcomeAndFoldsRepeatedObjects)
{
	run_summary s;
	for (int i = 0; i < 3; i++)
		s.add(connect(LTRACK_OUT_DENIED, AF_INET, "10.1.2.3", 80));
	s.add(connect(LTRACK_OUT_DENIED, AF_INET, "10.1.2.4", 80));
	s.add(file_denial());
	std::string json = s.json(exited(0));
	EXPECT_NE(json.find("{\"hook\":\"net\",\"action\":\"deny\",\"outcome\":\"denied\",\"count\":4}"),
		  std::string::npos)
		<< json;
	EXPECT_NE(json.find("\"object\":\"10.1.2.3:80/tcp\",\"outcome\":\"denied\",\"exe\":\"/usr/bin/python3.11\","
			    "\"pid\":4242,\"rule\":\"/etc/ltrack/policy.toml:41\""),
		  std::string::npos)
		<< json;
	EXPECT_NE(json.find("\"count\":3}"), std::string::npos) << json;
	std::string text = s.text(exited(0));
	EXPECT_NE(text.find("net 10.1.2.3:80/tcp by /usr/bin/python3.11[4242] rule /etc/ltrack/policy.toml:41 x3"),
		  std::string::npos)
		<< text;
	EXPECT_NE(text.find("file /etc/shadow by"), std::string::npos) << text;
	EXPECT_NE(text.find("5 violations"), std::string::npos) << text;
}

TEST(RunSummary, ListsAtMostMaxListedObjectsAndCountsTheRest)
{
	run_summary s;
	for (std::size_t i = 0; i < run_summary::max_listed + 5; i++)
		s.add(connect(LTRACK_OUT_DENIED, AF_INET,
			      ("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250)).c_str(), 80));
	EXPECT_EQ(s.violations(), run_summary::max_listed + 5);
	EXPECT_NE(s.text(exited(0)).find("... and 5 more"), std::string::npos);
	EXPECT_NE(s.json(exited(0)).find("\"refused_unlisted\":5"), std::string::npos);
}

TEST(RunSummary, ACommandThatNeverStartedIsAnError)
{
	run_summary s;
	run_end e = exited(-1);
	e.exec_failed = true;
	e.exec_error = "cannot execute nosuch: No such file or directory";
	EXPECT_EQ(s.exit_status(e), run_exit_error);
	EXPECT_NE(s.text(e).find("did not start: cannot execute nosuch"), std::string::npos);
	EXPECT_NE(s.json(e).find("\"exec_error\":"), std::string::npos);
}

// Dropped records: the summary is not all the command did, so the run never
// reports itself clean (nor as a mere violation).
TEST(RunSummary, DroppedRecordsMakeTheRunIncompleteNeverClean)
{
	run_summary s;
	run_end e = exited(0);
	e.records_dropped = 12;
	EXPECT_EQ(s.exit_status(e), run_exit_incomplete);
	EXPECT_NE(s.text(e).find("INCOMPLETE: 12 decision records were dropped"), std::string::npos) << s.text(e);
	EXPECT_NE(s.json(e).find("\"records_dropped\":12"), std::string::npos);
	EXPECT_NE(s.json(e).find("\"result\":\"incomplete\",\"exit_status\":5"), std::string::npos) << s.json(e);
	s.add(file_denial());
	EXPECT_EQ(s.exit_status(e), run_exit_incomplete);
	EXPECT_NE(s.text(e).find("it includes violations"), std::string::npos);
}
