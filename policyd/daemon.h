// The running daemon: policy, BPF guard, decision pipeline and control
// socket, in one event loop.
#pragma once

#include "control_protocol.h"

#include <string>

namespace ltrack {

struct daemon_options {
	std::string policy_path = "/etc/ltrack/policy.toml";
	std::string pin_dir = "/sys/fs/bpf/ltrack";
	std::string socket_path = control::default_socket;
	std::string report_socket; // "" = report.sock next to socket_path
	std::string decision_log;  // overrides [log].output_path; "-" = stdout only
	bool foreground = false;   // decisions also to stdout
};

// Runs until SIGTERM/SIGINT or `ltrackctl unload`; returns the exit status.
int run_daemon(const daemon_options &opt);

} // namespace ltrack
