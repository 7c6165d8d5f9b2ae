/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every memwatch BPF program shares: the maps (defined once in
 * state.bpf.c, extern elsewhere; bpftool links the objects into one),
 * the configuration (rodata, set by the loader before load) and helpers.
 */
#ifndef MEMWATCH_COMMON_BPF_H
#define MEMWATCH_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "mwbpf.h"

#define PF_KTHREAD 0x00200000

#ifndef MW_BPF_DEFINE_MAPS
#define MW_BPF_EXTERN extern
#else
#define MW_BPF_EXTERN
#endif

/* Per-process state on the thread-group leader: freed with the task, no sizing. */
MW_BPF_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mw_bpf_pstate);
} mw_pstate SEC(".maps");

/*
 * Counts not yet in task storage: each CPU accumulates the faults and new
 * mappings of the process it last saw, without a storage lookup or an
 * atomic per event, and folds them into that process's storage when
 * another process takes over the CPU. Readers (iter/task, exit) add the
 * pending counts of every CPU, so nothing is missed.
 */
enum {
	MW_P_HEAP,
	MW_P_STACK,
	MW_P_MMAP,
	MW_P_MMAPS_ANON,
	MW_P_BYTES_ANON,
	MW_P_MMAPS_FILE,
	MW_P_BYTES_FILE,
	MW_P_COUNT
};

struct mw_pending {
	__u32 tgid;
	__u32 pad;
	__u64 start; /* leader's start_boottime: tells a reused pid apart */
	__u64 n[MW_P_COUNT];
	/*
	 * What the fault program last saw of this process, so most faults
	 * return without a storage lookup: the heap's high-water mark, and
	 * the approximate RSS counters (file, anon, shmem), which move only
	 * when a CPU folds its batch in, about once in 32 changes.
	 */
	__u64 heap_hw;
	__s64 rss_seen[3];
	/*
	 * The mapping snapshot bucket, as this CPU last found it empty: no
	 * token before jiffy map_wait_j, so until then a new mapping only
	 * counts as skipped here (map_skipped, added to the bucket at the next
	 * look or when the slot changes hands). Reading jiffies costs ~5 ns;
	 * the precise clock ~20 ns, 2 % of an mmap/munmap (measured).
	 */
	__u64 map_wait_j;
	__u64 map_skipped;
};

MW_BPF_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mw_pending);
} mw_pending_map SEC(".maps");

/* One ring buffer for every event; its size is set by the loader. */
MW_BPF_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} mw_events SEC(".maps");

/*
 * Mappings that have a call-site snapshot, by (tgid, address), bounded;
 * the loader sets max_entries. Per-CPU LRU lists: no shared lock on the
 * mmap path. Only snapshotted ones: keeping every new mapping cost an
 * LRU update per mmap (~25 ns, 2 % of an mmap/munmap, measured) for
 * entries nothing reads.
 */
MW_BPF_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 16384);
	__type(key, struct mw_bpf_map_key);
	__type(value, struct mw_bpf_map_val);
} mw_mappings SEC(".maps");

/*
 * How many mw_mappings entries hash to each slot (tgid, address; see
 * mw_mark_slot): a new mapping whose slot reads 0 was never snapshotted,
 * and needs no hash lookup. Entries the LRU evicts leave their count
 * behind, which costs a lookup now and then, never a missed one.
 */
#define MW_MARK_SLOTS 16384

MW_BPF_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MW_MARK_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} mw_map_marks SEC(".maps");

/* Call-site snapshots (struct mw_bpf_snap, mw_bpf_snap_head). */
MW_BPF_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} mw_snaps SEC(".maps");

/* Where a direct reclaim started, by thread id. */
MW_BPF_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} mw_reclaim_start SEC(".maps");

/*
 * To sum the per-CPU parts of mm->rss_stat as /proc does, we need each
 * CPU's per-CPU offset; kallsyms here has no data symbols (no
 * __per_cpu_offset ksym), so they are derived once from a per-CPU array
 * of our own: the address of CPU c's copy minus the array's per-CPU base.
 */
#define MW_BPF_MAX_CPUS 256

