// The Prometheus text exposition (0.0.4): escaping, families, the snapshot
// rendered whole, the endpoint's answers and the atomic textfile.
#include "metrics.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace ltrack::metrics;

namespace {

TEST(MetricsFormat, LabelValuesAndHelpAreEscaped)
{
	std::string out;
	escape_label(out, "a\\b\"c\nd}e,f=g");
	EXPECT_EQ(out, "a\\\\b\\\"c\\nd}e,f=g");
	out.clear();
	escape_help(out, "x\\y\n\"z\"");
	EXPECT_EQ(out, "x\\\\y\\n\"z\"");
}

TEST(MetricsFormat, FamiliesAndSamples)
{
	exposition e;
	e.family("m_total", "counter", "Help with a \\ and\na line feed.");
	e.sample("m_total", {{"profile", "we\"ird\n"}, {"hook", "file"}}, uint64_t(18446744073709551615ull));
	e.sample("m_total", {}, uint64_t(0));
	e.family("g", "gauge", "G.");
	e.sample("g", {}, 0.25);
	e.sample("g", {{"x", ""}}, 1e-9);
	EXPECT_EQ(e.text(), "# HELP m_total Help with a \\\\ and\\na line feed.\n"
			    "# TYPE m_total counter\n"
			    "m_total{profile=\"we\\\"ird\\n\",hook=\"file\"} 18446744073709551615\n"
			    "m_total 0\n"
			    "# HELP g G.\n"
			    "# TYPE g gauge\n"
			    "g 0.25\n"
			    "g{x=\"\"} 1e-09\n");
}

// Every line is a comment or "name{labels} value" with no raw line feed in
// a label value: a hostile profile name cannot add a sample.
TEST(MetricsFormat, SnapshotRendersEveryFamilyOnce)
{
	snapshot s;
	s.decisions[{"file", "denied", "evil\"} 1\nltrack_fake 2"}] = 3;
	s.decisions[{"exec", "allowed", "web"}] = 5;
	s.records = 7;
	s.ringbuf_drops = 1;
	s.walk_limit_denials = 2;
	s.disconnected_denials = 4;
	s.tamper_refusals = 6;
	s.scans["safe"] = 9;
	s.scans["unsafe"] = 1;
	s.reloads.add(true, 0.03);
	s.reloads.add(false, 20);
	std::string text = render(s);
	EXPECT_NE(
		text.find(
			"ltrack_decisions_total{hook=\"file\",outcome=\"denied\",profile=\"evil\\\"} 1\\nltrack_fake 2\"} 3\n"),
		std::string::npos)
		<< text;
	EXPECT_EQ(text.find("\nltrack_fake"), std::string::npos);
	EXPECT_NE(text.find("ltrack_decisions_total{hook=\"exec\",outcome=\"allowed\",profile=\"web\"} 5\n"),
		  std::string::npos);
	EXPECT_NE(text.find("ltrack_decision_records_total 7\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_ringbuf_drops_total 1\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_fail_closed_denials_total{reason=\"walk_limit\"} 2\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_fail_closed_denials_total{reason=\"disconnected\"} 4\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_tamper_refusals_total 6\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_decision_log_forward_total{result=\"sent\"} 0\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_model_scans_total{verdict=\"safe\"} 9\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_reloads_total{result=\"ok\"} 1\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_reloads_total{result=\"rejected\"} 1\n"), std::string::npos);
	// Cumulative buckets: 0.03 s is in le=0.05 and above; 20 s only in +Inf.
	EXPECT_NE(text.find("ltrack_reload_duration_seconds_bucket{le=\"0.01\"} 0\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_reload_duration_seconds_bucket{le=\"0.05\"} 1\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_reload_duration_seconds_bucket{le=\"10\"} 1\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_reload_duration_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_reload_duration_seconds_sum 20.03\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_reload_duration_seconds_count 2\n"), std::string::npos);
	EXPECT_NE(text.find("ltrack_reload_last_duration_seconds 20\n"), std::string::npos);
	std::istringstream in(text);
	std::map<std::string, int> types;
	for (std::string line; std::getline(in, line);) {
		ASSERT_FALSE(line.empty());
		if (line.rfind("# TYPE ", 0) == 0)
			types[line.substr(7, line.find(' ', 7) - 7)]++;
		else if (line[0] != '#')
			EXPECT_EQ(line.rfind("ltrack_", 0), 0u) << line;
	}
	for (const auto &[name, n] : types)
		EXPECT_EQ(n, 1) << name;
	EXPECT_EQ(types.size(), 11u);
	EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsServer, AnswersOnlyGetMetrics)
{
	auto body = [] { return std::string("x 1\n"); };
	std::string ok = server::answer("GET /metrics HTTP/1.1\r\nHost: a", body);
	EXPECT_EQ(ok,
		  "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 4\r\n"
		  "Connection: close\r\n\r\nx 1\n");
	EXPECT_EQ(server::answer("GET /metrics?x=1 HTTP/1.0", body).rfind("HTTP/1.1 200 ", 0), 0u);
	EXPECT_EQ(server::answer("POST /metrics HTTP/1.1", body).rfind("HTTP/1.1 405 ", 0), 0u);
	EXPECT_EQ(server::answer("GET / HTTP/1.1", body).rfind("HTTP/1.1 404 ", 0), 0u);
	EXPECT_EQ(server::answer("GET /metrics/../x HTTP/1.1", body).rfind("HTTP/1.1 404 ", 0), 0u);
	EXPECT_EQ(server::answer("GET /metrics", body).rfind("HTTP/1.1 400 ", 0), 0u);
	EXPECT_EQ(server::answer("", body).rfind("HTTP/1.1 400 ", 0), 0u);
	EXPECT_EQ(server::answer("GET /metrics SSH-2.0", body).rfind("HTTP/1.1 400 ", 0), 0u);
	EXPECT_EQ(server::answer(std::string("\0\0\0", 3), body).rfind("HTTP/1.1 400 ", 0), 0u);
}

TEST(MetricsTextfile, ReplacedAtomicallyNeverThroughASymlink)
{
	auto dir = std::filesystem::temp_directory_path() / ("ltrack-metrics-" + std::to_string(getpid()));
	std::filesystem::create_directories(dir);
	std::string path = (dir / "ltrack.prom").string();
	ASSERT_EQ(write_textfile(path, "a 1\n"), "");
	ASSERT_EQ(write_textfile(path, "a 2\n"), "");
	std::ifstream f(path);
	std::string got((std::istreambuf_iterator<char>(f)), {});
	EXPECT_EQ(got, "a 2\n");
	struct stat st {};
	ASSERT_EQ(stat(path.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0644u);
	EXPECT_FALSE(std::filesystem::exists(path + ".ltrack-tmp"));
	// A symlink planted at the temporary name is replaced, not followed.
	std::string victim = (dir / "victim").string();
	std::ofstream(victim) << "keep";
	std::filesystem::create_symlink(victim, path + ".ltrack-tmp");
	ASSERT_EQ(write_textfile(path, "a 3\n"), "");
	std::ifstream v(victim);
	std::string kept((std::istreambuf_iterator<char>(v)), {});
	EXPECT_EQ(kept, "keep");
	EXPECT_NE(write_textfile((dir / "missing" / "x.prom").string(), "a\n"), "");
	std::filesystem::remove_all(dir);
}

} // namespace
