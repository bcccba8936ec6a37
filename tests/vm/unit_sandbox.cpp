#include "unit_sandbox.h"

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if LTRACK_HAVE_SECCOMP
#include <seccomp.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace ltrack::vmtest {

namespace {

// <linux/capability.h>'s numbering.
const char *const cap_names[] = {"CAP_CHOWN",
				 "CAP_DAC_OVERRIDE",
				 "CAP_DAC_READ_SEARCH",
				 "CAP_FOWNER",
				 "CAP_FSETID",
				 "CAP_KILL",
				 "CAP_SETGID",
				 "CAP_SETUID",
				 "CAP_SETPCAP",
				 "CAP_LINUX_IMMUTABLE",
				 "CAP_NET_BIND_SERVICE",
				 "CAP_NET_BROADCAST",
				 "CAP_NET_ADMIN",
				 "CAP_NET_RAW",
				 "CAP_IPC_LOCK",
				 "CAP_IPC_OWNER",
				 "CAP_SYS_MODULE",
				 "CAP_SYS_RAWIO",
				 "CAP_SYS_CHROOT",
				 "CAP_SYS_PTRACE",
				 "CAP_SYS_PACCT",
				 "CAP_SYS_ADMIN",
				 "CAP_SYS_BOOT",
				 "CAP_SYS_NICE",
				 "CAP_SYS_RESOURCE",
				 "CAP_SYS_TIME",
				 "CAP_SYS_TTY_CONFIG",
				 "CAP_MKNOD",
				 "CAP_LEASE",
				 "CAP_AUDIT_WRITE",
				 "CAP_AUDIT_CONTROL",
				 "CAP_SETFCAP",
				 "CAP_MAC_OVERRIDE",
				 "CAP_MAC_ADMIN",
				 "CAP_SYSLOG",
				 "CAP_WAKE_ALARM",
				 "CAP_BLOCK_SUSPEND",
				 "CAP_AUDIT_READ",
				 "CAP_PERFMON",
				 "CAP_BPF",
				 "CAP_CHECKPOINT_RESTORE"};

int cap_number(const std::string &name)
{
	for (int i = 0; i < int(sizeof cap_names / sizeof *cap_names); i++)
		if (name == cap_names[i])
			return i;
	return -1;
}

int family_number(const std::string &name)
{
	static const std::map<std::string, int> families = {
		{"AF_UNIX", AF_UNIX},       {"AF_LOCAL", AF_UNIX},    {"AF_INET", AF_INET},   {"AF_INET6", AF_INET6},
		{"AF_NETLINK", AF_NETLINK}, {"AF_PACKET", AF_PACKET}, {"AF_VSOCK", AF_VSOCK},
	};
	auto it = families.find(name);
	return it == families.end() ? -1 : it->second;
}

std::vector<std::string> split(const std::string &s)
{
	std::istringstream in(s);
	std::vector<std::string> out;
	for (std::string w; in >> w;)
		out.push_back(w);
	return out;
}

// `systemd-analyze syscall-filter`: "@group" lines, then its members (system
// calls or other groups), indented; comments start with '#'.
std::map<std::string, std::vector<std::string>> syscall_groups(std::string &error)
{
	std::map<std::string, std::vector<std::string>> groups;
	FILE *p = popen("systemd-analyze syscall-filter 2>/dev/null", "r");
	if (!p) {
		error = "systemd-analyze syscall-filter: " + std::string(strerror(errno));
		return groups;
	}
	std::string text;
	char buf[4096];
	for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;)
		text.append(buf, n);
	pclose(p);
	std::istringstream in(text);
	std::string group;
	for (std::string line; std::getline(in, line);) {
		if (line.rfind("@", 0) == 0) {
			group = split(line)[0];
			groups[group];
			continue;
		}
		auto w = split(line);
		if (!group.empty() && !w.empty() && w[0][0] != '#')
			groups[group].push_back(w[0]);
	}
	if (groups.count("@system-service") == 0)
		error = "systemd-analyze syscall-filter printed no @system-service group (is systemd installed?)";
	return groups;
}

void expand(const std::map<std::string, std::vector<std::string>> &groups, const std::string &item,
	    std::set<std::string> &out, int depth = 0)
{
	if (item.empty() || item[0] != '@') {
		out.insert(item);
		return;
	}
	auto it = groups.find(item);
	if (it == groups.end() || depth > 8)
		return;
	for (const auto &m : it->second)
		expand(groups, m, out, depth + 1);
}

