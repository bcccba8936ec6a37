/* SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only */
/*
 * The ABI shared by ltrack's BPF programs (lsm/, one object per hook family) and user space
 * (policyd/, tracing/, ctl/): map keys and values, the decision record and
 * every constant that crosses the boundary. Fixed-width types only; no
 * pointers, no kernel headers. user space static_asserts the layout
 * (loader/abi_check.cpp) so a drift breaks the build, not production.
 */
#ifndef LTRACK_ABI_H
#define LTRACK_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* ---- limits ------------------------------------------------------------ */

/* Ancestor walk bound in file_open/bprm_check_security. Reaching it without
 * finding the root is a fail-closed denial in enforce mode (counted). */
#define LTRACK_MAX_WALK 64 /* directory levels above a file the walk visits */
/* Net rules folded into one LPM entry (its own plus every enclosing CIDR's). */
#define LTRACK_NET_RULES_PER_PREFIX 16
#define LTRACK_PATH_LEN 256
#define LTRACK_COMM_LEN 16
#define LTRACK_NAME_MAX 255
/* Policy maps hold two generations during a swap: size them for twice the
 * rules one policy may have. */
#define LTRACK_MAX_RULES 131072
#define LTRACK_MAX_PROFILES 256
#define LTRACK_MAX_MODELS 65536

/* ---- enums ------------------------------------------------------------- */

enum ltrack_hook {
	LTRACK_HOOK_NONE = 0,
	LTRACK_HOOK_FILE = 1,   /* lsm/file_open */
	LTRACK_HOOK_EXEC = 2,   /* lsm/bprm_check_security */
	LTRACK_HOOK_NET = 3,    /* lsm/socket_connect */
	LTRACK_HOOK_MODEL = 4,  /* model rules, decided inside file_open */
	LTRACK_HOOK_PRIV = 5,   /* privilege escalation: lsm/cred.bpf.c */
	LTRACK_HOOK_SOCKET = 6, /* the kind of socket: lsm/socket_create, and connect/send on one (lsm/net.bpf.c) */
	LTRACK_HOOK_LINK = 7,  /* a name an object gets or loses: lsm/path_link, path_rename, path_unlink, path_rmdir */
	LTRACK_HOOK_MOUNT = 8, /* mount, move, bind, umount, pivot_root: lsm/mount.bpf.c */
	LTRACK_HOOK_TAMPER = 9,    /* an attempt on ltrack itself: lsm/self.bpf.c */
	LTRACK_HOOK_PYTHON = 10,   /* not a kernel hook: a governed interpreter's audit hook reported it
				  * over the report socket (runtime/report_server.cpp); never in the ring */
	LTRACK_HOOK_ANCESTOR = 11, /* inode_rules keys only, never in a record: a directory (or symlink) on
				    * the way to an inode-bound rule's target (see "inode_rules") */
};

/* What a PYTHON record is about (the record's cred_op field). path holds
 * the pickle global ("os.system"), the code's file name or the command. */
enum ltrack_python_op {
	LTRACK_PY_FIND_CLASS = 1, /* pickle.find_class of a global on the scanner's deny list */
	LTRACK_PY_EXEC = 2,       /* exec/eval of code that came from no file */
	LTRACK_PY_COMPILE = 3,    /* compile() of source that came from no file */
	LTRACK_PY_SUBPROCESS = 4, /* subprocess.Popen */
	LTRACK_PY_SYSTEM = 5,     /* os.system */
	LTRACK_PY_EXECV = 6,      /* os.exec*, os.posix_spawn*, os.spawn* */
};

/* Which operation a LINK or MOUNT record is about (the record's cred_op
 * field, which PRIV records use for enum ltrack_cred_op). */
