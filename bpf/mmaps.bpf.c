// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * New mappings, from mmap:vm_unmapped_area (fires when the kernel picks
 * an address for a new mapping; an mm-internal tracepoint, so unrelated
 * syscalls pay nothing, unlike a syscall tracepoint). The tracepoint does
 * not say whether a file backs the mapping: the syscall that asked does
 * (mmap's flags), read from the task's saved user registers.
 */
#include "common.bpf.h"

#define MW_MAP_ANONYMOUS 0x20
#define MW_NR_MMAP       9
#define MW_NR_MREMAP     25
#define MW_MAX_ERRNO     4095

SEC("tp_btf/vm_unmapped_area")
int BPF_PROG(mw_vm_unmapped_area, unsigned long addr, struct vm_unmapped_area_info *info)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct mw_bpf_map_key key = {};
	struct mw_bpf_map_val val = {}, *old;
	struct mw_pending *p;
	__u64 len = info->length;
	bool anon = true;

	if (addr >= (unsigned long)-MW_MAX_ERRNO || (t->flags & PF_KTHREAD))
		return 0;
#if defined(__TARGET_ARCH_x86)
	{
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);
		long nr = regs->orig_ax;

		if (nr == MW_NR_MMAP) {
			anon = regs->r10 & MW_MAP_ANONYMOUS;
			len = regs->si;
		} else if (nr == MW_NR_MREMAP) {
			len = regs->dx;
		} else {
			/* execve's ELF loader, shmat, ...: backed by a file or shm */
			anon = false;
		}
	}
#endif
	p = mw_pending_for(t);
	if (!p)
		return 0;
	if (anon) {
		p->n[MW_P_MMAPS_ANON]++;
		p->n[MW_P_BYTES_ANON] += len;
	} else {
		p->n[MW_P_MMAPS_FILE]++;
		p->n[MW_P_BYTES_FILE] += len;
	}
	key.tgid = t->tgid;
	key.addr = addr;
	/*
	 * An address handed out again (munmap then mmap, as malloc does) is
	 * rewritten in place: an LRU insert into a full map costs an eviction.
	 */
	old = bpf_map_lookup_elem(&mw_mappings, &key);
	if (old) {
		old->len = len;
		old->t_ns = mw_clock_ns;
		old->anon = anon;
		return 0;
	}
	val.len = len;
	val.t_ns = mw_clock_ns;
	val.anon = anon;
	bpf_map_update_elem(&mw_mappings, &key, &val, BPF_ANY);
	return 0;
}
