// The filter expression language of `ltrackctl events --filter`:
//
//   expression := or_expr
//   or_expr    := and_expr { ("||" | ";") and_expr }
//   and_expr   := unary { "&&" unary }
//   unary      := "!" unary | "(" or_expr ")" | field op value
//   op         := "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
//   value      := word | "quoted string" (\" and \\ escape inside quotes)
//
// e.g. `dport=80 && dip="10.0.0.0/8"; container="redis"`. Fields and what
// their comparisons mean are in docs/decision-log.md.
#pragma once

#include "record.h"

#include <memory>
#include <string>
#include <string_view>

namespace ltrack::tracing {

class filter_expression;

struct expression_parse {
	std::shared_ptr<const filter_expression> expr; // null on error
	std::string error;                             // "column N: ..."
	size_t column = 0;                             // 1-based, 0 when no error
};

// Never throws or crashes on any input; nesting is bounded.
expression_parse parse_filter_expression(std::string_view text);
bool evaluate(const filter_expression &e, const decision_record &r);

// The fields the language knows, comma-separated, for help texts.
const char *filter_fields();

} // namespace ltrack::tracing
