#include "model_watch.h"

#include "bpf_guard.h"
#include "sha256.h"

#include <spdlog/spdlog.h>

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csetjmp>
#include <csignal>
#include <cstring>
#include <mutex>

namespace ltrack {
namespace {

// scan_file maps the file; if another process truncates it mid-scan, the
// next read of a vanished page raises SIGBUS. The daemon must not die of
// that: the scan is abandoned (its mapping leaks, a rare and bounded cost)
// and the file stays unscanned until it is written again. SIGBUS goes to
// the thread that faulted: each scanning thread (the watcher's, the scan
// waiter's) has its own jump, and the handler stays installed.
thread_local sigjmp_buf *scan_jump = nullptr;

void on_sigbus(int)
{
	if (scan_jump)
		siglongjmp(*scan_jump, 1);
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

// name: the file's own name (a .pth is read as a site file, scanner.h).
bool guarded_scan(const std::string &path, std::string_view name, scanner::scan_result &out)
{
	static std::once_flag installed;
	std::call_once(installed, [] {
		struct sigaction sa {};
		sa.sa_handler = on_sigbus;
		sigaction(SIGBUS, &sa, nullptr);
	});
	sigjmp_buf jb;
	bool ok = true;
	if (sigsetjmp(jb, 1) == 0) {
		scan_jump = &jb;
		out = scanner::scan_file(path, {}, name);
	} else {
		ok = false;
	}
	scan_jump = nullptr;
	return ok;
}

// How the daemon opens a file to scan it: read-only with O_NOATIME, the
// mark lsm/model.bpf.c knows a scan's open by (it notes the content
// generation then). O_NOATIME needs CAP_FOWNER for others' files: ltrackd
// runs as root.
constexpr int scan_open_flags = O_RDONLY | O_NOATIME;

// Opens rel below the model directory root_fd without following any
// symlink and without leaving it ("" is the directory itself).
int open_beneath(int root_fd, const std::string &rel, uint64_t flags)
{
	open_how how{};
	// openat2 refuses O_PATH with flags that O_PATH ignores.
	how.flags = flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY | O_NONBLOCK);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return static_cast<int>(syscall(SYS_openat2, root_fd, rel.empty() ? "." : rel.c_str(), &how, sizeof(how)));
}

std::string fd_path(int fd)
{
	return "/proc/self/fd/" + std::to_string(fd);
}

bool vouches(uint32_t verdict)
{
	return verdict == LTRACK_VERDICT_SAFE || verdict == LTRACK_VERDICT_TRUSTED;
}

struct fd_closer {
	int fd;
	~fd_closer()
	{
		if (fd >= 0)
			close(fd);
	}
};

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
	for (int fd : root_fds_)
		if (fd >= 0)
			close(fd);
	root_fds_.clear();
	roots_.clear();
}

status model_watch::start(bpf_guard &guard, const std::vector<std::string> &dirs, const std::set<std::string> &trusted)
{
	stop();
	guard_ = &guard;
	trusted_ = trusted;
	inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (inotify_fd_ < 0)
		return libbpf_fail("inotify_init1", errno);
	for (const auto &d : dirs) {
		// The directory itself as the policy names it (symlinks in that
		// path are the administrator's); nothing below it is followed.
		int fd = open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			spdlog::warn("models: cannot open {}: {}", d, std::strerror(errno));
			continue;
		}
		roots_.push_back(d);
		root_fds_.push_back(fd);
		add_tree(static_cast<int>(roots_.size()) - 1, "");
	}
	return {};
}

