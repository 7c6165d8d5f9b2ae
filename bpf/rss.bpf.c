// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * RSS movement from rss_stat, attributed to mm->owner (reclaim and
 * migration run in other tasks), recorded only when a counter moved by
 * more than mw_rss_threshold pages since the last record of that process.
 * Gating uses the cheap approximate counter; a record carries exact sums.
 */
#include "common.bpf.h"

SEC("tp_btf/rss_stat")
int BPF_PROG(mw_rss_stat, struct mm_struct *mm, int member)
{
	struct task_struct *owner = NULL;
	struct mw_bpf_pstate *st;
	struct mw_bpf_event *e;
	__s64 now, diff;
	int i = member & (MW_RSS_COUNT - 1);

	if (bpf_core_field_exists(mm->owner))
		owner = mm->owner;
	/* Teardown (last user gone): the exit event has the final values. */
	if (!owner || BPF_CORE_READ(mm, mm_users.counter) == 0)
		return 0;
	st = bpf_task_storage_get(&mw_pstate, owner, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	now = BPF_CORE_READ(mm, rss_stat[i].count);
	diff = now - st->rss_last[i];
	if (diff < (__s64)mw_rss_threshold && -diff < (__s64)mw_rss_threshold)
		return 0;
	for (int k = 0; k < MW_RSS_COUNT; k++)
		st->rss_last[k] = BPF_CORE_READ(mm, rss_stat[k].count);
	e = mw_event_reserve(MW_EV_RSS_MOVE);
	if (!e)
		return 0;
	mw_event_task(e, owner);
	mw_mm_counters(mm, e->rss.rss);
	mw_event_submit(e);
	return 0;
}
