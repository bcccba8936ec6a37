// The decision history as a provenance graph: processes, files and sockets
// as nodes with stable identifiers, and the fork, exec, open and connect
// edges between them, written as JSON lines (docs/provenance.md), so a graph
// or provenance tool can load it without correlating records itself.
#pragma once

#include "record.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ltrack::tracing {

struct provenance_options {
	std::string boot_id; // /proc/sys/kernel/random/boot_id; part of every process id
	// The start time (boot-relative ns) of the process that had pid at
	// boot-relative time at_ns, or 0 when unknown. Used for parents that made
	// no decision of their own; may be empty.
	std::function<uint64_t(uint32_t pid, uint64_t at_ns)> start_of;
};

// Stable identifiers (docs/provenance.md):
//   process  "proc:" + 16 hex digits of FNV-1a 64 over "boot_id/pid/start_boot_ns"
//   file     "file:<major>:<minor>:<ino>", or "path:<path>" when the inode is unknown
//   socket   "sock:<proto>:<addr>:<port>" ("sock:tcp:127.0.0.1:80", "sock:tcp:[::1]:80"),
//            "sock:unix:<path>" for unix sockets
std::string process_node_id(const std::string &boot_id, uint32_t pid, uint64_t start_boot_ns);
std::string file_node_id(const decision_record &r);
std::string socket_node_id(const decision_record &r);

// Builds the graph of the records (in time order): every node once, nodes
// before the edges that reference them; identical edges (same kind, ends and
// outcome) folded into one with a count and the first and last time.
// One JSON object per element, no newlines.
std::vector<std::string> provenance_graph(const std::vector<decision_record> &records, const provenance_options &opt);

// The running kernel's boot id ("" when unreadable).
std::string read_boot_id();

} // namespace ltrack::tracing