enum ltrack_fs_op {
	LTRACK_FS_LINK = 1,        /* link(2): a hard link to the object */
	LTRACK_FS_RENAME = 2,      /* rename(2): the object moved or renamed */
	LTRACK_FS_EXCHANGE = 3,    /* renameat2(RENAME_EXCHANGE): the target, moved the other way */
	LTRACK_FS_MOUNT = 4,       /* mount(2) of a filesystem */
	LTRACK_FS_BIND = 5,        /* mount(2) MS_BIND */
	LTRACK_FS_MOVE = 6,        /* mount(2) MS_MOVE, move_mount(2) */
	LTRACK_FS_REMOUNT = 7,     /* mount(2) MS_REMOUNT, fsconfig(FSCONFIG_CMD_RECONFIGURE) */
	LTRACK_FS_PROPAGATION = 8, /* mount(2) MS_SHARED/PRIVATE/SLAVE/UNBINDABLE */
	LTRACK_FS_UMOUNT = 9,      /* umount2(2) */
	LTRACK_FS_PIVOT_ROOT = 10, /* pivot_root(2) */
	LTRACK_FS_NEW_SB =
		11, /* a new filesystem instance (fsconfig(FSCONFIG_CMD_CREATE), or the one mount(2) makes) */
	LTRACK_FS_UNLINK = 12,  /* unlink(2): the object's name removed */
	LTRACK_FS_RMDIR = 13,   /* rmdir(2): the directory removed */
	LTRACK_FS_REPLACE = 14, /* rename(2) over the object: it is unlinked, another inode takes its name */
};

/* What a TAMPER record is about. Every one is refused (enforce) or
 * would_deny (audit) for a governed process, whatever its profile says. */
enum ltrack_tamper_op {
	LTRACK_TAMPER_BPF = 1,     /* bpf(2), any command (tamper_arg: the command) */
	LTRACK_TAMPER_SIGNAL = 2,  /* a signal to an ltrack process (tamper_arg: the signal) */
	LTRACK_TAMPER_PTRACE = 3,  /* ptrace access: attach, /proc/PID/mem, process_vm_*, pidfd_getfd
				    * (tamper_arg: the PTRACE_MODE_* bits) */
	LTRACK_TAMPER_SCHED = 4,   /* nice, scheduler, I/O priority or rlimit of an ltrack process
				    * (tamper_arg: enum ltrack_sched_op) */
	LTRACK_TAMPER_CONNECT = 5, /* connect to ltrack's control socket */
	LTRACK_TAMPER_UNLINK = 6,  /* unlink or rmdir on bpffs, or of the control socket's file */
	LTRACK_TAMPER_RENAME = 7,  /* rename on bpffs, or of (or over) the control socket's file */
	LTRACK_TAMPER_LINK = 8,    /* a hard link on bpffs */
	LTRACK_TAMPER_OPEN = 9,    /* open(2) of a file on bpffs, or a protected file opened for writing or truncated */
	LTRACK_TAMPER_NOTIFY = 10, /* a fanotify permission-event mark (tamper_arg: the event mask) */
};

enum ltrack_sched_op {
	LTRACK_SCHED_NICE = 1,
	LTRACK_SCHED_POLICY = 2, /* sched_setscheduler, sched_setattr, sched_setaffinity */
	LTRACK_SCHED_IOPRIO = 3,
	LTRACK_SCHED_RLIMIT = 4, /* prlimit(2) on another process */
};

/* Socket kinds a profile may use (ltrack_profile.sock_inet), beyond the
 * families it allows whole (sock_families) and the netlink protocols
 * (netlink_protocols). The policy's network `sockets` list sets all three. */
#define LTRACK_SOCK_INET (1u << 0)     /* IPv4 TCP (stream) and UDP (datagram) */
#define LTRACK_SOCK_INET6 (1u << 1)    /* IPv6 TCP and UDP */
#define LTRACK_SOCK_ICMP (1u << 2)     /* ping sockets: datagram ICMP / ICMPv6, IPv4 and IPv6 */
#define LTRACK_SOCK_RAW (1u << 3)      /* SOCK_RAW, IPv4 and IPv6 (IP_HDRINCL names its own destination) */
#define LTRACK_SOCK_IP_OTHER (1u << 4) /* any other IP protocol: SCTP, MPTCP, UDP-Lite, L2TP, ... */

/* Which credential change a PRIV record is about. */
enum ltrack_cred_op {
	LTRACK_CRED_SETUID = 1, /* task_fix_setuid: set*uid(2) */
	LTRACK_CRED_SETGID = 2, /* task_fix_setgid: set*gid(2) */
	LTRACK_CRED_CAPSET = 3, /* capset(2) */
	LTRACK_CRED_EXEC = 4,   /* bprm_creds_from_file: a set-user-ID/set-group-ID or file-capability exec */
};

/* What a rule (or a profile default) says. Ordered so that, for two rules
 * of equal specificity, the larger value wins ("deny wins a tie"). */
