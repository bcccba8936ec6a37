// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* The network hooks of a governed process:
 *  - socket_create: the kinds of socket its profile lets it make (SOCKET);
 *    connect and send check the kind again, for a socket it did not make
 *    (inherited, received over SCM_RIGHTS, taken with pidfd_getfd);
 *  - socket_connect / socket_sendmsg: an IP destination, read the way the
 *    kernel's protocol code reads it (destination CIDR by longest prefix,
 *    port range, protocol; IPv4-mapped IPv6 is matched as IPv4);
 *  - unix_stream_connect / unix_may_send: a Unix socket by the identity of
 *    the socket reached (its inode, or the name it was bound to), then the
 *    profile's `unix` verdict. */
#include "decision.bpf.h"
#include "record.bpf.h"

#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ICMPV6 58
#define SIN6_LEN_RFC2133 24 /* a sockaddr_in6 without sin6_scope_id: the kernel takes it */
#define UNIX_PATH_MAX 108

/* ---- the kind of socket ------------------------------------------------- */

/* Whether a profile lets a process have a socket of this kind. */
static __always_inline bool socket_kind_allowed(struct ltrack_profile *p, __u32 family, __u32 type, __u32 protocol)
{
	if (family == AF_INET || family == AF_INET6) {
		__u32 kind = LTRACK_SOCK_IP_OTHER;

		if (type == SOCK_RAW)
			kind = LTRACK_SOCK_RAW;
		else if ((type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP)) ||
			 (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP)))
			kind = family == AF_INET ? LTRACK_SOCK_INET : LTRACK_SOCK_INET6;
		else if (type == SOCK_DGRAM && protocol == (family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6))
			kind = LTRACK_SOCK_ICMP;
		return p->sock_inet & kind;
	}
	if (family == AF_NETLINK)
		return protocol < 32 && (p->netlink_protocols & (1u << protocol));
	return family < 64 && (p->sock_families & (1ull << family));
}

/* The SOCKET decision, for a decision begun by the caller: nothing to
 * record when the kind is allowed; else refused (audit mode: would_deny). */
static __always_inline int decide_socket_kind(struct ltrack_profile *p, struct decision *d, __u32 family, __u32 type,
					      __u32 protocol)
{
	struct ltrack_event *e;
	int err;

	if (socket_kind_allowed(p, family, type, protocol))
		return 0;
	d->hook = LTRACK_HOOK_SOCKET;
	d->action = LTRACK_ACT_DENY;
	d->rule_id = p->sockets_rule;
	err = settle(d);
	e = new_record(d);
	if (e) {
		e->family = family;
		e->sock_type = type;
		e->proto = protocol;
		submit_record(e);
	}
	return err;
}

/* A socket in use, read once for both of its checks (its kind and its
 * destination): struct socket through direct loads (the hook's own
 * argument), struct sock by helper. */
struct sock_facts {
	struct sock *sk;
	bool has_file;
	__u16 family;
	__u16 type;
	__u16 protocol;
};

static __always_inline void read_sock(struct socket *sock, struct sock_facts *s)
{
	struct sock *sk = sock->sk;

	s->sk = sk;
	s->has_file = sock->file != NULL;
	s->family = s->type = s->protocol = 0;
	if (!sk)
		return;
	/* A local, not s->sk: CO-RE would relocate the access to s too. */
	s->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	s->type = BPF_CORE_READ(sk, sk_type);
	s->protocol = BPF_CORE_READ(sk, sk_protocol);
}

/* A socket in use: its own kind. Kernel sockets (no file) are not the
 * process's to choose. */
static __always_inline int check_socket_in_use(struct ltrack_profile *p, struct decision *d, struct sock_facts *s)
{
	if (!s->has_file || !s->sk)
		return 0;
	return decide_socket_kind(p, d, s->family, s->type, s->protocol);
}

SEC("lsm/socket_create")
int BPF_PROG(guard_socket_create, int family, int type, int protocol, int kern, int ret)
{
	struct decision d = {};
	struct view v;
	struct ltrack_profile *p;

	if (ret || kern)
		return ret;
	p = begin_decision(&v, &d, LTRACK_HOOK_SOCKET);
	if (!p)
		return 0;
	return decide_socket_kind(p, &d, family, type, protocol);
}

