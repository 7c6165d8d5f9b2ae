// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * User page faults by region of the faulting address, counted per process
 * in this CPU's pending slot (see common.bpf.h), folded into task storage
 * when the CPU moves to another process. Never an event or a stack per
 * fault: a fault costs ~1-2.3 us and an event would triple it.
 *
 * The same program gates RSS growth and notices heap (brk) growth: each
 * program on the fault path costs a dispatch (an indirect call, a
 * retpoline here) whatever it does, so one program does all three, and
 * most faults return after a few compares against the pending slot.
 */
#include "common.bpf.h"

/* Above start_stack lie argv, envp and auxv: still the [stack] mapping. */
#define MW_STACK_ABOVE (1ul << 20)
#define MW_PAGE        4096ul

/* Counters moved since this CPU last looked: check the owner's gate. */
static __noinline int mw_rss_moved(struct task_struct *t, struct mm_struct *mm,
                                   struct mw_pending *p)
{
	if (!p)
		return 0;
	p->rss_seen[0] = mw_rss_approx(mm, MW_RSS_FILE);
	p->rss_seen[1] = mw_rss_approx(mm, MW_RSS_ANON);
	p->rss_seen[2] = mw_rss_approx(mm, MW_RSS_SHMEM);
	/*
	 * The faulting task's mm is its own: its leader owns the RSS. mm->owner
	 * says the same but is trusted by the verifier only through the BTF's
	 * __rcu type tag, which some kernel builds lack.
	 */
	if (mw_owner_pointer && bpf_core_field_exists(mm->owner))
		mw_rss_gate(mm, mm->owner);
	else
		mw_rss_gate(mm, t->group_leader);
	return 0;
}

/*
 * A heap fault at or above what this CPU knows as the heap's high-water
 * mark (or the heap shrank below it): growth, unless another thread got
 * there first. Growth is snapshotted, rate-limited, for the call-site
 * tracker; growth over the budget is added to the next snapshot's range.
 */
static __noinline int mw_heap_growth(struct task_struct *t, struct mm_struct *mm,
                                     struct mw_pending *p, __u64 address, struct pt_regs *regs)
{
	__u64 top = (mm->brk + MW_PAGE - 1) & ~(MW_PAGE - 1);
	__u64 end = (address & ~(MW_PAGE - 1)) + MW_PAGE;
	struct mw_bpf_pstate *st;
	__u64 now;

	if (!p)
		return 0;
	st = mw_state_of(t->group_leader);
	if (!st)
		return 0;
	if (st->heap_mm != (__u64)mm) {
		st->heap_mm = (__u64)mm;
		st->heap_hw = 0;
	}
	if (st->heap_hw > top) {
		st->heap_hw = top;
		if (st->heap_snap_lo > top)
			st->heap_snap_lo = top;
	}
	if (!st->heap_hw) {
		/* First sight: whatever lies below grew before we looked. */
		st->heap_hw = st->heap_snap_lo = p->heap_hw = end;
		return 0;
	}
	if (end <= st->heap_hw) {
		p->heap_hw = st->heap_hw;
		return 0;
	}
	st->heap_hw = p->heap_hw = end;
	if (!mw_snap_stack_bytes || !regs) {
		st->heap_snap_lo = end;
		return 0;
	}
	now = bpf_ktime_get_ns();
	if (!mw_snap_token(&st->heap_bucket, now))
		return 0;
	if (mw_snap_send(t, MW_SNAP_HEAP, st->heap_snap_lo, end, st->heap_bucket.skipped, regs,
	                 now) < 0) {
		st->heap_bucket.skipped++;
		return 0;
	}
	st->heap_snap_lo = end;
	st->heap_bucket.skipped = 0;
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(mw_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct mm_struct *mm = t->mm;
	unsigned long start_stack, brk;
	struct mw_pending *p;

	if (!mm)
		return 0;
	p = mw_pending_for(t);
	if (!p)
		return 0;
	start_stack = mm->start_stack;
	brk = mm->brk;
	if (address >= mm->start_brk && address < brk) {
		p->n[MW_P_HEAP]++;
		if (address >= p->heap_hw || p->heap_hw > brk + MW_PAGE)
			mw_heap_growth(t, mm, p, address, regs);
	} else if (address < start_stack + MW_STACK_ABOVE &&
	           address + mw_stack_window >= start_stack) {
		p->n[MW_P_STACK]++;
	} else {
		p->n[MW_P_MMAP]++;
	}
	/* This fault's own change shows at the next one: a page late, never lost. */
	if (mw_rss_approx(mm, MW_RSS_ANON) != p->rss_seen[1] ||
	    mw_rss_approx(mm, MW_RSS_FILE) != p->rss_seen[0] ||
	    mw_rss_approx(mm, MW_RSS_SHMEM) != p->rss_seen[2])
		mw_rss_moved(t, mm, p);
	mw_pending_settle(t, p);
	return 0;
}
