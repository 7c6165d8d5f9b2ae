// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * RSS movement from rss_stat, for every change of every mm, including
 * reclaim and migration in other tasks (attributed to mm->owner). Off by
 * default: the tracepoint fires on every fault, and a second program per
 * fault doubled the always-on cost (the fault program gates growth
 * itself, see faults.bpf.c). The loader turns it on when asked
 * (mw_bpfmon_options.rss_stat_hook).
 */
#include "common.bpf.h"

/* The approximate counter last seen on this CPU: 31 events in 32 return before any lookup. */
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

SEC("tp_btf/rss_stat")
int BPF_PROG(mw_rss_stat, struct mm_struct *mm, int member)
{
	struct rss_seen *seen;
	__u32 zero = 0;
	int i = member & (MW_RSS_COUNT - 1);
	__s64 now = mw_rss_approx(mm, i);

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
	if (!bpf_core_field_exists(mm->owner))
		return 0;
	/*
	 * mm->owner is trusted by the verifier only through the BTF's __rcu
	 * type tag; by pid it is trusted on every kernel that has the kfunc.
	 * Before that (6.1) the verifier checked no trust, and the pointer does.
	 */
	if (mw_has_task_from_pid)
		mw_rss_gate_pid(BPF_CORE_READ(mm, owner, tgid));
	else
		mw_rss_gate(mm, mm->owner->group_leader);
	return 0;
}
