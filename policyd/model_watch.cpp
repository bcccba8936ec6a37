#include "model_watch.h"

#include "bpf_guard.h"
#include "sha256.h"

#include <spdlog/spdlog.h>

#include <dirent.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csetjmp>
#include <csignal>
#include <cstring>

namespace ltrack {
namespace {

// scan_file maps the file; if another process truncates it mid-scan, the
// next read of a vanished page raises SIGBUS. The daemon must not die of
// that: the scan is abandoned (its mapping leaks, a rare and bounded cost)
// and the file stays unscanned until it is written again.
sigjmp_buf *scan_jump = nullptr;

void on_sigbus(int)
{
	if (scan_jump)
		siglongjmp(*scan_jump, 1);
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

bool guarded_scan(const std::string &path, scanner::scan_result &out)
{
	struct sigaction sa {}, old {};
	sa.sa_handler = on_sigbus;
	sigaction(SIGBUS, &sa, &old);
	sigjmp_buf jb;
	bool ok = true;
	if (sigsetjmp(jb, 1) == 0) {
		scan_jump = &jb;
		out = scanner::scan_file(path);
	} else {
		ok = false;
	}
	scan_jump = nullptr;
	sigaction(SIGBUS, &old, nullptr);
	return ok;
}

} // namespace

uint64_t kernel_dev(uint64_t st_dev)
{
	return (static_cast<uint64_t>(major(st_dev)) << 20) | minor(st_dev);
}

model_watch::~model_watch()
{
	stop();
}

void model_watch::stop()
{
	if (inotify_fd_ >= 0)
		close(inotify_fd_);
	inotify_fd_ = -1;
	watches_.clear();
}

status model_watch::start(bpf_guard &guard, const std::vector<std::string> &dirs,
			  const std::set<std::string> &trusted)
{
	stop();
	guard_ = &guard;
	trusted_ = trusted;
	inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (inotify_fd_ < 0)
		return libbpf_fail("inotify_init1", errno);
	for (const auto &d : dirs)
		add_tree(d);
	return {};
}

void model_watch::add_tree(const std::string &dir)
{
	// Close-after-write and rename-into are the moments a model's content
	// is final; new subdirectories are watched too.
	int wd = inotify_add_watch(inotify_fd_, dir.c_str(),
				   IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB | IN_ONLYDIR);
	if (wd < 0) {
		spdlog::warn("models: cannot watch {}: {}", dir, std::strerror(errno));
		return;
	}
	watches_[wd] = dir;
	DIR *d = opendir(dir.c_str());
	if (!d)
		return;
	std::vector<std::string> subdirs, files;
	while (dirent *e = readdir(d)) {
		if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, ".."))
			continue;
		std::string p = dir + "/" + e->d_name;
		struct stat st;
		if (lstat(p.c_str(), &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			subdirs.push_back(p);
		else if (S_ISREG(st.st_mode))
			files.push_back(p);
	}
	closedir(d);
	for (const auto &f : files)
		scan_path(f);
	for (const auto &s : subdirs)
		add_tree(s);
}

const model_finding *model_watch::scan_path(const std::string &path, bool only_models)
{
	struct stat before, after;
	if (stat(path.c_str(), &before) < 0 || !S_ISREG(before.st_mode))
		return nullptr;
	scanner::scan_result r;
	if (!guarded_scan(path, r)) {
		spdlog::warn("models: {} was truncated while being scanned; it stays unscanned", path);
		return nullptr;
	}
	if (only_models && r.fmt == scanner::format::unknown)
		return nullptr;
	if (r.verdict != LTRACK_VERDICT_SAFE && !trusted_.empty() && trusted_.count(scanner::sha256_file(path)))
		r.verdict = LTRACK_VERDICT_TRUSTED;
	if (stat(path.c_str(), &after) < 0)
		return nullptr;
	// Written while we read it: the verdict may describe neither version.
	// Leave it unscanned; the close-after-write event brings it back.
	if (after.st_size != before.st_size || after.st_ctim.tv_sec != before.st_ctim.tv_sec ||
	    after.st_ctim.tv_nsec != before.st_ctim.tv_nsec)
		return nullptr;

	ltrack_model_key key{kernel_dev(after.st_dev), after.st_ino};
	ltrack_model_val val{};
	val.verdict = r.verdict;
	val.size = after.st_size;
	val.ctime_sec = after.st_ctim.tv_sec;
	val.ctime_nsec = after.st_ctim.tv_nsec;
	if (status s = guard_->set_model_verdict(key, val); !s.ok())
		spdlog::error("models: {}: {}", path, s.error);
	spdlog::info("models: {}: {} {}{}", path, scanner::format_name(r.fmt), scanner::verdict_name(r.verdict),
		     r.deciding.empty() ? "" : " (" + r.deciding.front() + ")");
	auto &f = findings_[{key.dev, key.ino}];
	f.path = path;
	f.result = std::move(r);
	f.scanned = val;
	return &f;
}

void model_watch::recheck()
{
	std::vector<std::string> stale;
	for (const auto &[id, f] : findings_) {
		struct stat st;
		if (stat(f.path.c_str(), &st) != 0 || kernel_dev(st.st_dev) != id.first || st.st_ino != id.second)
			continue; // gone or replaced: the directory watch sees those
		if (st.st_size != f.scanned.size || st.st_ctim.tv_sec != f.scanned.ctime_sec ||
		    st.st_ctim.tv_nsec != f.scanned.ctime_nsec)
			stale.push_back(f.path);
	}
	for (const auto &p : stale)
		scan_path(p);
}

const model_finding *model_watch::find(uint64_t dev, uint64_t ino) const
{
	auto it = findings_.find({dev, ino});
	return it == findings_.end() ? nullptr : &it->second;
}

void model_watch::handle_events()
{
	alignas(inotify_event) char buf[16 * (sizeof(inotify_event) + NAME_MAX + 1)];
	while (true) {
		ssize_t n = read(inotify_fd_, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			auto *ev = reinterpret_cast<inotify_event *>(p);
			p += sizeof(inotify_event) + ev->len;
			auto it = watches_.find(ev->wd);
			if (it == watches_.end() || ev->len == 0)
				continue;
			std::string path = it->second + "/" + ev->name;
			if (ev->mask & IN_ISDIR) {
				if (ev->mask & (IN_CREATE | IN_MOVED_TO))
					add_tree(path);
				continue;
			}
			// IN_CREATE covers a hard link made into the directory (no write follows).
			if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB | IN_CREATE))
				scan_path(path);
		}
	}
}

} // namespace ltrack
