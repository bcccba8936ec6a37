#include "daemon_client.h"

#include "control_protocol.h"
#include "status.h"
#include "unique_fd.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ltrack::ctl {
namespace {

result<unique_fd> connect_daemon(const std::string &path)
{
	sockaddr_un addr{};
	if (path.size() >= sizeof(addr.sun_path))
		return status::fail("socket path too long: " + path);
	unique_fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd)
		return status::fail(std::string("socket: ") + std::strerror(errno), errno);
	addr.sun_family = AF_UNIX;
	std::strcpy(addr.sun_path, path.c_str());
	if (connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0) {
		int err = errno;
		if (err == ENOENT || err == ECONNREFUSED)
			return status::fail(
				"ltrackd is not running (nothing listens on " + path +
					"); start it with `systemctl start ltrackd` or `ltrackd --policy FILE`",
				err);
		if (err == EACCES)
			return status::fail("cannot reach ltrackd at " + path + ": permission denied (run as root)",
					    err);
		return status::fail("cannot reach ltrackd at " + path + ": " + std::strerror(err), err);
	}
	return fd;
}

} // namespace

daemon_reply stream_daemon(const std::string &socket_path, const std::vector<std::string> &fields,
			   const std::function<bool(const std::string &)> &on_line, const progress_fn &on_progress)
{
	daemon_reply r;
	result<unique_fd> conn = connect_daemon(socket_path);
	if (!conn) {
		r.body = conn.failure().error;
		return r;
	}
	const int fd = conn->get();
	std::string req = control::format_request(fields);
	// A refused caller is answered and dropped before the daemon reads the
	// request, so a failed send still leaves a reply to read.
	bool sent = send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
	std::string send_error = sent ? "" : std::string("sending the request to ltrackd: ") + std::strerror(errno);
	std::string buf, line;
	bool first = true, more = true;
	char chunk[4096];
	while (more) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf.append(chunk, n);
		std::size_t nl;
		while (more && (nl = buf.find('\n')) != std::string::npos) {
			line = buf.substr(0, nl);
			buf.erase(0, nl + 1);
			std::string phase, text;
			if (first && control::parse_progress(line, phase, text)) {
				if (on_progress)
					on_progress(phase, text);
			} else if (first) {
				r.ok = line == "ok";
				first = false;
				if (!r.ok && line != "error") {
					r.body = "ltrackd sent an unexpected reply: " + line;
					more = false;
				}
			} else if (!r.ok) {
				r.body += line + "\n";
			} else {
				more = on_line(line);
			}
		}
	}
	conn->reset();
	if (first && r.body.empty())
		r.body =
			send_error.empty() ? "ltrackd closed the connection without a reply (see its log)" : send_error;
	return r;
}

daemon_reply ask_daemon(const std::string &socket_path, const std::vector<std::string> &fields,
			const progress_fn &on_progress)
{
	std::string body;
	daemon_reply r = stream_daemon(
		socket_path, fields,
		[&](const std::string &line) {
			body += line + "\n";
			return true;
		},
		on_progress);
	if (r.ok)
		r.body = body;
	return r;
}

} // namespace ltrack::ctl