enum ltrack_action {
	LTRACK_ACT_NONE = 0, /* no rule: fall through */
	LTRACK_ACT_ALLOW = 1,
	LTRACK_ACT_AUDIT = 2, /* allow, but log as a would-be denial */
	LTRACK_ACT_DENY = 3,
	LTRACK_ACT_KILL = 4, /* deny and SIGKILL the caller (exec, connect) */
};

enum ltrack_mode {
	LTRACK_MODE_INHERIT = 0, /* profiles only: use the global mode */
	LTRACK_MODE_ENFORCE = 1,
	LTRACK_MODE_AUDIT = 2,
};

/* What actually happened to the operation. */
enum ltrack_outcome {
	LTRACK_OUT_ALLOWED = 1,
	LTRACK_OUT_AUDITED = 2,    /* an audit rule matched; allowed */
	LTRACK_OUT_WOULD_DENY = 3, /* deny/kill in audit mode; allowed */
	LTRACK_OUT_DENIED = 4,     /* -EPERM returned */
	LTRACK_OUT_KILLED = 5,     /* -EPERM returned and SIGKILL sent */
};

/* Name rule kinds. */
enum ltrack_name_kind {
	LTRACK_NAME_EXACT = 1,  /* the whole final path component */
	LTRACK_NAME_SUFFIX = 2, /* "*.pkl": the name ends with the text */
};

/* Model verdicts, written by the daemon's scanner into the models map. */
enum ltrack_verdict {
	LTRACK_VERDICT_UNSCANNED = 0,
	LTRACK_VERDICT_SAFE = 1,       /* only allowlisted imports, or data format */
	LTRACK_VERDICT_SUSPICIOUS = 2, /* imports outside both lists */
	LTRACK_VERDICT_UNSAFE = 3,     /* a known-dangerous import */
	LTRACK_VERDICT_ERROR = 4,      /* malformed, truncated, over limits */
	LTRACK_VERDICT_TRUSTED = 5,    /* SHA-256 on the policy's trusted list */
};

/* What a profile's model rule lets a governed process open. */
enum ltrack_model_policy {
	LTRACK_MODEL_OFF = 0,             /* no model rule */
	LTRACK_MODEL_SAFE_ONLY = 1,       /* safe or trusted */
	LTRACK_MODEL_ALLOW_UNSCANNED = 2, /* also files not (yet) scanned */
	LTRACK_MODEL_ANY = 3,             /* log only */
};

/* Profile flags: let hooks skip lookups a profile has no rules for. */
#define LTRACK_PF_INODE_RULES (1u << 0) /* file inode rules exist */
#define LTRACK_PF_NAME_RULES (1u << 1)  /* file name rules exist */
#define LTRACK_PF_EXEC_RULES (1u << 2)
#define LTRACK_PF_NET_RULES (1u << 3)
#define LTRACK_PF_MODEL_DIRS (1u << 4)
#define LTRACK_PF_MODEL_NAMES (1u << 5)
#define LTRACK_PF_DENY_SUSPICIOUS (1u << 6)
#define LTRACK_PF_UNIX_RULES (1u << 7)     /* unix socket rules (inode_rules / name_rules, hook NET) */
#define LTRACK_PF_MODEL_EXCLUDES (1u << 8) /* model exclude dirs: hook MODEL subtree rules with action ALLOW */
#define LTRACK_PF_MODEL_WAIT (1u << 9)     /* scan_at_open: an unscanned model's first open waits for its scan */
#define LTRACK_PF_ANCESTORS (1u << 10)     /* ancestors of inode targets are marked (hook ANCESTOR entries) */

/* Drop/anomaly counters (per-CPU array "counters"). */
enum ltrack_counter {
	LTRACK_CNT_RINGBUF_DROPS = 0, /* decision record could not be reserved */
	LTRACK_CNT_WALK_LIMIT = 1,    /* ancestor walk hit LTRACK_MAX_WALK */
	LTRACK_CNT_DECISIONS = 2,     /* decisions made for governed processes */
	LTRACK_CNT_WALKS = 3,         /* ancestor walks run (not answered by a directory memo) */
	LTRACK_CNT_COALESCED = 4,     /* decisions folded into another record's count */
	LTRACK_CNT_DISCONNECTED = 5,  /* a walk or an open ended at a disconnected dentry (open_by_handle_at) */
	LTRACK_CNT_TAMPER = 6,        /* attempts on ltrack itself refused (or would_deny in audit mode) */
	LTRACK_CNT_MAX = 8,
};

