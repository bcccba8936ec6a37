#include "control_protocol.h"

namespace ltrack::control {

bool parse_request(std::string_view line, std::vector<std::string> &fields, std::string &error)
{
	fields.clear();
	if (!line.empty() && line.back() == '\n')
		line.remove_suffix(1);
	std::size_t start = 0;
	while (true) {
		std::size_t tab = line.find('\t', start);
		fields.emplace_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
		if (tab == std::string_view::npos)
			break;
		start = tab + 1;
	}
	if (fields.front() != protocol) {
		error = "protocol mismatch: ltrackd speaks " + std::string(protocol) + ", the client sent '" +
			fields.front() + "'; use the ltrackctl that came with this ltrackd";
		return false;
	}
	fields.erase(fields.begin());
	if (fields.empty() || fields.front().empty()) {
		error = "empty request";
		return false;
	}
	return true;
}

std::string format_request(const std::vector<std::string> &fields)
{
	std::string line(protocol);
	for (const auto &f : fields) {
		line += '\t';
		line += f;
	}
	line += '\n';
	return line;
}

} // namespace ltrack::control
