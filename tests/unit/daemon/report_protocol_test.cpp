// The report protocol parser (runtime/report_protocol.h): every message a
// governed interpreter may send, and what any other process might.
#include "report_protocol.h"

#include <gtest/gtest.h>

using namespace ltrack::report;
using namespace std::string_literals;

TEST(ReportProtocol, AcceptsEveryReportShape)
{
	auto m = parse("hello");
	ASSERT_TRUE(m);
	EXPECT_EQ(m->kind, op::hello);
	m = parse("find_class\0posix\0system"s);
	ASSERT_TRUE(m);
	EXPECT_EQ(m->kind, op::find_class);
	EXPECT_EQ(m->a, "posix");
	EXPECT_EQ(m->b, "system");
	for (auto [text, kind] : {std::pair{"exec\0<string>"s, op::exec},
				  {"compile\0<string>"s, op::compile},
				  {"subprocess\0/bin/sh -c id"s, op::subprocess},
				  {"system\0touch /tmp/x"s, op::system},
				  {"execv\0/bin/sh"s, op::execv}}) {
		m = parse(text);
		ASSERT_TRUE(m) << text;
		EXPECT_EQ(m->kind, kind);
		EXPECT_EQ(format(*m), text);
		EXPECT_FALSE(wants_reply(kind));
	}
	EXPECT_TRUE(wants_reply(op::hello));
	EXPECT_TRUE(wants_reply(op::find_class));
}

TEST(ReportProtocol, RefusesEverythingElse)
{
	for (const std::string &bad :
	     {""s, "hullo"s, "hello\0"s, "hello\0x"s, "find_class\0os"s,
	      "find_class\0os\0system\0pid\0001"s, // a claim of identity: not a field
	      "find_class\0\0system"s, "exec"s, "exec\0"s, "exec\0a\0b"s, "HELLO"s, " hello"s,
	      "exec\0"s + std::string(max_field + 1, 'a'), "find_class\0"s + std::string(max_name + 1, 'm') + "\0n"s,
	      "subprocess\0"s + std::string(max_message, 'c')}) {
		auto m = parse(bad);
		EXPECT_FALSE(m.ok()) << "accepted: " << bad;
		EXPECT_FALSE(m.ok() || m.failure().error.empty());
	}
}

TEST(ReportProtocol, FieldsAreDataWhateverTheyHold)
{
	// Bytes that are not UTF-8, newlines, quotes: carried as they are (the
	// decision log escapes them), never interpreted.
	auto m = parse("system\0echo \"x\"\n\xff\x01"s);
	ASSERT_TRUE(m);
	EXPECT_EQ(m->a, "echo \"x\"\n\xff\x01"s);
	m = parse("exec\0"s + std::string(max_field, 'a'));
	EXPECT_TRUE(m);
}
