// The decision log's formats: JSON lines (for machines), one text line (for
// people) and fixed columns (for ltrackctl). Field names are documented in
// docs/decision-log.md and are part of the interface: do not rename.
#pragma once

#include "escape.h"
#include "record.h"

#include <string>
#include <string_view>

namespace ltrack::tracing {

enum class log_format { json, text };
const char *format_name(log_format f);
std::optional<log_format> parse_format(std::string_view name); // "json" | "text", case-insensitive

// The host name JSON records carry ("host"): uname's nodename at the first record.
const std::string &host_name();
// One JSON object, no trailing newline.
std::string format_json(const decision_record &r);
std::string format_json(const loss_record &l);
// One line, no trailing newline.
std::string format_text(const decision_record &r);
std::string format_text(const loss_record &l);
// What a decision was about, for people: a path, "addr:port/proto",
// "unix:PATH" or the credential change; escaped as text_escape() does.
std::string object_text(const decision_record &r);
// The process's executable (its comm when the executable is unknown), escaped.
std::string exe_text(const decision_record &r);
// Fixed columns; the header matches format_table's widths.
std::string format_table_header();
std::string format_table(const decision_record &r);

} // namespace ltrack::tracing
