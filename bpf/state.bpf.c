// SPDX-License-Identifier: GPL-2.0-or-later
/* The definitions of the shared maps and configuration (see common.bpf.h). */
#define MW_BPF_DEFINE_MAPS
#include "common.bpf.h"

const volatile __u32 mw_nr_cpus = 1;
__u64 mw_cpu_off[MW_BPF_MAX_CPUS];
__u32 mw_cpu_off_ready;
const volatile __u64 mw_stack_window = 8 << 20;
const volatile __u64 mw_rss_threshold = 256;
const volatile __u64 mw_rss_cost_ns;
const volatile __u64 mw_rss_credit_max_ns;
const volatile __u64 mw_rb_wakeup_bytes = 128 * 1024;
struct mw_bpf_counters mw_counters;
volatile __u32 mw_snap_stack_bytes;
volatile __u64 mw_snap_cost_ns;
volatile __u64 mw_snap_credit_max_ns;
struct mw_bpf_jclock mw_jclock;
const volatile __u32 mw_has_task_from_pid;
const volatile __u32 mw_rss_off[MW_RSS_COUNT];
const volatile __u32 mw_rss_ctr_off[MW_RSS_COUNT];
const volatile __u32 mw_owner_pointer;

_Static_assert(__builtin_offsetof(struct mw_bpf_pstate, mmap_bytes_file) -
                               __builtin_offsetof(struct mw_bpf_pstate, faults_heap) ==
                       (MW_P_BYTES_FILE - MW_P_HEAP) * sizeof(__u64),
               "mw_pending_settle adds the counters in MW_P_* order");

/*
 * Weak: 6.1 has neither (they came in 6.2), and one unresolved strong
 * extern fails the whole object. Calls sit behind mw_has_task_from_pid,
 * which the loader sets from the kernel's BTF, so on 6.1 they are dead
 * code the verifier removes.
 */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

__noinline int mw_pending_flush(struct mw_pending *p)
{
	struct task_struct *t;
	struct mw_bpf_pstate *st;

	if (!p)
		return 0;
	if (p->tgid && mw_has_task_from_pid) {
		t = bpf_task_from_pid(p->tgid);
		if (t) {
			if (t->start_boottime == p->start) {
				st = mw_state_of(t);
				if (st) {
					mw_pstate_add(st, p->n);
					st->map_bucket.skipped += p->map_skipped;
				}
			}
			bpf_task_release(t);
		}
	}
	__builtin_memset(p, 0, sizeof(*p));
	return 0;
}

__noinline int mw_rss_gate_pid(__u32 tgid)
{
	struct task_struct *t;
	struct mm_struct *mm;

	if (!mw_has_task_from_pid)
		return 0;
	t = bpf_task_from_pid(tgid);
	if (!t)
		return 0;
	mm = t->mm;
	if (mm)
		mw_rss_gate(mm, t);
	bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
