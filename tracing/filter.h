// Which decision records `ltrackctl events` shows: option filters (all that
// are set must match) plus an optional filter expression (filter_expression.h).
#pragma once

#include "record.h"
#include "status.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ltrack::tracing {

class filter_expression;

// An address prefix in the event's form: IPv4 mapped into IPv6 (bits counts
// the 96 mapping bits too), so one comparison covers both families.
struct ip_prefix {
	std::array<uint8_t, 16> addr{};
	unsigned bits = 128;
};

// "10.0.0.0/8", "10.1.2.3" (a /32), "2001:db8::/32", "::1". Host bits set
// below the prefix are an error ("10.0.0.1/8"): the caller probably meant
// something else; the failure says which.
result<ip_prefix> parse_prefix(std::string_view text);
bool prefix_contains(const ip_prefix &p, const std::array<uint8_t, 16> &addr);

// Shared by the option filters and the expression language.
bool action_matches(const decision_record &r, std::string_view action);  // action or outcome name
bool container_matches(const decision_record &r, std::string_view what); // id/pod prefix, name/unit substring, runtime
bool keyword_matches(const decision_record &r, std::string_view word);   // exe, cmdline or comm substring
bool path_has_prefix(std::string_view path,
		     std::string_view prefix); // whole components: /etc matches /etc/x, not /etcx

struct event_filter {
	std::string profile; // exact name
	std::string action;  // action or outcome name: "deny" or "denied"
	std::optional<severity> min_severity;
	std::optional<uint32_t> pid;
	std::string exe_substring;
	std::string path_prefix;
	std::optional<ip_prefix> dest;
	std::optional<uint16_t> port;
	std::string container;
	std::shared_ptr<const filter_expression> expression;
};

bool matches(const event_filter &f, const decision_record &r);

} // namespace ltrack::tracing
