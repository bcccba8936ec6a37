// Issue 20: what model folders and Python installations hold besides
// weights is data (JSON, text, SentencePiece) and stays safe; a site .pth
// file's import lines are code; and none of these recognisers can make a
// pickle polyglot safe (the pickle walk from byte 0 still decides).
#include <gtest/gtest.h>

#include <string>

#include "corpus_fixture.h"
#include "tar_reader.h"
#include "text_formats.h"

namespace {

std::string show(const scan_result &r)
{
	std::string s = std::string(format_name(r.fmt)) + " " + std::string(verdict_name(r.verdict));
	for (auto &d : r.deciding)
		s += " [" + d + "]";
	return s + " error={" + r.error + "}";
}

scan_result scan_text(const std::string &s, std::string_view name = {})
{
	return scan_buffer({reinterpret_cast<const unsigned char *>(s.data()), s.size()}, {}, name);
}

TEST_F(scanner_corpus, hugging_face_folder_is_data)
{
	struct {
		const char *file;
		format fmt;
	} files[] = {
		{"config.json", format::json},
		{"generation_config.json", format::json},
		{"tokenizer.json", format::json},
		{"tokenizer_config.json", format::json},
		{"special_tokens_map.json", format::json},
		{"vocab.json", format::json},
		{"model.safetensors.index.json", format::json},
		{"merges.txt", format::text},
		{"vocab.txt", format::text},
		{"README.md", format::text}, // its code sample has "import torch" lines: not a .pth
		{"tokenizer.model", format::sentencepiece},
		{"model.safetensors", format::safetensors},
		{"pytorch_model.bin", format::pytorch_zip},
	};
	for (auto &f : files) {
		SCOPED_TRACE(f.file);
		if (!have(std::string("hf/") + f.file))
			GTEST_SKIP() << "torch is not installed for /usr/bin/python3";
		scan_result r = scan(std::string("hf/") + f.file);
		EXPECT_EQ(r.fmt, f.fmt) << show(r);
		EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_SAFE)) << show(r);
	}
}

TEST(data_files, site_pth_import_lines_are_code)
{
	scan_result paths = scan_text("# a comment\n/opt/lib/extra\n\nrelative/dir\n", "extra.pth");
	EXPECT_EQ(paths.fmt, format::python_pth);
	EXPECT_EQ(paths.verdict, uint32_t(LTRACK_VERDICT_SAFE));

	// Python's own (setuptools' distutils-precedence.pth, verbatim).
	scan_result own =
		scan_text("import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == "
			  "'local'; enabled and __import__('_distutils_hack').add_shim(); \n",
			  "distutils-precedence.pth");
	EXPECT_EQ(own.fmt, format::python_pth);
	EXPECT_EQ(own.verdict, uint32_t(LTRACK_VERDICT_UNSAFE));
	ASSERT_EQ(own.deciding.size(), 1u);
	EXPECT_NE(own.deciding[0].find("line 1 runs at every interpreter start: import os;"), std::string::npos);

	// Universal newlines: a lone CR ends a line for site.py; a tab after
	// import counts; leading space or another word does not.
	scan_result cr = scan_text("/opt/x\rimport\tos\r\n importnot\nimportlib\n", "a.PTH");
	ASSERT_EQ(cr.deciding.size(), 1u) << show(cr);
	EXPECT_NE(cr.deciding[0].find("line 2 "), std::string::npos) << cr.deciding[0];

	// The same bytes under another name are text.
	// ("import os\n" alone is INST "mport os" with the name "" to joblib's
	// pure-Python unpickler, which imports "mport os": a pickle import.)
	EXPECT_EQ(scan_text("# notes\nimport os\n", "notes.txt").verdict, uint32_t(LTRACK_VERDICT_SAFE));
	EXPECT_EQ(scan_text("# notes\nimport os\n").fmt, format::text);
	scan_result inst = scan_text("import os\n", "notes.txt");
	EXPECT_EQ(inst.verdict, uint32_t(LTRACK_VERDICT_ERROR)) << show(inst); // pickle.load: truncated
}

