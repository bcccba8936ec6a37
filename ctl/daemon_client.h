// ltrackctl's end of the control socket (policyd/control_protocol.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace ltrack::ctl {

struct daemon_reply {
	bool ok = false;
	std::string body; // the reply, or why the daemon could not be asked
};

// A progress line the daemon sent before its reply (`reload ... progress`):
// the phase ("compile", "fill", "swap") and what it says.
using progress_fn = std::function<void(const std::string &phase, const std::string &text)>;

// Sends one request and reads the whole reply. Not running, refused and
// version mismatch all come back as !ok with a message to show as is.
daemon_reply ask_daemon(const std::string &socket_path, const std::vector<std::string> &fields,
			const progress_fn &on_progress = {});

// Streams a reply line by line until the daemon closes or on_line returns false.
daemon_reply stream_daemon(const std::string &socket_path, const std::vector<std::string> &fields,
			   const std::function<bool(const std::string &)> &on_line,
			   const progress_fn &on_progress = {});

} // namespace ltrack::ctl
