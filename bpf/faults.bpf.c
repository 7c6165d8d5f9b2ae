// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * User page faults by region of the faulting address, counted per process
 * in task storage (never an event or a stack per fault: a fault costs
 * ~2.3 us and an event would triple it).
 */
#include "common.bpf.h"

/* Above start_stack lie argv, envp and auxv: still the [stack] mapping. */
#define MW_STACK_ABOVE (1ul << 20)

SEC("tp_btf/page_fault_user")
int BPF_PROG(mw_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct mm_struct *mm = t->mm;
	struct mw_bpf_pstate *st;
	unsigned long start_stack;

	if (!mm)
		return 0;
	st = mw_state_of(t->group_leader);
	if (!st)
		return 0;
	start_stack = mm->start_stack;
	if (address >= mm->start_brk && address < mm->brk)
		__sync_fetch_and_add(&st->faults_heap, 1);
	else if (address < start_stack + MW_STACK_ABOVE && address + mw_stack_window >= start_stack)
		__sync_fetch_and_add(&st->faults_stack, 1);
	else
		__sync_fetch_and_add(&st->faults_mmap, 1);
	return 0;
}
