#include "control_server.h"

#include "control_protocol.h"

#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ltrack {

control_server::~control_server()
{
	if (fd_ >= 0) {
		close(fd_);
		unlink(path_.c_str());
	}
}

status control_server::listen(const std::string &path)
{
	sockaddr_un addr{};
	if (path.size() >= sizeof(addr.sun_path))
		return status::fail("control socket path too long: " + path);
	std::error_code ec;
	std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
	chmod(std::filesystem::path(path).parent_path().c_str(), 0755);
	unlink(path.c_str()); // a stale socket of a daemon that died
	fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd_ < 0)
		return libbpf_fail("creating the control socket", errno);
	addr.sun_family = AF_UNIX;
	std::strcpy(addr.sun_path, path.c_str());
	if (bind(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0)
		return libbpf_fail("binding the control socket " + path, errno);
	// Non-root callers may connect, so they get a clear refusal instead of
	// EACCES; SO_PEERCRED decides who is served.
	chmod(path.c_str(), 0666);
	if (::listen(fd_, 16) < 0)
		return libbpf_fail("listening on " + path, errno);
	path_ = path;
	return {};
}

bool write_all(int fd, std::string_view data)
{
	while (!data.empty()) {
		ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data.remove_prefix(n);
	}
	return true;
}

void reply(int fd, bool ok, std::string_view body)
{
	std::string out = ok ? "ok\n" : "error\n";
	out += body;
	if (!body.empty() && body.back() != '\n')
		out += '\n';
	write_all(fd, out);
}

bool control_server::accept_request(control_request &out)
{
	int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
	if (c < 0)
		return false;
	// One line, bounded; a client that sends nothing within 2 s is dropped.
	// Read before judging the caller: closing on unread data would reset the
	// connection and the refused caller would never see why.
	timeval tv{2, 0};
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	std::string line;
	char ch;
	while (line.size() < 8192) {
		ssize_t n = recv(c, &ch, 1, 0);
		if (n <= 0 || ch == '\n')
			break;
		line += ch;
	}
	ucred cred{};
	socklen_t len = sizeof(cred);
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
		spdlog::warn("control socket: refused a request from uid {} (pid {}): only root may control ltrack",
			     cred.uid, cred.pid);
		reply(c, false, "permission denied: only root may control ltrackd (you are uid " +
					std::to_string(cred.uid) + ")");
		close(c);
		return false;
	}
	std::string error;
	if (!control::parse_request(line, out.fields, error)) {
		reply(c, false, error);
		close(c);
		return false;
	}
	out.fd = c;
	return true;
}

} // namespace ltrack
