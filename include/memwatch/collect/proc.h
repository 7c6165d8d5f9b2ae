/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-process collector: /proc/PID/stat, status, cmdline and the oom files
 * read and parsed here (one read each), the fd count, and libproc2's string
 * for the cgroup, asked only when a process's cgroup text is new to the
 * collector.
 */
#ifndef MEMWATCH_PROC_H
#define MEMWATCH_PROC_H

#include "memwatch/base/host.h"
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * X(column, kind): the per-process metrics, in bytes unless kind says
 * otherwise. kind: 'b' bytes, 'n' a count/level, 'c' a monotonic counter.
 */
#define MW_PROC_METRICS(X)                                                                         \
	X(vsz, 'b')                                                                                \
	X(rss, 'b')                                                                                \
	X(rss_anon, 'b')                                                                           \
	X(rss_file, 'b')                                                                           \
	X(rss_shmem, 'b')                                                                          \
	X(swap, 'b')                                                                               \
	X(stack, 'b')                                                                              \
	X(data, 'b')                                                                               \
	X(pte, 'b')                                                                                \
	X(threads, 'n')                                                                            \
	X(fds, 'n')                                                                                \
	X(minflt, 'c')                                                                             \
	X(majflt, 'c')                                                                             \
	X(oom_score, 'n')                                                                          \
	X(oom_adj, 'n')

#define MW_X_ENUM_PM(col, kind) MW_PM_##col,
enum mw_proc_metric { MW_PROC_METRICS(MW_X_ENUM_PM) MW_PM_COUNT };

extern const char *const mw_proc_metric_names[MW_PM_COUNT];
extern const char mw_proc_metric_kinds[MW_PM_COUNT];

#define MW_COMM_MAX 64

struct mw_proc_sample {
	pid_t pid;
	pid_t ppid;
	uint32_t uid;
	uint64_t start_ticks; /* since boot, in USER_HZ; (pid, start) is the identity */
	char comm[MW_COMM_MAX];
	char *cmdline; /* owned by the set; raw bytes, NUL-separated args joined by ' ' */
	char *cgroup;  /* owned by the set */
	int64_t m[MW_PM_COUNT];
};

/*
 * A process whose /proc/PID/stat is unchanged since the last sweep keeps
 * its status, cmdline, oom scores and cgroup from then, for at most this
 * many sweeps (its descriptor count is read each time).
 */
#define MW_PROC_FULL_EVERY 8

/* One sweep of /proc: every user-space process. */
struct mw_proc_set {
	struct mw_proc_sample *v;
	size_t n, cap;
	uint64_t t_ns; /* CLOCK_REALTIME when the sweep started */
};

struct mw_proc_collector;

/* root: "" for the live system. Returns 0 or -errno. */
int mw_proc_collector_new(const char *root, struct mw_proc_collector **out);
void mw_proc_collector_free(struct mw_proc_collector *c);

/*
 * Sweep every process into set (previous contents are released). Kernel
 * threads are skipped; a process that exits mid-read is dropped silently.
 */
int mw_proc_collect(struct mw_proc_collector *c, struct mw_proc_set *set);

/* Sample one process; -ESRCH when it does not exist. */
int mw_proc_collect_one(struct mw_proc_collector *c, pid_t pid, struct mw_proc_sample *out);

void mw_proc_set_clear(struct mw_proc_set *set);
void mw_proc_sample_release(struct mw_proc_sample *s);

/* Count entries of /proc/PID/fd (root-relative). -errno when unreadable (EACCES for others'
 * processes). */
int mw_fd_count(const char *root, pid_t pid);

/*
 * /proc/PID/stat into s: pid, comm (raw bytes between the first '(' and the
 * last ')'), ppid, minflt, majflt, threads, start_ticks; *flags gets the
 * task flags (PF_KTHREAD). -EBADMSG when the text is not a stat line.
 */
int mw_proc_parse_stat(const char *text, struct mw_proc_sample *s, unsigned long *flags);

/*
 * Field 22 of /proc/PID/stat under root (start time since boot, USER_HZ):
 * with the pid, the process's identity, to tell a reused pid from the
 * process meant. -ESRCH when it is gone, -EBADMSG when the line is not
 * the stat line of pid.
 */
int mw_proc_start_ticks(const char *root, pid_t pid, uint64_t *ticks);

/*
 * /proc/PID/status into s: uid (effective) and the Vm and Rss sizes. Absent
 * size lines (a zombie has no mm) are 0, VmPTE unknown. -EBADMSG without a
 * Uid line.
 */
int mw_proc_parse_status(const char *text, struct mw_proc_sample *s);

/*
 * Turn the len raw bytes of a /proc/PID/cmdline (in place, NUL-terminated
 * after) into the stored text: NULs and newlines become spaces, the final
 * NUL goes, and an argv of just "-" is empty (how libproc2 reported an
 * empty cmdline). Returns the new length.
 */
int mw_proc_cmdline_text(char *raw, size_t len);

/* Parse "VmPTE:" (and friends) out of a /proc/PID/status text; MW_UNKNOWN if absent. */
int64_t mw_status_field_kb(const char *status_text, const char *key);

#endif
