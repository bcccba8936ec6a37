#include "control_protocol.h"

namespace ltrack::control {

result<std::vector<std::string>> parse_request(std::string_view line)
{
	std::vector<std::string> fields;
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
		return status::fail("protocol mismatch: ltrackd speaks " + std::string(protocol) +
				    ", the client sent '" + fields.front() +
				    "'; use the ltrackctl that came with this ltrackd");
	}
	fields.erase(fields.begin());
	if (fields.empty() || fields.front().empty())
		return status::fail("empty request");
	return fields;
}

std::string format_progress(std::string_view phase, std::string_view text)
{
	std::string line = "progress\t";
	line += phase;
	line += '\t';
	// One line whatever the text holds: a path with a line feed in it
	// must not end the progress line and start a fake reply.
	for (char c : text)
		line += c == '\n' || c == '\r' ? ' ' : c;
	line += '\n';
	return line;
}

bool parse_progress(std::string_view line, std::string &phase, std::string &text)
{
	if (!line.empty() && line.back() == '\n')
		line.remove_suffix(1);
	constexpr std::string_view tag = "progress\t";
	if (line.substr(0, tag.size()) != tag)
		return false;
	line.remove_prefix(tag.size());
	std::size_t tab = line.find('\t');
	if (tab == std::string_view::npos)
		return false;
	phase = line.substr(0, tab);
	text = line.substr(tab + 1);
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

namespace ltrack::control {

request_reader::state request_reader::feed(std::string_view bytes, clock::time_point now)
{
	if (check(now) != state::reading)
		return state_;
	std::size_t lf = bytes.find('\n');
	line_.append(bytes.substr(0, lf));
	if (line_.size() > max_bytes)
		state_ = state::too_large;
	else if (lf != std::string_view::npos)
		state_ = state::complete;
	return state_;
}

request_reader::state request_reader::check(clock::time_point now)
{
	if (state_ == state::reading && now >= deadline_)
		state_ = state::timed_out;
	return state_;
}

const char *state_name(request_reader::state s)
{
	switch (s) {
	case request_reader::state::reading: return "reading";
	case request_reader::state::complete: return "complete";
	case request_reader::state::too_large: return "too large";
	case request_reader::state::timed_out: return "timed out";
	}
	return "?";
}

} // namespace ltrack::control
