#include "scan_waiter.h"

#include "bpf_guard.h"
#include "model_decision.h"

#include <bpf/bpf.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

namespace ltrack {
namespace {

uint64_t boot_ns()
{
	timespec ts{};
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string fd_target(int fd)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof(buf) - 1);
	return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// A pending entry older than this is not the open an event reports (a thread
// whose pending open failed before fanotify, and whose id was reused).
constexpr uint64_t pending_max_age_ns = 10'000'000'000ull;

} // namespace

scan_wait_answer decide_pending(const ltrack_pending &p, uint64_t size, uint64_t max_bytes,
				std::chrono::milliseconds waited, std::chrono::milliseconds timeout,
				const model_finding *scanned)
{
	scan_wait_answer a;
	if (waited > timeout) {
		a.how = LTRACK_WAIT_TIMEOUT;
		return a;
	}
	if (size > max_bytes) {
		a.how = LTRACK_WAIT_TOO_LARGE;
		return a;
	}
	if (!scanned) {
		a.how = LTRACK_WAIT_NONE; // within the limits: scan it
		return a;
	}
	if (scanned->withheld) {
		a.how = LTRACK_WAIT_FAILED; // a writer holds it: its bytes are not final
		return a;
	}
	a.how = LTRACK_WAIT_SCANNED;
	a.verdict = scanned->scanned.verdict;
	// Only a profile with allow = "safe" has its opens wait (under
	// "unscanned" or "any" an unscanned model is no refusal): its model
	// rule, as lsm/model_decision.h decides it.
	a.allow = ltrack_model_acceptable(LTRACK_MODEL_SAFE_ONLY, p.deny_suspicious, a.verdict);
	return a;
}

ltrack_event pending_record(const ltrack_pending &p, uint32_t tid, const scan_wait_answer &a, const std::string &path,
			    uint64_t now_boot_ns)
{
	ltrack_event e{};
	e.ts_ns = now_boot_ns;
	e.cgroup_id = p.cgroup_id;
	e.pid = p.pid;
	e.tid = tid;
	e.ppid = p.ppid;
	e.uid = p.uid;
	e.gid = p.gid;
	e.profile = p.profile;
	e.rule_id = p.rule_id;
	e.hook = LTRACK_HOOK_MODEL;
	e.action = a.allow ? static_cast<uint8_t>(LTRACK_ACT_ALLOW) : p.action;
	e.mode = p.mode;
	e.outcome = a.allow ? LTRACK_OUT_ALLOWED : LTRACK_OUT_DENIED;
	e.flags = p.flags & LTRACK_EV_SLOT1;
	e.verdict = a.verdict;
	std::memcpy(e.comm, p.comm, sizeof(e.comm));
	e.dev = p.dev;
	e.ino = p.ino;
	std::size_t n = std::min(path.size(), sizeof(e.path) - 1);
	std::memcpy(e.path, path.data(), n);
	e.path[n] = 0;
	e.cred_op = a.how;
	e.count = 1;
	return e;
}

scan_waiter::~scan_waiter()
{
	stop();
}

status scan_waiter::start(bpf_guard &guard, scan_wait_limits limits, std::set<std::string> trusted)
{
	stop();
	guard_ = &guard;
	limits_ = std::move(limits);
	trusted_ = std::move(trusted);
	// FAN_CLASS_CONTENT: permission events. FAN_REPORT_TID: the opening
	// thread, the key of the kernel's "pending" map. The event's descriptor
	// is opened read-only with O_NOATIME: the scan mark of lsm/model.bpf.c.
	fan_fd_ = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_TID,
				O_RDONLY | O_NOATIME | O_LARGEFILE | O_CLOEXEC);
	if (fan_fd_ < 0)
		return libbpf_fail("fanotify_init (scan_at_open)", errno);
	stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	result_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stop_fd_ < 0 || result_fd_ < 0) {
		int e = errno;
		stop();
		return libbpf_fail("eventfd", e);
	}
	stopping_ = false;
	beat(boot_ns());
	reader_ = std::thread([this] { reader(); });
	scanner_ = std::thread([this] { scanner(); });
	return {};
}

void scan_waiter::configure(scan_wait_limits limits, std::set<std::string> trusted)
{
	std::lock_guard lk(mu_);
	limits_ = std::move(limits);
	trusted_ = std::move(trusted);
}

void scan_waiter::beat(uint64_t ns)
{
	ltrack_waiter w{};
	w.beat_ns = ns;
	w.tgid = static_cast<uint32_t>(getpid());
	uint32_t zero = 0;
	if (bpf_map_update_elem(guard_->waiter_fd(), &zero, &w, BPF_ANY) < 0)
		spdlog::error("scan_at_open: writing the heartbeat: {}", std::strerror(errno));
}

