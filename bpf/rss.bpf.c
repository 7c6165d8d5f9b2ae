// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * RSS movement from rss_stat, attributed to mm->owner (reclaim and
 * migration run in other tasks), recorded only when a counter moved by
 * more than mw_rss_threshold pages since the last record of that process.
 * Gating uses the cheap approximate counter; a record carries exact sums.
 */
#include "common.bpf.h"

/*
 * The approximate counter (fbc->count) moves only when a CPU folds its
 * batch in, about once in 32 changes: remembering, per CPU, the last
 * value seen lets the other 31 events return before any lookup.
 */
struct rss_seen {
	__u64 mm;
	__s64 count[MW_RSS_COUNT];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rss_seen);
} mw_rss_seen SEC(".maps");

/* Direct loads need constant offsets: the verifier refuses a variable index into mm. */
static __always_inline __s64 approx_count(struct mm_struct *mm, int i)
{
	switch (i) {
	case 0:
		return mm->rss_stat[0].count;
	case 1:
		return mm->rss_stat[1].count;
	case 2:
		return mm->rss_stat[2].count;
	default:
		return mm->rss_stat[3].count;
	}
}

SEC("tp_btf/rss_stat")
int BPF_PROG(mw_rss_stat, struct mm_struct *mm, int member)
{
	struct task_struct *owner = NULL;
	struct mw_bpf_pstate *st;
	struct mw_bpf_event *e;
	struct rss_seen *seen;
	__s64 now, diff;
	__u32 zero = 0;
	int i = member & (MW_RSS_COUNT - 1);

	now = approx_count(mm, i);
	seen = bpf_map_lookup_elem(&mw_rss_seen, &zero);
	if (!seen)
		return 0;
	if (seen->mm == (__u64)mm && seen->count[i & (MW_RSS_COUNT - 1)] == now)
		return 0;
	if (seen->mm != (__u64)mm) {
		seen->mm = (__u64)mm;
		for (int k = 0; k < MW_RSS_COUNT; k++)
			seen->count[k] = -1;
	}
	seen->count[i & (MW_RSS_COUNT - 1)] = now;
	if (bpf_core_field_exists(mm->owner))
		owner = mm->owner;
	/* Teardown (last user gone): the exit event has the final values. */
	if (!owner || mm->mm_users.counter == 0)
		return 0;
	st = bpf_task_storage_get(&mw_pstate, owner, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	diff = now - st->rss_last[i & (MW_RSS_COUNT - 1)];
	if (diff < (__s64)mw_rss_threshold && -diff < (__s64)mw_rss_threshold)
		return 0;
	for (int k = 0; k < MW_RSS_COUNT; k++)
		st->rss_last[k] = approx_count(mm, k);
	e = mw_event_reserve(MW_EV_RSS_MOVE);
	if (!e)
		return 0;
	mw_event_task(e, owner);
	mw_mm_counters(mm, e->rss.rss);
	mw_event_submit(e);
	return 0;
}
