#include "path_resolver.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>

namespace ltrack::policy {

std::vector<std::string> path_components(const std::string &path)
{
	std::vector<std::string> out;
	std::size_t at = 0;
	while (at < path.size()) {
		std::size_t end = path.find('/', at);
		if (end == std::string::npos)
			end = path.size();
		std::string c = path.substr(at, end - at);
		if (c == "..") {
			if (!out.empty())
				out.pop_back();
		} else if (!c.empty() && c != ".") {
			out.push_back(std::move(c));
		}
		at = end + 1;
	}
	return out;
}

uint64_t kernel_dev(uint64_t st_dev)
{
	return (uint64_t(major(st_dev)) << 20) | minor(st_dev);
}

resolve_result resolve_on_host(const std::string &path)
{
	std::unique_ptr<char, decltype(&free)> real(realpath(path.c_str(), nullptr), &free);
	if (!real)
		return status::from_errno();
	struct stat st;
	if (stat(real.get(), &st) < 0)
		return status::from_errno();
	return path_identity{real.get(), kernel_dev(st.st_dev), st.st_ino, S_ISDIR(st.st_mode), true};
}

path_resolver caching_resolver_on_host()
{
	auto dirs = std::make_shared<std::unordered_map<std::string, resolve_result>>();
	return [dirs](const std::string &path) -> resolve_result {
		std::size_t slash = path.rfind('/');
		if (slash == std::string::npos || slash == 0)
			return resolve_on_host(path);
		std::string_view name = std::string_view(path).substr(slash + 1);
		if (name.empty() || name == "." || name == "..")
			return resolve_on_host(path);
		std::string parent = path.substr(0, slash);
		auto it = dirs->find(parent);
		if (it == dirs->end())
			it = dirs->emplace(parent, resolve_on_host(parent)).first;
		const resolve_result &dir = it->second;
		if (!dir)
			return dir.failure();
		if (!dir->is_dir)
			return status::fail(std::strerror(ENOTDIR), ENOTDIR);
		std::string real =
			dir->real_path == "/" ? "/" + std::string(name) : dir->real_path + "/" + std::string(name);
		struct stat st;
		if (lstat(real.c_str(), &st) < 0)
			return status::from_errno();
		if (S_ISLNK(st.st_mode))
			return resolve_on_host(path);
		return path_identity{std::move(real), kernel_dev(st.st_dev), st.st_ino, S_ISDIR(st.st_mode), true};
	};
}

resolve_result resolve_synthetic(const std::string &path)
{
	if (path.empty() || path[0] != '/')
		return status::fail("not an absolute path", EINVAL);
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
	return path_identity{norm, 0x800001, h | 1, dir, false};
}

} // namespace ltrack::policy
