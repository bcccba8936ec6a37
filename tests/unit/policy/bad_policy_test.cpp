// The malformed-policy corpus (bad/*.toml). Each file lists the exact
// diagnostics it must produce in its leading comments:
//   # expect: LINE:COL: error: MESSAGE
// and may say "# resolve: host" to resolve paths on this host (default:
// synthetic, so the corpus does not depend on the machine).
#include "policy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace ltrack::policy;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> corpus()
{
	std::vector<std::string> names;
	for (const auto &e : fs::directory_iterator(LTRACK_BAD_DIR))
		if (e.path().extension() == ".toml")
			names.push_back(e.path().filename().string());
	std::sort(names.begin(), names.end());
	return names;
}

class BadPolicy : public ::testing::TestWithParam<std::string> {};

} // namespace

TEST_P(BadPolicy, ReportsExactlyTheExpectedDiagnostics)
{
	std::string path = std::string(LTRACK_BAD_DIR) + "/" + GetParam();
	std::ifstream in(path);
	std::vector<std::string> expected;
	bool host = false;
	for (std::string line; std::getline(in, line);) {
		if (line.rfind("# expect: ", 0) == 0)
			expected.push_back(GetParam() + ":" + line.substr(10));
		else if (line == "# resolve: host")
			host = true;
	}
	ASSERT_FALSE(expected.empty()) << "no # expect: lines in " << path;
	compile_options o;
	o.resolve_paths = host;
	std::ifstream src(path);
	std::stringstream ss;
	ss << src.rdbuf();
	compile_result r = compile_string(ss.str(), GetParam(), o);
	EXPECT_FALSE(r.ok());
	std::vector<std::string> got;
	for (const auto &d : r.diagnostics)
		got.push_back(format(d));
	EXPECT_EQ(got, expected);
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadPolicy, ::testing::ValuesIn(corpus()), [](const auto &info) {
	std::string n = info.param.substr(0, info.param.size() - 5);
	for (char &c : n)
		if (!std::isalnum(static_cast<unsigned char>(c)))
			c = '_';
	return n;
});

TEST(BadPolicyFile, UnreadableFileIsAnErrorWithoutPosition)
{
	compile_result r = compile_file("/nonexistent/ltrack/policy.toml");
	ASSERT_EQ(r.diagnostics.size(), 1u);
	EXPECT_EQ(format(r.diagnostics[0]),
		  "/nonexistent/ltrack/policy.toml: error: cannot read the policy: No such file "
		  "or directory; check the path and permissions");
}
