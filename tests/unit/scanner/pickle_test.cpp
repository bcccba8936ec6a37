// The walker on hand-assembled opcode streams: limits and edge cases that
// need exact bytes.
#include <gtest/gtest.h>

#include <string>

#include "scanner.h"

using namespace ltrack::scanner;
using namespace std::string_literals;

namespace {

scan_result scan_bytes(const std::string &s, const scan_limits &limits = {})
{
	return scan_buffer({reinterpret_cast<const unsigned char *>(s.data()), s.size()}, limits);
}

TEST(scanner_pickle_walker, stack_global_needs_strings)
{
	// two ints are not a module and a name
	scan_result r = scan_bytes(std::string("\x80\x04K\x01K\x02\x93.", 9));
	EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_ERROR));
	EXPECT_NE(r.error.find("STACK_GLOBAL needs two strings"), std::string::npos) << r.error;
}

TEST(scanner_pickle_walker, opcode_budget_is_enforced)
{
	std::string s = "\x80\x02";
	for (int i = 0; i < 1000; i++)
		s += "N0";
	s += "N.";
	scan_limits l;
	l.max_pickle_ops = 100;
	scan_result r = scan_bytes(s, l);
	EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_ERROR));
	EXPECT_NE(r.error.find("more than 100 pickle opcodes"), std::string::npos) << r.error;
	EXPECT_EQ(scan_bytes(s).verdict, uint32_t(LTRACK_VERDICT_SAFE));
}

TEST(scanner_pickle_walker, memo_limit_is_enforced)
{
	std::string s = "\x80\x04";
	for (int i = 0; i < 50; i++)
		s += "N\x94";
	s += ".";
	scan_limits l;
	l.max_pickle_memo = 10;
	scan_result r = scan_bytes(s, l);
	EXPECT_NE(r.error.find("memo exceeds"), std::string::npos) << r.error;
}

TEST(scanner_pickle_walker, danger_before_damage_is_still_unsafe)
{
	// os.system is imported, then the stream is cut: the loader would have
	// imported (and with REDUCE, run) it before failing.
	scan_result r = scan_bytes("\x80\x02\x63os\nsystem\nX\x02\x00\x00\x00ls\x85R"s);
	EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_UNSAFE));
	EXPECT_FALSE(r.error.empty());
}

TEST(scanner_pickle_walker, stacked_pickles_are_all_walked)
{
	std::string benign = "\x80\x02N.";
	std::string evil = "\x80\x02\x63os\nsystem\n.";
	scan_result r = scan_bytes(benign + evil);
	EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_UNSAFE));
}

TEST(scanner_pickle_walker, memo_aliasing_follows_python_semantics)
{
	// A string memoized, then the memo slot overwritten by another string:
	// GET returns the latest value.
	std::string s = "\x80\x04\x8c\x0b"
			"collections"
			"q\x00"
			"0"
			"\x8c\x02"
			"os"
			"q\x00"
			"0"
			"h\x00\x8c\x06"
			"system"
			"\x93."s;
	scan_result r = scan_bytes(s);
	EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_UNSAFE));
	ASSERT_EQ(r.imports.size(), 1u);
	EXPECT_EQ(r.imports[0].module, "os");
}

TEST(scanner_pickle_walker, self_referencing_list_is_bounded)
{
	// l = []; l.append(l) many times: no leak, no blow-up.
	std::string s = "\x80\x02]q\x00"s;
	for (int i = 0; i < 1000; i++)
		s += "h\x00"
		     "a"s;
	s += ".";
	EXPECT_EQ(scan_bytes(s).verdict, uint32_t(LTRACK_VERDICT_SAFE));
}

} // namespace

namespace {

scan_result scan_raw(const std::string &s)
{
	return scan_buffer({reinterpret_cast<const unsigned char *>(s.data()), s.size()});
}

TEST(scanner_pickle_walker, persistent_ids_end_a_plain_pickle_load)
{
	// pickle.load has no persistent_load: it raises at BINPERSID, before the
	// import after it. Unrecognised stays not safe; nothing dangerous was read.
	scan_result r = scan_raw("\x80\x02K\x01Q\x63os\nsystem\n."s);
	EXPECT_NE(r.verdict, uint32_t(LTRACK_VERDICT_SAFE));
	for (auto &i : r.imports)
		EXPECT_NE(i.module, "os");
}

TEST(scanner_pickle_walker, frames_as_each_unpickler_reads_them)
{
	// a FRAME longer than the data: the C unpickler raises at once, joblib's
	// pickle._Unpickler reads what is there and runs it
	scan_result r = scan_raw("\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00"
				 "cposix\nsystem\n(S'id'\ntR."s);
	EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_UNSAFE)) << r.error;
	// an opcode crossing a frame's end: pickle._Unpickler raises, the C
	// unpickler reads on; the import after the crossing is still found
	scan_result c = scan_raw("\x80\x04\x95\x04\x00\x00\x00\x00\x00\x00\x00"
				 "N\x8c\x02os\x8c\x06system\x93."s);
	EXPECT_EQ(c.verdict, uint32_t(LTRACK_VERDICT_UNSAFE)) << c.error;
}

