// json_unescape: the one JSON string reader (the decision log read back, a
// record's fields for journald) reads back whatever json_escape writes, and
// refuses what format_json never writes.
#include "escape.h"

#include <gtest/gtest.h>

#include <string>

namespace {

std::string read(std::string_view json, const char **error = nullptr)
{
	size_t i = 0;
	std::string out;
	const char *e = ltrack::json_unescape(json, i, out);
	if (error)
		*error = e;
	return e ? "<" + std::string(e) + ">" : out;
}

TEST(JsonUnescape, ReadsBackWhatJsonEscapeWrites)
{
	for (std::string s : {std::string(), std::string("plain"), std::string("a\"b\\c/d\n\t\r\b\f"),
			      std::string("\xe2\x80\xa8 \xf0\x9f\x98\x80 caf\xc3\xa9"), std::string("\0\x1f\x7f", 3)}) {
		std::string json = ltrack::json_string(s);
		size_t i = 0;
		std::string out;
		EXPECT_EQ(ltrack::json_unescape(json, i, out), nullptr) << json;
		EXPECT_EQ(i, json.size());
		EXPECT_EQ(out, s);
	}
	// Invalid UTF-8 is written as U+FFFD, and read back as it.
	EXPECT_EQ(read(ltrack::json_string("a\xff\xc0z")), "a\xef\xbf\xbd\xef\xbf\xbdz");
	EXPECT_EQ(read(R"("\ud83d\ude00\u00e9\/")"), "\xf0\x9f\x98\x80\xc3\xa9/");
}

TEST(JsonUnescape, RefusesWhatFormatJsonNeverWrites)
{
	const char *e = nullptr;
	read("\"abc", &e);
	EXPECT_STREQ(e, "the line ends inside a string (truncated?)");
	read("\"a\nb\"", &e);
	EXPECT_STREQ(e, "a control byte inside a string");
	read(R"("\ud800")", &e);
	EXPECT_STREQ(e, "a lone UTF-16 surrogate");
	read(R"("\udc00")", &e);
	EXPECT_STREQ(e, "a lone UTF-16 surrogate");
	read(R"("\u12")", &e);
	EXPECT_STREQ(e, "a \\u escape is cut short");
	read(R"("\u12zz")", &e);
	EXPECT_STREQ(e, "a \\u escape is not 4 hex digits");
	read(R"("\x41")", &e);
	EXPECT_STREQ(e, "an unknown escape in a string");
	read("abc", &e);
	EXPECT_STREQ(e, "expected a string");
}

} // namespace
