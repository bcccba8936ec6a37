#include "net_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace ltrack::policy {

namespace {

bool parse_uint(std::string_view s, unsigned long &out)
{
	if (s.empty() || s.size() > 10)
		return false;
	auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
	return ec == std::errc() && p == s.data() + s.size();
}

// The address part alone, mapped into IPv6. v4 tells which family it was.
bool parse_addr(std::string_view s, std::array<uint8_t, 16> &out, bool &v4)
{
	std::string str(s);
	in_addr a4;
	in6_addr a6;
	out = {};
	if (inet_pton(AF_INET, str.c_str(), &a4) == 1) {
		v4 = true;
		out[10] = out[11] = 0xff;
		std::memcpy(&out[12], &a4, 4);
		return true;
	}
	if (inet_pton(AF_INET6, str.c_str(), &a6) == 1) {
		v4 = false;
		std::memcpy(out.data(), &a6, 16);
		return true;
	}
	return false;
}

} // namespace

bool same_prefix(const std::array<uint8_t, 16> &a, const std::array<uint8_t, 16> &b, int len)
{
	int full = len / 8, rest = len % 8;
	for (int i = 0; i < full; i++)
		if (a[i] != b[i])
			return false;
	if (rest == 0)
		return true;
	uint8_t mask = uint8_t(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

std::string format_cidr(const std::array<uint8_t, 16> &addr, int len)
{
	char buf[INET6_ADDRSTRLEN];
	bool mapped = len >= 96 && addr[10] == 0xff && addr[11] == 0xff &&
		      std::all_of(addr.begin(), addr.begin() + 10, [](uint8_t b) { return b == 0; });
	if (mapped) {
		inet_ntop(AF_INET, &addr[12], buf, sizeof(buf));
		return std::string(buf) + "/" + std::to_string(len - 96);
	}
	inet_ntop(AF_INET6, addr.data(), buf, sizeof(buf));
	return std::string(buf) + "/" + std::to_string(len);
}

result<cidr> parse_cidr(std::string_view text)
{
	std::string_view addr_part = text, len_part;
	if (auto slash = text.find('/'); slash != std::string_view::npos) {
		addr_part = text.substr(0, slash);
		len_part = text.substr(slash + 1);
	}
	cidr c;
	bool v4 = false;
	if (!parse_addr(addr_part, c.addr, v4))
		return status::fail("\"" + std::string(addr_part) + "\" is not an IPv4 or IPv6 address");
	int max = v4 ? 32 : 128;
	unsigned long len = max;
	if (text.find('/') != std::string_view::npos && (!parse_uint(len_part, len) || len > unsigned(max)))
		return status::fail("prefix length \"" + std::string(len_part) + "\" must be a number from 0 to " +
				    std::to_string(max));
	c.len = int(len) + (v4 ? 96 : 0);
	// Host bits set usually means a typo in the prefix length: refuse.
	std::array<uint8_t, 16> masked{};
	for (int i = 0; i < 16; i++) {
		int bits = std::clamp(c.len - i * 8, 0, 8);
		masked[i] = c.addr[i] & uint8_t(bits ? 0xff << (8 - bits) : 0);
	}
	if (masked != c.addr)
		return status::fail("\"" + std::string(text) + "\" has bits set after the prefix; did you mean \"" +
				    format_cidr(masked, c.len) + "\"?");
	c.text = std::string(text);
	return c;
}

result<port_range> parse_port_range(std::string_view text)
{
	std::string_view lo = text, hi = text;
	if (auto dash = text.find('-'); dash != std::string_view::npos) {
		lo = text.substr(0, dash);
		hi = text.substr(dash + 1);
	}
	unsigned long a = 0, b = 0;
	if (!parse_uint(lo, a) || !parse_uint(hi, b))
		return status::fail("\"" + std::string(text) +
				    "\" is not a port or a port range (write 443 or \"8000-8100\")");
	if (a > 65535 || b > 65535)
		return status::fail("port " + std::to_string(a > 65535 ? a : b) + " is out of range (0-65535)");
	if (a > b)
		return status::fail("port range \"" + std::string(text) + "\" is backwards; write \"" +
				    std::to_string(b) + "-" + std::to_string(a) + "\"");
	return port_range{uint16_t(a), uint16_t(b)};
}

result<endpoint> parse_endpoint(std::string_view text)
{
	endpoint e;
	e.text = std::string(text);
	if (text.substr(0, 5) == "unix:") {
		e.is_unix = true;
		return e;
	}
	std::string_view rest = text;
	if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
		std::string_view p = rest.substr(slash + 1);
		if (p == "tcp")
			e.proto = 6;
		else if (p == "udp")
			e.proto = 17;
		else
			return status::fail("protocol \"" + std::string(p) + "\" must be tcp or udp");
		rest = rest.substr(0, slash);
	}
	std::string_view host, port;
	if (!rest.empty() && rest[0] == '[') {
		auto close = rest.find(']');
		if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
			return status::fail("write an IPv6 destination as [ADDR]:PORT");
		host = rest.substr(1, close - 1);
		port = rest.substr(close + 2);
	} else {
		auto colon = rest.rfind(':');
		if (colon == std::string_view::npos || rest.find(':') != colon)
			return status::fail("write the destination as ADDR:PORT, [ADDR6]:PORT or unix:PATH");
		host = rest.substr(0, colon);
		port = rest.substr(colon + 1);
	}
	bool v4;
	if (!parse_addr(host, e.addr, v4))
		return status::fail("\"" + std::string(host) + "\" is not an IPv4 or IPv6 address");
	unsigned long p = 0;
	if (!parse_uint(port, p) || p > 65535)
		return status::fail("port \"" + std::string(port) + "\" must be a number from 0 to 65535");
	e.port = uint16_t(p);
	return e;
}

bool listen_address::loopback() const
{
	if (!v6)
		return addr[0] == 127;
	static const std::array<uint8_t, 16> one{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	static const std::array<uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 0};
	return addr == one || same_prefix(addr, mapped, 104);
}

result<listen_address> parse_listen_address(std::string_view text)
{
	listen_address a;
	std::string_view host, port;
	if (!text.empty() && text[0] == '[') {
		auto close = text.find(']');
		if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
			return status::fail("write an IPv6 address as [ADDR]:PORT, e.g. [::1]:9464");
		host = text.substr(1, close - 1);
		port = text.substr(close + 2);
		a.v6 = true;
	} else {
		auto colon = text.rfind(':');
		if (colon == std::string_view::npos || text.find(':') != colon)
			return status::fail(
				"write ADDR:PORT, e.g. 127.0.0.1:9464 (an IPv6 address in brackets: [::1]:9464)");
		host = text.substr(0, colon);
		port = text.substr(colon + 1);
	}
	std::string h(host);
	if (h.empty() || h.size() > 64 || inet_pton(a.v6 ? AF_INET6 : AF_INET, h.c_str(), a.addr.data()) != 1)
		return status::fail("\"" + h + "\" is not an IP" + std::string(a.v6 ? "v6" : "v4") +
				    " address (host names are not resolved: write the address to bind)");
	unsigned long p = 0;
	if (!parse_uint(port, p) || p == 0 || p > 65535)
		return status::fail("port \"" + std::string(port) + "\" is not a number 1-65535");
	a.port = uint16_t(p);
	return a;
}

} // namespace ltrack::policy
