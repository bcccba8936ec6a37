#include "decision_log.h"
#include "rotating_file_sink.h"
#include "test_records.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>

using namespace ltrack::tracing;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test, removed afterwards.
struct temp_dir {
	fs::path path;
	temp_dir()
	{
		char tmpl[] = "/tmp/ltrack-tracing-XXXXXX";
		path = mkdtemp(tmpl);
	}
	~temp_dir() { fs::remove_all(path); }
	std::string file(const std::string &name) const { return (path / name).string(); }
};

std::vector<std::string> lines_of(const std::string &text)
{
	std::vector<std::string> out;
	size_t start = 0;
	while (start < text.size()) {
		size_t nl = text.find('\n', start);
		EXPECT_NE(nl, std::string::npos) << "file does not end with a newline: a record was split";
		if (nl == std::string::npos)
			nl = text.size();
		out.push_back(text.substr(start, nl - start));
		start = nl + 1;
	}
	return out;
}

std::string read_plain(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	return std::string(std::istreambuf_iterator<char>(in), {});
}

// Decompresses with zlib; fails the test if the file is not valid gzip.
std::string read_gzip(const std::string &path)
{
	gzFile f = gzopen(path.c_str(), "rb");
	EXPECT_NE(f, nullptr) << path;
	if (!f)
		return "";
	std::string out;
	char buf[4096];
	int n;
	while ((n = gzread(f, buf, sizeof buf)) > 0)
		out.append(buf, static_cast<size_t>(n));
	int err = 0;
	const char *msg = gzerror(f, &err);
	EXPECT_GE(n, 0) << path << ": " << msg;
	EXPECT_EQ(gzclose(f), Z_OK) << path;
	return out;
}

log_config small_log(const temp_dir &dir)
{
	log_config cfg;
	cfg.output_path = dir.file("decisions.log");
	cfg.max_size_bytes = 4096;
	cfg.max_backups = 3;
	cfg.max_age_days = 0;
	cfg.compress = false;
	return cfg;
}

std::unique_ptr<decision_log> open_log(const log_config &cfg)
{
	auto log = decision_log::open(cfg);
	EXPECT_TRUE(log.ok()) << log.failure().error;
	return log.ok() ? std::move(*log) : nullptr;
}

// Decision records with a distinct pid each, so every one can be found.
decision_record numbered(uint32_t n)
{
	decision_record r = test_records::file_denial();
	r.pid = n;
	return r;
}

struct env_guard {
	~env_guard()
	{
		unsetenv("LTRACK_LOG_FORMAT");
		unsetenv("LTRACK_LOG_LEVEL");
	}
};

} // namespace

TEST(rotation, size_trigger_never_splits_and_keeps_backup_count)
{
	temp_dir dir;
	log_config cfg = small_log(dir);
	auto log = open_log(cfg);
	ASSERT_TRUE(log);
	const size_t line = format_json(numbered(1)).size() + 1;
	ASSERT_LT(line, cfg.max_size_bytes);
	const uint32_t records = 40; // ~ 40 * 1 KB: about ten rotations
	for (uint32_t i = 1; i <= records; ++i)
		log->write(numbered(i));
	log->file_sink()->wait_idle();

	EXPECT_GT(log->stats().rotations, 3u);
	EXPECT_TRUE(fs::exists(cfg.output_path + ".1"));
	EXPECT_TRUE(fs::exists(cfg.output_path + ".3"));
	EXPECT_FALSE(fs::exists(cfg.output_path + ".4")) << "max_backups is 3";

	// Every file holds whole records within the size limit, and the newest
	// records are all there in order: current, .1, .2, .3 from newest.
	std::vector<uint32_t> pids;
	for (const std::string &name :
	     {cfg.output_path + ".3", cfg.output_path + ".2", cfg.output_path + ".1", cfg.output_path}) {
		std::string text = read_plain(name);
		EXPECT_LE(text.size(), cfg.max_size_bytes) << name;
		for (const std::string &l : lines_of(text)) {
			ASSERT_TRUE(l.starts_with("{\"type\":\"decision\"") && l.ends_with("}")) << l;
			size_t at = l.find("\"process\":{\"pid\":");
			pids.push_back(static_cast<uint32_t>(std::stoul(l.substr(at + 17))));
		}
	}
	ASSERT_FALSE(pids.empty());
	for (size_t i = 0; i < pids.size(); ++i)
		EXPECT_EQ(pids[i], records - pids.size() + 1 + i);
	EXPECT_EQ(pids.back(), records);
	EXPECT_EQ(log->stats().written, records);
}