void scan_waiter::mark(int dir_fd, const std::string &path)
{
	if (fan_fd_ < 0)
		return;
	struct stat st;
	if (fstat(dir_fd, &st) < 0)
		return;
	if (fanotify_mark(fan_fd_, FAN_MARK_ADD, FAN_OPEN_PERM | FAN_EVENT_ON_CHILD, dir_fd, nullptr) < 0) {
		spdlog::warn("scan_at_open: cannot mark {}: {} (its unscanned files are refused at first open)", path,
			     std::strerror(errno));
		return;
	}
	ltrack_model_key key{kernel_dev(st.st_dev), st.st_ino};
	uint32_t one = 1;
	if (bpf_map_update_elem(guard_->wait_dirs_fd(), &key, &one, BPF_ANY) < 0) {
		spdlog::warn("scan_at_open: listing {}: {}", path, std::strerror(errno));
		return;
	}
	std::lock_guard lk(mu_);
	marked_.insert({key.dev, key.ino});
}

bool scan_waiter::mark_filesystem(const std::string &path)
{
	struct stat st;
	if (fan_fd_ < 0 || stat(path.c_str(), &st) < 0)
		return false;
	if (fanotify_mark(fan_fd_, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_PERM, AT_FDCWD, path.c_str()) < 0) {
		spdlog::debug("scan_at_open: cannot mark the filesystem of {}: {}", path, std::strerror(errno));
		return false;
	}
	ltrack_model_key key{kernel_dev(st.st_dev), 0};
	uint32_t one = 1;
	if (bpf_map_update_elem(guard_->wait_dirs_fd(), &key, &one, BPF_ANY) < 0)
		return false;
	std::lock_guard lk(mu_);
	marked_.insert({key.dev, key.ino});
	return true;
}

void scan_waiter::unmark_all()
{
	if (fan_fd_ >= 0) {
		fanotify_mark(fan_fd_, FAN_MARK_FLUSH, 0, AT_FDCWD, nullptr);
		fanotify_mark(fan_fd_, FAN_MARK_FLUSH | FAN_MARK_FILESYSTEM, 0, AT_FDCWD, nullptr);
	}
	std::lock_guard lk(mu_);
	for (const auto &[dev, ino] : marked_) {
		ltrack_model_key key{dev, ino};
		bpf_map_delete_elem(guard_->wait_dirs_fd(), &key);
	}
	marked_.clear();
}

void scan_waiter::respond(int fd, bool allow)
{
	fanotify_response r{};
	r.fd = fd;
	r.response = allow ? FAN_ALLOW : FAN_DENY;
	if (write(fan_fd_, &r, sizeof(r)) != sizeof(r))
		spdlog::error("scan_at_open: answering an open: {}", std::strerror(errno));
}

void scan_waiter::post(scan_wait_result r)
{
	{
		std::lock_guard lk(mu_);
		results_.push_back(std::move(r));
	}
	uint64_t one = 1;
	[[maybe_unused]] auto n = write(result_fd_, &one, sizeof(one));
}

std::vector<scan_wait_result> scan_waiter::take()
{
	uint64_t v;
	[[maybe_unused]] auto n = read(result_fd_, &v, sizeof(v));
	std::lock_guard lk(mu_);
	std::vector<scan_wait_result> out;
	out.swap(results_);
	return out;
}

void scan_waiter::finish(job &j, const scan_wait_answer &a, std::optional<model_finding> f)
{
	respond(j.fd, a.allow);
	std::string path = f ? f->path : fd_target(j.fd);
	close(j.fd);
	if (a.how == LTRACK_WAIT_SCANNED)
		spdlog::info("scan_at_open: {} {} for pid {} at its first open: {}", path,
			     a.verdict == LTRACK_VERDICT_SAFE ? "safe" : "not safe", j.pending.pid,
			     a.allow ? "allowed" : "refused");
	else
		spdlog::warn("scan_at_open: {} refused unscanned to pid {}: {}", path, j.pending.pid,
			     a.how == LTRACK_WAIT_TOO_LARGE ? "larger than scan_at_open_max_mb"
			     : a.how == LTRACK_WAIT_BUSY    ? "the scan queue is full"
			     : a.how == LTRACK_WAIT_TIMEOUT ? "waited too long in the scan queue"
							    : "not scanned (open for writing, or the scan failed)");
	scan_wait_result r;
	r.event = pending_record(j.pending, j.tid, a, path, boot_ns());
	r.finding = std::move(f);
	post(std::move(r));
}

