// ltrackd's end of the control socket: listens, admits root only (checked
// with SO_PEERCRED on every connection, not just by file mode), and reads
// one request per connection.
#pragma once

#include "libbpf_call.h"

#include <string>
#include <vector>

namespace ltrack {

struct control_request {
	int fd = -1; // the connection; the handler replies on it and closes it
	std::vector<std::string> fields; // command and arguments
};

class control_server {
public:
	~control_server();
	status listen(const std::string &path);
	int fd() const { return fd_; }

	// Accepts one connection and reads its request. A refused or malformed
	// request is answered ("error" + why) and closed here; returns false.
	bool accept_request(control_request &out);

private:
	int fd_ = -1;
	std::string path_;
};

// Writes all of `data` (a reply), ignoring a peer that went away.
bool write_all(int fd, std::string_view data);
void reply(int fd, bool ok, std::string_view body);

} // namespace ltrack
