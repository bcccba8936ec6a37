// Turning a path written in a policy into the identity the kernel matches:
// symlinks followed, device (kernel encoding) and inode kept.
#pragma once

#include "status.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ltrack::policy {

struct path_identity {
	std::string real_path;
	uint64_t dev = 0; // kernel encoding: major << 20 | minor
	uint64_t ino = 0;
	bool is_dir = false;
	bool kind_known = true; // false: is_dir is a guess (synthetic)
};

// The path's identity, or why there is none (e.g. "No such file or
// directory", with its errno).
using resolve_result = result<path_identity>;

using path_resolver = std::function<resolve_result(const std::string &path)>;

// The kernel's internal dev_t of a stat(2) st_dev (MKDEV: major << 20 | minor).
uint64_t kernel_dev(uint64_t st_dev);

// The components of an absolute path, "." and ".." folded lexically (the
// names the kernel looks up on the way): "/a/./b/../c" -> {"a", "c"}.
std::vector<std::string> path_components(const std::string &path);

// realpath(3) + stat(2) on this host.
resolve_result resolve_on_host(const std::string &path);

// resolve_on_host with the directories' real paths remembered: a file is then
// one lstat(2) below its resolved directory (realpath(3) again only when the
// last component is a symlink, "." or ".."), so 100,000 rules in a few
// directories cost 100,000 lstats, not a readlink per component per rule.
// The same answers as resolve_on_host for a host that does not change during
// one compile. Each call makes a fresh cache.
path_resolver caching_resolver_on_host();

// Touches nothing: every absolute path "exists", with an identity derived
// from its text (a directory unless the last component has a dot). For
// fuzzing and for checking a policy written for another host.
resolve_result resolve_synthetic(const std::string &path);

} // namespace ltrack::policy
