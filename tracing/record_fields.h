// A record of the decision log (format_json's output) as a flat list of
// fields, for the outputs that want one field per record field (journald)
// and for the check that docs/decision-log.md names every field.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ltrack::tracing {

struct record_field {
	std::string name;  // JSON path: "process.pid", "rule.file", "net.addr"
	std::string value; // strings decoded; numbers, booleans as written; arrays, null and count maps as JSON
};

// Nested objects are flattened with '.', except the count maps of stats
// records (keys starting "by_", whose keys are data) and arrays, which stay
// one field holding their JSON. nullopt if json is not one JSON object.
std::optional<std::vector<record_field>> flatten_record(std::string_view json);

// The journald field for a record field: "LTRACK_" + the path in capitals
// with '.' as '_' ("process.pid" -> "LTRACK_PROCESS_PID"); journald
// accepts only A-Z, 0-9 and '_' (anything else becomes '_'), at most 64.
std::string journal_field_name(std::string_view path);

} // namespace ltrack::tracing
