// The layout of every struct shared with the BPF programs, checked at
// compile time: a drift breaks the build, not production. The sizes are
// what the BPF object's BTF says (tests/unit/abi compares against it).
#include "abi.h"

#include <cstddef>

#define LAYOUT(type, size) static_assert(sizeof(struct type) == (size), #type " changed size")

LAYOUT(ltrack_state, 16);
LAYOUT(ltrack_slot, 16);
LAYOUT(ltrack_profile_key, 8);
LAYOUT(ltrack_profile, 64);
LAYOUT(ltrack_inode_key, 32);
LAYOUT(ltrack_inode_rule, 12);
LAYOUT(ltrack_rule, 8);
LAYOUT(ltrack_name_key, 24);
LAYOUT(ltrack_net_key, 24);
LAYOUT(ltrack_net_rule, 12);
LAYOUT(ltrack_net_val, 8 + 12 * LTRACK_NET_RULES_PER_PREFIX);
LAYOUT(ltrack_exe_key, 24);
LAYOUT(ltrack_cgroup_key, 16);
LAYOUT(ltrack_model_key, 16);
LAYOUT(ltrack_model_val, 16);
LAYOUT(ltrack_content, 24);
LAYOUT(ltrack_task, 24);
LAYOUT(ltrack_event, 112 + LTRACK_PATH_LEN + 64);
LAYOUT(ltrack_guardian, 8);
LAYOUT(ltrack_file_key, 16);
LAYOUT(ltrack_proc_event, 48 + LTRACK_COMM_LEN + LTRACK_PATH_LEN + LTRACK_ARGS_LEN);
LAYOUT(ltrack_proc_life, 24);
LAYOUT(ltrack_coalesce_key, 88);
LAYOUT(ltrack_coalesce_val, 24 + sizeof(struct ltrack_event));
LAYOUT(ltrack_flush_args, 8);
LAYOUT(ltrack_waiter, 16);
LAYOUT(ltrack_pending, 64 + LTRACK_COMM_LEN);

// The LPM trie compares the key bytes after prefixlen: scope, then address.
static_assert(offsetof(struct ltrack_net_key, scope) == 4);
static_assert(offsetof(struct ltrack_net_key, addr) == 8);
static_assert(offsetof(struct ltrack_event, path) == 112);
// The process-life consumer reads the type before it knows the record.
static_assert(offsetof(struct ltrack_proc_life, type) == offsetof(struct ltrack_proc_event, type));
static_assert(offsetof(struct ltrack_proc_life, pid) == offsetof(struct ltrack_proc_event, pid));
// Operation numbers are in records already written (and in tracing's name
// table, tracing/record.cpp fs_op_name): new ones are appended, never renumbered.
static_assert(LTRACK_FS_NEW_SB == 11 && LTRACK_FS_UNLINK == 12 && LTRACK_FS_RMDIR == 13 && LTRACK_FS_REPLACE == 14,
	      "enum ltrack_fs_op renumbered");