void model_watch::add_tree(int root, const std::string &rel)
{
	std::string dir = rel.empty() ? roots_[root] : roots_[root] + "/" + rel;
	if (progress_)
		progress_(dir, findings_.size());
	fd_closer d{open_beneath(root_fds_[root], rel, O_RDONLY | O_DIRECTORY)};
	if (d.fd < 0) {
		spdlog::warn("models: not watching {}: {}", dir, std::strerror(errno));
		return;
	}
	// Close-after-write and rename-into are the moments a model's content
	// is final; new subdirectories are watched too. The watch is placed on
	// the directory just opened (its /proc/self/fd link), not on a path
	// that could have been swapped for a symlink since.
	int wd = inotify_add_watch(inotify_fd_, fd_path(d.fd).c_str(),
				   IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB | IN_ONLYDIR);
	if (wd < 0) {
		spdlog::warn("models: cannot watch {}: {}", dir, std::strerror(errno));
		return;
	}
	watches_[wd] = {root, rel};
	if (on_dir_)
		on_dir_(d.fd, dir);
	int list_fd = dup(d.fd);
	DIR *ls = list_fd >= 0 ? fdopendir(list_fd) : nullptr;
	if (!ls) {
		if (list_fd >= 0)
			close(list_fd);
		return;
	}
	std::vector<std::string> subdirs, files;
	while (dirent *e = readdir(ls)) {
		if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(d.fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		std::string sub = rel.empty() ? e->d_name : rel + "/" + e->d_name;
		if (S_ISDIR(st.st_mode))
			subdirs.push_back(sub);
		else if (S_ISREG(st.st_mode))
			files.push_back(sub);
	}
	closedir(ls);
	for (const auto &f : files)
		scan_below(root, f);
	for (const auto &s : subdirs)
		add_tree(root, s);
}

void model_watch::scan_below(int root, const std::string &rel)
{
	// A symlink (anywhere below the model directory) fails with ELOOP: its
	// target gets no verdict from being named here.
	fd_closer f{open_beneath(root_fds_[root], rel, scan_open_flags)};
	if (f.fd >= 0)
		scan_fd(f.fd, roots_[root] + "/" + rel, root, rel, false);
}

const model_finding *model_watch::scan_path(const std::string &path, bool only_models)
{
	fd_closer f{open(path.c_str(), scan_open_flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
	return f.fd < 0 ? nullptr : scan_fd(f.fd, path, -1, "", only_models);
}

bool scan_and_store(bpf_guard &guard, int fd, const std::string &path, const std::set<std::string> &trusted,
		    bool only_models, model_finding &f)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	ltrack_content content{};
	if (!guard.model_content(fd, content)) {
		spdlog::warn("models: {}: the kernel noted no content generation at the daemon's open; not scanned "
			     "(the policy must be applied by this process first)",
			     path);
		return false;
	}
	scanner::scan_result r;
	if (!guarded_scan(fd_path(fd), std::string_view(path).substr(path.rfind('/') + 1), r)) {
		spdlog::warn("models: {} was truncated while being scanned; it stays unscanned", path);
		return false;
	}
	if (only_models && r.fmt == scanner::format::unknown)
		return false;
	if (r.verdict != LTRACK_VERDICT_SAFE && !trusted.empty()) {
		// A digest that cannot be read trusts nothing.
		result<std::string> digest = scanner::sha256_file(fd_path(fd));
		if (digest && trusted.count(*digest))
			r.verdict = LTRACK_VERDICT_TRUSTED;
	}

	ltrack_model_key key{kernel_dev(st.st_dev), st.st_ino};
	f.path = path;
	f.dev = key.dev;
	f.ino = key.ino;
	// Bytes read while someone may still be writing them are no verdict,
	// good or bad: a writer that opened before this scan's open (writers)
	// writes on without passing any hook, and one that opened since moved
	// the content generation. A half-written model (a download into its
	// final name, seen at IN_CREATE) is a truncated pickle, `error`; stored,
	// that bad verdict would refuse the finished file until the rescan after
	// the close. So nothing is stored until the writers are gone: the
	// close-after-write event (or recheck) scans again, and under
	// scan_at_open a governed open meanwhile waits for the scan waiter's own
	// scan of the final bytes.
	ltrack_content after{};
	bool moved = guard.model_content(fd, after) && after.gen != content.scan_gen;
	f.withheld = content.writers || moved;
	if (f.withheld) {
		// A bad verdict stored before stays (a rewrite must not make a
		// refused file openable before ltrackd has read the new bytes):
		// only a clean scan replaces it. A safe one no longer holds.
		ltrack_model_val old{};
		if (guard.model_verdict(key, old) && vouches(old.verdict))
			if (status s = guard.clear_model_verdict(key); !s.ok())
				spdlog::error("models: {}: was rewritten but its old verdict still vouches for it: {}; "
					      "restart ltrackd",
					      path, s.error);
		f.scanned = {};
		spdlog::info("models: {}: {} {}, but {}: no verdict stored until it is closed", path,
			     scanner::format_name(r.fmt), scanner::verdict_name(r.verdict),
			     content.writers ? "open for writing elsewhere" : "written while being scanned");
	} else {
		ltrack_model_val val{};
		val.verdict = r.verdict;
		val.content_gen = content.scan_gen;
		if (status s = guard.set_model_verdict(key, val); !s.ok())
			spdlog::error("models: {}: {}", path, s.error);
		f.scanned = val;
		spdlog::info("models: {}: {} {}{}", path, scanner::format_name(r.fmt), scanner::verdict_name(r.verdict),
			     r.deciding.empty() ? "" : " (" + r.deciding.front() + ")");
	}
	f.result = std::move(r);
	return true;
}

// fd was opened just now by this process: lsm/model.bpf.c has noted the
// content generation at that open and whether a writer held the file. The
// scan reads the same inode (through /proc/self/fd), after that open, so a
// write that begins later moves the generation past the one stored here.
const model_finding *model_watch::scan_fd(int fd, const std::string &path, int root, const std::string &rel,
					  bool only_models)
{
	model_finding found;
	if (!scan_and_store(*guard_, fd, path, trusted_, only_models, found))
		return nullptr;
	found.root = root >= 0 ? roots_[root] : std::string();
	found.rel = rel;
	scans_by_verdict_[std::string(scanner::verdict_name(found.scanned.verdict))]++;
	auto &f = findings_[{found.dev, found.ino}];
	f = std::move(found);
	return &f;
}

void model_watch::adopt(model_finding f)
{
	scans_by_verdict_[std::string(scanner::verdict_name(f.scanned.verdict))]++;
	findings_[{f.dev, f.ino}] = std::move(f);
}

void model_watch::recheck()
{
	struct again {
		std::string path;
		int root;
		std::string rel;
	};
	std::vector<again> stale;
	for (const auto &[id, f] : findings_) {
		// Found under a model directory: still one (a reload may have
		// dropped it)?
		int root = -1;
		if (!f.root.empty()) {
			auto it = std::find(roots_.begin(), roots_.end(), f.root);
			if (it == roots_.end())
				continue;
			root = static_cast<int>(it - roots_.begin());
		}
		// An O_PATH open runs no file_open hook: it reads the generation
		// without noting a scan. A withheld file is opened as for a scan
		// instead, which notes whether its writers are still there.
		uint64_t flags = f.withheld ? scan_open_flags : O_PATH;
		fd_closer fd{root >= 0 ? open_beneath(root_fds_[root], f.rel, flags)
				       : open(f.path.c_str(), static_cast<int>(flags) | O_CLOEXEC | O_NONBLOCK)};
		struct stat st;
		if (fd.fd < 0 || fstat(fd.fd, &st) != 0 || kernel_dev(st.st_dev) != id.first || st.st_ino != id.second)
			continue; // gone or replaced: the directory watch sees those
		ltrack_content c{};
		bool known = guard_->model_content(fd.fd, c);
		if (f.withheld ? !(known && c.writers) : (!known || c.gen != f.scanned.content_gen))
			stale.push_back({f.path, root, f.rel});
	}
	for (const auto &s : stale) {
		if (s.root >= 0)
			scan_below(s.root, s.rel);
		else
			scan_path(s.path);
	}
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
			auto [root, dir] = it->second;
			std::string rel = dir.empty() ? std::string(ev->name) : dir + "/" + ev->name;
			if (ev->mask & IN_ISDIR) {
				if (ev->mask & (IN_CREATE | IN_MOVED_TO))
					add_tree(root, rel);
				continue;
			}
			// IN_CREATE covers a hard link made into the directory (no write
			// follows), and a symlink, which scan_below refuses to follow.
			if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB | IN_CREATE))
				scan_below(root, rel);
		}
	}
}

} // namespace ltrack