TEST(data_files, text_and_json_never_make_a_pickle_safe)
{
	// Protocol 0 pickles are text: the walk from byte 0 still decides.
	scan_result evil = scan_text("cposix\nsystem\n(S'touch /tmp/x'\ntR.");
	EXPECT_EQ(evil.fmt, format::pickle); // it reads as one: a pickle first
	EXPECT_EQ(evil.verdict, uint32_t(LTRACK_VERDICT_UNSAFE)) << show(evil);
	scan_result unknown = scan_text("csklearn.tree\nDecisionTreeClassifier\n)R.");
	EXPECT_EQ(unknown.verdict, uint32_t(LTRACK_VERDICT_SUSPICIOUS)) << show(unknown);
	// A site .pth that is also a pickle: both findings are reported.
	scan_result both = scan_text("cposix\nsystem\n(S'id'\ntR.\nimport os\n", "x.pth");
	EXPECT_EQ(both.verdict, uint32_t(LTRACK_VERDICT_UNSAFE));
	EXPECT_TRUE(deciding_has(both, "posix.system")) << show(both);
	EXPECT_TRUE(deciding_has(both, "line 5 ")) << show(both);
	// Text that starts like a joblib zlib stream is still text.
	EXPECT_EQ(scan_text("x marks the spot\n").verdict, uint32_t(LTRACK_VERDICT_SAFE));
}

TEST(data_files, json_is_strict)
{
	std::string d;
	auto json = [&](const std::string &s) {
		return is_json({reinterpret_cast<const unsigned char *>(s.data()), s.size()}, 64, d);
	};
	EXPECT_TRUE(json("{\"a\": [1, -2.5e+3, true, false, null, NaN, -Infinity, \"\\u00e9\\n\"], \"b\": {}}"));
	EXPECT_TRUE(json(" [ ] \n"));
	EXPECT_TRUE(json("{\"\xe6\x97\xa5\": 0}"));
	for (const char *bad : {"",
				"1",
				"\"s\"",
				"{",
				"[1,]",
				"{\"a\":1,}",
				"{\"a\" 1}",
				"{a:1}",
				"[01]",
				"[1.]",
				"[.5]",
				"[1e]",
				"[tru]",
				"[\"\\x\"]",
				"[\"a\tb\"]",
				"{\"a\":1} x",
				"[1][2]",
				"[\"\\u12\"]",
				"\xef\xbb\xbf[]",
				"[\"\xc0\xaf\"]",
				"[\"\xed\xa0\x80\"]",
				"[-]",
				"[+1]",
				"[Infinity1]"})
		EXPECT_FALSE(json(bad)) << bad;
	EXPECT_TRUE(json(std::string(64, '[') + std::string(64, ']')));
	EXPECT_FALSE(json(std::string(65, '[') + std::string(65, ']')));
	// Deeper than the limit is not JSON, but still text (safe).
	scan_result deep = scan_text(std::string(100000, '[') + std::string(100000, ']'));
	EXPECT_EQ(deep.fmt, format::text);
}

TEST(data_files, what_is_not_recognised_stays_suspicious)
{
	// Binary bytes that are no model format.
	EXPECT_EQ(scan_text(std::string("\x01\x02\x03 binary\0\xff", 14)).verdict, uint32_t(LTRACK_VERDICT_SUSPICIOUS));
	// Not UTF-8, or a control character: not text.
	EXPECT_EQ(scan_text("caf\xe9 latin-1\n").verdict, uint32_t(LTRACK_VERDICT_SUSPICIOUS));
	EXPECT_EQ(scan_text("bell\a\n").verdict, uint32_t(LTRACK_VERDICT_SUSPICIOUS));
	EXPECT_EQ(scan_text(std::string("a\0b", 3)).verdict, uint32_t(LTRACK_VERDICT_SUSPICIOUS));
	// Not text, but site.py runs the import line before it meets the bad bytes.
	EXPECT_EQ(scan_text("import os\n\xff\xfe", "x.pth").verdict, uint32_t(LTRACK_VERDICT_UNSAFE));
	// SentencePiece-looking protobuf with a field the schema does not have,
	// a piece type out of range, or no pieces.
	auto spm = [](const std::string &s) {
		std::string d;
		return is_sentencepiece({reinterpret_cast<const unsigned char *>(s.data()), s.size()}, d);
	};
	EXPECT_TRUE(spm(std::string("\x0a\x05\x0a\x03<s>", 7)));
	EXPECT_TRUE(spm(std::string("\x0a\x0c\x0a\x03<s>\x15\x00\x00\x80\xbf\x18\x03", 14)));
	EXPECT_FALSE(spm(std::string("\x0a\x05\x0a\x03<s>\x32\x00", 9)));  // field 6
	EXPECT_FALSE(spm(std::string("\x0a\x07\x0a\x03<s>\x18\x09", 9)));  // type 9
	EXPECT_FALSE(spm(std::string("\x0a\x02\x18\x01", 4)));             // a piece without its text
	EXPECT_FALSE(spm(std::string("\x0a\x05\x0a\x03<s", 6)));           // truncated
	EXPECT_FALSE(spm(std::string("\x0a\x05\x0a\x03\xff\xfe\xfd", 7))); // not UTF-8
	EXPECT_FALSE(spm(std::string("\x0a\x00\x12\x00", 4)));             // an empty piece
}

