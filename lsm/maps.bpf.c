// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* The one definition of every map; the hook files declare them extern and
 * `bpftool gen object` links them together. */
#include "maps.bpf.h"

state_map_t state SEC(".maps");
slots_map_t slots SEC(".maps");
profiles_map_t profiles SEC(".maps");
inode_rules_map_t inode_rules SEC(".maps");
name_rules_map_t name_rules SEC(".maps");
net_rules_map_t net_rules SEC(".maps");
exe_profiles_map_t exe_profiles SEC(".maps");
cgroup_profiles_map_t cgroup_profiles SEC(".maps");
models_map_t models SEC(".maps");
waiter_map_t waiter SEC(".maps");
wait_dirs_map_t wait_dirs SEC(".maps");
pending_map_t pending SEC(".maps");
tasks_map_t tasks SEC(".maps");
guardians_map_t guardians SEC(".maps");
protected_files_map_t protected_files SEC(".maps");
events_map_t events SEC(".maps");
counters_map_t counters SEC(".maps");
profile_drops_map_t profile_drops SEC(".maps");
coalesce_map_t coalesce SEC(".maps");
coalesce_scratch_map_t coalesce_scratch SEC(".maps");
scratch_map_t scratch SEC(".maps");
dir_memos_map_t dir_memos SEC(".maps");
model_content_map_t model_content SEC(".maps");

/* Set by the loader before load (see tree_seqs in walk.bpf.h). */
const volatile __u64 rename_lock_addr = 0;
const volatile __u64 mount_lock_addr = 0;

/* Ring buffers carry untyped records. These two pointers put the record
 * types into the object's BTF, so tests/unit/abi can compare their layout
 * with what the C++ compiler made of abi.h. */
struct ltrack_event *btf_decision_record __attribute__((unused));
struct ltrack_proc_event *btf_process_record __attribute__((unused));

char LICENSE[] SEC("license") = "Dual BSD/GPL";
