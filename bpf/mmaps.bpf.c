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

/*
 * A call-site snapshot of a new mapping, within the process's token bucket.
 * Here rather than through a perf event on the tracepoint: perf runs the
 * classic tracepoint path for every mapping of every process, ~200 ns each
 * even for a process it filters out (measured: mmap/munmap loop 1.01 without,
 * 1.15 with), where this program runs anyway. Returns 1 when sent.
 */
static __noinline int mw_map_snapshot(struct task_struct *t, __u64 addr, __u64 len)
{
	struct mw_bpf_pstate *st = mw_state_of(t->group_leader);
	__u64 now = bpf_ktime_get_ns();

	if (!st || !mw_snap_token(&st->map_bucket, now))
		return 0;
	if (mw_snap_send(t, MW_SNAP_MAP, addr, addr + len, st->map_bucket.skipped,
	                 (struct pt_regs *)bpf_task_pt_regs(t), now) < 0) {
		st->map_bucket.skipped++;
		return 0;
	}
	st->map_bucket.skipped = 0;
	return 1;
}

SEC("tp_btf/vm_unmapped_area")
int BPF_PROG(mw_vm_unmapped_area, unsigned long addr, struct vm_unmapped_area_info *info)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct mw_bpf_map_key key = {};
	struct mw_bpf_map_val val = {}, *old;
	struct mw_pending *p;
	__u64 len = info->length;
	bool anon = true;
	__u32 snapped;

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
	 * If the mapping there had a call-site snapshot, the tracker learns it
	 * is gone (what its token bucket skipped, it never sees).
	 */
	old = bpf_map_lookup_elem(&mw_mappings, &key);
	if (old && old->snapped)
		mw_snap_gone(t, addr, addr + old->len);
	snapped = mw_snap_stack_bytes && mw_map_snapshot(t, addr, len);
	if (old) {
		old->len = len;
		old->t_ns = mw_clock_ns;
		old->anon = anon;
		old->snapped = snapped;
		return 0;
	}
	val.len = len;
	val.t_ns = mw_clock_ns;
	val.anon = anon;
	val.snapped = snapped;
	bpf_map_update_elem(&mw_mappings, &key, &val, BPF_ANY);
	return 0;
}