MW_BPF_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} mw_cpu_probe SEC(".maps");

MW_BPF_EXTERN const volatile __u32 mw_nr_cpus;
MW_BPF_EXTERN __u64 mw_cpu_off[MW_BPF_MAX_CPUS];
MW_BPF_EXTERN __u32 mw_cpu_off_ready;
MW_BPF_EXTERN const volatile __u64
        mw_stack_window; /* bytes below start_stack that count as stack */
MW_BPF_EXTERN const volatile __u64 mw_rss_threshold; /* pages a counter moves before a record */
/* Each process's RSS-movement records: ns of refill per record and at most (0: no limit). */
MW_BPF_EXTERN const volatile __u64 mw_rss_cost_ns;
MW_BPF_EXTERN const volatile __u64 mw_rss_credit_max_ns;
MW_BPF_EXTERN const volatile __u64 mw_rb_wakeup_bytes; /* wake the reader past this fill */
MW_BPF_EXTERN struct mw_bpf_counters mw_counters;
/*
 * Call-site snapshots, set at run time by the call-site tracker (0: off):
 * bytes of user stack per snapshot, and each process's token buckets (one
 * for mappings, one for heap growth) as ns of refill per snapshot and at most.
 */
MW_BPF_EXTERN volatile __u32 mw_snap_stack_bytes;
MW_BPF_EXTERN volatile __u64 mw_snap_cost_ns;
MW_BPF_EXTERN volatile __u64 mw_snap_credit_max_ns;
MW_BPF_EXTERN struct mw_bpf_jclock mw_jclock; /* see mw_jiffy_ns */
/*
 * Set by the loader when the kernel has the kfunc bpf_task_from_pid (6.2
 * on), found in its BTF: the only way to reach a task other than the
 * current one through a pointer the verifier trusts whatever the BTF's
 * type tags. Without it (6.1), counts are folded into storage at once.
 */
MW_BPF_EXTERN const volatile __u32 mw_has_task_from_pid;
/*
 * Set by the loader on request only (MEMWATCH_BPF_VARIANT=owner-pointer):
 * the fault program reaches the owner's storage through mm->owner, which a
 * kernel whose BTF has no type tags refuses. It exists to check that a
 * refused program is named, with the verifier's reason, in status and the
 * report.
 */
MW_BPF_EXTERN const volatile __u32 mw_owner_pointer;