// A first tar header is what tarfile's nti()/calc_chksums() accept: a
// negative checksum (signed byte sum below zero), spelled "-NNN" or in
// base-256 (0xff...), is a tar, never text or JSON.
TEST(data_files, tar_checksums_as_tarfile_reads_them)
{
	auto header = [](const std::string &field) {
		std::string h(512, '\xff'); // signed sum: 504 * -1 + 8 spaces = -248 (0o370)
		h.replace(148, 8, field);
		return h;
	};
	auto tar = [](const std::string &h) {
		return looks_like_tar({reinterpret_cast<const unsigned char *>(h.data()), h.size()});
	};
	EXPECT_TRUE(tar(header("-370    ")));
	EXPECT_TRUE(tar(header(std::string(" -0o370\0", 8))));
	EXPECT_TRUE(tar(header(std::string("\xff\xff\xff\xff\xff\xff\xff\x08", 8)))); // -(2**56 - (2**56 - 248))
	EXPECT_TRUE(tar(header("0373410 "))); // the unsigned sum: 504 * 255 + 256
	EXPECT_FALSE(tar(header("-371    ")));
	EXPECT_FALSE(tar(header("--370   ")));
	EXPECT_FALSE(tar(header("- 370   ")));
}

// joblib's old "ZF" zfile: joblib.load inflates the whole zlib stream and
// unpickles it. One the scanner stops at its inflate limit is an error,
// and the part it inflated is still walked (F2: a text-only stream past
// 1 GiB was safe text). The limit is lowered here; the stream is made of
// stored deflate blocks, as the 1 GiB attack file was.
std::string zfile(const std::string &body)
{
	std::string z = "x\x01";
	for (size_t at = 0; at < body.size(); at += 1000) {
		std::string part = body.substr(at, 1000);
		uint16_t len = uint16_t(part.size()), nlen = uint16_t(~len);
		z += char(at + 1000 >= body.size() ? 1 : 0);
		z += char(len & 0xff), z += char(len >> 8), z += char(nlen & 0xff), z += char(nlen >> 8);
		z += part;
	}
	uint32_t a = 1, b = 0;
	for (unsigned char c : body)
		a = (a + c) % 65521, b = (b + a) % 65521;
	uint32_t adler = b << 16 | a;
	for (int i = 3; i >= 0; i--)
		z += char(adler >> (8 * i));
	char len[24];
	snprintf(len, sizeof len, "%-19s",
		 ("0x" +
		  [&] {
			  char h[20];
			  snprintf(h, sizeof h, "%zx", body.size());
			  return std::string(h);
		  }())
			 .c_str());
	return "ZF" + std::string(len) + z;
}

TEST(data_files, joblib_zfile_over_the_inflate_limit_is_an_error)
{
	scan_limits small;
	small.max_inflated_bytes = 4000;
	auto scan_with = [](const std::string &s, const scan_limits &l) {
		return scan_buffer({reinterpret_cast<const unsigned char *>(s.data()), s.size()}, l);
	};
	std::string evil = zfile("cposix\nsystem\n(S'id'\ntR." + std::string(10000, 'a'));
	std::string benign = zfile("(lp0\n." + std::string(10000, 'a'));
	// Within the limit: the stream is read as joblib reads it.
	EXPECT_EQ(scan_with(evil, {}).verdict, uint32_t(LTRACK_VERDICT_UNSAFE)) << show(scan_with(evil, {}));
	// Over it: the inflated part still decides, the rest is an error.
	scan_result over = scan_with(evil, small);
	EXPECT_EQ(over.verdict, uint32_t(LTRACK_VERDICT_UNSAFE)) << show(over);
	EXPECT_NE(over.error.find("joblib zfile stream: decompressed size exceeds the limit"), std::string::npos)
		<< show(over);
	scan_result benign_over = scan_with(benign, small);
	EXPECT_EQ(benign_over.verdict, uint32_t(LTRACK_VERDICT_ERROR)) << show(benign_over);
	// A stream that fails after some output (truncated): error.
	std::string cut = benign.substr(0, benign.size() - 10);
	EXPECT_EQ(scan_with(cut, {}).verdict, uint32_t(LTRACK_VERDICT_ERROR)) << show(scan_with(cut, {}));
	// Text that merely starts "ZF" is no zlib stream: still text.
	EXPECT_EQ(scan_text("ZF is a file format\n").verdict, uint32_t(LTRACK_VERDICT_SAFE));
}

