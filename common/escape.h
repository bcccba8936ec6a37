// How any bytes, valid UTF-8 or not, are written into ltrack's output: the one
// JSON string writer (decision log, provenance, run summaries, every --json)
// and the text formats' escaping. File names, command lines and pickle globals
// are attacker-chosen bytes; neither writer ever copies an invalid byte out.
#pragma once

#include <string>
#include <string_view>

namespace ltrack {

// Appends s as a JSON string body (no quotes): quotes, backslashes, every
// control character and U+2028/U+2029 escaped; each byte of invalid UTF-8
// (overlong, surrogate, out of range, truncated) replaced by U+FFFD.
void json_escape(std::string &out, std::string_view s);
// s as a JSON string, quotes included.
std::string json_string(std::string_view s);
// For the text formats: printable ASCII and valid UTF-8 as is; backslash as
// "\\"; controls as \n, \t, \r or \xNN; invalid UTF-8 bytes as \xNN. A
// hostile name can never start a new line or fake a field.
std::string text_escape(std::string_view s);

// The one JSON string reader (the decision log read back, a record's fields
// for journald): s[i] is the opening quote; on success i is past the closing
// one and out has the decoded bytes appended (\u escapes as UTF-8, a
// surrogate pair as one code point). Strict: a raw control byte, a lone
// surrogate, an unknown or cut escape, or no closing quote is an error,
// returned as what is wrong (i then at the byte that is); nullptr on success.
const char *json_unescape(std::string_view s, size_t &i, std::string &out);

} // namespace ltrack
