/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Records the eBPF programs hand to user space, shared by the bpf/ programs and
 * lib/bpfmon.c. Fixed-width types only: the layout is the ABI between the
 * two sides. Memory counters are in pages, times in ns.
 */
#ifndef MEMWATCH_MWBPF_H
#define MEMWATCH_MWBPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define MW_BPF_COMM_LEN 16

/* Indexes of mm->rss_stat[] (enum mm_counter in the kernel). */
enum mw_bpf_rss {
	MW_RSS_FILE = 0,
	MW_RSS_ANON = 1,
	MW_RSS_SWAP = 2,
	MW_RSS_SHMEM = 3,
	MW_RSS_COUNT = 4,
};

/* A (CLOCK_MONOTONIC ns, jiffies) pair: how long a jiffy is, for the BPF side. */
struct mw_bpf_jclock {
	__u64 ns, j;
};

/* A token bucket (of snapshots, of records), in ns of refill per token. */
struct mw_bpf_bucket {
	__u64 credit_ns, t_ns;
	__u32 skipped; /* events over the bucket since the last one let through */
	__u32 pad;
};

/*
 * Per-process state kept in task storage of the thread-group leader:
 * cumulative since the process started (or since memwatch loaded), so a
 * missed drain never loses counts; user space diffs successive values.
 */
struct mw_bpf_pstate {
	__u64 faults_heap, faults_stack, faults_mmap;
	__u64 mmaps_anon, mmap_bytes_anon, mmaps_file, mmap_bytes_file;
	__s64 rss_last[MW_RSS_COUNT]; /* pages at the last RSS-movement record */
	__s32 oom_adj;                /* oom_score_adj as last seen */
	__u32 oom_adj_known;
	/* Bookkeeping of the fault and mapping programs (not for user space). */
	__u64 heap_mm;      /* the mm these figures belong to (exec replaces it) */
	__u64 heap_hw;      /* end of the highest heap page faulted so far */
	__u64 heap_snap_lo; /* growth since here has no snapshot yet */
	struct mw_bpf_bucket heap_bucket, map_bucket;
	struct mw_bpf_bucket rss_bucket; /* RSS-movement records */
};

/* One process, as iter/task writes it each tick. */
struct mw_bpf_proc {
	__u32 pid, ppid;
	__u32 tgid;
	__u32 is_thread;         /* a non-leader thread: only tgid, minflt, majflt are set */
	__u64 start_boottime_ns; /* task->start_boottime of the leader */
	char comm[MW_BPF_COMM_LEN];
	__u64 total_vm;          /* pages */
	__s64 rss[MW_RSS_COUNT]; /* pages, per-CPU parts summed */
	__u64 minflt, majflt;    /* leader: its own + exited threads'; threads: their own */
	__u32 threads;
	__u32 has_state; /* pstate below is valid */
	struct mw_bpf_pstate st;
};

/* One mapping, as iter/task_vma writes it. */
struct mw_bpf_vma {
	__u32 pid;
	__u32 dev;
	__u64 start, end;
	__u64 pgoff;
	__u64 ino;
	__u64 vm_flags;
	__u32 kind; /* enum mw_bpf_vma_kind */
	__u32 pad;
};

enum mw_bpf_vma_kind {
	MW_VMA_ANON = 0,
	MW_VMA_FILE = 1,
	MW_VMA_HEAP = 2,
	MW_VMA_STACK = 3,
};

/* Key and value of the LRU map of snapshotted mappings (by process and address). */
struct mw_bpf_map_key {
	__u32 tgid;
	__u32 pad;
	__u64 addr;
};

struct mw_bpf_map_val {
	__u64 len; /* for the range of the MW_SNAP_GONE record */
};

enum mw_bpf_event_kind {
	MW_EV_OOM_KILL = 1,
	MW_EV_PROC_EXIT,
	MW_EV_RECLAIM,
	MW_EV_OOM_ADJ,
	MW_EV_RSS_MOVE,
};

/* Ring buffer records: a common head, then fields by kind. */
struct mw_bpf_event {
	__u32 kind;
	__u32 pid;
	__u64 t_ns; /* bpf_ktime_get_boot_ns() */
	__u64 start_boottime_ns;
	char comm[MW_BPF_COMM_LEN];
	union {
		struct {
			__u64 total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, pgtables_kb;
			__s32 oom_score_adj;
			__u32 uid;
		} oom;
		struct {
			__s64 rss[MW_RSS_COUNT]; /* pages; -1 when the mm was already gone */
			__u64 minflt, majflt;
			__u64 lifetime_ns;
			__s32 exit_code;
			__u32 pad;
			struct mw_bpf_pstate st;
		} exit;
		struct {
			__u64 duration_ns;
			__u64 nr_reclaimed;
		} reclaim;
		struct {
			__s32 old_adj, new_adj;
		} adj;
		struct {
			__s64 rss[MW_RSS_COUNT]; /* pages, now */
		} rss;
	};
};

/*
 * Call-site snapshots for the call-site tracker, in the ring mw_snaps:
 * the user registers and a slice of the user stack at a new mapping
 * (vm_unmapped_area: [lo, hi) is the mapping) or at heap (brk) growth (a
 * fault above the highest heap page faulted so far: [lo, hi) is the heap
 * grown since the process's previous heap snapshot). Rate-limited per
 * process in the kernel, before anything is copied. A new mapping at the
 * address of a snapshotted one sends a head-only MW_SNAP_GONE record: the
 * old one was unmapped.
 */
#define MW_SNAP_STACK_MAX 16384
#define MW_SNAP_NREGS     17

enum mw_bpf_snap_kind {
	MW_SNAP_HEAP = 1,
	MW_SNAP_MAP = 2,
	MW_SNAP_GONE = 3,
};

struct mw_bpf_snap_head {
	__u32 kind;
	__u32 pid, tid;
	__u32 skipped; /* events over the token bucket since the previous snapshot of this kind */
	__u64 t_ns;    /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, like perf samples */
	__u64 lo, hi;
};

struct mw_bpf_snap {
	struct mw_bpf_snap_head h;
	__u32 stack_len; /* bytes copied from regs[7] (sp) up */
	__u32 pad;
	__u64 regs[MW_SNAP_NREGS]; /* DWARF order: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip */
	__u8 stack[MW_SNAP_STACK_MAX];
};

/* Counters user space reads from the .bss of the object. */
struct mw_bpf_counters {
	__u64 events_dropped;   /* ring buffer full */
	__u64 storage_failures; /* task storage could not be created */
	__u64 snaps_dropped;    /* call-site snapshot ring full */
	__u64 snaps_unread;     /* the user stack could not be read */
	/* Gate checks that found RSS moved past the threshold with the process
	 * over its record rate (each is retried at the next check). */
	__u64 rss_limited;
};

#endif
