#include "unix_listener.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ltrack {

status listen_unix(const std::string &path, int type, int backlog, mode_t mode, int epoll_fd, std::string_view what,
		   unique_fd &out)
{
	const std::string name(what);
	sockaddr_un addr{};
	if (path.size() >= sizeof(addr.sun_path))
		return status::fail(name + " path too long: " + path);
	std::error_code ec;
	std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
	unlink(path.c_str());
	unique_fd fd(socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	if (!fd)
		return libbpf_fail("creating the " + name, errno);
	addr.sun_family = AF_UNIX;
	std::strcpy(addr.sun_path, path.c_str());
	if (bind(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0)
		return libbpf_fail("binding the " + name + " " + path, errno);
	chmod(path.c_str(), mode);
	if (::listen(fd.get(), backlog) < 0)
		return libbpf_fail("listening on " + path, errno);
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.fd = fd.get();
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd.get(), &ev) < 0)
		return libbpf_fail("watching the " + name, errno);
	out = std::move(fd);
	return {};
}

} // namespace ltrack
