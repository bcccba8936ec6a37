// The control socket's request reader (policyd/control_protocol.h): a line
// is complete at its LF however its bytes are paced, and never longer than
// max_bytes nor later than max_time after accept.
#include "control_protocol.h"
#include "json.h"

#include <gtest/gtest.h>

using namespace ltrack::control;
using namespace std::chrono_literals;
using st = request_reader::state;

namespace {

TEST(RequestReader, LineInOneReadIsComplete)
{
	auto t0 = request_reader::clock::now();
	request_reader r(t0);
	EXPECT_EQ(r.feed("ltrack/1\tstatus\n", t0), st::complete);
	EXPECT_EQ(r.line(), "ltrack/1\tstatus");
}

TEST(RequestReader, BytesAfterTheLineFeedAreIgnored)
{
	auto t0 = request_reader::clock::now();
	request_reader r(t0);
	EXPECT_EQ(r.feed("ltrack/1\tversion\nltrack/1\tunload\n", t0), st::complete);
	EXPECT_EQ(r.line(), "ltrack/1\tversion");
	EXPECT_EQ(r.feed("more", t0), st::complete);
	EXPECT_EQ(r.line(), "ltrack/1\tversion");
}

// A byte at a time, each well inside the deadline: still one request.
TEST(RequestReader, DrippedBytesCompleteWithinTheDeadline)
{
	auto t0 = request_reader::clock::now();
	request_reader r(t0);
	std::string req = "ltrack/1\tstats\n";
	for (std::size_t i = 0; i + 1 < req.size(); i++)
		EXPECT_EQ(r.feed(req.substr(i, 1), t0 + 100ms), st::reading) << i;
	EXPECT_EQ(r.feed("\n", t0 + 100ms), st::complete);
	EXPECT_EQ(r.line(), "ltrack/1\tstats");
}

// The deadline counts from accept, not from the last byte: a drip that
// keeps the connection busy still ends at max_time.
TEST(RequestReader, DripPastTheDeadlineTimesOut)
{
	auto t0 = request_reader::clock::now();
	request_reader r(t0);
	auto t = t0;
	st s = st::reading;
	for (int i = 0; s == st::reading && i < 100; i++) {
		t += 500ms;
		s = r.feed("x", t);
	}
	EXPECT_EQ(s, st::timed_out);
	EXPECT_LE(t - t0, request_reader::max_time + 500ms);
	// Even a final LF after it does not revive it.
	EXPECT_EQ(r.feed("\n", t), st::timed_out);
}

TEST(RequestReader, SilenceTimesOutAtTheDeadline)
{
	auto t0 = request_reader::clock::now();
	request_reader r(t0);
	EXPECT_EQ(r.check(t0 + request_reader::max_time - 1ms), st::reading);
	EXPECT_EQ(r.check(t0 + request_reader::max_time), st::timed_out);
	EXPECT_EQ(r.deadline(), t0 + request_reader::max_time);
}

TEST(RequestReader, OversizedLineIsRefused)
{
	auto t0 = request_reader::clock::now();
	request_reader r(t0);
	std::string chunk(1000, 'a');
	st s = st::reading;
	for (int i = 0; i < 5 && s == st::reading; i++)
		s = r.feed(chunk, t0);
	EXPECT_EQ(s, st::too_large);
	EXPECT_EQ(r.feed("\n", t0), st::too_large);
	// Exactly max_bytes then LF is still a request.
	request_reader ok(t0);
	EXPECT_EQ(ok.feed(std::string(request_reader::max_bytes, 'b') + "\n", t0), st::complete);
	request_reader over(t0);
	EXPECT_EQ(over.feed(std::string(request_reader::max_bytes + 1, 'b') + "\n", t0), st::too_large);
}

TEST(ParseRequest, SplitsFieldsAndChecksTheProtocol)
{
	auto f = parse_request("ltrack/1\tevents\tfollow\tjson");
	ASSERT_TRUE(f.ok()) << f.failure().error;
	EXPECT_EQ(*f, (std::vector<std::string>{"events", "follow", "json"}));
	auto old = parse_request("ltrack/0\tstatus");
	ASSERT_FALSE(old.ok());
	EXPECT_NE(old.failure().error.find("protocol mismatch"), std::string::npos) << old.failure().error;
	auto bare = parse_request("ltrack/1");
	ASSERT_FALSE(bare.ok());
	EXPECT_EQ(bare.failure().error, "empty request");
	EXPECT_FALSE(parse_request("").ok());
	EXPECT_EQ(format_request({"mode", "audit"}), "ltrack/1\tmode\taudit\n");
}

// reload's phase lines: one line each whatever the text holds (a policy
// path with a line feed cannot end one early and fake an "ok"), and the
// client tells them from the reply's first line.
TEST(Progress, OneLineEachAndToldFromTheReply)
{
	std::string line = format_progress("compile", "compiling /etc/x\nok\r.toml");
	EXPECT_EQ(line, "progress\tcompile\tcompiling /etc/x ok .toml\n");
	std::string phase, text;
	ASSERT_TRUE(parse_progress(line, phase, text));
	EXPECT_EQ(phase, "compile");
	EXPECT_EQ(text, "compiling /etc/x ok .toml");
	EXPECT_FALSE(parse_progress("ok", phase, text));
	EXPECT_FALSE(parse_progress("error", phase, text));
	EXPECT_FALSE(parse_progress("progress", phase, text));
	EXPECT_FALSE(parse_progress("progress\tfill", phase, text));
}

// The --json reports' writer: every key and string escaped, numbers as
// numbers, {"error": ...} without the daemon's trailing line feed.
TEST(JsonObject, EscapesEveryStringAndNests)
{
	std::string o = ltrack::json_object()
				.str("path", "/a\"b\n\xff")
				.boolean("ok", false)
				.num("slot", 1u)
				.num("ms", 1.5)
				.raw("checks", ltrack::json_array().add_str("x\\").add_raw("{}").text())
				.text();
	EXPECT_EQ(o, "{\"path\":\"/a\\\"b\\n\\ufffd\",\"ok\":false,\"slot\":1,\"ms\":1.500,\"checks\":[\"x\\\\\",{}]}");
	EXPECT_EQ(ltrack::json_error("rejected x:\nline 2\n"), "{\"error\":\"rejected x:\\nline 2\"}");
	EXPECT_EQ(ltrack::json_object().text(), "{}");
}

} // namespace