std::vector<std::string> mount_points_under(const std::string &root)
{
	std::vector<std::string> out;
	std::ifstream in("/proc/self/mountinfo");
	for (std::string line; std::getline(in, line);) {
		auto w = split(line);
		if (w.size() > 4 && (w[4] == root || w[4].rfind(root + "/", 0) == 0))
			out.push_back(w[4]);
	}
	std::sort(out.begin(), out.end());
	out.erase(std::unique(out.begin(), out.end()), out.end());
	return out;
}

bool under(const std::string &path, const std::string &dir)
{
	return path == dir || path.rfind(dir + "/", 0) == 0;
}

} // namespace

unit_file unit_file::parse(const std::string &text)
{
	unit_file u;
	std::istringstream in(text);
	bool service = false;
	for (std::string line; std::getline(in, line);) {
		if (line.empty() || line[0] == '#' || line[0] == ';')
			continue;
		if (line[0] == '[') {
			service = line == "[Service]";
			continue;
		}
		size_t eq = line.find('=');
		if (service && eq != std::string::npos)
			u.service[line.substr(0, eq)].push_back(line.substr(eq + 1));
	}
	return u;
}

std::vector<std::string> unit_file::words(const std::string &key) const
{
	std::vector<std::string> out;
	auto it = service.find(key);
	if (it != service.end())
		for (const auto &v : it->second)
			for (auto &w : split(v))
				out.push_back(w);
	return out;
}

std::string unit_file::value(const std::string &key) const
{
	auto it = service.find(key);
	return it == service.end() || it->second.empty() ? "" : it->second.back();
}

bool unit_sandbox::seccomp_available() const
{
	return LTRACK_HAVE_SECCOMP;
}

std::string unit_sandbox::prepare(const unit_file &unit)
{
	for (auto w : unit.words("ReadWritePaths")) {
		bool opt = w[0] == '-';
		if (opt)
			w = w.substr(1);
		writable.push_back(w);
		if (opt)
			optional.push_back(w);
	}
	unsigned mode = 0755;
	if (auto m = unit.value("RuntimeDirectoryMode"); !m.empty())
		mode = std::stoul(m, nullptr, 8);
	for (const auto &d : unit.words("RuntimeDirectory")) {
		runtime_dirs.push_back({"/run/" + d, mode});
		writable.push_back("/run/" + d);
	}
	for (const auto &c : unit.words("CapabilityBoundingSet")) {
		int n = cap_number(c);
		if (n < 0)
			return "unknown capability " + c + " in CapabilityBoundingSet=";
		keep_caps.push_back(n);
	}
	if (unit.service.count("CapabilityBoundingSet") == 0)
		return "the unit has no CapabilityBoundingSet=";
	no_new_privileges = unit.value("NoNewPrivileges") == "yes";
	if (auto m = unit.value("UMask"); !m.empty())
		umask_value = std::stoi(m, nullptr, 8);
	for (const auto &f : unit.words("RestrictAddressFamilies")) {
		int n = family_number(f);
		if (n < 0 || f[0] == '~')
			return "RestrictAddressFamilies=" + f + ": only allow lists of known families are emulated";
		address_families.push_back(n);
	}
	deny_write_execute = unit.value("MemoryDenyWriteExecute") == "yes";
	if (auto e = unit.value("SystemCallErrorNumber"); e == "EPERM")
		syscall_errno = EPERM;
	else if (!e.empty())
		return "SystemCallErrorNumber=" + e + " is not emulated";

	// SystemCallFilter=: the first line sets the allow list (no '~'), later
	// lines add to it or ('~') take from it; systemd always allows what
	// executing the service takes.
	auto filters = unit.service.find("SystemCallFilter");
	if (filters != unit.service.end()) {
		std::string error;
		auto groups = syscall_groups(error);
		if (!error.empty())
			return error;
		std::set<std::string> allowed = {"execve", "execveat", "exit", "exit_group", "rt_sigreturn"};
		bool first = true;
		for (const auto &line : filters->second) {
			bool deny = !line.empty() && line[0] == '~';
			if (first && deny)
				return "SystemCallFilter= starting with a deny list is not emulated";
			first = false;
			std::set<std::string> items;
			for (const auto &w : split(deny ? line.substr(1) : line))
				expand(groups, w, items);
			for (const auto &s : items)
				deny ? (void)allowed.erase(s) : (void)allowed.insert(s);
		}
		allowed_syscalls.assign(allowed.begin(), allowed.end());
	}
	std::ostringstream s;
	s << keep_caps.size() << " capabilities, " << writable.size() << " writable paths, " << allowed_syscalls.size()
	  << " system calls allowed" << (seccomp_available() ? "" : " (not enforced: built without libseccomp)")
	  << ", umask " << std::oct << umask_value;
	summary = s.str();
	return {};
}

