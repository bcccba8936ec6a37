// Parsing network destinations: CIDRs, ports and "ADDR:PORT[/proto]".
#pragma once

#include "policy_model.h"
#include "status.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ltrack::policy {

// "10.0.0.0/8", "::1", "fe80::/10", "loopback" is not handled here. A
// failure's message says how to write it.
result<cidr> parse_cidr(std::string_view text);

// "8000-8100" or "443".
result<port_range> parse_port_range(std::string_view text);

// Whether the first `len` bits of a and b agree.
bool same_prefix(const std::array<uint8_t, 16> &a, const std::array<uint8_t, 16> &b, int len);

std::string format_cidr(const std::array<uint8_t, 16> &addr, int len);

struct endpoint {
	bool is_unix = false;
	std::array<uint8_t, 16> addr{};
	uint16_t port = 0;
	uint8_t proto = 6; // tcp unless "/udp"
	std::string text;
};

// "127.0.0.1:8080", "[::1]:443/udp", "unix:/run/x.sock".
result<endpoint> parse_endpoint(std::string_view text);

// A TCP address to listen on ([metrics] listen): "127.0.0.1:9464" or
// "[::1]:9464", literal addresses only (no host names: what is bound is
// what was written). Port 1-65535.
struct listen_address {
	bool v6 = false;
	std::array<uint8_t, 16> addr{}; // IPv4 in the first 4 bytes
	uint16_t port = 0;
	bool loopback() const; // 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104
};
result<listen_address> parse_listen_address(std::string_view text);

} // namespace ltrack::policy
