// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/* Model verdict integrity: the content generation of every inode the daemon
 * has scanned (model_content, see ltrack_content in abi.h) moves the moment
 * anyone, governed or not, may change its bytes: an open for writing, a
 * truncate, a shared writable mapping. A safe verdict planted at another
 * generation no longer holds (model_verdict in file.bpf.c). A writer that
 * opened before the scan writes without passing any hook again; the
 * daemon's own open records that it existed (writers), so the daemon plants
 * no safe verdict then, and file_open refuses to trust one while
 * i_writecount > 0. Never refuses anything itself. */
#include "maps.bpf.h"

#define FMODE_WRITE 0x2
#define O_NOATIME 01000000
#define S_IFMT 00170000
#define S_IFREG 0100000
#define PROT_WRITE 0x2
#define MAP_TYPE 0x0f
#define MAP_PRIVATE 0x02
#define VM_SHARED 0x8

/* Another possible content: only inodes the daemon scanned carry storage,
 * so any other inode costs one storage lookup. */
static __always_inline void content_changes(struct inode *inode)
{
	struct ltrack_content *c = bpf_inode_storage_get(&model_content, inode, 0, 0);

	if (c)
		__sync_fetch_and_add(&c->gen, 1);
}

/* The daemon opens a file to scan it (read-only, O_NOATIME: its mark,
 * which no other open of the daemon carries): note the generation its
 * bytes are read at, and whether a writer already holds it open (its
 * writes after this point pass no hook). gen is read before i_writecount:
 * a writer that opened in between raised i_writecount before it moved gen. */
static __always_inline void daemon_scan_open(struct file *file)
{
	struct inode *inode = file->f_inode;
	struct ltrack_content *c;
	__u32 zero = 0;
	__u64 gen;

	struct ltrack_state *st = bpf_map_lookup_elem(&state, &zero);
	if (!(file->f_flags & O_NOATIME))
		return;
	/* This guard's own daemon (or run supervisor), and still that process:
	 * a process that reuses its pid carries no guardian label. */
	if (!st || !st->daemon_tgid || (bpf_get_current_pid_tgid() >> 32) != st->daemon_tgid ||
	    !is_guardian(bpf_get_current_task_btf()))
		return;
	if ((inode->i_mode & S_IFMT) != S_IFREG)
		return;
	c = bpf_inode_storage_get(&model_content, inode, 0, 0);
	if (!c) {
		struct ltrack_content fresh = {
			.gen = (__u64)bpf_get_prandom_u32() << 32 | bpf_get_prandom_u32(),
		};
		c = bpf_inode_storage_get(&model_content, inode, &fresh, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!c)
			return;
	}
	gen = READ_ONCE(c->gen);
	asm volatile("" ::: "memory");
	c->writers = inode->i_writecount.counter > 0;
	c->scan_gen = gen;
}

SEC("lsm/file_open")
int BPF_PROG(model_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	if (file->f_mode & FMODE_WRITE)
		content_changes(file->f_inode);
	else
		daemon_scan_open(file);
	return 0;
}

/* truncate(2) by path; ftruncate and O_TRUNC need a file opened for
 * writing, which file_open above already counted (6.2+ calls those
 * file_truncate, 6.1 path_truncate). */
SEC("lsm/path_truncate")
int BPF_PROG(model_path_truncate, const struct path *path, int ret)
{
	if (ret)
		return ret;
	content_changes(path->dentry->d_inode);
	return 0;
}

/* A shared writable mapping writes without write(2), at mmap_file or when
 * a shared mapping is made writable later (file_mprotect). (It needs a file
 * opened for writing, so this is belt and braces over file_open.) */
static __always_inline int write_mapping(struct file *file, unsigned long prot, bool shared)
{
	if (file && (prot & PROT_WRITE) && shared)
		content_changes(file->f_inode);
	return 0;
}

SEC("lsm/mmap_file")
int BPF_PROG(model_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot, unsigned long flags,
	     int ret)
{
	return ret ? ret : write_mapping(file, prot, (flags & MAP_TYPE) != MAP_PRIVATE);
}

SEC("lsm/file_mprotect")
int BPF_PROG(model_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot, int ret)
{
	return ret ? ret : write_mapping(vma->vm_file, prot, vma->vm_flags & VM_SHARED);
}