std::string unit_sandbox::apply_mounts(const std::string &root) const
{
	for (const auto &[dir, mode] : runtime_dirs) {
		std::string p = root + dir;
		if (mkdir(p.c_str(), mode) != 0 && errno != EEXIST)
			return "RuntimeDirectory: mkdir " + p + ": " + strerror(errno);
		chmod(p.c_str(), mode);
	}
	if (unshare(CLONE_NEWNS) != 0)
		return std::string("unshare(CLONE_NEWNS): ") + strerror(errno);
	if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
		return std::string("making / a slave: ") + strerror(errno);
	// ProtectSystem=strict: all read-only but the API file systems /proc
	// and /dev (/sys is in the unit's ReadOnlyPaths=).
	auto mounts = mount_points_under(root);
	for (const auto &mp : mounts) {
		if (under(mp, root + "/proc") || under(mp, root + "/dev"))
			continue;
		if (mount(nullptr, mp.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
			return "read-only " + mp + ": " + strerror(errno);
	}
	for (const auto &w : writable) {
		std::string p = root + w;
		struct stat st;
		if (stat(p.c_str(), &st) != 0) {
			if (std::find(optional.begin(), optional.end(), w) != optional.end())
				continue;
			return "ReadWritePaths=" + w + " does not exist (systemd fails the start: 226/NAMESPACE)";
		}
		if (std::find(mounts.begin(), mounts.end(), p) == mounts.end() &&
		    mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
			return "bind " + p + ": " + strerror(errno);
		if (mount(nullptr, p.c_str(), nullptr, MS_REMOUNT | MS_BIND, nullptr) != 0)
			return "read-write " + p + ": " + strerror(errno);
	}
	return {};
}

std::string unit_sandbox::apply_process() const
{
	int last = CAP_LAST_CAP;
	if (std::ifstream in("/proc/sys/kernel/cap_last_cap"); in)
		in >> last;
	for (int cap = 0; cap <= last; cap++)
		if (std::find(keep_caps.begin(), keep_caps.end(), cap) == keep_caps.end() &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
			return "PR_CAPBSET_DROP " + std::to_string(cap) + ": " + strerror(errno);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	__user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct data[2]{};
	if (syscall(SYS_capget, &hdr, data) != 0)
		return std::string("capget: ") + strerror(errno);
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) != 0)
		return std::string("capset: ") + strerror(errno);
	if (umask_value >= 0)
		umask(umask_value);
	if (no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return std::string("PR_SET_NO_NEW_PRIVS: ") + strerror(errno);
#if LTRACK_HAVE_SECCOMP
	// Two filters (the kernel applies the stricter answer): this one first,
	// as the allow list below may not allow loading another.
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!address_families.empty()) {
		// socket() of any other family: EAFNOSUPPORT, as systemd answers.
		// The allowed families are few: refuse the ranges between them.
		std::vector<int> fams = address_families;
		std::sort(fams.begin(), fams.end());
		int from = 0;
		for (int f : fams) {
			for (int x = from; x < f; x++)
				seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
						 SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)x));
			from = f + 1;
		}
		seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
				 SCMP_A0(SCMP_CMP_GE, (scmp_datum_t)from));
	}
	if (deny_write_execute) {
		// As systemd: no mapping both writable and executable, no mprotect
		// to executable, no executable shared memory.
		seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1,
				 SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE, PROT_EXEC | PROT_WRITE));
		seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1,
				 SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
		seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pkey_mprotect), 1,
				 SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
		seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(shmat), 1,
				 SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC));
	}
	int loaded = seccomp_load(ctx);
	seccomp_release(ctx);
	if (loaded != 0)
		return "seccomp_load (RestrictAddressFamilies=, MemoryDenyWriteExecute=): " +
		       std::string(strerror(-loaded));
	if (!allowed_syscalls.empty()) {
		scmp_filter_ctx allow = seccomp_init(SCMP_ACT_ERRNO(syscall_errno));
		for (const auto &s : allowed_syscalls) {
			int nr = seccomp_syscall_resolve_name(s.c_str());
			if (nr != __NR_SCMP_ERROR)
				seccomp_rule_add(allow, SCMP_ACT_ALLOW, nr, 0);
		}
		int rc = seccomp_load(allow);
		seccomp_release(allow);
		if (rc != 0)
			return "seccomp_load (SystemCallFilter=): " + std::string(strerror(-rc));
	}
#endif
	return {};
}

} // namespace ltrack::vmtest
