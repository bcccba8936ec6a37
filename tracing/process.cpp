#include "process.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ltrack::tracing {

namespace {

std::string proc_file(uint32_t pid, const char *name)
{
	return "/proc/" + std::to_string(pid) + "/" + name;
}

// Reads at most limit bytes; false (and errno) on failure to open.
bool read_file(const std::string &path, std::string &out, size_t limit)
{
	FILE *f = std::fopen(path.c_str(), "re");
	if (!f)
		return false;
	out.clear();
	char buf[4096];
	while (out.size() < limit) {
		size_t want = std::min(sizeof buf, limit - out.size());
		size_t n = std::fread(buf, 1, want, f);
		if (n == 0)
			break;
		out.append(buf, n);
	}
	int saved = errno;
	bool err = std::ferror(f);
	std::fclose(f);
	errno = saved;
	return !err;
}

std::string errno_note(const char *what)
{
	return std::string(what) + ": " + std::strerror(errno);
}

struct stat_fields {
	std::string comm;
	uint32_t ppid = 0;
	uint64_t start_ticks = 0;
};

// /proc/<pid>/stat: "pid (comm) state ppid ... starttime(22) ...". comm may
// contain spaces and ')', so the fields start after the last ')'.
bool parse_stat(const std::string &text, stat_fields &out)
{
	size_t open = text.find('(');
	size_t close = text.rfind(')');
	if (open == std::string::npos || close == std::string::npos || close < open)
		return false;
	out.comm = text.substr(open + 1, close - open - 1);
	std::istringstream rest(text.substr(close + 1));
	std::string field;
	// Field 3 is the state; ppid is field 4, starttime field 22.
	for (int n = 3; n <= 22 && (rest >> field); ++n) {
		if (n == 4)
			out.ppid = static_cast<uint32_t>(std::strtoul(field.c_str(), nullptr, 10));
		if (n == 22) {
			out.start_ticks = std::strtoull(field.c_str(), nullptr, 10);
			return true;
		}
	}
	return false;
}

bool read_stat(uint32_t pid, stat_fields &out)
{
	std::string text;
	return read_file(proc_file(pid, "stat"), text, 4096) && parse_stat(text, out);
}

uint64_t ticks_to_ns(uint64_t ticks)
{
	static const long hz = sysconf(_SC_CLK_TCK);
	return hz > 0 ? ticks * (1000000000ull / static_cast<uint64_t>(hz)) : 0;
}

bool read_link(const std::string &path, std::string &out)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path.c_str(), buf, sizeof buf);
	if (n < 0)
		return false;
	out.assign(buf, static_cast<size_t>(n));
	return true;
}

// The real id from a "Uid:\treal\teffective\tsaved\tfs" line.
bool status_id(const std::string &status, const char *key, uint32_t &out)
{
	size_t at = status.find(key);
	if (at == std::string::npos)
		return false;
	out = static_cast<uint32_t>(std::strtoul(status.c_str() + at + std::strlen(key), nullptr, 10));
	return true;
}

// The cgroup v2 line ("0::/path"); on a v1-only host, systemd's name= line.
bool parse_cgroup(const std::string &text, std::string &path)
{
	std::istringstream lines(text);
	std::string line, fallback;
	while (std::getline(lines, line)) {
		if (line.starts_with("0::")) {
			path = line.substr(3);
			return true;
		}
		size_t at = line.find(":name=systemd:");
		if (at != std::string::npos)
			fallback = line.substr(at + 14);
	}
	if (fallback.empty())
		return false;
	path = fallback;
	return true;
}

uint64_t cgroup_inode(const std::string &path)
{
	// Pure v2 mounts at /sys/fs/cgroup; hybrid hosts at .../unified.
	for (const char *root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
		struct stat st;
		if (stat((std::string(root) + path).c_str(), &st) == 0 && S_ISDIR(st.st_mode))
			return st.st_ino;
	}
	return 0;
}

} // namespace

uint64_t read_start_boot_ns(uint32_t pid)
{
	stat_fields f;
	return read_stat(pid, f) ? ticks_to_ns(f.start_ticks) : 0;
}

process_info read_process(uint32_t pid, const read_options &opt)
{
	process_info p;
	p.pid = pid;

	stat_fields st;
	if (!read_stat(pid, st)) {
		if (errno == ENOENT || errno == ESRCH)
			p.exited = true;
		p.unreadable.push_back(errno_note("stat"));
		return p; // nothing else can belong to this pid reliably
	}
	p.comm = st.comm;
	p.ppid = st.ppid;
	p.start_boot_ns = ticks_to_ns(st.start_ticks);

	std::string text;
	if (read_file(proc_file(pid, "status"), text, 8192)) {
		status_id(text, "\nUid:", p.uid);
		status_id(text, "\nGid:", p.gid);
	} else {
		p.unreadable.push_back(errno_note("status"));
	}

	// Kernel threads and zombies have no exe: not an error worth reporting
	// beyond the note.
	if (!read_link(proc_file(pid, "exe"), p.exe))
		p.unreadable.push_back(errno_note("exe"));

	// One byte more than the bound tells truncation apart from an exact fit.
	if (read_file(proc_file(pid, "cmdline"), text, opt.cmdline_max + 1)) {
		if (text.size() > opt.cmdline_max) {
			text.resize(opt.cmdline_max);
			p.cmdline_truncated = true;
		}
		while (!text.empty() && text.back() == '\0')
			text.pop_back();
		for (char &c : text)
			if (c == '\0')
				c = ' ';
		p.cmdline = std::move(text);
	} else {
		p.unreadable.push_back(errno_note("cmdline"));
	}

	if (read_file(proc_file(pid, "cgroup"), text, 65536) && parse_cgroup(text, p.cgroup_path)) {
		p.cgroup_id = cgroup_inode(p.cgroup_path);
		p.container = parse_container(p.cgroup_path);
	} else {
		p.unreadable.push_back(errno_note("cgroup"));
	}

	uint32_t up = p.ppid;
	for (size_t depth = 0; up != 0 && depth < opt.max_ancestry; ++depth) {
		stat_fields a;
		if (!read_stat(up, a))
			break; // the parent is gone: the chain ends here
		ancestor anc;
		anc.pid = up;
		if (!read_link(proc_file(up, "exe"), anc.exe))
			anc.exe = "[" + a.comm + "]";
		p.ancestry.push_back(std::move(anc));
		up = a.ppid;
	}

	// Everything above raced with exit and pid reuse: a different start time
	// now means some of it may describe another process.
	stat_fields again;
	if (!read_stat(pid, again)) {
		p.exited = true;
		p.unreadable.push_back("process exited while being read");
	} else if (again.start_ticks != st.start_ticks) {
		p.exited = true;
		p.unreadable.push_back("pid reused while being read");
	}
	return p;
}

} // namespace ltrack::tracing