/* ---- IP destinations ----------------------------------------------------- */

struct dest {
	__u16 family;
	__u16 port;
	__u8 proto;
	__u8 addr[16]; /* IPv6, or IPv4 mapped */
};

enum dest_kind {
	DEST_NONE = 0,    /* names no destination to decide (see read_dest) */
	DEST_IP = 1,      /* out is the destination */
	DEST_UNKNOWN = 2, /* an address on an IP socket ltrack cannot read: fail closed */
};

/* The destination of a connect (send = false) or of a send naming one, on
 * an IP socket, read as the kernel's protocol code reads it:
 *  - AF_INET needs sizeof(sockaddr_in); AF_INET6 SIN6_LEN_RFC2133 (24)
 *    bytes, the scope id is optional. An IPv6 socket sends AF_INET
 *    addresses as IPv4 (udpv6_sendmsg).
 *  - AF_UNSPEC: connect() disconnects (inet_stream_connect,
 *    inet_dgram_connect); a send on an IPv4 UDP or raw socket reads it as
 *    AF_INET (udp_sendmsg, raw_sendmsg), on an IPv6 raw socket as AF_INET6
 *    (rawv6_sendmsg); on IPv6 UDP it means "the connected destination", and
 *    TCP Fast Open disconnects.
 *  - the unspecified address (0.0.0.0, ::) reaches this host: the bound
 *    source address, else loopback (ip_route_output, tcp_v6_connect).
 * Anything else a governed IP socket is handed is DEST_UNKNOWN. Other
 * families name no IP destination: Unix sockets are decided by the socket
 * reached (below), the rest by their kind alone. */
static __always_inline enum dest_kind read_dest(struct sock_facts *s, struct sockaddr *address, int addrlen, bool send,
						struct dest *out)
{
	struct sock *sk = s->sk;
	__u16 sk_family = s->family;
	__u16 family;

	if (!sk || (sk_family != AF_INET && sk_family != AF_INET6))
		return DEST_NONE;
	out->proto = s->protocol;
	if (addrlen < (int)sizeof(address->sa_family))
		return DEST_UNKNOWN;
	family = BPF_CORE_READ(address, sa_family);
	out->family = family;
	if (family == AF_UNSPEC) {
		if (!send)
			return DEST_NONE;
		if (sk_family == AF_INET && out->proto != IPPROTO_TCP)
			family = AF_INET;
		else if (sk_family == AF_INET6 && s->type == SOCK_RAW)
			family = AF_INET6;
		else
			return DEST_NONE;
		out->family = family; /* recorded as what the kernel reads it as */
	}
	if (family == AF_INET) {
		struct sockaddr_in sin = {};

		if (addrlen < (int)sizeof(sin))
			return DEST_UNKNOWN;
		bpf_probe_read_kernel(&sin, sizeof(sin), address);
		if (!sin.sin_addr.s_addr) {
			sin.sin_addr.s_addr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
			if (!sin.sin_addr.s_addr)
				sin.sin_addr.s_addr = bpf_htonl(0x7f000001);
		}
		__builtin_memset(out->addr, 0, 10);
		out->addr[10] = 0xff;
		out->addr[11] = 0xff;
		__builtin_memcpy(&out->addr[12], &sin.sin_addr.s_addr, 4);
		out->port = bpf_ntohs(sin.sin_port);
		return DEST_IP;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 sin6 = {};
		__u64 *a = (__u64 *)out->addr;

		if (addrlen < SIN6_LEN_RFC2133)
			return DEST_UNKNOWN;
		bpf_probe_read_kernel(&sin6, SIN6_LEN_RFC2133, address);
		__builtin_memcpy(out->addr, &sin6.sin6_addr, 16);
		out->port = bpf_ntohs(sin6.sin6_port);
		if (!a[0] && !a[1]) /* :: */
			out->addr[15] = 1;
		return DEST_IP;
	}
	return DEST_UNKNOWN;
}

