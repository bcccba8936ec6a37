#include "kernel_support.h"
#include "json.h"

#include "libbpf_call.h"
#include "probe.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace ltrack {
namespace {

constexpr const char *lsm_file = "/sys/kernel/security/lsm";

std::string read_first_line(const char *path)
{
	std::ifstream in(path);
	std::string line;
	std::getline(in, line);
	return line;
}

support_check check_btf()
{
	support_check c{"kernel BTF"};
	struct stat st;
	c.ok = stat("/sys/kernel/btf/vmlinux", &st) == 0;
	c.detail = c.ok ? "/sys/kernel/btf/vmlinux present" : "/sys/kernel/btf/vmlinux missing";
	if (!c.ok)
		c.fix = "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's are)";
	return c;
}

support_check check_lsm_list()
{
	support_check c{"bpf in active LSMs"};
	struct stat st;
	if (stat(lsm_file, &st) != 0)
		mount("securityfs", "/sys/kernel/security", "securityfs", 0, nullptr);
	std::string list = read_first_line(lsm_file);
	if (list.empty()) {
		c.detail = std::string("cannot read ") + lsm_file;
		c.fix = "mount securityfs (mount -t securityfs securityfs /sys/kernel/security) and run as root";
		return c;
	}
	std::stringstream ss(list);
	std::string item;
	while (std::getline(ss, item, ','))
		c.ok |= item == "bpf";
	c.detail = "active LSMs: " + list;
	if (!c.ok)
		c.fix = "add lsm=" + list + ",bpf to the kernel command line (needs CONFIG_BPF_LSM=y) and reboot";
	return c;
}

// May this process call bpf() at all? Asked with the smallest map there is,
// so that a refusal is named for what it is (libbpf's feature probes below
// report any error as "not supported").
support_check check_bpf_syscall()
{
	support_check c{"bpf() system call"};
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, nullptr, sizeof(__u32), sizeof(__u32), 1, nullptr);
	int err = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	c.ok = fd >= 0;
	c.detail = c.ok ? "allowed" : std::string("refused: ") + std::strerror(err);
	if (err == EPERM)
		c.fix = "run as root; if already root, an ltrack policy may govern this process (ltrack refuses bpf() "
			"to every process it governs: start ltrackd from its unit or an ungoverned shell, or unload "
			"the running policy), or kernel lockdown refuses BPF";
	else if (!c.ok)
		c.fix = "the kernel refuses to create a BPF map; see dmesg";
	return c;
}

struct probe_deleter {
	void operator()(probe *p) const { probe__destroy(p); }
};

} // namespace

bool support_report::ok() const
{
	for (const auto &c : checks)
		if (!c.ok)
			return false;
	return !checks.empty();
}

std::string support_report::first_failure() const
{
	for (const auto &c : checks)
		if (!c.ok)
			return c.name + ": " + c.detail + (c.fix.empty() ? "" : "; " + c.fix);
	return {};
}

std::string format_report(const support_report &r)
{
	std::string out;
	for (const auto &c : r.checks) {
		char line[512];
		std::snprintf(line, sizeof(line), "%-22s %s  %s\n", c.name.c_str(), c.ok ? "ok  " : "FAIL",
			      c.detail.c_str());
		out += line;
		if (!c.fix.empty())
			out += "                             fix: " + c.fix + "\n";
	}
	if (!r.ok())
		out += "cannot enforce: " + r.first_failure() + "\n";
	return out;
}

std::string format_report_json(const support_report &r)
{
	json_array checks;
	for (const auto &c : r.checks)
		checks.add_raw(json_object()
				       .str("name", c.name)
				       .boolean("ok", c.ok)
				       .str("detail", c.detail)
				       .str("fix", c.fix)
				       .text());
	json_object out;
	out.boolean("ok", r.ok()).raw("checks", checks.text());
	if (!r.ok())
		out.str("cannot_enforce", r.first_failure());
	return out.text() + "\n";
}

support_report probe_kernel_support()
{
	support_report r;
	r.checks.push_back(check_btf());
	r.checks.push_back(check_lsm_list());
	if (!r.ok())
		return r;
	r.checks.push_back(check_bpf_syscall());
	if (!r.ok())
		return r;

	// Features the programs need, named one by one so a refusal says which
	// is missing rather than quoting the verifier.
	struct feature {
		const char *name;
		bpf_map_type type;
		const char *why;
	} features[] = {
		{"BPF ring buffer", BPF_MAP_TYPE_RINGBUF, "decision records travel in a ring buffer (Linux 5.8+)"},
		{"BPF task storage", BPF_MAP_TYPE_TASK_STORAGE,
		 "governed processes carry their profile in task storage (Linux 5.11+)"},
	};
	for (const auto &f : features) {
		support_check c{f.name};
		c.ok = libbpf_probe_bpf_map_type(f.type, nullptr) > 0;
		c.detail = c.ok ? "supported" : std::string("not supported by this kernel: ") + f.why;
		if (!c.ok)
			c.fix = "run a newer kernel (Debian 12's 6.1 or later)";
		r.checks.push_back(c);
		if (!c.ok)
			return r;
	}

	support_check load{"trial BPF LSM load"};
	std::unique_ptr<probe, probe_deleter> skel(probe__open());
	status s = check_ptr(skel.get(), "opening the probe program");
	if (s.ok())
		s = check(probe__load(skel.get()), "loading program probe_file_open");
	load.ok = s.ok();
	load.detail = s.ok() ? "loaded" : s.error;
	if (!load.ok)
		load.fix = s.err == EPERM ? "run as root; if already root, kernel lockdown or a security module is "
					    "refusing BPF LSM programs"
					  : "the kernel lacks a BPF LSM feature ltrack needs (see ltrackctl doctor)";
	r.checks.push_back(load);
	if (!load.ok)
		return r;

	support_check attach{"trial BPF LSM attach"};
	s = check(probe__attach(skel.get()), "attaching program probe_file_open");
	attach.ok = s.ok();
	attach.detail = s.ok() ? "attached and detached" : s.error;
	if (!attach.ok)
		attach.fix = "the kernel refuses to attach BPF LSM programs; check lsm= and CONFIG_BPF_LSM";
	r.checks.push_back(attach);
	return r;
}

} // namespace ltrack
