// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* socket_connect: destination CIDR (longest prefix), port range and
 * protocol for IPv4 and IPv6 (IPv4-mapped IPv6 is matched as IPv4), and a
 * per-profile verdict for Unix sockets. */
#include "ltrack.bpf.h"

#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

struct dest {
	__u16 family;
	__u16 port;
	__u8 proto;
	__u8 addr[16]; /* IPv6, or IPv4 mapped */
};

/* Reads the destination; false for families ltrack does not govern. */
static __always_inline bool read_dest(struct socket *sock, struct sockaddr *address, int addrlen,
				      struct dest *out)
{
	__u16 family = BPF_CORE_READ(address, sa_family);

	out->family = family;
	out->proto = BPF_CORE_READ(sock, sk, sk_protocol);
	if (family == AF_INET) {
		struct sockaddr_in sin = {};

		if (addrlen < (int)sizeof(sin))
			return false;
		bpf_probe_read_kernel(&sin, sizeof(sin), address);
		__builtin_memset(out->addr, 0, 10);
		out->addr[10] = 0xff;
		out->addr[11] = 0xff;
		__builtin_memcpy(&out->addr[12], &sin.sin_addr.s_addr, 4);
		out->port = bpf_ntohs(sin.sin_port);
		return true;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 sin6 = {};

		if (addrlen < (int)sizeof(sin6))
			return false;
		bpf_probe_read_kernel(&sin6, sizeof(sin6), address);
		__builtin_memcpy(out->addr, &sin6.sin6_addr, 16);
		out->port = bpf_ntohs(sin6.sin6_port);
		return true;
	}
	return family == AF_UNIX;
}

static __always_inline void decide_inet(struct dest *dst, struct ltrack_profile *p, __u32 slot,
					struct decision *d)
{
	struct ltrack_net_key key = { .prefixlen = 32 + 128, .scope = slot << 16 | d->profile };
	struct ltrack_net_val *v;

	d->action = p->net_default;
	d->rule_id = p->net_default_rule;
	d->is_default = 1;
	if (!(p->flags & LTRACK_PF_NET_RULES))
		return;
	__builtin_memcpy(key.addr, dst->addr, 16);
	v = bpf_map_lookup_elem(&net_rules, &key);
	if (!v)
		return;
	for (int i = 0; i < LTRACK_NET_RULES_PER_PREFIX; i++) {
		struct ltrack_net_rule *r = &v->rules[i];

		if (i >= v->count)
			break;
		if (dst->port < r->port_lo || dst->port > r->port_hi)
			continue;
		if (r->proto && r->proto != dst->proto)
			continue;
		d->action = r->action;
		d->rule_id = r->rule_id;
		d->is_default = 0;
		return;
	}
}

/* One decision for a destination, made by connect() or by a send that
 * names its destination itself. */
static __always_inline int decide_destination(struct socket *sock, struct sockaddr *address, int addrlen)
{
	struct ltrack_profile *p;
	struct ltrack_event *e;
	struct decision d = {};
	struct dest dst = {};
	struct view v;
	int err;

	p = begin_decision(&v, &d, LTRACK_HOOK_NET);
	if (!p || !read_dest(sock, address, addrlen, &dst))
		return 0;
	if (dst.family == AF_UNIX) {
		d.action = p->unix_action ? p->unix_action : p->net_default;
		d.rule_id = p->unix_action ? p->unix_rule : p->net_default_rule;
		d.is_default = !p->unix_action;
	} else {
		decide_inet(&dst, p, v.slot, &d);
	}
	err = settle(&d);
	if (!worth_recording(&d))
		return err;
	e = new_record(&d);
	if (e) {
		e->family = dst.family;
		e->port = dst.port;
		e->proto = dst.proto;
		__builtin_memcpy(e->addr, dst.addr, 16);
		if (dst.family == AF_UNIX && addrlen > 2)
			bpf_probe_read_kernel_str(e->path, sizeof(e->path),
						  ((struct sockaddr_un *)address)->sun_path);
		submit_record(e);
	}
	return err;
}

SEC("lsm/socket_connect")
int BPF_PROG(guard_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen,
	     int ret)
{
	if (ret)
		return ret;
	return decide_destination(sock, address, addrlen);
}

/* sendto()/sendmsg() with a destination reach the network without connect():
 * unconnected UDP, and TCP Fast Open (sendto with MSG_FASTOPEN connects inside
 * the send). The syscall has already copied the address into the kernel. A
 * send on a connected socket names no destination and was decided at connect. */
SEC("lsm/socket_sendmsg")
int BPF_PROG(guard_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	struct sockaddr *address;
	int addrlen;

	if (ret)
		return ret;
	address = BPF_CORE_READ(msg, msg_name);
	addrlen = BPF_CORE_READ(msg, msg_namelen);
	if (!address || addrlen <= 0)
		return 0;
	return decide_destination(sock, address, addrlen);
}