static __always_inline void decide_inet(struct dest *dst, struct ltrack_profile *p, __u32 slot, struct decision *d)
{
	struct ltrack_net_key key = {.prefixlen = 32 + 128, .scope = slot << 16 | d->profile};
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

/* One decision for a connect, or for a send that names its destination
 * itself: the socket's kind, then the destination. */
static __always_inline int decide_destination(struct socket *sock, struct sockaddr *address, int addrlen, bool send)
{
	struct ltrack_profile *p;
	struct ltrack_event *e;
	struct decision d = {};
	struct sock_facts s;
	struct dest dst = {};
	__u64 addr[2];
	enum dest_kind kind;
	struct view v;
	int err;

	p = begin_decision(&v, &d, LTRACK_HOOK_NET);
	if (!p)
		return 0;
	read_sock(sock, &s);
	err = check_socket_in_use(p, &d, &s);
	if (err || !address)
		return err;
	/* In audit mode a refused kind was only recorded: the destination is a
	 * decision of its own, recorded as one (its hook, its address). */
	d.hook = LTRACK_HOOK_NET;
	kind = read_dest(&s, address, addrlen, send, &dst);
	if (kind == DEST_NONE)
		return 0;
	if (kind == DEST_IP) {
		decide_inet(&dst, p, v.slot, &d);
	} else {
		d.action = LTRACK_ACT_DENY; /* fail closed, recorded with no rule */
		d.rule_id = 0;
	}
	err = settle(&d);
	if (!worth_recording(&d))
		return err;
	__builtin_memcpy(addr, dst.addr, 16);
	if (ltrack_coalesced_net(&d, addr[0], addr[1], dst.family | (__u64)dst.port << 16 | (__u64)dst.proto << 32))
		return err;
	e = new_record(&d);
	if (e) {
		e->family = dst.family;
		e->port = dst.port;
		e->proto = dst.proto;
		__builtin_memcpy(e->addr, dst.addr, 16);
		submit_record(e);
	}
	return err;
}

SEC("lsm/socket_connect")
int BPF_PROG(guard_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return decide_destination(sock, address, addrlen, false);
}

/* sendto()/sendmsg() with a destination reach the network without connect():
 * unconnected UDP and raw, and TCP Fast Open (sendto with MSG_FASTOPEN
 * connects inside the send). The syscall has already copied the address
 * into the kernel. A send on a connected socket names no destination (its
 * connect was decided) but still has its kind checked. */
SEC("lsm/socket_sendmsg")
int BPF_PROG(guard_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	struct sockaddr *address;
	int addrlen;

	if (ret)
		return ret;
	address = BPF_CORE_READ(msg, msg_name);
	addrlen = BPF_CORE_READ(msg, msg_namelen);
	return decide_destination(sock, addrlen > 0 ? address : NULL, addrlen, true);
}

/* ---- Unix sockets, by the socket reached --------------------------------- */

/* name_hash() of the first len bytes of buf->name, last byte first. A
 * global function: the verifier checks its loop once, not once per path
 * into it. */
__noinline __u64 ltrack_unix_name_hash(struct scratch *buf, __u32 len)
{
	__u64 h = LTRACK_NAME_HASH_INIT;

	if (!buf)
		return 0;
	for (int i = 0; i <= UNIX_PATH_MAX; i++) {
		if (i >= len)
			break;
		h = ltrack_name_hash_step(h, buf->name[(len - 1 - i) & 127]);
	}
	return h;
}

/* The Unix socket a connect or send reaches, by what the process cannot
 * change: the inode of the socket file it was bound to (a symlink, a hard
 * link, a bind mount or a rename reach the same inode) or the name it was
 * bound with (the listener's own string; "@name" for an abstract socket).
 * Then the profile's `unix` verdict, then its network default. A peer with
 * no name (a socketpair, an unbound socket) is reachable only through a
 * descriptor and is not decided. record_allowed: false on the per-datagram
 * path, where only refusals and audits are worth a record. */
static __always_inline int decide_unix_peer(struct sock *peer, bool record_allowed)
{
	struct unix_sock *u = (struct unix_sock *)peer;
	struct ltrack_inode_key ik = {};
	struct ltrack_profile *p;
	struct unix_address *addr;
	struct ltrack_event *e;
	struct dentry *dentry;
	struct inode *inode = NULL;
	struct decision d = {};
	struct scratch *buf;
	struct view v;
	__u32 zero = 0, len;
	const char *sun_path;
	long n;
	int err;

	p = begin_decision(&v, &d, LTRACK_HOOK_NET);
	if (!p || !peer)
		return 0;
	addr = BPF_CORE_READ(u, addr);
	buf = bpf_map_lookup_elem(&scratch, &zero);
	if (!addr || !buf)
		return 0;
	/* The name as bound: a path up to its NUL, or NUL + an abstract name
	 * of exactly addr->len bytes, kept as "@name" (what rules write). */
	sun_path = (const char *)addr + bpf_core_field_offset(struct unix_address, name) +
		   offsetof(struct sockaddr_un, sun_path);
	len = BPF_CORE_READ(addr, len) - offsetof(struct sockaddr_un, sun_path);
	if (len > UNIX_PATH_MAX)
		len = UNIX_PATH_MAX;
	n = bpf_probe_read_kernel_str(buf->name, UNIX_PATH_MAX + 1, sun_path);
	if (n == 1) {
		bpf_probe_read_kernel(buf->name, UNIX_PATH_MAX, sun_path);
		buf->name[0] = '@';
		asm volatile("" : "+r"(len)); /* keep the mask: the verifier needs the bound */
		buf->name[len & 127] = 0;
	} else {
		len = n > 1 ? n - 1 : 0;
	}
	dentry = BPF_CORE_READ(u, path.dentry);
	if (dentry)
		inode = BPF_CORE_READ(dentry, d_inode);
	if (inode) {
		struct ltrack_file_key fk = {.dev = inode_dev(inode), .ino = BPF_CORE_READ(inode, i_ino)};
		__u32 *how = bpf_map_lookup_elem(&protected_files, &fk);

		/* ltrackd's report socket: every governed process may report,
		 * whatever its unix rules say (lsm/self.bpf.c keeps the control
		 * socket refused). */
		if (how && *how == LTRACK_PROTECT_REPORT)
			return 0;
	}

	d.action = p->unix_action ? p->unix_action : p->net_default;
	d.rule_id = p->unix_action ? p->unix_rule : p->net_default_rule;
	d.is_default = !p->unix_action;
	if (p->flags & LTRACK_PF_UNIX_RULES) {
		struct ltrack_inode_rule *ir = NULL;

		if (inode) {
			ik.slot = v.slot;
			ik.profile = d.profile;
			ik.hook = LTRACK_HOOK_NET;
			ik.dev = inode_dev(inode);
			ik.ino = BPF_CORE_READ(inode, i_ino);
			ir = bpf_map_lookup_elem(&inode_rules, &ik);
		}
		if (ir && ir->self_action) {
			d.action = ir->self_action;
			d.rule_id = ir->self_rule;
			d.is_default = 0;
		} else {
			struct ltrack_name_key nk = {.slot = v.slot,
						     .profile = d.profile,
						     .hook = LTRACK_HOOK_NET,
						     .kind = LTRACK_NAME_EXACT};
			struct ltrack_rule *nr;

			nk.hash = ltrack_unix_name_hash(buf, len);
			nr = bpf_map_lookup_elem(&name_rules, &nk);
			if (nr) {
				d.action = nr->action;
				d.rule_id = nr->rule_id;
				d.is_default = 0;
			}
		}
	}
	err = settle(&d);
	if (!worth_recording(&d) || (!record_allowed && d.outcome == LTRACK_OUT_ALLOWED))
		return err;
	e = new_record(&d);
	if (e) {
		e->family = AF_UNIX;
		e->sock_type = BPF_CORE_READ(peer, sk_type);
		if (inode) {
			e->dev = inode_dev(inode);
			e->ino = BPF_CORE_READ(inode, i_ino);
		}
		bpf_probe_read_kernel_str(e->path, UNIX_PATH_MAX + 1, buf->name);
		submit_record(e);
	}
	return err;
}

/* connect() on a stream or seqpacket socket, once the listener is found. */
SEC("lsm/unix_stream_connect")
int BPF_PROG(guard_unix_stream_connect, struct sock *sock, struct sock *other, struct sock *newsk, int ret)
{
	if (ret)
		return ret;
	return decide_unix_peer(other, true);
}

/* connect() on a datagram socket, and every datagram (and seqpacket
 * message) sent, connected or not. */
SEC("lsm/unix_may_send")
int BPF_PROG(guard_unix_may_send, struct socket *sock, struct socket *other, int ret)
{
	if (ret)
		return ret;
	return decide_unix_peer(BPF_CORE_READ(other, sk), false);
}
