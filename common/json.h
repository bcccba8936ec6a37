// A JSON object written field by field, for the small reports of --json
// (doctor, --check-support, reload, mode, unload, errors). Every string goes
// through json_escape (escape.h), so no byte of a path or message is ever
// copied raw; numbers are formatted as numbers, nested values are objects or
// arrays built the same way.
#pragma once

#include "escape.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

namespace ltrack {

class json_object {
public:
	json_object &str(std::string_view key, std::string_view value)
	{
		name(key);
		out_ += '"';
		json_escape(out_, value);
		out_ += '"';
		return *this;
	}
	json_object &boolean(std::string_view key, bool value)
	{
		name(key);
		out_ += value ? "true" : "false";
		return *this;
	}
	template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
	json_object &num(std::string_view key, T value)
	{
		name(key);
		out_ += std::to_string(value);
		return *this;
	}
	// Milliseconds and the like: three decimals, as the text reports print.
	json_object &num(std::string_view key, double value)
	{
		name(key);
		char buf[64];
		std::snprintf(buf, sizeof(buf), "%.3f", value);
		out_ += buf;
		return *this;
	}
	// A value already written as JSON by json_object or json_array.
	json_object &raw(std::string_view key, const std::string &json)
	{
		name(key);
		out_ += json;
		return *this;
	}
	std::string text() const { return out_ + "}"; }

private:
	void name(std::string_view key)
	{
		out_ += out_.size() > 1 ? ",\"" : "\"";
		json_escape(out_, key);
		out_ += "\":";
	}
	std::string out_ = "{";
};

class json_array {
public:
	json_array &add_raw(const std::string &json)
	{
		out_ += out_.size() > 1 ? "," : "";
		out_ += json;
		return *this;
	}
	json_array &add_str(std::string_view s)
	{
		out_ += out_.size() > 1 ? ",\"" : "\"";
		json_escape(out_, s);
		out_ += '"';
		return *this;
	}
	std::string text() const { return out_ + "]"; }

private:
	std::string out_ = "[";
};

// {"error": message}: what every --json prints (on stdout) when the command fails.
inline std::string json_error(std::string_view message)
{
	// A message may end in a line feed (the daemon's replies do): not part of it.
	while (!message.empty() && message.back() == '\n')
		message.remove_suffix(1);
	return json_object().str("error", message).text();
}

} // namespace ltrack