/* Event flags. */
/* clang-format off */
#define LTRACK_EV_WALK_LIMIT (1u << 0) /* decided by the fail-closed walk bound */
#define LTRACK_EV_PATH_PARTIAL (1u << 1) /* path is the final name only */
#define LTRACK_EV_SLOT1 (1u << 2) /* decided by the policy in slot 1 (else slot 0) */
#define LTRACK_EV_TALLY (1u << 3) /* a window's later identical decisions: the window's first
				   * record again, with their count and the last one's time */
#define LTRACK_EV_DISCONNECTED (1u << 4) /* fail closed: the object's path is unknown (open_by_handle_at) */
#define LTRACK_EV_LAUNCH_POINT (1u << 5) /* built-in rule: a write to a host-wide helper launch point */
#define LTRACK_EV_BPFFS (1u << 6) /* built-in rule: a mount on or of ltrack's bpffs */
#define LTRACK_EV_BY_MODEL (1u << 7) /* LINK: the model layer refused the object (verdict says why) */
#define LTRACK_EV_ANCESTOR (1u << 8) /* LINK: the object leads to a rule's target (an ANCESTOR entry) */
#define LTRACK_EV_CGROUP_CONTROL (1u << 9) /* built-in rule: a write to a cgroup's membership, freeze or kill file */
/* clang-format on */

/* ---- maps -------------------------------------------------------------- */

/* "state": array of one. Each field is written as one 32-bit store, so a
 * hook never sees half an update. active_slot picks which of the two policy
 * generations in every policy map is live: a reload writes the other slot
 * (its entries and its "slots" header) and then flips this one word. */
struct ltrack_state {
	__u32 active_slot; /* 0 or 1 */
	__u32 mode;        /* global enum ltrack_mode (never INHERIT) */
	__u32 daemon_tgid; /* for the record only: ltrack's own processes are known by their "guardians" label */
	__u32 pad;
};

/* "slots": array of two, the per-generation header. */
struct ltrack_slot {
	__u32 all_profile; /* profile governing every process, 0 = none */
	__u32 flags;       /* LTRACK_SF_* */
	__u32 generation;  /* one more than the policy before it; never 0 */
	__u32 pad;
};

/* Slot flags. */
#define LTRACK_SF_CGROUP_PROFILES (1u << 0) /* some profile selects by cgroup */
#define LTRACK_SF_LOADED (1u << 1)          /* this slot holds a policy */
#define LTRACK_SF_EXCEPT_CGROUPS (1u << 2)  /* the all = true profile has except_cgroups */

/* A "cgroup_profiles" value: an except_cgroups entry of the all = true
 * profile (a process there that was never governed is not governed). */
#define LTRACK_PROFILE_NONE 0xffffffffu

/* "profiles": hash. */
struct ltrack_profile_key {
	__u32 slot;
	__u32 profile; /* 1..LTRACK_MAX_PROFILES */
};

struct ltrack_profile {
	__u32 mode;  /* enum ltrack_mode; INHERIT = global */
	__u32 flags; /* LTRACK_PF_* */
	__u8 file_default;
	__u8 exec_default;
	__u8 net_default;
	__u8 unix_action;  /* connect() on AF_UNIX sockets; NONE = net_default */
	__u8 model_policy; /* enum ltrack_model_policy */
	__u8 model_action; /* action when a model is refused: DENY or AUDIT */
	__u8 priv_action;  /* privilege escalation (lsm/cred.bpf.c): ALLOW, AUDIT, DENY or KILL */
	__u8 mount_action; /* mount, umount, move, pivot_root (lsm/mount.bpf.c); never NONE */
	/* The sockets it may create and use (SOCKET hook): families allowed
	 * whole (bit = AF_*; never consulted for AF_INET, AF_INET6, AF_NETLINK),
	 * LTRACK_SOCK_* for the IP families, and netlink protocols (bit =
	 * NETLINK_*). */
	__u64 sock_families;
	__u32 sock_inet;
	__u32 netlink_protocols;
	__u32 sockets_rule; /* rule id of the `sockets` list; 0 = the implicit default */
	__u32 mount_rule;   /* rule id of [mount] default; 0 = the built-in default (deny) */
	/* Rule ids of the defaults, for the decision log. */
	__u32 file_default_rule;
	__u32 exec_default_rule;
	__u32 net_default_rule;
	__u32 unix_rule;
	__u32 model_rule;
	__u32 priv_rule;
};

