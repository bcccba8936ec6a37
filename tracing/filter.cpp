#include "filter.h"

#include "filter_expression.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

namespace ltrack::tracing {

result<ip_prefix> parse_prefix(std::string_view text)
{
	auto fail = [](std::string why) { return status::fail(std::move(why), EINVAL); };
	std::string addr(text.substr(0, text.find('/')));
	std::optional<unsigned> len;
	if (size_t slash = text.find('/'); slash != std::string_view::npos) {
		std::string_view l = text.substr(slash + 1);
		if (l.empty() || l.size() > 3 || l.find_first_not_of("0123456789") != std::string_view::npos)
			return fail("\"" + std::string(text) + "\" has no valid prefix length after '/'");
		len = static_cast<unsigned>(std::stoul(std::string(l)));
	}
	ip_prefix p;
	in_addr v4;
	in6_addr v6;
	if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) {
		if (len && *len > 32)
			return fail("prefix length /" + std::to_string(*len) + " is over 32 for IPv4 address " + addr);
		p.addr[10] = p.addr[11] = 0xff;
		std::memcpy(p.addr.data() + 12, &v4, 4);
		p.bits = 96 + len.value_or(32);
	} else if (inet_pton(AF_INET6, addr.c_str(), &v6) == 1) {
		if (len && *len > 128)
			return fail("prefix length /" + std::to_string(*len) + " is over 128 for IPv6 address " + addr);
		std::memcpy(p.addr.data(), &v6, 16);
		p.bits = len.value_or(128);
	} else {
		return fail("\"" + addr + "\" is not an IPv4 or IPv6 address");
	}
	for (unsigned bit = p.bits; bit < 128; ++bit)
		if (p.addr[bit / 8] & (0x80 >> (bit % 8)))
			return fail("\"" + std::string(text) + "\" has host bits set below the prefix length");
	return p;
}

bool prefix_contains(const ip_prefix &p, const std::array<uint8_t, 16> &addr)
{
	unsigned full = p.bits / 8, rest = p.bits % 8;
	if (std::memcmp(p.addr.data(), addr.data(), full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
	return (p.addr[full] & mask) == (addr[full] & mask);
}

bool action_matches(const decision_record &r, std::string_view action)
{
	if (auto a = abi::value_of<ltrack_action>(action))
		return r.action == *a;
	if (auto o = abi::value_of<ltrack_outcome>(action))
		return r.outcome == *o;
	return false;
}

bool container_matches(const decision_record &r, std::string_view what)
{
	const container_info &c = r.process->container;
	if (what.empty())
		return c.runtime != container_runtime::none;
	return (!c.id.empty() && c.id.starts_with(what)) || (!c.pod_uid.empty() && c.pod_uid.starts_with(what)) ||
	       c.name.find(what) != std::string::npos || c.unit.find(what) != std::string::npos ||
	       (c.runtime != container_runtime::none && what == runtime_name(c.runtime));
}

bool keyword_matches(const decision_record &r, std::string_view word)
{
	return r.process->exe.find(word) != std::string::npos || r.process->cmdline.find(word) != std::string::npos ||
	       r.comm.find(word) != std::string::npos;
}

bool path_has_prefix(std::string_view path, std::string_view prefix)
{
	if (prefix.empty())
		return true;
	if (!path.starts_with(prefix))
		return false;
	return path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/';
}

bool matches(const event_filter &f, const decision_record &r)
{
	if (!f.profile.empty() && r.rule.profile != f.profile)
		return false;
	if (!f.action.empty() && !action_matches(r, f.action))
		return false;
	if (f.min_severity && r.level < *f.min_severity)
		return false;
	if (f.pid && r.pid != *f.pid)
		return false;
	if (!f.exe_substring.empty() && r.process->exe.find(f.exe_substring) == std::string::npos &&
	    r.comm.find(f.exe_substring) == std::string::npos)
		return false;
	if (!f.path_prefix.empty() && (r.hook == LTRACK_HOOK_NET || !path_has_prefix(r.path, f.path_prefix)))
		return false;
	if (f.dest && (r.hook != LTRACK_HOOK_NET || r.family == "unix" || !prefix_contains(*f.dest, r.addr)))
		return false;
	if (f.port && (r.hook != LTRACK_HOOK_NET || r.family == "unix" || r.port != *f.port))
		return false;
	if (!f.container.empty() && !container_matches(r, f.container))
		return false;
	if (f.expression && !evaluate(*f.expression, r))
		return false;
	return true;
}

} // namespace ltrack::tracing
