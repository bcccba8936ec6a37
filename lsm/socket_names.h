/* SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only */
/*
 * User space's names for the socket constants of the SOCKET hook: address
 * families, socket types and netlink protocols, as the policy's network
 * `sockets` list writes them and the decision log prints them. One table
 * for both, so a name the log prints is a name the policy accepts.
 */
#ifndef LTRACK_SOCKET_NAMES_H
#define LTRACK_SOCKET_NAMES_H

#include <cstdint>
#include <string>
#include <string_view>

namespace ltrack {

struct socket_name {
	const char *name;
	uint32_t value;
};

/* Address families by their AF_* value (include/linux/socket.h). AF_INET,
 * AF_INET6 and AF_NETLINK are listed for the log; the policy names their
 * kinds instead (inet, inet6, icmp, raw, ip-other, netlink-*). */
inline constexpr socket_name socket_families[] = {
	{"unix", 1},       {"inet", 2},      {"ax25", 3},   {"ipx", 4},      {"appletalk", 5}, {"netrom", 6},
	{"bridge", 7},     {"atmpvc", 8},    {"x25", 9},    {"inet6", 10},   {"rose", 11},     {"decnet", 12},
	{"netbeui", 13},   {"security", 14}, {"key", 15},   {"netlink", 16}, {"packet", 17},   {"ash", 18},
	{"econet", 19},    {"atmsvc", 20},   {"rds", 21},   {"sna", 22},     {"irda", 23},     {"pppox", 24},
	{"wanpipe", 25},   {"llc", 26},      {"ib", 27},    {"mpls", 28},    {"can", 29},      {"tipc", 30},
	{"bluetooth", 31}, {"iucv", 32},     {"rxrpc", 33}, {"isdn", 34},    {"phonet", 35},   {"ieee802154", 36},
	{"caif", 37},      {"alg", 38},      {"nfc", 39},   {"vsock", 40},   {"kcm", 41},      {"qipcrtr", 42},
	{"smc", 43},       {"xdp", 44},      {"mctp", 45},
};

/* Netlink protocols by their NETLINK_* value (include/uapi/linux/netlink.h). */
inline constexpr socket_name netlink_protocols[] = {
	{"route", 0},      {"usersock", 2},       {"firewall", 3},  {"sock-diag", 4}, {"nflog", 5},
	{"xfrm", 6},       {"selinux", 7},        {"iscsi", 8},     {"audit", 9},     {"fib-lookup", 10},
	{"connector", 11}, {"netfilter", 12},     {"ip6-fw", 13},   {"dnrtmsg", 14},  {"kobject-uevent", 15},
	{"generic", 16},   {"scsitransport", 18}, {"ecryptfs", 19}, {"rdma", 20},     {"crypto", 21},
	{"smc", 22},
};

inline constexpr socket_name socket_types[] = {
	{"stream", 1}, {"dgram", 2}, {"raw", 3}, {"rdm", 4}, {"seqpacket", 5}, {"dccp", 6}, {"packet", 10},
};

template <std::size_t N>
inline const char *socket_name_of(const socket_name (&table)[N], uint32_t value)
{
	for (const auto &e : table)
		if (e.value == value)
			return e.name;
	return nullptr;
}

template <std::size_t N>
inline const socket_name *socket_value_of(const socket_name (&table)[N], std::string_view name)
{
	for (const auto &e : table)
		if (name == e.name)
			return &e;
	return nullptr;
}

/* "packet", else the number. */
inline std::string socket_family_name(uint32_t family)
{
	const char *n = socket_name_of(socket_families, family);
	return n ? n : std::to_string(family);
}

inline std::string socket_type_name(uint32_t type)
{
	const char *n = socket_name_of(socket_types, type);
	return n ? n : std::to_string(type);
}

} // namespace ltrack

#endif /* LTRACK_SOCKET_NAMES_H */