/* "inode_rules": hash. A file or directory by identity. dev is the kernel's
 * internal dev_t encoding (major << 20 | minor), not stat(2)'s.
 * Hook ANCESTOR: every directory, and every symlink, on the way to the
 * target of a rule compiled to an inode (file, dir, exec, unix socket,
 * model and model exclude directories), as written and as resolved. Such a
 * rule follows its inode, but its path is resolved again when anyone
 * changes a name on the way (runtime/target_watch.h): a governed process
 * that moved an ancestor away and made the layout again would have the rule
 * bound to its replacement and the real object under a path no rule names.
 * A governed rename (either side of an exchange), rename over, unlink or
 * rmdir of one is refused (lsm/file.bpf.c); self_rule names a rule whose
 * target lies below (a deny rule's, if any), self_action is DENY, the rest 0. */
struct ltrack_inode_key {
	__u32 slot;
	__u32 profile;
	__u32 hook; /* FILE, EXEC, NET (a unix socket), MODEL (a model directory) or ANCESTOR */
	__u32 pad;
	__u64 dev;
	__u64 ino;
};

/* What one inode says: for the object itself (an exact rule, or the
 * directory's own subtree rule) and for everything below it. */
struct ltrack_inode_rule {
	__u32 self_rule;    /* rule id; 0 = none */
	__u32 subtree_rule; /* rule id; 0 = none */
	__u8 self_action;   /* enum ltrack_action; NONE = use subtree_action */
	__u8 subtree_action;
	__u16 pad;
};

/* A name or default rule's verdict. */
struct ltrack_rule {
	__u32 rule_id; /* index into the compiled policy's symbol table; 0 = none */
	__u8 action;   /* enum ltrack_action */
	__u8 pad[3];
};

/* "name_rules": hash. The hash is ltrack_name_hash() of the pattern text
 * ("pkl" matches as ".pkl", see below), read from the name's end backwards
 * so BPF can hash every suffix in one pass. */
struct ltrack_name_key {
	__u32 slot;
	__u32 profile;
	__u32 hook; /* FILE or MODEL */
	__u32 kind; /* enum ltrack_name_kind */
	__u64 hash;
};

/* "net_rules": LPM trie. Data after prefixlen: scope (slot << 16 | profile,
 * always matched in full) then the address as IPv6, IPv4 mapped into
 * ::ffff:0:0/96. prefixlen = 32 + 96 + v4 prefix, or 32 + v6 prefix. */
struct ltrack_net_key {
	__u32 prefixlen;
	__u32 scope;
	__u8 addr[16];
};

struct ltrack_net_rule {
	__u16 port_lo; /* host order, inclusive; 0-65535 = any port */
	__u16 port_hi;
	__u8 proto; /* 0 any, 6 tcp, 17 udp */
	__u8 action;
	__u16 pad;
	__u32 rule_id;
};

/* Rules of this prefix and of every enclosing prefix, most specific first,
 * deny before allow within one prefix: the first that matches decides. */
struct ltrack_net_val {
	__u32 count;
	__u32 pad;
	struct ltrack_net_rule rules[LTRACK_NET_RULES_PER_PREFIX];
};

/* "exe_profiles": hash, executable identity -> profile. */
struct ltrack_exe_key {
	__u32 slot;
	__u32 pad;
	__u64 dev;
	__u64 ino;
};

/* "cgroup_profiles": hash, cgroup id (inode of its cgroupfs dir) -> profile. */
struct ltrack_cgroup_key {
	__u32 slot;
	__u32 pad;
	__u64 cgroup_id;
};

/* "models": hash, not per slot: verdicts are facts about file contents.
 * A safe or trusted verdict holds while the inode's content generation
 * (below) is the one the scan read and nobody has the file open for
 * writing. An unsafe, suspicious or error verdict holds, under any name,
 * until a new scan replaces it: a rename, link, chmod or rewrite does not
 * clear it. */
struct ltrack_model_key {
	__u64 dev;
	__u64 ino;
};

struct ltrack_model_val {
	__u32 verdict;     /* enum ltrack_verdict */
	__u32 finding;     /* index of the deciding import in the daemon's table */
	__u64 content_gen; /* ltrack_content.scan_gen of the daemon's open that read the scanned bytes */
};

