// An spdlog sink that rotates the decision log exactly as configured: by
// size, with numbered (optionally gzipped) backups pruned by count and age.
// Every record is written whole by one write(2) with O_APPEND, so a record
// is never split across files and nothing is buffered in user space.
#pragma once

#include "status.h"

#include <spdlog/sinks/base_sink.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace ltrack::tracing {

struct rotation_config {
	std::string path;
	uint64_t max_bytes = 100ull << 20; // rotate before a write would pass this; 0 = never
	uint32_t max_backups = 10;         // 0 = no limit (max_age may still prune)
	uint32_t max_age_days = 0;         // 0 = keep regardless of age
	bool compress = true;              // "<path>.1" becomes "<path>.1.gz"
};

class rotating_file_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
	// Opens (creating, mode 0640) and appends.
	static result<std::shared_ptr<rotating_file_sink>> open(const rotation_config &cfg);
	~rotating_file_sink() override;

	uint64_t rotations() const { return rotations_; }
	uint64_t write_errors() const { return write_errors_; }
	// One record, as a message with the pattern "%v" is written (the line and
	// a newline, by one write(2)), without spdlog's formatting on the way:
	// the decision log's path for each record. Takes the sink's lock.
	void write_line(std::string_view line);
	// Blocks until background compression and pruning are done.
	void wait_idle();

	// Backup file names, for tests and docs: "<path>.<n>" and "<path>.<n>.gz".
	static std::string backup_name(const std::string &path, unsigned n, bool gz);

protected:
	void sink_it_(const spdlog::details::log_msg &msg) override;
	void flush_() override;

private:
	explicit rotating_file_sink(rotation_config cfg);
	status reopen();
	void rotate();
	void write_all(const char *data, size_t size);
	// With the lock held: rotation, the write, hourly age pruning.
	void write_record(const char *data, size_t size);
	std::string line_; // write_line's buffer (kept: no allocation per record)

	rotation_config cfg_;
	int fd_ = -1;
	uint64_t size_ = 0;
	// Gzip of the newest backup and age pruning run here, off the write path,
	// so a 100 MB compression does not stall the ring buffer reader. It is
	// joined before the next rotation renames anything.
	std::thread background_;
	// A quiet log may not rotate for weeks: age pruning also runs hourly
	// from the write path.
	std::chrono::steady_clock::time_point pruned_at_;
	std::atomic<uint64_t> rotations_{0};
	std::atomic<uint64_t> write_errors_{0};
};

} // namespace ltrack::tracing
