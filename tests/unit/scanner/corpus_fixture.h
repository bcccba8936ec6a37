// The corpus fixture: make_corpus.py's files, generated once per ctest run
// (or per test binary run by hand), shared by the scanner's corpus tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "scanner.h"

namespace fs = std::filesystem;
using namespace ltrack::scanner;

namespace corpus_fixture {

class scanner_corpus : public ::testing::Test {
protected:
	static inline std::string dir;
	static inline bool owned = false; // generated here, removed here

	static void SetUpTestSuite()
	{
		// Under ctest a fixture has generated the corpus once already.
		const char *shared = getenv("LTRACK_SCANNER_CORPUS");
		if (shared && fs::exists(std::string(shared) + "/COMPLETE")) {
			dir = shared;
			return;
		}
		owned = true;
		char tmpl[] = "/tmp/ltrack-scanner-corpus-XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		dir = tmpl;
		std::string cmd = std::string(LTRACK_TEST_PYTHON) + " " + LTRACK_TEST_MAKE_CORPUS + " " + dir;
		ASSERT_EQ(std::system(cmd.c_str()), 0) << "corpus generator failed: " << cmd;
	}
	static void TearDownTestSuite()
	{
		if (owned && !dir.empty())
			fs::remove_all(dir);
	}
	static std::string path(const std::string &name) { return dir + "/" + name; }
	static bool have(const std::string &name) { return fs::exists(path(name)); }
	static scan_result scan(const std::string &name, const scan_limits &limits = {})
	{
		EXPECT_TRUE(have(name)) << name << " was not generated";
		return scan_file(path(name), limits);
	}
	static std::string show(const scan_result &r)
	{
		std::string s = std::string(format_name(r.fmt)) + " " + std::string(verdict_name(r.verdict));
		for (auto &d : r.deciding)
			s += " [" + d + "]";
		return s + " error={" + r.error + "}";
	}
};

inline bool deciding_has(const scan_result &r, const std::string &text)
{
	for (auto &d : r.deciding)
		if (d.find(text) != std::string::npos)
			return true;
	return false;
}

} // namespace corpus_fixture

using namespace corpus_fixture;

#define EXPECT_SCAN(r, f, v)                                                                                           \
	do {                                                                                                           \
		EXPECT_EQ((r).fmt, format::f) << show(r);                                                              \
		EXPECT_EQ((r).verdict, uint32_t(v)) << show(r);                                                        \
	} while (0)