/* ---- first open of an unscanned model: the scan waiter ----
 * Under a profile with scan_at_open, file_open does not refuse an
 * unscanned model file opened for reading when the guard's scan waiter
 * (runtime/scan_waiter.h) is alive and holds a fanotify FAN_OPEN_PERM mark
 * on the file's directory: it lets the open go on as "pending" and notes
 * the decision it would have made in "pending" (by thread). The kernel then
 * raises the fanotify permission event (fsnotify_open_perm runs after the
 * LSM hooks, fs/open.c, security/security.c); the waiter scans the file
 * through the event's descriptor, stores the verdict in "models", answers
 * FAN_ALLOW or FAN_DENY and records the decision. */

/* "waiter": array of one, written only by the waiter. The waiter counts as
 * alive while its heartbeat is younger than LTRACK_WAITER_STALE_NS: a dead
 * or stopped waiter (fanotify allows what a dead listener left pending)
 * makes file_open refuse unscanned files again, as without a waiter. */
struct ltrack_waiter {
	__u64 beat_ns; /* bpf_ktime_get_boot_ns() (CLOCK_BOOTTIME) of the last heartbeat; 0: no waiter */
	__u32 tgid;    /* the waiter's process (for status only) */
	__u32 pad;
};
#define LTRACK_WAITER_STALE_NS 3000000000ull
#define LTRACK_MAX_WAIT_DIRS 65536
#define LTRACK_MAX_PENDING 8192

/* "wait_dirs": hash, key ltrack_model_key of a directory the waiter holds a
 * FAN_OPEN_PERM | FAN_EVENT_ON_CHILD mark on, or (ino 0) of a filesystem it
 * holds a FAN_MARK_FILESYSTEM FAN_OPEN_PERM mark on; value unused (1). */

/* "pending": LRU hash, key: the opening thread's id (fanotify reports it
 * with FAN_REPORT_TID). The decision file_open would have made; the
 * waiter's record repeats it with the scan's verdict. */
struct ltrack_pending {
	__u64 dev;
	__u64 ino;
	__u64 cgroup_id;
	__u64 ts_ns;
	__u32 pid; /* tgid */
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 profile;
	__u32 rule_id;
	__u32 flags; /* LTRACK_EV_* (slot) */
	__u8 action; /* the model rule's action (DENY) */
	__u8 mode;
	__u8 deny_suspicious; /* the profile refuses suspicious files (LTRACK_PF_DENY_SUSPICIOUS) */
	__u8 pad;
	char comm[LTRACK_COMM_LEN];
};

/* A MODEL record the waiter made (its cred_op field): how the wait ended. */
enum ltrack_scan_wait {
	LTRACK_WAIT_NONE = 0,      /* a kernel decision: no wait */
	LTRACK_WAIT_SCANNED = 1,   /* scanned while the open waited: decided by the verdict */
	LTRACK_WAIT_TOO_LARGE = 2, /* larger than scan_at_open_max: refused unscanned */
	LTRACK_WAIT_BUSY = 3,      /* the waiter's queue was full: refused unscanned */
	LTRACK_WAIT_TIMEOUT = 4,   /* waited in the queue past its time: refused unscanned */
	LTRACK_WAIT_FAILED = 5,    /* the scan could not be done (error, writer): refused */
};

/* "model_content": inode storage, for inodes the daemon has opened to scan
 * (created by that open, lsm/model.bpf.c). gen moves on every open for
 * writing, truncate and shared writable mapping of the inode, by any
 * process: a verdict taken at another gen describes other bytes. It starts
 * random, so storage freed with an evicted inode and created again never
 * matches a verdict planted before. */
struct ltrack_content {
	__u64 gen;
	__u64 scan_gen; /* gen when the daemon last opened the file */
	__u32 writers;  /* the file was open for writing (i_writecount > 0) at that open */
	__u32 pad;
};

/* "tasks": task storage. Set at exec (profile executable or cgroup) and
 * copied to every child at task_alloc. */
struct ltrack_task {
	__u32 profile; /* 0: not governed (see generation) */
	__u32 flags;
	/* profile 0 with a generation: the cgroup check found no profile for
	 * this task in cgroup_id under that policy generation; valid while
	 * both are unchanged (saves the cgroup walk on every hook). */
	__u64 cgroup_id;
	__u32 generation;
	__u32 pad;
};

