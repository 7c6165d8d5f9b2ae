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
static __noinline int mw_map_snapshot(struct task_struct *t, struct mw_pending *p, __u64 addr,
                                      __u64 len)
{
	struct mw_bpf_pstate *st;
	__u64 now, now_j, jns;

	if (!p)
		return 0;
	/* (Tracing programs may not read the coarse clock, which would do.) */
	now_j = bpf_jiffies64();
	if (now_j < p->map_wait_j) {
		p->map_skipped++;
		return 0;
	}
	st = mw_state_of(t->group_leader);
	if (!st)
		return 0;
	now = bpf_ktime_get_ns();
	st->map_bucket.skipped += p->map_skipped;
	p->map_skipped = 0;
	p->map_wait_j = 0;
	if (!mw_snap_token(&st->map_bucket, now)) {
		/* Rounded down: at worst one look too early, never a token missed. */
		jns = mw_jiffy_ns(now, now_j);
		if (jns)
			p->map_wait_j = now_j + (mw_snap_next_ns(&st->map_bucket) - now) / jns;
		return 0;
	}
	if (mw_snap_send(t, MW_SNAP_MAP, addr, addr + len, st->map_bucket.skipped,
	                 (struct pt_regs *)bpf_task_pt_regs(t), now) < 0) {
		st->map_bucket.skipped++;
		return 0;
	}
	st->map_bucket.skipped = 0;
	return 1;
}

/* Fibonacci hashing of (tgid, page): the top 14 bits of the product. */
static __always_inline __u32 mw_mark_slot(__u32 tgid, __u64 addr)
{
	_Static_assert(MW_MARK_SLOTS == 1 << 14, "slot bits");
	return (__u32)((((addr >> 12) ^ ((__u64)tgid << 40)) * 0x9e3779b97f4a7c15ull) >> 50);
}

SEC("tp_btf/vm_unmapped_area")
int BPF_PROG(mw_vm_unmapped_area, unsigned long addr, struct vm_unmapped_area_info *info)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct mw_bpf_map_key key = {};
	struct mw_bpf_map_val val = {}, *old;
	__u32 slot, *mark;
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
	mw_pending_settle(t, p);
	key.tgid = t->tgid;
	key.addr = addr;
	slot = mw_mark_slot(key.tgid, addr);
	mark = bpf_map_lookup_elem(&mw_map_marks, &slot);
	if (!mark)
		return 0;
	/*
	 * An address handed out again (munmap then mmap, as malloc does): if
	 * the mapping there had a call-site snapshot, the tracker learns it is
	 * gone (what its token bucket skipped, it never sees).
	 */
	old = *mark ? bpf_map_lookup_elem(&mw_mappings, &key) : NULL;
	if (old)
		mw_snap_gone(t, addr, addr + old->len);
	snapped = mw_snap_stack_bytes && mw_map_snapshot(t, p, addr, len);
	val.len = len;
	if (old && snapped)
		old->len = len;
	else if (old && bpf_map_delete_elem(&mw_mappings, &key) == 0)
		__sync_fetch_and_add(mark, -1);
	else if (!old && snapped && bpf_map_update_elem(&mw_mappings, &key, &val, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(mark, 1);
	return 0;
}
