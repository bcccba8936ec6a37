// Reading the decision log back: what ltrackd writes (format_json), through
// the rotating sink's real rotation and gzip, and damaged files: each bad
// line is reported with its file and line, and reading goes on.
#include "learn_fixture.h"

#include "decision_log.h"
#include "log_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

using namespace ltrack::tracing;
using namespace learn_test;

namespace {

std::vector<decision_record> read_all(const std::string &file, log_read_stats &st)
{
	std::vector<decision_record> out;
	read_decision_log(
		file, [&](const decision_record &r) { out.push_back(r); }, st);
	return out;
}

void write_gz(const std::string &path, const std::string &text)
{
	gzFile g = gzopen(path.c_str(), "wb");
	ASSERT_TRUE(g);
	ASSERT_EQ(gzwrite(g, text.data(), unsigned(text.size())), int(text.size()));
	ASSERT_EQ(gzclose(g), Z_OK);
}

} // namespace

TEST(log_reader, reads_back_what_the_log_writes)
{
	temp_dir t;
	decision_record f = rec("file", "/srv/app/a b\"c\\d\n\xe2\x80\xa8\xf0\x9f\x98\x80.txt", "would_deny", "", 7);
	f.rule.column = 5;
	decision_record n = rec("net", "::1 8443 tcp");
	decision_record u = rec("net", "unix:/run/x.sock");
	decision_record s = rec("socket", "inet/raw/icmp");
	decision_record m = rec("model", "/srv/models/m.pkl");
	m.model.verdict = "unsafe";
	m.model.imports = {"posix.system"};
	decision_record a = rec("link", "/srv/secret");
	a.op = "rename";
	a.ancestor = true;
	write(t / "d.log", line(f) + line(n) + line(u) + line(s) + line(m) + line(a));
	log_read_stats st;
	auto got = read_all(t / "d.log", st);
	ASSERT_EQ(got.size(), 6u);
	EXPECT_FALSE(got[0].ancestor);
	EXPECT_TRUE(got[5].ancestor);
	EXPECT_TRUE(st.problems.empty());
	EXPECT_EQ(got[0].path, f.path); // every escape undone, astral plane included
	EXPECT_EQ(got[0].count, 7u);
	EXPECT_EQ(got[0].outcome, LTRACK_OUT_WOULD_DENY);
	EXPECT_EQ(got[0].rule.profile, "work");
	EXPECT_EQ(got[0].rule.text, "file default deny");
	EXPECT_EQ(got[0].rule.file, "/etc/ltrack/policy.toml");
	EXPECT_EQ(got[0].rule.line, 9u);
	EXPECT_EQ(got[1].addr_text, "::1");
	EXPECT_EQ(got[1].port, 8443);
	EXPECT_EQ(got[1].proto, "tcp");
	EXPECT_EQ(got[1].family, "inet6");
	EXPECT_EQ(got[2].family, "unix");
	EXPECT_EQ(got[2].path, "/run/x.sock");
	EXPECT_EQ(got[3].sock_type, "raw");
	EXPECT_EQ(got[3].proto, "icmp");
	EXPECT_EQ(got[4].model.verdict, "unsafe");
	ASSERT_EQ(got[4].model.imports.size(), 1u);
}

TEST(log_reader, a_name_that_is_not_utf8_arrives_as_the_replacement_character)
{
	temp_dir t;
	write(t / "d.log", line(rec("file", std::string("/srv/x\xff", 7))));
	log_read_stats st;
	auto got = read_all(t / "d.log", st);
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0].path, "/srv/x\xef\xbf\xbd"); // the bytes are lost: learn must not use it
}

TEST(log_reader, real_rotation_with_gzip_is_read_oldest_first)
{
	temp_dir t;
	log_config cfg;
	cfg.output_path = t / "decisions.log";
	cfg.max_size_bytes = 4096;
	cfg.max_backups = 0;
	cfg.max_age_days = 0;
	cfg.compress = true;
	auto opened = decision_log::open(cfg);
	ASSERT_TRUE(opened.ok()) << opened.failure().error;
	auto log = std::move(*opened);
	const int n = 200;
	for (int i = 0; i < n; i++) {
		decision_record r = rec("file", "/srv/app/f" + std::to_string(i));
		r.pid = uint32_t(i);
		log->write(r);
	}
	log->flush();
	log->file_sink()->wait_idle();
	log.reset();
	std::vector<std::string> files = log_files_with_backups(cfg.output_path);
	ASSERT_GE(files.size(), 3u);
	EXPECT_EQ(files.back(), cfg.output_path);
	EXPECT_EQ(files.front().substr(files.front().size() - 3), ".gz");
	log_read_stats st;
	std::vector<uint32_t> pids;
	for (const auto &f : files)
		EXPECT_TRUE(read_decision_log(
			f, [&](const decision_record &r) { pids.push_back(r.pid); }, st));
	EXPECT_TRUE(st.problems.empty()) << st.problems[0].text();
	ASSERT_EQ(pids.size(), size_t(n));
	for (int i = 0; i < n; i++)
		EXPECT_EQ(pids[i], uint32_t(i)); // every record, once, in order
	EXPECT_EQ(st.files, files.size());
}