TEST(rotation, concurrent_writers_lose_nothing)
{
	temp_dir dir;
	log_config cfg = small_log(dir);
	cfg.max_backups = 0; // keep every backup so every record can be counted
	auto log = open_log(cfg);
	ASSERT_TRUE(log);
	constexpr uint32_t threads = 4, each = 150;
	std::vector<std::thread> writers;
	for (uint32_t t = 0; t < threads; ++t)
		writers.emplace_back([&, t] {
			for (uint32_t i = 0; i < each; ++i)
				log->write(numbered(t * 1000 + i));
		});
	for (std::thread &w : writers)
		w.join();
	log->file_sink()->wait_idle();

	std::set<uint32_t> seen;
	size_t lines = 0;
	for (const fs::directory_entry &e : fs::directory_iterator(dir.path)) {
		std::string text = read_plain(e.path().string());
		EXPECT_LE(text.size(), cfg.max_size_bytes) << e.path();
		for (const std::string &l : lines_of(text)) {
			ASSERT_TRUE(l.starts_with("{\"type\":\"decision\"") && l.ends_with("}")) << l;
			size_t at = l.find("\"process\":{\"pid\":");
			seen.insert(static_cast<uint32_t>(std::stoul(l.substr(at + 17))));
			++lines;
		}
	}
	EXPECT_EQ(lines, threads * each);
	EXPECT_EQ(seen.size(), threads * each);
	EXPECT_GT(log->stats().rotations, 20u);
}

TEST(rotation, oversized_record_gets_its_own_file)
{
	temp_dir dir;
	log_config cfg = small_log(dir);
	cfg.max_size_bytes = 600;
	auto log = open_log(cfg);
	ASSERT_TRUE(log);
	decision_record big = numbered(1);
	big.process.mut().cmdline = std::string(2000, 'a');
	log->write(numbered(7));
	log->write(big);
	log->write(numbered(8));
	log->file_sink()->wait_idle();
	EXPECT_EQ(lines_of(read_plain(cfg.output_path + ".2")).size(), 1u);
	std::vector<std::string> l = lines_of(read_plain(cfg.output_path + ".1"));
	ASSERT_EQ(l.size(), 1u);
	EXPECT_NE(l[0].find(std::string(2000, 'a')), std::string::npos);
	EXPECT_EQ(lines_of(read_plain(cfg.output_path)).size(), 1u);
}

TEST(rotation, gzip_backups_decompress)
{
	temp_dir dir;
	log_config cfg = small_log(dir);
	cfg.compress = true;
	auto log = open_log(cfg);
	ASSERT_TRUE(log);
	for (uint32_t i = 1; i <= 20; ++i)
		log->write(numbered(i));
	log->file_sink()->wait_idle();

	ASSERT_TRUE(fs::exists(cfg.output_path + ".1.gz"));
	EXPECT_FALSE(fs::exists(cfg.output_path + ".1")) << "the uncompressed copy is removed";
	EXPECT_FALSE(fs::exists(cfg.output_path + ".1.gz.tmp"));
	size_t total = lines_of(read_plain(cfg.output_path)).size();
	for (int n = 1; n <= 3; ++n) {
		std::string name = cfg.output_path + "." + std::to_string(n) + ".gz";
		if (!fs::exists(name))
			continue;
		std::string text = read_gzip(name);
		EXPECT_FALSE(text.empty());
		for (const std::string &l : lines_of(text))
			EXPECT_TRUE(l.starts_with("{") && l.ends_with("}")) << l;
		total += lines_of(text).size();
	}
	EXPECT_FALSE(fs::exists(cfg.output_path + ".4.gz"));
	EXPECT_LE(total, 20u);
	EXPECT_GE(total, 12u) << "current plus three backups of ~4 records each";
}

TEST(rotation, age_pruning_by_mtime)
{
	temp_dir dir;
	log_config cfg = small_log(dir);
	cfg.max_age_days = 7;
	cfg.max_backups = 0; // count unlimited: only age prunes
	// Backups from an earlier run: .2 and .3.gz are old, .1 is recent.
	for (const char *suffix : {".1", ".2", ".3.gz"})
		std::ofstream(cfg.output_path + suffix) << "{}\n";
	auto age = [&](const char *suffix, int days) {
		struct timespec t[2];
		t[0].tv_sec = t[1].tv_sec = time(nullptr) - days * 86400;
		t[0].tv_nsec = t[1].tv_nsec = 0;
		ASSERT_EQ(utimensat(AT_FDCWD, (cfg.output_path + suffix).c_str(), t, 0), 0);
	};
	age(".1", 1);
	age(".2", 8);
	age(".3.gz", 30);

	auto log = open_log(cfg); // prunes on open
	ASSERT_TRUE(log);
	EXPECT_TRUE(fs::exists(cfg.output_path + ".1"));
	EXPECT_FALSE(fs::exists(cfg.output_path + ".2"));
	EXPECT_FALSE(fs::exists(cfg.output_path + ".3.gz"));

	// And after a rotation: the shifted recent backup stays, an aged one goes.
	std::ofstream(cfg.output_path + ".5") << "{}\n";
	age(".5", 10);
	for (uint32_t i = 1; i <= 6; ++i)
		log->write(numbered(i));
	log->file_sink()->wait_idle();
	EXPECT_TRUE(fs::exists(cfg.output_path + ".1"));
	EXPECT_TRUE(fs::exists(cfg.output_path + ".2")) << "the earlier .1, shifted";
	EXPECT_FALSE(fs::exists(cfg.output_path + ".5"));
	EXPECT_FALSE(fs::exists(cfg.output_path + ".6"));
}

