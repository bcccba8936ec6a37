#include "rotating_file_sink.h"

#include "unique_fd.h"

#include <spdlog/spdlog.h>
#include <zlib.h>

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <vector>

namespace fs = std::filesystem;

namespace ltrack::tracing {

namespace {

struct backup {
	unsigned index;
	bool gz;
	fs::path path;
};

// Every "<name>.<n>" and "<name>.<n>.gz" next to the log, whatever gaps
// age pruning left.
std::vector<backup> list_backups(const std::string &log_path)
{
	std::vector<backup> out;
	fs::path p(log_path);
	fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
	std::string prefix = p.filename().string() + ".";
	std::error_code ec;
	for (const fs::directory_entry &e : fs::directory_iterator(dir, ec)) {
		std::string name = e.path().filename().string();
		if (!name.starts_with(prefix))
			continue;
		std::string rest = name.substr(prefix.size());
		bool gz = rest.ends_with(".gz");
		if (gz)
			rest.resize(rest.size() - 3);
		if (rest.empty() || rest.size() > 9 ||
		    !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
			continue;
		unsigned n = static_cast<unsigned>(std::stoul(rest));
		if (n == 0)
			continue;
		out.push_back({n, gz, e.path()});
	}
	std::sort(out.begin(), out.end(), [](const backup &a, const backup &b) { return a.index > b.index; });
	return out;
}

// gzip src into dst via a temporary name, then remove src. On failure src
// stays as it is: an uncompressed backup beats a lost one.
status gzip_file(const std::string &src, const std::string &dst)
{
	std::string tmp = dst + ".tmp";
	unique_fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
	if (!in)
		return status::from_errno("open " + src);
	gzFile out = gzopen(tmp.c_str(), "wb6");
	if (!out)
		return status::from_errno("create " + tmp);
	std::vector<char> buf(1 << 16);
	status done;
	for (;;) {
		ssize_t n = ::read(in.get(), buf.data(), buf.size());
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			done = status::from_errno("read " + src);
			break;
		}
		if (n == 0)
			break;
		if (gzwrite(out, buf.data(), static_cast<unsigned>(n)) != n) {
			int zerr;
			done = status::fail("write " + tmp + ": " + gzerror(out, &zerr));
			break;
		}
	}
	in.reset();
	if (gzclose(out) != Z_OK && done.ok())
		done = status::from_errno("close " + tmp);
	if (done.ok() && ::rename(tmp.c_str(), dst.c_str()) != 0)
		done = status::from_errno("rename " + tmp);
	if (!done.ok()) {
		::unlink(tmp.c_str());
		return done;
	}
	::unlink(src.c_str());
	return {};
}

void prune_by_age(const std::string &log_path, uint32_t max_age_days)
{
	if (max_age_days == 0)
		return;
	auto limit = fs::file_time_type::clock::now() - std::chrono::hours(24) * max_age_days;
	for (const backup &b : list_backups(log_path)) {
		std::error_code ec;
		fs::file_time_type t = fs::last_write_time(b.path, ec);
		if (!ec && t < limit)
			fs::remove(b.path, ec);
	}
}

// Under the shipped unit (ProtectSystem=strict) only /var/log/ltrack is
// writable: another [log].output_path needs its directory added.
const char *const read_only_hint =
	" (a read-only file system: under the ltrackd service only /var/log/ltrack is writable; add the "
	"directory with `systemctl edit ltrackd`, [Service] ReadWritePaths=DIR, or set [log].output_path "
	"there)";

// A missing log directory is created as daemons create theirs: 0750, group
// adm where it exists (Debian's group for reading logs), so a log shipper in
// adm reads the decisions and nobody else does. Its parents must exist.
status ensure_log_dir(const fs::path &dir)
{
	if (dir.empty())
		return {};
	struct stat st;
	if (stat(dir.c_str(), &st) == 0)
		return {};
	if (errno != ENOENT || mkdir(dir.c_str(), 0750) < 0) {
		int e = errno;
		return status::fail("decision log: cannot create the directory " + dir.string() + ": " +
					    std::strerror(e) +
					    (e == EROFS ? read_only_hint
							: " (create it, or set [log].output_path to a writable place)"),
				    e);
	}
	if (const struct group *adm = getgrnam("adm"))
		if (chown(dir.c_str(), 0, adm->gr_gid) < 0)
			spdlog::warn("decision log: {} created, but not given to group adm: {}", dir.string(),
				     std::strerror(errno));
	return {};
}

} // namespace

std::string rotating_file_sink::backup_name(const std::string &path, unsigned n, bool gz)
{
	return path + "." + std::to_string(n) + (gz ? ".gz" : "");
}

rotating_file_sink::rotating_file_sink(rotation_config cfg) : cfg_(std::move(cfg))
{
}

result<std::shared_ptr<rotating_file_sink>> rotating_file_sink::open(const rotation_config &cfg)
{
	if (cfg.path.empty())
		return status::fail("decision log: no output path", EINVAL);
	std::shared_ptr<rotating_file_sink> sink(new rotating_file_sink(cfg));
	if (status s = sink->reopen(); !s.ok())
		return s;
	// A crash mid-compression leaves a temporary behind: it is incomplete.
	std::error_code ec;
	fs::remove(backup_name(cfg.path, 1, true) + ".tmp", ec);
	prune_by_age(cfg.path, cfg.max_age_days);
	sink->pruned_at_ = std::chrono::steady_clock::now();
	return sink;
}

rotating_file_sink::~rotating_file_sink()
{
	if (background_.joinable())
		background_.join();
	if (fd_ >= 0)
		::close(fd_);
}

status rotating_file_sink::reopen()
{
	if (fd_ >= 0)
		::close(fd_);
	fd_ = -1;
	if (status s = ensure_log_dir(fs::path(cfg_.path).parent_path()); !s.ok())
		return s;
	// A new log file takes its directory's group (adm above), mode 0640.
	bool created = true;
	fd_ = ::open(cfg_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd_ < 0 && errno == EEXIST) {
		created = false;
		fd_ = ::open(cfg_.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
	}
	struct stat dir_st;
	if (fd_ >= 0 && created && stat(fs::path(cfg_.path).parent_path().c_str(), &dir_st) == 0)
		(void)fchown(fd_, (uid_t)-1, dir_st.st_gid);
	if (fd_ < 0) {
		int e = errno;
		return status::fail("decision log: cannot open " + cfg_.path + ": " + std::strerror(e) +
					    (e == EROFS
						     ? read_only_hint
						     : " (check that the directory exists and is writable by ltrackd)"),
				    e);
	}
	struct stat st;
	size_ = fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
	return {};
}

void rotating_file_sink::wait_idle()
{
	std::lock_guard lock(mutex_);
	if (background_.joinable())
		background_.join();
}

void rotating_file_sink::rotate()
{
	if (background_.joinable())
		background_.join();

	// Shift "<path>.n[.gz]" to n+1, newest last so nothing is overwritten,
	// and drop what would pass max_backups.
	std::error_code ec;
	for (const backup &b : list_backups(cfg_.path)) {
		if (cfg_.max_backups != 0 && b.index >= cfg_.max_backups)
			fs::remove(b.path, ec);
		else
			fs::rename(b.path, backup_name(cfg_.path, b.index + 1, b.gz), ec);
	}
	std::string first = backup_name(cfg_.path, 1, false);
	if (::rename(cfg_.path.c_str(), first.c_str()) != 0) {
		spdlog::error("decision log: rotate {}: {}; continuing in the same file", cfg_.path,
			      std::strerror(errno));
		return;
	}
	if (status s = reopen(); !s.ok()) {
		// Nowhere to write: the next write counts as an error and retries.
		spdlog::error("{}", s.error);
		fd_ = -1;
	}
	rotations_++;

	rotation_config cfg = cfg_;
	background_ = std::thread([cfg, first] {
		if (cfg.compress)
			if (status s = gzip_file(first, backup_name(cfg.path, 1, true)); !s.ok())
				spdlog::error("decision log: compress {}: {}; kept uncompressed", first, s.error);
		prune_by_age(cfg.path, cfg.max_age_days);
	});
}

void rotating_file_sink::write_all(const char *data, size_t size)
{
	if (fd_ < 0) {
		if (!reopen().ok()) { // counted, and tried again at the next write
			fd_ = -1;
			write_errors_++;
			return;
		}
	}
	while (size > 0) {
		ssize_t n = ::write(fd_, data, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			write_errors_++;
			return;
		}
		data += n;
		size -= static_cast<size_t>(n);
		size_ += static_cast<uint64_t>(n);
	}
}

void rotating_file_sink::sink_it_(const spdlog::details::log_msg &msg)
{
	spdlog::memory_buf_t line;
	formatter_->format(msg, line);
	write_record(line.data(), line.size());
}

void rotating_file_sink::write_line(std::string_view line)
{
	std::lock_guard lock(mutex_);
	line_.assign(line);
	line_ += '\n';
	write_record(line_.data(), line_.size());
}

void rotating_file_sink::write_record(const char *data, size_t size)
{
	// A record larger than max_bytes gets a file of its own rather than
	// being split.
	if (cfg_.max_bytes != 0 && size_ > 0 && size_ + size > cfg_.max_bytes)
		rotate();
	write_all(data, size);
	auto now = std::chrono::steady_clock::now();
	if (cfg_.max_age_days != 0 && now - pruned_at_ > std::chrono::hours(1)) {
		pruned_at_ = now;
		if (background_.joinable())
			background_.join(); // it prunes the same files
		prune_by_age(cfg_.path, cfg_.max_age_days);
	}
}

void rotating_file_sink::flush_()
{
	// Nothing is buffered: each record is already in the kernel. fdatasync
	// here would cost a disk flush per flush_on() record.
}

} // namespace ltrack::tracing
