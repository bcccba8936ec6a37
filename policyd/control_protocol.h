// The control protocol between ltrackctl and ltrackd, over a Unix stream
// socket (default /run/ltrack/ltrackd.sock), one request per connection:
//
//   request:  "ltrack/1" TAB command [TAB arg]... LF
//   reply:    "ok" LF body...            (connection closed at the end)
//             "error" LF message LF...
//
// Commands: status [json], reload [PATH], mode enforce|audit [PROFILE],
// stats [json], events [follow] [json|text] [FILTER], unload, version.
// `events follow` streams one record per line until the client closes.
// Only root is served: the daemon checks the peer with SO_PEERCRED.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ltrack::control {

inline constexpr std::string_view protocol = "ltrack/1";
inline constexpr const char *default_socket = "/run/ltrack/ltrackd.sock";

// Splits a request line into its fields; false if the protocol differs
// (the version mismatch is reported to the caller with both versions).
bool parse_request(std::string_view line, std::vector<std::string> &fields, std::string &error);
std::string format_request(const std::vector<std::string> &fields);

} // namespace ltrack::control
