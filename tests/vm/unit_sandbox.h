// A systemd unit's sandbox applied without systemd (it is not PID 1 in the
// guest), so that the Package test runs the installed unit's ExecStart under
// the restrictions the unit asks for, as far as the kernel offers them
// without systemd's own code:
//   - mounts: a mount namespace in which everything under the root is
//     read-only (ProtectSystem=strict, ProtectHome=read-only, ReadOnlyPaths=)
//     except /proc and /dev, and ReadWritePaths= and RuntimeDirectory= are
//     writable again;
//   - CapabilityBoundingSet= (and empty inheritable and ambient sets),
//     NoNewPrivileges=, UMask=;
//   - seccomp (with libseccomp): SystemCallFilter= expanded with systemd's
//     own groups (`systemd-analyze syscall-filter`), SystemCallErrorNumber=,
//     RestrictAddressFamilies=, MemoryDenyWriteExecute=.
// Not emulated: systemd's exact mount table (inaccessible paths, private
// /tmp or /dev: the unit uses none), DevicePolicy=, IPAddressDeny=,
// RestrictNamespaces=, ProtectClock=, ProtectHostname=.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ltrack::vmtest {

struct unit_file {
	// Every value of every key of the [Service] section, in file order.
	std::map<std::string, std::vector<std::string>> service;
	static unit_file parse(const std::string &text);
	// The whitespace-separated words of every line of key.
	std::vector<std::string> words(const std::string &key) const;
	std::string value(const std::string &key) const; // the last one
};

struct unit_sandbox {
	// Prepared in the parent (may run programs): "" or what is missing.
	std::string prepare(const unit_file &unit);
	// In the forked child, before chroot(root): the mount namespace. Then,
	// after chroot, apply_process(): capabilities, umask, seccomp (last).
	// Both return "" or what failed; the child should then _exit.
	std::string apply_mounts(const std::string &root) const;
	std::string apply_process() const;

	bool seccomp_available() const;
	std::vector<std::string> writable;                          // ReadWritePaths= and the runtime directories
	std::vector<std::string> optional;                          // of those, the ones prefixed with '-'
	std::vector<std::pair<std::string, unsigned>> runtime_dirs; // with their mode
	std::vector<int> keep_caps;                                 // CapabilityBoundingSet=
	bool no_new_privileges = false;
	int umask_value = -1;
	std::vector<std::string> allowed_syscalls; // expanded SystemCallFilter=
	int syscall_errno = 1;                     // EPERM unless the unit says otherwise
	std::vector<int> address_families;         // RestrictAddressFamilies= (allow list)
	bool deny_write_execute = false;
	std::string summary; // what was applied, for the test's output
};

} // namespace ltrack::vmtest
