#include "path_resolver.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace ltrack::policy {

uint64_t kernel_dev(uint64_t st_dev)
{
	return (uint64_t(major(st_dev)) << 20) | minor(st_dev);
}

resolve_result resolve_on_host(const std::string &path)
{
	resolve_result r;
	std::unique_ptr<char, decltype(&free)> real(realpath(path.c_str(), nullptr), &free);
	if (!real) {
		r.error = std::strerror(errno);
		return r;
	}
	struct stat st;
	if (stat(real.get(), &st) < 0) {
		r.error = std::strerror(errno);
		return r;
	}
	r.id = path_identity{real.get(), kernel_dev(st.st_dev), st.st_ino, S_ISDIR(st.st_mode), true};
	return r;
}

resolve_result resolve_synthetic(const std::string &path)
{
	resolve_result r;
	if (path.empty() || path[0] != '/') {
		r.error = "not an absolute path";
		return r;
	}
	// Collapse repeated and trailing slashes so "/a//b/" and "/a/b" agree.
	std::string norm;
	for (char c : path)
		if (!(c == '/' && !norm.empty() && norm.back() == '/'))
			norm += c;
	if (norm.size() > 1 && norm.back() == '/')
		norm.pop_back();
	uint64_t h = 1469598103934665603ULL;
	for (unsigned char c : norm)
		h = (h ^ c) * 1099511628211ULL;
	std::size_t slash = norm.rfind('/');
	bool dir = norm.find('.', slash) == std::string::npos;
	r.id = path_identity{norm, 0x800001, h | 1, dir, false};
	return r;
}

} // namespace ltrack::policy
