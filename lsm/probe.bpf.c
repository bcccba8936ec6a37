// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* The smallest BPF LSM program: ltrackd loads and attaches it before
 * anything else to learn whether this kernel can enforce at all. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("lsm/file_open")
int BPF_PROG(probe_file_open, struct file *file, int ret)
{
	return ret;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
