// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * User page faults by region of the faulting address, counted per process
 * in this CPU's pending slot (see common.bpf.h), folded into task storage
 * when the CPU moves to another process. Never an event or a stack per
 * fault: a fault costs ~2.3 us and an event would triple it.
 */
#include "common.bpf.h"

/* Above start_stack lie argv, envp and auxv: still the [stack] mapping. */
#define MW_STACK_ABOVE (1ul << 20)

SEC("tp_btf/page_fault_user")
int BPF_PROG(mw_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct mm_struct *mm = t->mm;
	struct mw_pending *p;
	unsigned long start_stack;

	if (!mm)
		return 0;
	p = mw_pending_for(t);
	if (!p)
		return 0;
	start_stack = mm->start_stack;
	if (address >= mm->start_brk && address < mm->brk)
		p->n[MW_P_HEAP]++;
	else if (address < start_stack + MW_STACK_ABOVE && address + mw_stack_window >= start_stack)
		p->n[MW_P_STACK]++;
	else
		p->n[MW_P_MMAP]++;
	return 0;
}