TEST(scanner_pickle_walker, stack_global_of_an_unresolved_value_is_not_safe)
{
	// builtins.str(...) returns a str the walker does not compute
	scan_result r = scan_raw("\x80\x04\x8c\x08"
				 "builtins\x8c\x03"
				 "str\x93\x8c\x02"
				 "os\x85R\x8c\x06"
				 "system\x93."s);
	EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_ERROR));
	EXPECT_NE(r.error.find("cannot resolve"), std::string::npos) << r.error;
}

TEST(scanner_pickle_walker, memo_keys_read_as_int_does)
{
	// "p" + a line int() rejects: the loader raises before importing
	// anything, as for any non-pickle; the bytes are plain text (issue 20)
	EXPECT_EQ(scan_raw("pickle\n.").fmt, format::text);
	EXPECT_EQ(scan_raw("pickle\n.").verdict, uint32_t(LTRACK_VERDICT_SAFE));
	EXPECT_EQ(scan_raw("pickle\n.").error.find("memo key"), std::string::npos);
	// underscores: int() accepts them, the walker does not follow: not safe
	scan_result r = scan_raw("Np1_0\n."); // pickle.loads returns None
	EXPECT_NE(r.verdict, uint32_t(LTRACK_VERDICT_SAFE)) << r.error;
}

} // namespace

namespace {

const import_ref *first_import(const scan_result &r, const std::string &module)
{
	for (auto &i : r.imports)
		if (i.module == module)
			return &i;
	return nullptr;
}

} // namespace

TEST(scanner_pickle_walker, python2_names_are_classified_as_the_loader_resolves_them)
{
	// No PROTO (0) and protocol 2: find_class maps cStringIO to io
	// (fix_imports, the default), after the audit event.
	for (std::string s : {"ccStringIO\nStringIO\n)R."s, "\x80\x02\x63\x63StringIO\nStringIO\n)R."s}) {
		scan_result r = scan_raw(s);
		EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_UNSAFE)) << s;
		const import_ref *i = first_import(r, "cStringIO");
		ASSERT_TRUE(i);
		EXPECT_EQ(i->kind, import_ref::kind::dangerous);
		EXPECT_EQ(i->loads_as, "io.StringIO");
		ASSERT_FALSE(r.deciding.empty());
		EXPECT_NE(r.deciding[0].find("the loader resolves io.StringIO"), std::string::npos) << r.deciding[0];
	}
	EXPECT_EQ(scan_raw("\x80\x02\x63__builtin__\neval\n(V1\ntR."s).verdict, uint32_t(LTRACK_VERDICT_UNSAFE));
	EXPECT_EQ(scan_raw("\x80\x02\x63__builtin__\nintern\n(V1\ntR."s).verdict, uint32_t(LTRACK_VERDICT_UNSAFE));
	// Protocol 3 and up: no mapping (the loader raises: no module cStringIO).
	// Not safe (unknown), but not the Python 2 reading either.
	scan_result r4 = scan_raw("\x80\x04\x63\x63StringIO\nStringIO\n)R."s);
	EXPECT_NE(r4.verdict, uint32_t(LTRACK_VERDICT_SAFE));
	EXPECT_NE(r4.verdict, uint32_t(LTRACK_VERDICT_UNSAFE));
	const import_ref *i4 = first_import(r4, "cStringIO");
	ASSERT_TRUE(i4);
	EXPECT_EQ(i4->kind, import_ref::kind::unknown);
	EXPECT_TRUE(i4->loads_as.empty());
	// The loader's protocol is the last PROTO read: 4 then 2 maps again.
	EXPECT_EQ(scan_raw("\x80\x04\x80\x02\x63\x63StringIO\nStringIO\n)R."s).verdict,
		  uint32_t(LTRACK_VERDICT_UNSAFE));
	// __builtin__.eval is on the deny list as written, whatever the protocol.
	EXPECT_EQ(scan_raw("\x80\x04\x63__builtin__\neval\n(V1\ntR."s).verdict, uint32_t(LTRACK_VERDICT_UNSAFE));
}
