// Reading the decision log back: the JSON lines ltrackd writes
// (docs/decision-log.md), from the live file and its rotated backups,
// plain or gzipped, for `ltrackctl learn` and `ltrackctl replay`.
#pragma once

#include "record.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ltrack::tracing {

// One line that could not be read: "FILE:LINE: what".
struct log_problem {
	std::string file;
	uint64_t line = 0; // 0: the file as a whole (unreadable, truncated gzip stream)
	std::string what;
	std::string text() const;
};

struct log_read_stats {
	uint64_t files = 0;
	uint64_t lines = 0;
	uint64_t decisions = 0; // decision records handed to the callback
	uint64_t lost = 0;      // the counts of ring_buffer and write_error loss records
	uint64_t other = 0;     // stats and coalesced-loss records, blank lines
	std::vector<log_problem> problems;
};

// The decision log at path and its backups (rotating_file_sink's scheme:
// "<path>.<n>" or "<path>.<n>.gz"), oldest first, the live file last; only
// those that exist. A backup present both plain and gzipped (a compression
// cut short) is read once, plain.
std::vector<std::string> log_files_with_backups(const std::string &path);

// Reads one file, plain or gzip (by its magic bytes, whatever its name),
// line by line; each decision record is parsed into a decision_record (every
// field the log writes, the ABI's names back to their values: format_json of
// it writes the line again) and passed to
// on_record. A line that is not a record (not JSON, a JSON object that is not
// a decision, a stats or loss record, a text-format line, a truncated last
// line) is a problem with its file and line number; reading goes on. A
// gzip stream that ends early or is corrupt is a problem of the file (line 0
// or the line it stopped at); what was read before it counts.
// Returns false when the file cannot be opened (also a problem).
bool read_decision_log(const std::string &file, const std::function<void(const decision_record &)> &on_record,
		       log_read_stats &stats);

// One JSON line to a record. false and error ("not JSON: ...", "not a
// decision record") otherwise; kind is "decision", "loss", "stats" or "".
bool parse_decision_line(const std::string &line, decision_record &out, std::string &kind, uint64_t &loss_count,
			 bool &loss_is_real, std::string &error);

} // namespace ltrack::tracing
