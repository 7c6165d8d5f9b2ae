// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Rare events into the one ring buffer: OOM kills, oom_score_adj changes,
 * process exits (with the final RSS, read before exit_mm drops the mm)
 * and direct-reclaim stalls.
 */
#include "common.bpf.h"

/*
 * A classic tracepoint on purpose: its record layout is stable across
 * kernels where the tp_btf arguments are not (mark_victim took only a
 * pid before 6.0), and each field is guarded. OOM kills are rare: cost
 * does not matter here.
 */
SEC("tracepoint/oom/mark_victim")
int mw_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct mw_bpf_event *e = mw_event_reserve(MW_EV_OOM_KILL);

	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(ctx, pid);
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		__u32 loc = BPF_CORE_READ(ctx, __data_loc_comm);
		bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), (void *)ctx + (loc & 0xffff));
	}
	if (bpf_core_field_exists(ctx->total_vm))
		e->oom.total_vm_kb = BPF_CORE_READ(ctx, total_vm);
	if (bpf_core_field_exists(ctx->anon_rss))
		e->oom.anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
	if (bpf_core_field_exists(ctx->file_rss))
		e->oom.file_rss_kb = BPF_CORE_READ(ctx, file_rss);
	if (bpf_core_field_exists(ctx->shmem_rss))
		e->oom.shmem_rss_kb = BPF_CORE_READ(ctx, shmem_rss);
	if (bpf_core_field_exists(ctx->pgtables))
		e->oom.pgtables_kb = BPF_CORE_READ(ctx, pgtables);
	if (bpf_core_field_exists(ctx->uid))
		e->oom.uid = BPF_CORE_READ(ctx, uid);
	e->oom.oom_score_adj = bpf_core_field_exists(ctx->oom_score_adj)
	                               ? BPF_CORE_READ(ctx, oom_score_adj)
	                               : -10000;
	mw_event_submit(e);
	return 0;
}

SEC("tp_btf/oom_score_adj_update")
int BPF_PROG(mw_oom_adj, struct task_struct *task)
{
	struct task_struct *leader = task->group_leader;
	struct mw_bpf_pstate *st = mw_state_of(leader);
	__s32 now = BPF_CORE_READ(task, signal, oom_score_adj);
	struct mw_bpf_event *e;

	e = mw_event_reserve(MW_EV_OOM_ADJ);
	if (e) {
		mw_event_task(e, task);
		e->adj.old_adj = st && st->oom_adj_known ? st->oom_adj : -10000;
		e->adj.new_adj = now;
		mw_event_submit(e);
	}
	if (st) {
		st->oom_adj = now;
		st->oom_adj_known = 1;
	}
	return 0;
}

/*
 * Only the process's last thread matters (signal->live reached 0). Since
 * 6.14 the tracepoint runs before exit_mm(), so the mm and its counters
 * are still there; on older kernels rss is -1 ("unknown").
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(mw_process_exit, struct task_struct *p)
{
	struct task_struct *leader = p->group_leader;
	struct signal_struct *sig = p->signal;
	struct mw_bpf_pstate *st;
	struct mw_bpf_event *e;

	if ((p->flags & PF_KTHREAD) || BPF_CORE_READ(sig, live.counter) != 0)
		return 0;
	e = mw_event_reserve(MW_EV_PROC_EXIT);
	if (!e)
		return 0;
	mw_event_task(e, p);
	mw_mm_counters(p->mm, e->exit.rss);
	e->exit.minflt = BPF_CORE_READ(sig, min_flt) + p->min_flt;
	e->exit.majflt = BPF_CORE_READ(sig, maj_flt) + p->maj_flt;
	e->exit.lifetime_ns = e->t_ns - leader->start_boottime;
	e->exit.exit_code = p->exit_code;
	st = bpf_task_storage_get(&mw_pstate, leader, NULL, 0);
	if (st)
		e->exit.st = *st;
	{
		__u64 n[MW_P_COUNT] = {};
		mw_pending_sum(p->tgid, leader->start_boottime, n);
		mw_pstate_add(&e->exit.st, n);
	}
	mw_event_submit(e);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(mw_reclaim_begin)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_boot_ns();

	bpf_map_update_elem(&mw_reclaim_start, &tid, &now, BPF_ANY);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(mw_reclaim_end, unsigned long nr_reclaimed)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *start = bpf_map_lookup_elem(&mw_reclaim_start, &tid);
	struct mw_bpf_event *e;
	__u64 t0;

	if (!start)
		return 0;
	t0 = *start;
	bpf_map_delete_elem(&mw_reclaim_start, &tid);
	e = mw_event_reserve(MW_EV_RECLAIM);
	if (!e)
		return 0;
	mw_event_task(e, bpf_get_current_task_btf());
	e->reclaim.duration_ns = e->t_ns - t0;
	e->reclaim.nr_reclaimed = nr_reclaimed;
	mw_event_submit(e);
	return 0;
}
