// The report protocol: what a governed Python interpreter's audit hook
// (python/ltrack_pyhook.py.in) tells ltrackd, over the report socket (a Unix
// SOCK_SEQPACKET socket, default /run/ltrack/report.sock; see
// report_server.h). One message per event, fields separated by NUL:
//
//   hello                           -> "governed" NUL ("enforce"|"audit")  or  "ungoverned"
//   find_class NUL MODULE NUL NAME  -> "refuse" or "proceed"
//   exec NUL FILENAME     compile NUL FILENAME                 (no reply)
//   subprocess NUL COMMAND   system NUL COMMAND   execv NUL COMMAND (no reply)
//
// Nothing in a message says who sent it: ltrackd names the sender by the
// kernel label of the process that connected (SO_PEERCRED / SO_PEERPIDFD
// and task storage), and decides find_class itself with the scanner's list.
// Every message is hostile input: the parser accepts exactly these shapes
// within the bounds below and nothing else.
#pragma once

#include "status.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace ltrack::report {

inline constexpr const char *default_socket = "/run/ltrack/report.sock";
inline constexpr std::size_t max_message = 2048; // a longer message is malformed (MSG_TRUNC)
inline constexpr std::size_t max_field = 1024;   // module, name, file name or command
inline constexpr std::size_t max_name = 512;     // module or name of a pickle global

enum class op { hello, find_class, exec, compile, subprocess, system, execv };

struct message {
	op kind = op::hello;
	std::string a; // module, file name or command
	std::string b; // find_class: the name
};

// The message, or why it is malformed.
result<message> parse(std::string_view bytes);
// What a client sends (the Python module builds the same bytes).
std::string format(const message &m);
const char *op_name(op o); // "hello", "find_class", ...
bool wants_reply(op o);    // hello and find_class

} // namespace ltrack::report
