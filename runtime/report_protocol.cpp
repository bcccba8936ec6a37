#include "report_protocol.h"

#include <array>
#include <vector>

namespace ltrack::report {
namespace {

constexpr std::array<std::pair<std::string_view, op>, 7> ops = {{
	{"hello", op::hello},
	{"find_class", op::find_class},
	{"exec", op::exec},
	{"compile", op::compile},
	{"subprocess", op::subprocess},
	{"system", op::system},
	{"execv", op::execv},
}};

} // namespace

const char *op_name(op o)
{
	for (const auto &[name, v] : ops)
		if (v == o)
			return name.data();
	return "?";
}

bool wants_reply(op o)
{
	return o == op::hello || o == op::find_class;
}

result<message> parse(std::string_view bytes)
{
	if (bytes.empty())
		return status::fail("empty message");
	if (bytes.size() > max_message)
		return status::fail("message longer than " + std::to_string(max_message) + " bytes");
	std::vector<std::string_view> fields;
	for (std::size_t start = 0;;) {
		std::size_t end = bytes.find('\0', start);
		fields.push_back(
			bytes.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
		if (end == std::string_view::npos)
			break;
		start = end + 1;
	}
	message m;
	bool known = false;
	for (const auto &[name, v] : ops)
		if (fields[0] == name) {
			m.kind = v;
			known = true;
		}
	if (!known)
		return status::fail("unknown report");
	std::size_t want = m.kind == op::hello ? 1 : m.kind == op::find_class ? 3 : 2;
	if (fields.size() != want)
		return status::fail(std::string(op_name(m.kind)) + " takes " + std::to_string(want - 1) +
				    " field(s), not " + std::to_string(fields.size() - 1));
	for (std::size_t i = 1; i < fields.size(); i++) {
		std::size_t limit = m.kind == op::find_class ? max_name : max_field;
		if (fields[i].empty())
			return status::fail("empty field");
		if (fields[i].size() > limit)
			return status::fail("field longer than " + std::to_string(limit) + " bytes");
	}
	if (want > 1)
		m.a = fields[1];
	if (want > 2)
		m.b = fields[2];
	return m;
}

std::string format(const message &m)
{
	std::string out = op_name(m.kind);
	if (m.kind == op::hello)
		return out;
	out += '\0';
	out += m.a;
	if (m.kind == op::find_class) {
		out += '\0';
		out += m.b;
	}
	return out;
}

} // namespace ltrack::report