/* "guardians": task storage shared by every loaded guard (pinned in
 * LTRACK_SELF_PIN_DIR, so ltrackd's guard and each `ltrackctl run`'s see the
 * same labels): ltrack's own processes, labelled on their thread-group leader
 * by pidfd when they start. A label lives and dies with that task_struct: a
 * reused pid never carries it, a child never inherits it (task_alloc copies
 * nothing from this map) and an exec drops it. A guardian is never governed,
 * and no governed process may signal, trace or reprioritise one. Only a
 * process that may call bpf(2), i.e. an ungoverned one, can set a label. */
#define LTRACK_SELF_PIN_DIR "/sys/fs/bpf/ltrack-self"

enum ltrack_guardian_kind {
	LTRACK_GUARDIAN_DAEMON = 1, /* ltrackd */
	LTRACK_GUARDIAN_RUN = 2,    /* an `ltrackctl run` supervisor */
};

struct ltrack_guardian {
	__u32 kind; /* enum ltrack_guardian_kind */
	__u32 pad;
};

/* "protected_files": hash, shared like "guardians". Files a governed process
 * may not connect to, unlink or rename: ltrackd's control socket (the inode
 * it bound, whatever path leads to it). The value says how: */
/* clang-format off */
#define LTRACK_PROTECT_FULL 1   /* no connect, unlink, rename, write open, truncate */
#define LTRACK_PROTECT_REPORT 2 /* the report socket: unlink, rename, ... refused like FULL, but a
				 * governed process may connect (and no profile's unix rules refuse
				 * it): its audit hook reports there (runtime/report_server.h) */
#define LTRACK_PROTECT_ANCESTOR 3 /* a directory (or symlink) on the way to a protected file, '/'
				   * excepted: rename (either side), rmdir and unlink refused like
				   * FULL's; it cannot be opened for writing, truncated or connected to */
/* clang-format on */
struct ltrack_file_key {
	__u64 dev; /* kernel-internal dev_t, as in ltrack_inode_key */
	__u64 ino;
};

/* ---- decision record (ring buffer "events") ----------------------------- */

struct ltrack_event {
	__u64 ts_ns; /* bpf_ktime_get_boot_ns() */
	__u64 cgroup_id;
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 profile;
	__u32 rule_id;
	__u8 hook;     /* enum ltrack_hook */
	__u8 action;   /* enum ltrack_action of the deciding rule */
	__u8 mode;     /* effective enum ltrack_mode */
	__u8 outcome;  /* enum ltrack_outcome */
	__u32 flags;   /* LTRACK_EV_* */
	__u32 verdict; /* model verdict (MODEL hook) */
	char comm[LTRACK_COMM_LEN];
	/* FILE / EXEC / MODEL / LINK: the object's identity (MOUNT: the
	 * mountpoint's, or the filesystem's root for a new instance). */
	__u64 dev;
	__u64 ino;
	/* NET and SOCKET */
	__u16 family;   /* AF_INET, AF_INET6, AF_UNIX; SOCKET: any AF_* */
	__u16 port;     /* host order */
	__u16 proto;    /* IP protocol; SOCKET: the socket's protocol (netlink: NETLINK_*) */
	__u8 sock_type; /* SOCKET: SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, ... */
	__u8 pad;
	__u8 addr[16];              /* IPv4 mapped into IPv6 */
	char path[LTRACK_PATH_LEN]; /* file path, executable, unix socket path; MOUNT: the target
				     * (a new instance: its filesystem type) */
	/* PRIV: the change. ids are (real, effective, saved): uids for SETUID and
	 * EXEC, gids for SETGID; caps are the effective capability sets (bit n =
	 * capability n), before and after. */
	__u32 cred_op; /* enum ltrack_cred_op; LINK, MOUNT: enum ltrack_fs_op; MODEL: enum ltrack_scan_wait */
	/* How many identical decisions this record stands for (see "coalesce"
	 * below); 0 from a producer that does not coalesce, read as 1. */
	__u32 count;
	__u32 old_ids[3];
	__u32 new_ids[3];
	__u64 old_caps;
	__u64 new_caps;
	/* TAMPER: what was tried (enum ltrack_tamper_op), the ltrack process it
	 * was aimed at (tgid; 0 for bpf and file operations) and the op's
	 * argument (see enum ltrack_tamper_op). File operations fill dev, ino
	 * and path. */
	__u32 tamper_op;
	__u32 target_pid;
	__u64 tamper_arg;
};

