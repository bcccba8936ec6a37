#include "process_tracer.h"

#include "abi.h"
#include "tracer.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

namespace ltrack::tracing {

struct process_tracer::state {
	struct tracer *skel = nullptr;
	ring_buffer *rb = nullptr;
	process_cache *cache = nullptr;
	~state()
	{
		ring_buffer__free(rb);
		tracer__destroy(skel);
	}
};

process_tracer::process_tracer() : s_(std::make_unique<state>())
{
}
process_tracer::~process_tracer() = default;

namespace {

// /proc/<pid>/stat reports the start time in clock ticks; round the
// kernel's nanoseconds the same way so both name the same process.
uint64_t as_proc_start(uint64_t ns)
{
	static const uint64_t tick = 1000000000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
	return ns / tick * tick;
}

std::string args_text(const ltrack_proc_event &e, std::size_t max)
{
	std::string out(e.args, e.args_len);
	while (!out.empty() && out.back() == '\0')
		out.pop_back();
	for (char &c : out)
		if (c == '\0')
			c = ' ';
	if (out.size() > max)
		out.resize(max);
	return out;
}

} // namespace

int process_tracer::on_event(void *ctx, void *data, size_t size)
{
	auto *self = static_cast<process_tracer *>(ctx);
	process_cache &cache = *self->s_->cache;
	// Fork and exit records are small (ltrack_proc_life), exec records
	// whole; every record starts with its type.
	if (size < sizeof(ltrack_proc_life))
		return 0;
	uint32_t type;
	std::memcpy(&type, static_cast<const char *>(data) + offsetof(ltrack_proc_life, type), sizeof(type));
	if (type == LTRACK_PROC_FORK || type == LTRACK_PROC_EXIT) {
		ltrack_proc_life l;
		std::memcpy(&l, data, sizeof(l));
		if (type == LTRACK_PROC_FORK)
			cache.on_fork(l.ppid, l.pid);
		else
			cache.on_exit(l.pid);
		return 0;
	}
	if (type != LTRACK_PROC_EXEC || size < sizeof(ltrack_proc_event))
		return 0;
	ltrack_proc_event e;
	std::memcpy(&e, data, sizeof(e));
	e.exe[sizeof(e.exe) - 1] = 0;
	e.comm[sizeof(e.comm) - 1] = 0;
	if (e.args_len > sizeof(e.args))
		e.args_len = 0;
	process_info info;
	info.pid = e.pid;
	info.ppid = e.ppid;
	info.uid = e.uid;
	info.gid = e.gid;
	info.comm = e.comm;
	info.exe = e.exe;
	info.cmdline = args_text(e, 1024);
	info.cmdline_truncated = e.args_len >= LTRACK_ARGS_LEN - 1;
	info.start_boot_ns = as_proc_start(e.start_boot_ns);
	info.cgroup_id = e.cgroup_id;
	cache.on_exec_event(std::move(info));
	return 0;
}

std::string process_tracer::start(process_cache &cache)
{
	s_->cache = &cache;
	// libbpf finds a tracepoint's id in tracefs; mount it where a minimal
	// system (an initramfs, a container host without systemd) has not.
	struct stat st;
	if (stat("/sys/kernel/tracing/events", &st) != 0 && stat("/sys/kernel/debug/tracing/events", &st) != 0)
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr);
	s_->skel = tracer__open_and_load();
	if (!s_->skel)
		return std::string("loading the process tracepoints: ") + std::strerror(errno);
	if (int err = tracer__attach(s_->skel); err < 0)
		return std::string("attaching the process tracepoints: ") + std::strerror(-err);
	s_->rb = ring_buffer__new(bpf_map__fd(s_->skel->maps.proc_events), on_event, this, nullptr);
	if (!s_->rb)
		return std::string("opening the process event ring: ") + std::strerror(errno);
	return {};
}

int process_tracer::fd() const
{
	return s_->rb ? ring_buffer__epoll_fd(s_->rb) : -1;
}

void process_tracer::poll()
{
	if (s_->rb)
		ring_buffer__consume(s_->rb);
}

uint64_t process_tracer::drops() const
{
	if (!s_->skel)
		return 0;
	int ncpu = libbpf_num_possible_cpus();
	std::vector<uint64_t> v(ncpu > 0 ? ncpu : 1);
	uint32_t zero = 0;
	uint64_t total = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(s_->skel->maps.proc_drops), &zero, v.data()) == 0)
		for (uint64_t x : v)
			total += x;
	return total;
}

} // namespace ltrack::tracing