static __always_inline struct mw_bpf_pstate *mw_state_of(struct task_struct *leader)
{
	struct mw_bpf_pstate *st;

	st = bpf_task_storage_get(&mw_pstate, leader, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		__sync_fetch_and_add(&mw_counters.storage_failures, 1);
	return st;
}

static __always_inline void mw_pstate_add(struct mw_bpf_pstate *st, const __u64 n[MW_P_COUNT])
{
	__sync_fetch_and_add(&st->faults_heap, n[MW_P_HEAP]);
	__sync_fetch_and_add(&st->faults_stack, n[MW_P_STACK]);
	__sync_fetch_and_add(&st->faults_mmap, n[MW_P_MMAP]);
	__sync_fetch_and_add(&st->mmaps_anon, n[MW_P_MMAPS_ANON]);
	__sync_fetch_and_add(&st->mmap_bytes_anon, n[MW_P_BYTES_ANON]);
	__sync_fetch_and_add(&st->mmaps_file, n[MW_P_MMAPS_FILE]);
	__sync_fetch_and_add(&st->mmap_bytes_file, n[MW_P_BYTES_FILE]);
}

/*
 * Fold this CPU's pending counts into their process's storage, then empty
 * the slot. Defined once (state.bpf.c) as a global function: the linker
 * of libbpf 1.1 cannot merge a kfunc extern used from several objects.
 */
int mw_pending_flush(struct mw_pending *p);

/*
 * Without bpf_task_from_pid a CPU cannot reach the process it leaves, so
 * what this event added goes into the current process's storage now (one
 * storage lookup an event, on 6.1 only; dead code elsewhere).
 */
static __always_inline void mw_pending_settle(struct task_struct *t, struct mw_pending *p)
{
	struct mw_bpf_pstate *st;

	if (mw_has_task_from_pid)
		return;
	st = mw_state_of(t->group_leader);
	if (!st)
		return;
	for (int k = 0; k < MW_P_COUNT; k++)
		if (p->n[k]) {
			__sync_fetch_and_add((__u64 *)&st->faults_heap + k, p->n[k]);
			p->n[k] = 0;
		}
	st->map_bucket.skipped += p->map_skipped;
	p->map_skipped = 0;
}

/*
 * The RSS gate for the process with this tgid, reached by pid (a trusted,
 * counted reference); a no-op without bpf_task_from_pid. Defined once in
 * state.bpf.c, like mw_pending_flush.
 */
int mw_rss_gate_pid(__u32 tgid);

/* This CPU's slot, switched over to the current process. */
static __always_inline struct mw_pending *mw_pending_for(struct task_struct *t)
{
	__u32 zero = 0;
	struct mw_pending *p = bpf_map_lookup_elem(&mw_pending_map, &zero);
	__u64 start;

	if (!p)
		return NULL;
	if (p->tgid == (__u32)t->tgid) {
		start = t->group_leader->start_boottime;
		if (p->start == start)
			return p;
	}
	mw_pending_flush(p);
	p->tgid = t->tgid;
	p->start = t->group_leader->start_boottime;
	return p;
}

/* Add every CPU's pending counts for a process (tgid, leader start) to n. */
static __always_inline void mw_pending_sum(__u32 tgid, __u64 start, __u64 n[MW_P_COUNT])
{
	__u32 zero = 0;

	for (__u32 c = 0; c < MW_BPF_MAX_CPUS && c < mw_nr_cpus; c++) {
		struct mw_pending *p = bpf_map_lookup_percpu_elem(&mw_pending_map, &zero, c);
		if (!p || p->tgid != tgid || p->start != start)
			continue;
		for (int k = 0; k < MW_P_COUNT; k++)
			n[k] += p->n[k];
	}
}

/*
 * The verifier forbids arithmetic on map pointers; passing one through
 * memory (this CPU's slot of mw_cpu_probe, so CPUs do not race) turns it
 * into a plain number. Privileged loaders only, which is all we support.
 */
static __always_inline __u64 mw_launder(__u64 *slot, const void *p)
{
	*(volatile __u64 *)slot = (__u64)p;
	return *(volatile __u64 *)slot;
}

static __always_inline void mw_cpu_off_init(void)
{
	__u64 base = 0, arr, *slot;
	__u32 zero = 0;

	if (mw_cpu_off_ready)
		return;
	slot = bpf_map_lookup_elem(&mw_cpu_probe, &zero);
	if (!slot)
		return;
	arr = mw_launder(slot, &mw_cpu_probe);
	if (bpf_probe_read_kernel(&base, sizeof(base),
	                          (void *)(arr + bpf_core_field_offset(struct bpf_array, pptrs))) ||
	    !base)
		return;
	for (__u32 c = 0; c < MW_BPF_MAX_CPUS && c < mw_nr_cpus; c++) {
		void *p = bpf_map_lookup_percpu_elem(&mw_cpu_probe, &zero, c);
		mw_cpu_off[c] = p ? mw_launder(slot, p) - base : 0;
	}
	mw_cpu_off_ready = 1;
}

/*
 * mm->rss_stat changed shape in 6.2: before, struct mm_rss_stat holding
 * atomic_long_t count[] (what /proc reads, no per-CPU parts); since, an
 * array of struct percpu_counter. The loader reads the layout from the
 * kernel's BTF into these offsets (from the start of mm_struct) rather
 * than CO-RE branching on it: clang hoists the address arithmetic of the
 * other layout out of its dead branch, and its unresolved relocation is
 * then reached. 0: not known, counters read as -1.
 */
MW_BPF_EXTERN const volatile __u32 mw_rss_off[MW_RSS_COUNT];     /* the approximate count */
MW_BPF_EXTERN const volatile __u32 mw_rss_ctr_off[MW_RSS_COUNT]; /* per-CPU parts; 0: none */

/*
 * A constant offset to the verifier (read-only map), so a direct load;
 * 6.1's verifier cannot walk into its atomic_long_t array ("not a
 * struct"), so there (no per-CPU parts) a probe read.
 */
static __always_inline __s64 mw_rss_load(struct mm_struct *mm, const int i)
{
	__u32 off = mw_rss_off[i];
	__s64 v = -1;

	if (!off)
		return -1;
	if (mw_rss_ctr_off[i])
		return *(__s64 *)((void *)mm + off);
	bpf_probe_read_kernel(&v, sizeof(v), (void *)mm + off);
	return v;
}

/* The verifier refuses a variable offset into mm: one constant index per case. */
static __always_inline __s64 mw_rss_approx(struct mm_struct *mm, int i)
{
	switch (i) {
	case 0:
		return mw_rss_load(mm, 0);
	case 1:
		return mw_rss_load(mm, 1);
	case 2:
		return mw_rss_load(mm, 2);
	default:
		return mw_rss_load(mm, 3);
	}
}

/* The per-CPU sum of one mm counter, as /proc/PID/status reports it. */
static __always_inline __s64 mw_mm_counter(struct mm_struct *mm, int i)
{
	__u32 coff = mw_rss_ctr_off[i & (MW_RSS_COUNT - 1)];
	unsigned long ctr = 0;
	__s64 sum = mw_rss_approx(mm, i);
	__u32 n = mw_nr_cpus;

	if (sum < 0)
		return -1;
	if (coff)
		bpf_probe_read_kernel(&ctr, sizeof(ctr), (void *)mm + coff);
	if (!ctr)
		return sum < 0 ? 0 : sum;
	mw_cpu_off_init();
	if (!mw_cpu_off_ready)
		return sum < 0 ? 0 : sum;
	for (__u32 c = 0; c < MW_BPF_MAX_CPUS && c < n; c++) {
		__s32 part = 0;
		bpf_probe_read_kernel(&part, sizeof(part),
		                      (void *)(ctr + mw_cpu_off[c & (MW_BPF_MAX_CPUS - 1)]));
		sum += part;
	}
	return sum < 0 ? 0 : sum;
}

static __always_inline void mw_mm_counters(struct mm_struct *mm, __s64 rss[MW_RSS_COUNT])
{
	for (int i = 0; i < MW_RSS_COUNT; i++)
		rss[i] = mm ? mw_mm_counter(mm, i) : -1;
}

static __always_inline struct mw_bpf_event *mw_event_reserve(__u32 kind)
{
	struct mw_bpf_event *e = bpf_ringbuf_reserve(&mw_events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&mw_counters.events_dropped, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->t_ns = bpf_ktime_get_boot_ns();
	return e;
}

/*
 * Batched: the daemon consumes once per tick, so no wake-up per event
 * (2 us of consumer CPU each, against 35 ns batched). The reader is woken
 * to drain early when a record (size bytes, reserved already) takes the
 * ring past a multiple of thr: once per thr bytes, however long the reader
 * takes to come, never on every record past the mark. A wake-up is an
 * irq_work (a self-IPI in a VM): ~7 us a record, measured, when every
 * record past the mark asked for one. Racing CPUs may both wake the
 * reader or miss a mark; the next tick drains anyway.
 */
static __always_inline __u64 mw_rb_flags(void *rb, __u64 size, __u64 thr)
{
	__u64 avail = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);
	__u64 used = (size + 8 + 7) & ~7ull; /* the record with its header */

	if (thr && avail / thr != (avail > used ? avail - used : 0) / thr)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void mw_event_submit(struct mw_bpf_event *e)
{
	bpf_ringbuf_submit(e, mw_rb_flags(&mw_events, sizeof(*e), mw_rb_wakeup_bytes));
}

static __always_inline void mw_event_task(struct mw_bpf_event *e, struct task_struct *t)
{
	struct task_struct *leader = BPF_CORE_READ(t, group_leader);

	e->pid = BPF_CORE_READ(t, tgid);
	e->start_boottime_ns = BPF_CORE_READ(leader, start_boottime);
	BPF_CORE_READ_STR_INTO(&e->comm, leader, comm);
}

/* A token, if the bucket has one; else the event counts as skipped. */
static __always_inline bool mw_token(struct mw_bpf_bucket *b, __u64 now, __u64 cost, __u64 max)
{
	__u64 credit = b->credit_ns + (now - b->t_ns);

	if (!b->t_ns || credit > max)
		credit = max;
	b->t_ns = now;
	if (credit < cost) {
		b->credit_ns = credit;
		b->skipped++;
		return false;
	}
	b->credit_ns = credit - cost;
	return true;
}

/*
 * The RSS-movement gate: record the owner's counters (exact sums) once any
 * counter has moved by mw_rss_threshold pages since the owner's last
 * record. The owner, not the task at hand: reclaim and migration run
 * elsewhere. Gating uses the cheap approximate counters.
 */
static __always_inline void mw_rss_gate(struct mm_struct *mm, struct task_struct *owner)
{
	struct mw_bpf_pstate *st;
	struct mw_bpf_event *e;
	bool moved = false;

	/* Teardown (last user gone): the exit event has the final values. */
	if (!owner || mm->mm_users.counter == 0)
		return;
	st = mw_state_of(owner);
	if (!st)
		return;
	for (int k = 0; k < MW_RSS_COUNT; k++) {
		__s64 diff = mw_rss_approx(mm, k) - st->rss_last[k];
		if (diff >= (__s64)mw_rss_threshold || -diff >= (__s64)mw_rss_threshold)
			moved = true;
	}
	if (!moved)
		return;
	/*
	 * A process whose RSS swings by the threshold hundreds of times a
	 * second (a fault loop over a 16 MiB buffer: 4000 records/s) would fill
	 * the ring and the store; over its rate, the next record waits, with
	 * the last recorded values kept as they were.
	 */
	if (mw_rss_cost_ns &&
	    !mw_token(&st->rss_bucket, bpf_ktime_get_ns(), mw_rss_cost_ns, mw_rss_credit_max_ns)) {
		__sync_fetch_and_add(&mw_counters.rss_limited, 1);
		return;
	}
	for (int k = 0; k < MW_RSS_COUNT; k++)
		st->rss_last[k] = mw_rss_approx(mm, k);
	e = mw_event_reserve(MW_EV_RSS_MOVE);
	if (!e)
		return;
	mw_event_task(e, owner);
	mw_mm_counters(mm, e->rss.rss);
	mw_event_submit(e);
}

/* Wake the call-site tracker early once this much waits in the snapshot ring. */
#define MW_SNAP_WAKEUP (1024ul * 1024)

static __always_inline bool mw_snap_token(struct mw_bpf_bucket *b, __u64 now)
{
	return mw_token(b, now, mw_snap_cost_ns, mw_snap_credit_max_ns);
}

/*
 * Nanoseconds per jiffy, measured against the first call (the kernel's HZ
 * is not readable from here without its config); 0 until 64 jiffies have
 * passed. Callers from several CPUs may race on the anchor: any anchor
 * they leave is a real (ns, jiffies) pair give or take a jiffy.
 */
static __always_inline __u64 mw_jiffy_ns(__u64 now_ns, __u64 now_j)
{
	if (!mw_jclock.ns) {
		mw_jclock.ns = now_ns;
		mw_jclock.j = now_j;
		return 0;
	}
	if (now_j - mw_jclock.j < 64)
		return 0;
	return (now_ns - mw_jclock.ns) / (now_j - mw_jclock.j);
}

/* After a refused token: when the bucket will hold the next one. */
static __always_inline __u64 mw_snap_next_ns(const struct mw_bpf_bucket *b)
{
	return b->t_ns + (mw_snap_cost_ns - b->credit_ns);
}

static __always_inline void mw_snap_head(struct mw_bpf_snap_head *h, __u32 kind,
                                         struct task_struct *t, __u64 now, __u64 lo, __u64 hi)
{
	h->kind = kind;
	h->pid = t->tgid;
	h->tid = t->pid;
	h->t_ns = now;
	h->lo = lo;
	h->hi = hi;
}

/* A snapshotted mapping's address was handed out again: it was unmapped. */
static __always_inline void mw_snap_gone(struct task_struct *t, __u64 lo, __u64 hi)
{
	struct mw_bpf_snap_head *h = bpf_ringbuf_reserve(&mw_snaps, sizeof(*h), 0);

	if (!h) {
		__sync_fetch_and_add(&mw_counters.snaps_dropped, 1);
		return;
	}
	mw_snap_head(h, MW_SNAP_GONE, t, bpf_ktime_get_ns(), lo, hi);
	h->skipped = 0;
	bpf_ringbuf_submit(h, mw_rb_flags(&mw_snaps, sizeof(*h), MW_SNAP_WAKEUP));
}

#if defined(__TARGET_ARCH_x86)
/*
 * Send a snapshot: the user registers and as much of the user stack as
 * reads whole (the top of a stack ends its mapping: halve until it fits).
 * 0 when sent; registers alone would unwind one frame inside the
 * allocator, so without a stack nothing is sent.
 */
static __always_inline int mw_snap_send(struct task_struct *t, __u32 kind, __u64 lo, __u64 hi,
                                        __u32 skipped, struct pt_regs *regs, __u64 now)
{
	struct mw_bpf_snap *e = bpf_ringbuf_reserve(&mw_snaps, sizeof(*e), 0);
	struct mm_struct *mm = t->mm;
	__u32 len = mw_snap_stack_bytes;
	__u64 sp = regs->sp, top;

	if (!e) {
		__sync_fetch_and_add(&mw_counters.snaps_dropped, 1);
		return -1;
	}
	mw_snap_head(&e->h, kind, t, now, lo, hi);
	e->h.skipped = skipped;
	e->regs[0] = regs->ax;
	e->regs[1] = regs->dx;
	e->regs[2] = regs->cx;
	e->regs[3] = regs->bx;
	e->regs[4] = regs->si;
	e->regs[5] = regs->di;
	e->regs[6] = regs->bp;
	e->regs[7] = sp;
	e->regs[8] = regs->r8;
	e->regs[9] = regs->r9;
	e->regs[10] = regs->r10;
	e->regs[11] = regs->r11;
	e->regs[12] = regs->r12;
	e->regs[13] = regs->r13;
	e->regs[14] = regs->r14;
	e->regs[15] = regs->r15;
	e->regs[16] = regs->ip;
	/*
	 * On the main stack, frames end below start_stack (argv and envp lie
	 * above): copy no further, so the tracker keeps a snapshot its size.
	 */
	top = mm ? mm->start_stack : 0;
	if (sp < top && top - sp + 64 < len)
		len = top - sp + 64;
	e->stack_len = 0;
	for (int k = 0; k < 6; k++) {
		__u32 n = len;

		/* Bounds the verifier can see on the very register passed (clang reorders). */
		asm volatile("" : "+r"(n));
		if (n > MW_SNAP_STACK_MAX)
			n = MW_SNAP_STACK_MAX;
		if (n < 256)
			break;
		asm volatile("" : "+r"(n));
		n &= 2 * MW_SNAP_STACK_MAX - 1;
		if (n > MW_SNAP_STACK_MAX)
			break;
		if (bpf_probe_read_user(e->stack, n, (void *)sp) == 0) {
			e->stack_len = n;
			break;
		}
		len = n >> 1;
	}
	if (!e->stack_len) {
		__sync_fetch_and_add(&mw_counters.snaps_unread, 1);
		bpf_ringbuf_discard(e, 0);
		return -1;
	}
	bpf_ringbuf_submit(e, mw_rb_flags(&mw_snaps, sizeof(*e), MW_SNAP_WAKEUP));
	return 0;
}
#else
static __always_inline int mw_snap_send(struct task_struct *t, __u32 kind, __u64 lo, __u64 hi,
                                        __u32 skipped, struct pt_regs *regs, __u64 now)
{
	return -1; /* registers in DWARF order are only laid out for x86-64 */
}
#endif

#endif