TEST(rotation, appends_to_existing_file_and_counts_its_size)
{
	temp_dir dir;
	log_config cfg = small_log(dir);
	std::ofstream(cfg.output_path) << std::string(4000, 'x') << "\n";
	auto log = open_log(cfg);
	ASSERT_TRUE(log);
	log->write(numbered(1));
	log->file_sink()->wait_idle();
	EXPECT_EQ(log->stats().rotations, 1u) << "the existing 4001 bytes count toward max_size";
	EXPECT_EQ(read_plain(cfg.output_path + ".1").size(), 4001u);
}

// As daemons do: a missing log directory is created (0750, group adm where it
// exists) and the log file in it takes that group; a missing parent of the
// directory is an error that names the directory.
TEST(rotation, creates_a_missing_log_directory_group_adm)
{
	temp_dir dir;
	log_config cfg = small_log(dir);
	cfg.output_path = dir.file("ltrack/decisions.log");
	auto log = open_log(cfg);
	ASSERT_TRUE(log);
	log->write(numbered(1));
	struct stat d, f;
	ASSERT_EQ(stat(dir.file("ltrack").c_str(), &d), 0);
	EXPECT_EQ(d.st_mode & 07777, 0750u);
	ASSERT_EQ(stat(cfg.output_path.c_str(), &f), 0);
	EXPECT_EQ(f.st_mode & 07777, 0640u);
	EXPECT_EQ(f.st_gid, d.st_gid);
	if (const struct group *adm = getgrnam("adm"); adm && geteuid() == 0) {
		EXPECT_EQ(d.st_gid, adm->gr_gid);
	}

	cfg.output_path = dir.file("no/such/parent/decisions.log");
	auto sink = rotating_file_sink::open({cfg.output_path});
	ASSERT_FALSE(sink.ok());
	EXPECT_NE(sink.failure().error.find(dir.file("no/such/parent")), std::string::npos) << sink.failure().error;
}

TEST(decision_log, level_filter_and_loss_records)
{
	temp_dir dir;
	log_config cfg = small_log(dir);
	cfg.level = severity::critical;
	cfg.max_size_bytes = 1 << 20;
	auto log = open_log(cfg);
	ASSERT_TRUE(log);
	EXPECT_FALSE(log->enabled(severity::warn));
	log->write(test_records::model_refusal()); // warn: below the level
	log->write(test_records::file_denial());   // critical
	log->write_loss(17, loss_source::ring_buffer);
	log->write_loss(5, loss_source::coalesced);
	log->write_loss(0, loss_source::coalesced); // nothing to say
	log->flush();

	std::vector<std::string> l = lines_of(read_plain(cfg.output_path));
	ASSERT_EQ(l.size(), 3u);
	EXPECT_NE(l[0].find(R"("outcome":"denied")"), std::string::npos);
	EXPECT_NE(l[1].find(R"("type":"loss")"), std::string::npos);
	EXPECT_NE(l[1].find(R"("source":"ring_buffer","count":17)"), std::string::npos) << l[1];
	EXPECT_NE(l[2].find(R"("source":"coalesced","count":5)"), std::string::npos) << "loss ignores the level";
	decision_log::counters c = log->stats();
	EXPECT_EQ(c.written, 1u);
	EXPECT_EQ(c.below_level, 1u);
	EXPECT_EQ(c.dropped, 17u);
	EXPECT_EQ(c.coalesced, 5u);
	EXPECT_EQ(c.write_errors, 0u);
}

TEST(decision_log, text_format)
{
	temp_dir dir;
	log_config cfg = small_log(dir);
	cfg.format = log_format::text;
	auto log = open_log(cfg);
	ASSERT_TRUE(log);
	log->write(test_records::file_denial());
	log->write_loss(3, loss_source::ring_buffer);
	std::vector<std::string> l = lines_of(read_plain(cfg.output_path));
	ASSERT_EQ(l.size(), 2u);
	EXPECT_EQ(l[0], format_text(test_records::file_denial()));
	EXPECT_NE(l[1].find("CRITICAL loss ring_buffer 3 decision records were dropped"), std::string::npos) << l[1];
}