TEST(log_reader, damaged_lines_name_file_and_line_and_reading_goes_on)
{
	temp_dir t;
	std::string good = line(rec("file", "/srv/a"));
	std::string text = good + "{\"type\":\"decision\",\"hook\":\"file\"\n"              // cut short
			   + "2026-12-02T10:00:00Z WARN would_deny file /x by /bin/sh[1]\n" // text format
			   + "{\"type\":\"stats\",\"count\":1}\n" +
			   "{\"type\":\"loss\",\"source\":\"ring_buffer\",\"count\":17}\n" + "[1,2]\n" +
			   "{\"type\":\"decision\",\"path\":\"\\ud800\"}\n" + "\n" + good +
			   good.substr(0, 40); // a last line without newline
	write(t / "d.log", text);
	log_read_stats st;
	auto got = read_all(t / "d.log", st);
	EXPECT_EQ(got.size(), 2u);
	EXPECT_EQ(st.lost, 17u);
	ASSERT_EQ(st.problems.size(), 5u);
	EXPECT_EQ(st.problems[0].line, 2u);
	EXPECT_NE(st.problems[0].text().find(t / "d.log:2: not JSON"), std::string::npos) << st.problems[0].text();
	EXPECT_NE(st.problems[0].what.find("truncated"), std::string::npos) << st.problems[0].what;
	EXPECT_EQ(st.problems[1].line, 3u);
	EXPECT_NE(st.problems[1].what.find("text-format"), std::string::npos) << st.problems[1].what;
	EXPECT_EQ(st.problems[2].line, 6u);
	EXPECT_EQ(st.problems[3].line, 7u);
	EXPECT_NE(st.problems[3].what.find("surrogate"), std::string::npos) << st.problems[3].what;
	EXPECT_EQ(st.problems[4].line, 10u);
	EXPECT_NE(st.problems[4].what.find("no newline"), std::string::npos);
}

TEST(log_reader, a_truncated_gzip_backup_keeps_what_was_read_and_says_where_it_stopped)
{
	temp_dir t;
	std::string text;
	for (int i = 0; i < 300; i++)
		text += line(rec("file", "/srv/app/f" + std::to_string(i)));
	write_gz(t / "d.log.1.gz", text);
	std::string whole;
	{
		std::ifstream in(t / "d.log.1.gz", std::ios::binary);
		whole.assign(std::istreambuf_iterator<char>(in), {});
	}
	write(t / "d.log.1.gz", whole.substr(0, whole.size() / 2));
	log_read_stats st;
	auto got = read_all(t / "d.log.1.gz", st);
	EXPECT_GT(got.size(), 0u);
	EXPECT_LT(got.size(), 300u);
	ASSERT_EQ(st.problems.size(), 1u);
	EXPECT_NE(st.problems[0].what.find("gzip"), std::string::npos) << st.problems[0].text();
	EXPECT_EQ(st.problems[0].line, got.size() + 1) << st.problems[0].text();
}

TEST(log_reader, a_missing_file_is_a_problem_not_a_crash)
{
	log_read_stats st;
	EXPECT_FALSE(read_decision_log(
		"/nonexistent/ltrack.log", [](const decision_record &) {}, st));
	ASSERT_EQ(st.problems.size(), 1u);
	EXPECT_NE(st.problems[0].text().find("cannot open"), std::string::npos);
}

TEST(log_reader, backups_plain_and_gzipped_in_order)
{
	temp_dir t;
	write(t / "d.log", "");
	write(t / "d.log.1", "");
	write_gz(t / "d.log.2.gz", "");
	write_gz(t / "d.log.3.gz", "");
	std::vector<std::string> want{t / "d.log.3.gz", t / "d.log.2.gz", t / "d.log.1", t / "d.log"};
	EXPECT_EQ(log_files_with_backups(t / "d.log"), want);
}
