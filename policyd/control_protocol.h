// The control protocol between ltrackctl and ltrackd, over a Unix stream
// socket (default /run/ltrack/ltrackd.sock), one request per connection:
//
//   request:  "ltrack/1" TAB command [TAB arg]... LF
//   reply:    "ok" LF body...            (connection closed at the end)
//             "error" LF message LF...
//
// Commands: status [json], reload [PATH] [json] [progress],
// mode enforce|audit [PROFILE], stats [json], events [follow] [json|text]
// [FILTER], unload, version. `events follow` streams one record per line
// until the client closes. reload's PATH is absolute (ltrackctl makes it
// so), which tells it from the option words: `json` makes the success reply
// one JSON object; `progress` sends a line per phase as it starts and ends,
// BEFORE the "ok"/"error" line:
//
//             "progress" TAB phase TAB text LF     (phase: compile, fill, swap)
//
// A client that did not ask for progress never sees such a line.
// Only root callers that no ltrack profile governs are served (SO_PEERCRED
// and the caller's task label, checked at accept: policyd/control_server.h).
#pragma once

#include "status.h"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ltrack::control {

inline constexpr std::string_view protocol = "ltrack/1";
inline constexpr const char *default_socket = "/run/ltrack/ltrackd.sock";

// Splits a request line into its fields (the protocol's name removed); fails
// if the protocol differs (the message names both versions) or it is empty.
result<std::vector<std::string>> parse_request(std::string_view line);
std::string format_request(const std::vector<std::string> &fields);

// A progress line (with its LF), and its parse (false: not a progress line).
std::string format_progress(std::string_view phase, std::string_view text);
bool parse_progress(std::string_view line, std::string &phase, std::string &text);

// One request line read from a non-blocking connection as its bytes come,
// however they are paced: at most max_bytes and max_time from accept to
// LF, else the connection is closed. A caller that drips one byte a second
// therefore holds one connection slot for max_time and never the daemon.
class request_reader {
public:
	using clock = std::chrono::steady_clock;
	static constexpr std::size_t max_bytes = 4096;
	static constexpr std::chrono::milliseconds max_time{2000};

	enum class state { reading, complete, too_large, timed_out };

	explicit request_reader(clock::time_point accepted) : deadline_(accepted + max_time) {}
	// Takes the bytes received; anything after the LF is ignored.
	state feed(std::string_view bytes, clock::time_point now);
	// The state at `now` without new bytes (the deadline may have passed).
	state check(clock::time_point now);
	const std::string &line() const { return line_; } // without the LF
	clock::time_point deadline() const { return deadline_; }

private:
	std::string line_;
	clock::time_point deadline_;
	state state_ = state::reading;
};

const char *state_name(request_reader::state s); // "reading", "complete", "too large", "timed out"

} // namespace ltrack::control