// A .pth is read raw whatever its format (F3/F5), with every CPython's
// line breaks and a BOM (F4), and an import line with code of its own is
// never safe under any name (F6: the verdict is kept per inode).
TEST(data_files, pth_reading_is_raw_and_name_independent)
{
	const std::string pay = "import os; os.system('true')";
	auto bin = [](const char *s, size_t n) { return std::string(s, n); };
	struct {
		const char *what;
		std::string bytes;
	} hidden[] = {
		{"BOM (3.13 utf-8-sig)", "\xef\xbb\xbf" + pay + "\n"},
		{"form feed", "# c\f" + pay + "\n"},
		{"vertical tab", "# c\v" + pay + "\n"},
		{"file separator", "# c\x1c" + pay + "\n"},
		{"group separator", "# c\x1d" + pay + "\n"},
		{"record separator", "# c\x1e" + pay + "\n"},
		{"NEL (UTF-8)", "# c\xc2\x85" + pay + "\n"},
		{"NEL (latin-1 fallback)", "# c\x85" + pay + "\n"},
		{"LINE SEPARATOR", "# c\xe2\x80\xa8" + pay + "\n"},
		{"PARAGRAPH SEPARATOR", "# c\xe2\x80\xa9" + pay + "\n"},
		{"CR only", "# c\r" + pay + "\r"},
		{"NUL after", pay + "\nx" + bin("\0", 1) + "y\n"},
		{"bad UTF-8 late", pay + "\n#" + std::string(9000, 'a') + "\xff\n"},
		{"SentencePiece", bin("\x0a\x28\x0a\x26\x0a", 5) + pay.substr(0, 27) + bin("\x15\0\0\0\0\x18\x01", 7)},
	};
	for (auto &h : hidden) {
		SCOPED_TRACE(h.what);
		scan_result named = scan_text(h.bytes, "site_hook.pth");
		EXPECT_EQ(named.verdict, uint32_t(LTRACK_VERDICT_UNSAFE)) << show(named);
		EXPECT_TRUE(deciding_has(named, "runs at every interpreter start: import os;")) << show(named);
		scan_result other = scan_text(h.bytes, "weights.bin");
		EXPECT_NE(other.verdict, uint32_t(LTRACK_VERDICT_SAFE)) << show(other);
	}
	// safetensors whose tensor bytes hold the line (a format that claims them).
	std::string data = "\n" + pay + "\n";
	std::string hdr = "{\"t\":{\"dtype\":\"U8\",\"shape\":[" + std::to_string(data.size()) +
			  "],\"data_offsets\":[0," + std::to_string(data.size()) + "]}}";
	std::string st(8, '\0');
	st[0] = char(hdr.size());
	st += hdr + data;
	scan_result sts = scan_text(st, "x.pth");
	EXPECT_EQ(sts.fmt, format::safetensors);
	EXPECT_EQ(sts.verdict, uint32_t(LTRACK_VERDICT_UNSAFE)) << show(sts);
	scan_result stb = scan_text(st, "model.safetensors");
	EXPECT_EQ(stb.verdict, uint32_t(LTRACK_VERDICT_SUSPICIOUS)) << show(stb);
	EXPECT_TRUE(deciding_has(stb, "would run at every interpreter start if this file were a site .pth"))
		<< show(stb);

	// Plain imports (a model card's code sample) name a module and carry no
	// code: data under other names, code in a .pth.
	std::string card = "# Model\n```python\nimport torch\nimport torch.nn as nn, numpy as np  # arrays\n```\n";
	EXPECT_EQ(scan_text(card, "README.md").verdict, uint32_t(LTRACK_VERDICT_SAFE))
		<< show(scan_text(card, "README.md"));
	EXPECT_EQ(scan_text(card, "x.pth").verdict, uint32_t(LTRACK_VERDICT_UNSAFE));
	for (const char *code :
	     {"import torch; torch.load('x')", "import torch\f; x()", "import os as", "import a.", "import a,",
	      "import (os)", "import os, sys; print(1)", "import torch as t, x.y.z as w()"}) {
		std::string doc = std::string("# card\n") + code + "\n";
		EXPECT_EQ(scan_text(doc, "README.md").verdict, uint32_t(LTRACK_VERDICT_SUSPICIOUS)) << code;
	}
	// "import" not at a line start, or not followed by a blank, is no import line.
	for (const char *data_text : {"# re-import os; x()\n", "# c\nimportlib.x()\n", "# a\n important: x()\n"})
		EXPECT_EQ(scan_text(data_text, "x.pth").verdict, uint32_t(LTRACK_VERDICT_SAFE)) << data_text;
	// Line numbers count every reading's breaks.
	std::vector<pth_line> l =
		pth_import_lines({reinterpret_cast<const unsigned char *>("a\r\nb\fc\xe2\x80\xa8import x\n"), 18});
	ASSERT_EQ(l.size(), 1u);
	EXPECT_EQ(l[0].number, 4u);
	EXPECT_TRUE(l[0].plain);
}

} // namespace