// Answers every open the kernel did not pass as pending at once; queues the
// pending ones. Never blocks on anything but poll: ltrackd's own opens in the
// model directories (the watcher's scans) wait for this thread too.
void scan_waiter::reader()
{
	uint64_t last_beat = boot_ns();
	alignas(fanotify_event_metadata) char buf[8192];
	// The heartbeat goes out between reads too: a stream of events (anyone
	// opening files in a marked directory) must not let it go stale.
	auto beat_if_due = [&] {
		uint64_t now = boot_ns();
		if (now - last_beat >= 1'000'000'000ull) {
			beat(now);
			last_beat = now;
		}
	};
	while (true) {
		pollfd fds[2] = {{fan_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
		int n = poll(fds, 2, 500);
		beat_if_due();
		if (n < 0 && errno != EINTR)
			break;
		// Stopping: what is still unread is answered once more (pending:
		// FAN_DENY), then the loop ends; closing the group would allow it.
		bool last = fds[1].revents != 0;
		if (!last && (n <= 0 || !(fds[0].revents & POLLIN)))
			continue;
		ssize_t len;
		while ((len = read(fan_fd_, buf, sizeof(buf))) > 0) {
			// Read after the events were queued: every pending entry of this
			// batch was stamped before now (an earlier now would make a fresh
			// entry look 584 years old and let its open through unscanned).
			uint64_t now = boot_ns();
			beat_if_due();
			auto *md = reinterpret_cast<fanotify_event_metadata *>(buf);
			for (; FAN_EVENT_OK(md, len); md = FAN_EVENT_NEXT(md, len)) {
				if (md->vers != FANOTIFY_METADATA_VERSION || md->fd < 0)
					continue; // FAN_Q_OVERFLOW carries no descriptor and wants no answer
				uint32_t tid = static_cast<uint32_t>(md->pid);
				ltrack_pending p{};
				struct stat st {};
				// This thread's open was passed as pending when its entry names
				// this inode and is fresh. The device is not compared: stat's
				// st_dev is not the kernel's s_dev on every filesystem (btrfs
				// subvolumes), and a mismatch here would allow unscanned; an
				// inode-number collision only costs a scan. A fresh entry with
				// this inode that cannot be checked is scanned, never allowed.
				bool have = bpf_map_lookup_elem(guard_->pending_fd(), &tid, &p) == 0;
				bool fresh = have && (p.ts_ns >= now || now - p.ts_ns < pending_max_age_ns);
				bool pending = fresh && (fstat(md->fd, &st) != 0 || st.st_ino == p.ino);
				if (!pending) {
					respond(md->fd, true);
					close(md->fd);
					std::lock_guard lk(mu_);
					allowed_fast_++;
					continue;
				}
				bpf_map_delete_elem(guard_->pending_fd(), &tid);
				spdlog::debug("scan_at_open: thread {} of pid {} waits for the scan of {}", tid, p.pid,
					      fd_target(md->fd));
				job j{md->fd, tid, p, std::chrono::steady_clock::now()};
				std::unique_lock lk(mu_);
				if (stopping_ || queue_.size() >= limits_.queue_max) {
					lk.unlock();
					finish(j, {false, LTRACK_VERDICT_UNSCANNED, LTRACK_WAIT_BUSY}, std::nullopt);
					continue;
				}
				queue_.push_back(j);
				cv_.notify_one();
			}
		}
		if (last)
			break;
	}
}

void scan_waiter::scanner()
{
	while (true) {
		std::unique_lock lk(mu_);
		cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
		if (queue_.empty())
			return; // stopping, nothing left
		job j = queue_.front();
		queue_.pop_front();
		if (stopping_) {
			lk.unlock();
			finish(j, {false, LTRACK_VERDICT_UNSCANNED, LTRACK_WAIT_TIMEOUT}, std::nullopt);
			continue;
		}
		auto it = limits_.max_bytes.find(j.pending.profile);
		uint64_t max = it == limits_.max_bytes.end() ? 0 : it->second;
		auto timeout = limits_.queue_timeout;
		std::set<std::string> trusted = trusted_;
		lk.unlock();

		struct stat st {};
		fstat(j.fd, &st);
		auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
										    j.queued);
		scan_wait_answer a =
			decide_pending(j.pending, static_cast<uint64_t>(st.st_size), max, waited, timeout, nullptr);
		if (a.how != LTRACK_WAIT_NONE) {
			finish(j, a, std::nullopt);
			continue;
		}
		model_finding f;
		std::string path = fd_target(j.fd);
		bool scanned = scan_and_store(*guard_, j.fd, path, trusted, false, f);
		a = decide_pending(j.pending, static_cast<uint64_t>(st.st_size), max, std::chrono::milliseconds(0),
				   timeout, scanned ? &f : nullptr);
		if (a.how == LTRACK_WAIT_NONE)
			a.how = LTRACK_WAIT_FAILED;
		if (!scanned)
			finish(j, a, std::nullopt);
		else
			finish(j, a, std::move(f));
	}
}

void scan_waiter::stop()
{
	if (fan_fd_ < 0 && !reader_.joinable())
		return;
	// The kernel refuses unscanned files again from here on.
	if (guard_)
		beat(0);
	{
		std::lock_guard lk(mu_);
		stopping_ = true;
	}
	cv_.notify_all();
	if (stop_fd_ >= 0) {
		uint64_t one = 1;
		[[maybe_unused]] auto n = write(stop_fd_, &one, sizeof(one));
	}
	if (reader_.joinable())
		reader_.join();
	if (guard_)
		beat(0); // the reader's last heartbeat may have come after the first
	if (scanner_.joinable())
		scanner_.join(); // answers what is queued FAN_DENY
	unmark_all();
	for (int *fd : {&fan_fd_, &stop_fd_, &result_fd_})
		if (*fd >= 0) {
			close(*fd);
			*fd = -1;
		}
}

} // namespace ltrack