TEST(decision_log, separate_from_the_operational_log)
{
	temp_dir dir;
	log_config cfg = small_log(dir);
	auto log = open_log(cfg);
	ASSERT_TRUE(log);
	EXPECT_EQ(spdlog::get("ltrack.decisions"), nullptr) << "never registered";
	spdlog::set_pattern("[%l] %v"); // the daemon reconfiguring its own log
	spdlog::set_level(spdlog::level::off);
	spdlog::info("operational message");
	log->write(test_records::file_denial());
	spdlog::set_level(spdlog::level::info);
	std::vector<std::string> l = lines_of(read_plain(cfg.output_path));
	ASSERT_EQ(l.size(), 1u);
	EXPECT_EQ(l[0], format_json(test_records::file_denial()));
}

TEST(decision_log, write_errors_are_counted_not_silent)
{
	if (!fs::exists("/dev/full"))
		GTEST_SKIP() << "no /dev/full";
	log_config cfg;
	cfg.output_path = "/dev/full"; // every write fails with ENOSPC
	cfg.max_size_bytes = 4096;
	auto log = open_log(cfg);
	ASSERT_TRUE(log);
	log->write(test_records::file_denial());
	EXPECT_EQ(log->stats().write_errors, 1u);
	// The next write first tries to report the lost record: that fails too.
	log->write(test_records::file_denial());
	EXPECT_EQ(log->stats().write_errors, 3u);
	log->write_loss(2, loss_source::ring_buffer);
	EXPECT_EQ(log->stats().write_errors, 4u);
	EXPECT_EQ(log->stats().dropped, 2u);
	EXPECT_EQ(log->stats().rotations, 0u) << "nothing was written, so nothing to rotate";
}

TEST(decision_log, open_errors)
{
	temp_dir dir;
	auto open_error = [](const log_config &c) {
		auto log = decision_log::open(c);
		return log.ok() ? std::string("opened") : log.failure().error;
	};
	log_config cfg = small_log(dir);
	// A missing directory is created (rotation.creates_a_missing_log_directory_group_adm);
	// a missing parent of it is an error naming the directory.
	cfg.output_path = dir.file("missing/parent/decisions.log");
	EXPECT_EQ(open_error(cfg),
		  "decision log: cannot create the directory " + dir.file("missing/parent") +
			  ": No such file or directory (create it, or set [log].output_path to a writable place)");
	cfg.output_path = "relative.log";
	EXPECT_EQ(open_error(cfg), "decision log: output_path \"relative.log\" must be absolute");
	cfg.output_path = "";
	EXPECT_EQ(open_error(cfg),
		  "decision log: no output: set [log] output_path, journald or syslog, or run ltrackd in the "
		  "foreground");
	cfg = small_log(dir);
	cfg.max_size_bytes = 0;
	cfg.max_size_mb = 0;
	EXPECT_EQ(open_error(cfg), "decision log: max_size 0 MB is out of range; use 1 to 1048576");
}

TEST(env_overrides, environment_wins_and_bad_values_are_errors)
{
	env_guard guard;
	log_config cfg;
	cfg.format = log_format::json;
	cfg.level = severity::info;
	EXPECT_EQ(apply_env_overrides(cfg), "");
	EXPECT_EQ(cfg.format, log_format::json);

	setenv("LTRACK_LOG_FORMAT", "TEXT", 1);
	setenv("LTRACK_LOG_LEVEL", "warning", 1);
	EXPECT_EQ(apply_env_overrides(cfg), "");
	EXPECT_EQ(cfg.format, log_format::text);
	EXPECT_EQ(cfg.level, severity::warn);

	setenv("LTRACK_LOG_LEVEL", "error", 1);
	EXPECT_EQ(apply_env_overrides(cfg), "");
	EXPECT_EQ(cfg.level, severity::critical);

	log_config before = cfg;
	setenv("LTRACK_LOG_FORMAT", "xml", 1);
	EXPECT_EQ(apply_env_overrides(cfg), "LTRACK_LOG_FORMAT=\"xml\" is not a log format; use json or text");
	setenv("LTRACK_LOG_FORMAT", "json", 1);
	setenv("LTRACK_LOG_LEVEL", "loud", 1);
	EXPECT_EQ(apply_env_overrides(cfg), "LTRACK_LOG_LEVEL=\"loud\" is not a severity; use info, warn or critical "
					    "(debug, warning and error are also accepted)");
	EXPECT_EQ(cfg.format, before.format) << "nothing applied on error";
	EXPECT_EQ(cfg.level, before.level);
}