/* ---- coalescing identical decisions (lsm/record.bpf.c) ----------------- */

/* A process repeating one decision (same hook, rule, outcome and object) is
 * recorded once per window: the first decision at once (count 1), the ones
 * after it within the window only counted, and carried by the next record
 * of that key after the window (count = those + itself) or, when none comes,
 * by a tally record the daemon's 1 s flush sends. The records of a flood
 * therefore sum (by count) to its decisions, and it costs the ring buffer
 * one record per window instead of pushing other decisions out. */
#define LTRACK_COALESCE_WINDOW_NS 1000000000ull
#define LTRACK_COALESCE_KEYS 8192

/* "coalesce": LRU hash. Everything that tells two decisions apart. */
struct ltrack_coalesce_key {
	__u32 pid; /* tgid */
	__u32 profile;
	__u32 rule_id;
	__u8 hook;
	__u8 outcome;
	__u8 action;
	__u8 proto;
	__u16 family;
	__u16 port;
	__u32 cred_op;
	__u64 dev;
	__u64 ino;
	__u8 addr[16];
	__u32 new_ids[3];
	__u32 pad;
	__u64 new_caps;
	__u64 path_hash; /* unix socket paths (no inode to tell them apart) */
};

struct ltrack_coalesce_val {
	__u64 window_start;        /* boot ns; a record of this key was sent then */
	__u64 pending;             /* decisions since, in no record yet */
	__u64 last_ns;             /* the latest of them */
	struct ltrack_event first; /* the key's first record: what a tally repeats */
};

/* What the daemon passes to the flush program (flush_coalesced). */
struct ltrack_flush_args {
	__u32 all;  /* 1: also windows still open (the daemon is exiting) */
	__u32 sent; /* out: tally records sent */
};

/* ---- process life (ring buffer "proc_events", tracing/process.bpf.c) ------- */

/* Tracepoints on exec, fork and exit keep each process's context, so a
 * decision about a process that has already exited still names its program,
 * command line and parent. */
enum ltrack_proc_type {
	LTRACK_PROC_EXEC = 1,
	LTRACK_PROC_FORK = 2,
	LTRACK_PROC_EXIT = 3,
};

#define LTRACK_ARGS_LEN 512

/* Every record starts with a time field, its type and the pid, so the
 * consumer reads the type first and then the record of that type. The time
 * is 0: no consumer reads it (records are taken in ring order), and a clock
 * read was the costliest part of a fork or exit record where the clock
 * source is not the TSC (an emulated guest's HPET: several microseconds). */

/* FORK and EXIT: small records (the exec record's size, zeroed, made
 * fork and exit cost as much as an exec). */
struct ltrack_proc_life {
	__u64 ts_ns; /* 0 (see above) */
	__u32 type;  /* LTRACK_PROC_FORK or LTRACK_PROC_EXIT */
	__u32 pid;   /* tgid (the child's, for FORK) */
	__u32 ppid;  /* FORK: the parent's tgid; EXIT: 0 */
	__u32 pad;
};

/* EXEC. */
struct ltrack_proc_event {
	__u64 ts_ns;         /* 0 (see above) */
	__u32 type;          /* LTRACK_PROC_EXEC */
	__u32 pid;           /* tgid */
	__u64 start_boot_ns; /* task->start_boottime: identifies the process with its pid */
	__u64 cgroup_id;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 args_len; /* bytes of args used: NUL-separated argv */
	char comm[LTRACK_COMM_LEN];
	char exe[LTRACK_PATH_LEN]; /* the path passed to execve */
	char args[LTRACK_ARGS_LEN];
};

/* ---- name hashing ------------------------------------------------------ */

/* FNV-1a over the bytes of a name taken from its last byte to its first. A
 * suffix rule for "*.pkl" stores the hash of ".pkl"; an exact rule the hash
 * of the whole name. Both sides must use exactly this. */
#define LTRACK_NAME_HASH_INIT 14695981039346656037ULL
static inline __u64 ltrack_name_hash_step(__u64 h, unsigned char c)
{
	return (h ^ c) * 1099511628211ULL;
}

#endif /* LTRACK_ABI_H */
