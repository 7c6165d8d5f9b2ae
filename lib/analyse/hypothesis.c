/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/hypothesis.h"
#include "memwatch/analyse/analysis.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1024.0 * 1024.0)
#define KiB 1024.0

/* Growth of a leak-sized process in bytes: 1 MiB/h is worth saying, 256 MiB/h is loud. */
#define BYTES_RATES 1 * MiB, 256 * MiB, 512 * KiB

const struct mw_rule mw_rules[] = {
        {"heap-growth", "HEAP", "heap", "heap growth: malloc'd memory that is never freed",
         MW_RULE_GROWTH, MW_AM_heap, MW_AM_rss_anon, MW_AM_vm_data, false, BYTES_RATES, 1.0,
         "pmap -X {pid} (the [heap] line); on a test instance: valgrind --tool=massif or "
         "heaptrack",
         true},
        {"heap-fragmentation", "FRAG", "heap",
         "heap fragmentation: RSS saws up and down while its floor rises (live bytes unknown)",
         MW_RULE_SAWTOOTH, MW_AM_heap, MW_AM_rss_anon, MW_AM_vm_data, false, BYTES_RATES, 0.7,
         "gdb -p {pid} -batch -ex 'call (void)malloc_stats()' (free-but-held bytes, or "
         "mallinfo2());"
         " valgrind --tool=massif; try MALLOC_ARENA_MAX, M_TRIM_THRESHOLD, jemalloc/tcmalloc",
         true},
        {"anon-mmap-leak", "MMAP", "anon",
         "anonymous mmap leak: mappings created and never unmapped (large mallocs, arenas, pools)",
         MW_RULE_GROWTH, MW_AM_anon, MW_AM_rss_anon, MW_AM_anon_maps, false, BYTES_RATES, 1.0,
         "pmap -X {pid} (unnamed anon mappings); memwatch trace {pid}; strace -f -e "
         "trace=mmap,munmap"
         " -p {pid}",
         true},
        {"thread-leak", "THREADS", "thread_stacks",
         "thread leak: threads created and never joined or detached, one stack mapping each",
         MW_RULE_GROWTH, MW_AM_threads, MW_AM_NONE, MW_AM_thread_stacks, false, 2, 200, 3, 1.0,
         "ls /proc/{pid}/task | wc -l; gdb -p {pid} -batch -ex 'thread apply all bt' (who creates"
         " them, who should join)",
         true},
        {"stack-growth", "STACK", "stack", "main stack growth: deep recursion or large locals",
         MW_RULE_GROWTH, MW_AM_vm_stack, MW_AM_NONE, MW_AM_main_stack, false, 256 * KiB, 64 * MiB,
         128 * KiB, 1.0,
         "gdb -p {pid} -batch -ex bt (recursion depth); grep VmStk /proc/{pid}/status", true},
        {"file-mapping-growth", "FILES", "file",
         "file mapping growth: files mapped and never unmapped", MW_RULE_GROWTH, MW_AM_file,
         MW_AM_rss_file, MW_AM_file_maps, false, 1 * MiB, 256 * MiB, 1 * MiB, 0.9,
         "pmap -X {pid} (file-backed mappings); lsof -p {pid} | grep ' mem '", true},
        {"library-growth", "FILES", "file_exec",
         "library growth: new shared objects mapped (dlopen without dlclose)", MW_RULE_GROWTH,
         MW_AM_so_files, MW_AM_NONE, MW_AM_file_maps, false, 1, 50, 2, 1.0,
         "awk '$6 ~ /\\.so/ {print $6}' /proc/{pid}/maps | sort | uniq -c (dlopen without "
         "dlclose?)"},
        {"shm-leak", "SHM", "shm",
         "shared memory leak: segments attached and never detached or removed", MW_RULE_GROWTH,
         MW_AM_shm, MW_AM_rss_shmem, MW_AM_NONE, false, BYTES_RATES, 1.0,
         "ipcs -m -p; ls -l /dev/shm; pmap -X {pid} | grep -e SYSV -e /dev/shm -e memfd -e "
         "/dev/zero",
         true},
        /* Outside the process's RSS: segments it created and left unattached outlive it. */
        {"shm-orphaned", "SHM", "shm",
         "shared memory left behind: segments it created that nobody attaches (they outlive it)",
         MW_RULE_GROWTH, MW_AM_ipc_shm_orphan_bytes, MW_AM_NONE, MW_AM_NONE, false, BYTES_RATES,
         1.0,
         "ipcs -m -p (cpid {pid}, nattch 0); ls -l /dev/shm; once unused: ipcrm -m ID,"
         " rm /dev/shm/NAME"},
        /* Before the fd leaks: at the limit, the outage is the limit, whatever leaks. */
        {"fd-limit", "FDLIMIT", "kernel",
         "descriptor limit: open fds at or near RLIMIT_NOFILE (\"Too many open files\")",
         MW_RULE_LIMIT, MW_AM_fds, MW_AM_NONE, MW_AM_NONE, false, 2, 500, 5, 1.0,
         "grep 'open files' /proc/{pid}/limits; ls -l /proc/{pid}/fd (which kind piles up);"
         " stopgap: prlimit --pid {pid} --nofile=SOFT:HARD"},
        {"fd-leak-sockets", "FDS", "kernel", "socket descriptor leak: kernel buffers outside RSS",
         MW_RULE_GROWTH, MW_AM_fd_socket, MW_AM_NONE, MW_AM_fds, false, 2, 500, 5, 1.0,
         "ss -tanp | grep 'pid={pid},'; lsof -p {pid} -a -i"},
        {"fd-leak-pipes", "FDS", "kernel", "pipe descriptor leak: pipe buffers outside RSS",
         MW_RULE_GROWTH, MW_AM_fd_pipe, MW_AM_NONE, MW_AM_fds, false, 2, 500, 5, 1.0,
         "lsof -p {pid} | grep FIFO; ls -l /proc/{pid}/fd | grep pipe"},
        {"fd-leak-files", "FDS", "kernel", "file descriptor leak: files opened and never closed",
         MW_RULE_GROWTH, MW_AM_fd_file, MW_AM_NONE, MW_AM_fds, false, 2, 500, 5, 1.0,
         "lsof -p {pid} | grep REG; ls -l /proc/{pid}/fd"},
        {"fd-leak-other", "FDS", "kernel",
         "eventfd/anon-inode descriptor leak (eventfd, epoll, timerfd, ...)", MW_RULE_GROWTH,
         MW_AM_fd_other, MW_AM_NONE, MW_AM_fds, false, 2, 500, 5, 1.0,
         "ls -l /proc/{pid}/fd | grep anon_inode; cat /proc/{pid}/fdinfo/FD"},
        /* Without fd kinds (no region tier): one generic descriptor hypothesis. */
        {"fd-leak", "FDS", "kernel", "descriptor leak: fds never closed (kinds not recorded)",
         MW_RULE_GROWTH, MW_AM_fd_socket, MW_AM_fds, MW_AM_NONE, true, 2, 500, 5, 0.9,
         "lsof -p {pid}; ls -l /proc/{pid}/fd"},
        {"ipc-backlog", "IPC", "kernel",
         "IPC backlog: a SysV message queue of this process fills because nobody reads",
         MW_RULE_IPC, MW_AM_ipc_queue_bytes, MW_AM_NONE, MW_AM_NONE, false, 64 * KiB, 64 * MiB,
         16 * KiB, 1.0, "ipcs -q -p; ipcs -q -i ID (lrpid: the reader that stopped)"},
        {"oom-risk", "OOM", "total",
         "OOM risk: at this rate the process exhausts the memory available to it", MW_RULE_OOM,
         MW_AM_rss, MW_AM_NONE, MW_AM_swap, false, BYTES_RATES, 0.9,
         "cat /proc/{pid}/oom_score /proc/{pid}/oom_score_adj; memwatch oom; cap it with a cgroup"
         " memory limit so it fails alone"},
};
const size_t mw_nrules = MW_ARRAY_SIZE(mw_rules);

static double clamp01(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* p 0.05 -> 0, p 1e-4 -> 1, log-linear between. */
static double significance(double p)
{
	if (!(p > 0))
		return 1;
	return clamp01((-log10(p) - 1.3) / 2.7);
}

static double magnitude(const struct mw_rule *r, double rate_h)
{
	if (rate_h <= r->min_rate_h)
		return 0;
	return clamp01(log(rate_h / r->min_rate_h) / log(r->strong_rate_h / r->min_rate_h));
}

/* How much of the movement is downward: 0 for a ramp, near 1 for a sawtooth. */
static double sawtoothness(const struct mw_metric_window *w)
{
	return w->rise > 0 ? clamp01(2.0 * w->fall / w->rise) : 0;
}

/* The rate that counts: the floor's when the series dropped, so eviction cancels filling. */
static double effective_rate(const struct mw_metric_window *w)
{
	double rate = w->slope_per_h;
	if (w->tr.floor_n >= 3 && isfinite(w->floor_slope_per_h))
		rate = fmin(rate, w->floor_slope_per_h);
	return rate;
}

/*
 * Grew, then stopped: no new high for a quarter of the widest span
 * (capped at 1 h). Returns that plateau in seconds, 0 when still rising.
 */
/* The widest valid window of a metric, or NULL. */
static const struct mw_metric_window *widest(const struct mw_metric_analysis *ma, int nwin)
{
	for (int i = nwin - 1; i >= 0; i--)
		if (ma->w[i].valid)
			return &ma->w[i];
	return NULL;
}

static double plateau(const struct mw_metric_analysis *ma, int nwin, double min_s)
{
	const struct mw_metric_window *wide = widest(ma, nwin);

	if (!wide)
		return 0;
	double span_s = (double)(wide->to_ms - wide->from_ms) / 1000.0;
	bool flat = wide->plateau_s >= fmin(0.25 * span_s, 3600.0) &&
	            wide->plateau_s > 2 * fmax(wide->step_s, min_s);
	return flat ? wide->plateau_s : 0;
}

/*
 * A slow-tier staircase is flat between its samples: its plateau counts
 * when the per-tick figure it is part of has one too, or when it spans
 * more than two of its own sampling intervals.
 */
static double stabilised(const struct mw_analysis *a, const struct mw_rule *r, int m)
{
	int nwin = a->nwindows;
	double own = plateau(&a->m[m], nwin, 0);
	const struct mw_metric_window *wide = widest(&a->m[m], nwin);

	if (own <= 0 || r->fallback < 0 || m == r->fallback || !a->m[r->fallback].available)
		return own;
	if (plateau(&a->m[r->fallback], nwin, 0) > 0)
		return own;
	return plateau(&a->m[m], nwin, wide ? wide->sample_s : 0);
}

/* Bytes the process can still take before the tighter of MemAvailable and its cgroup limit. */
static double headroom(const struct mw_analysis *a, const char **basis)
{
	double room = a->mem_available == MW_UNKNOWN ? NAN : (double)a->mem_available;
	*basis = isfinite(room) ? "MemAvailable" : NULL;
	if (a->cgroup_limit != MW_UNKNOWN && a->cgroup_usage != MW_UNKNOWN) {
		double cg = (double)(a->cgroup_limit - a->cgroup_usage);
		if (!isfinite(room) || cg < room) {
			room = cg < 0 ? 0 : cg;
			*basis = "cgroup memory limit";
		}
	}
	return room;
}

/*
 * Warming up, not leaking: the metric's mappings kept their size and
 * count while RSS rose toward that size (analysis.c, bound_of). Only while
 * what is left of them fits in the headroom: a huge reservation filling up
 * can still exhaust memory.
 */
static bool warming(const struct mw_analysis *a, const struct mw_metric_window *w)
{
	const char *basis;
	double room = headroom(a, &basis);

	return w->valid && isfinite(w->bound) && !(w->bound - w->tr.last > room);
}

/* The share of the RSS rise in window wi that bounded regions explain, 0..1. */
static double warming_share(const struct mw_analysis *a, int wi)
{
	const struct mw_metric_window *rss = &a->m[MW_AM_rss].w[wi];
	double rise = rss->tr.last - rss->tr.first, warm = 0;

	if (!rss->valid || !(rise > 0))
		return 0;
	for (int m = 0; m < MW_AM_COUNT; m++) {
		const struct mw_metric_window *w = &a->m[m].w[wi];
		if (a->m[m].available && warming(a, w))
			warm += w->tr.last - w->tr.first;
	}
	/* Most of it: the rest is what touching the pool costs besides (page tables, locals). */
	return warm >= 0.8 * rise ? 1 : clamp01(warm / rise);
}

/*
 * Given back: it stands in the lower half of the window's range, at least
 * a quarter below its high (FLUSHALL, a cache dropped, a batch freed). No
 * growth verdict stands on the rise before that; one returns when the
 * metric climbs back or the high leaves the window. A sawtooth's trough
 * is that too, and the fragmentation rule reads the floor, not the last.
 */
static bool released(const struct mw_metric_window *w)
{
	double fall = w->max - w->tr.last;
	return w->max > w->min && fall >= 0.5 * (w->max - w->min) && fall >= 0.25 * w->max;
}

static double window_score(const struct mw_analysis *a, const struct mw_rule *r, int m, int wi)
{
	const struct mw_metric_window *w = &a->m[m].w[wi];
	double span_h = (double)(w->to_ms - w->from_ms) / 3.6e6;
	double rate, need;

	if (!w->valid || span_h <= 0 || warming(a, w))
		return 0;
	if (r->kind != MW_RULE_SAWTOOTH && r->kind != MW_RULE_LIMIT && released(w))
		return 0;
	if (r->kind == MW_RULE_SAWTOOTH) {
		/* Fragmentation: real drops, yet the floor still climbs. */
		if (w->tr.floor_n < 4 || !isfinite(w->floor_slope_per_h))
			return 0;
		rate = w->floor_slope_per_h;
	} else {
		rate = effective_rate(w);
	}
	/* The process's growth less the mappings filling up: they stop at their size. */
	if (r->kind == MW_RULE_OOM)
		rate *= 1.0 - warming_share(a, wi);
	need = fmax(r->min_abs, 0.005 * fabs(w->tr.first));
	if (!(rate >= r->min_rate_h) || rate * span_h < need)
		return 0;
	double s = significance(w->tr.mk_p) * (0.6 + 0.4 * magnitude(r, rate));
	double saw = sawtoothness(w);
	/* A ramp is growth; a sawtooth with a rising floor is more likely fragmentation. */
	return r->kind == MW_RULE_SAWTOOTH ? s * saw : s * (1.0 - 0.5 * saw);
}

/*
 * Without a region breakdown, heap and anonymous-mmap growth are both
 * RssAnon: the page faults eBPF counted in each tell them apart. 1 for the
 * region that took the most faults, its share of that region's otherwise;
 * 1 when eBPF counted nothing (the heap rule reads RssAnon as before).
 */
static double fault_share(const struct mw_analysis *a, const struct mw_rule *r)
{
	double heap = (double)a->bpf.faults_heap, mmap = (double)a->bpf.faults_mmap;
	double top = fmax(heap, mmap);

	if (!a->bpf.available || !(top > 0) || (r->metric != MW_AM_heap && r->metric != MW_AM_anon))
		return 1;
	return (r->metric == MW_AM_heap ? heap : mmap) / top;
}

/* The anon-mmap rule reads RssAnon only with eBPF's faults to tell it from the heap's. */
static bool fallback_allowed(const struct mw_analysis *a, const struct mw_rule *r)
{
	return r->metric != MW_AM_anon ||
	       (a->bpf.available && a->bpf.faults_heap + a->bpf.faults_mmap > 0);
}

/* The stretch of time the widest valid window of m covers, in ms; 0 when none is valid. */
static int64_t covered_ms(const struct mw_analysis *a, int m)
{
	const struct mw_metric_window *w = widest(&a->m[m], a->nwindows);

	return w ? w->to_ms - w->from_ms : 0;
}

/*
 * The region and fd-kind tiers are slow (smaps every minute by default):
 * a new process, or a daemon just started, has one or two such samples
 * while every tick has RSS. Until the slow series has four samples and
 * covers half of what RSS covers, a rule reads its per-tick fallback: the slow tier refines a
 * verdict, it never holds one back (issue 15: a heap leak lost its
 * verdict when the first smaps sample arrived).
 */
static bool established(const struct mw_analysis *a, int m)
{
	int64_t span = covered_ms(a, m);
	size_t n = 0;

	/* Rows of any region or fd kind: each is a sample (an unchanged one is not stored). */
	for (size_t i = 0; i < a->reg.n; i++)
		n += a->reg.v[i].t_ms >= a->to_ms - span;
	/* Four samples: with fewer, a staircase's trend rests on two or three steps. */
	return a->m[m].available && n >= 4 && 2 * span >= covered_ms(a, MW_AM_rss);
}

static int metric_for(const struct mw_analysis *a, const struct mw_rule *r, bool *fallback)
{
	bool fb_ok = r->fallback >= 0 && a->m[r->fallback].available;

	*fallback = false;
	if (r->fallback_only)
		return r->metric >= 0 && established(a, r->metric) ? MW_AM_NONE : r->fallback;
	if (r->metric >= 0 && a->m[r->metric].available &&
	    (established(a, r->metric) || !fb_ok || !fallback_allowed(a, r)))
		return r->metric;
	*fallback = true;
	return fb_ok && fallback_allowed(a, r) ? r->fallback : MW_AM_NONE;
}

static void bpf_support(const struct mw_analysis *a, const struct mw_rule *r,
                        struct mw_hyp_evidence *ev)
{
	ev->bpf_available = a->bpf.available;
	if (!a->bpf.available)
		return;
	if (strcmp(r->region, "heap") == 0)
		ev->bpf_faults = a->bpf.faults_heap;
	else if (strcmp(r->region, "stack") == 0)
		ev->bpf_faults = a->bpf.faults_stack;
	else if (strcmp(r->region, "anon") == 0 || strcmp(r->region, "thread_stacks") == 0)
		ev->bpf_faults = a->bpf.faults_mmap;
	if (strcmp(r->region, "file") == 0 || strcmp(r->region, "file_exec") == 0) {
		ev->bpf_mmaps = a->bpf.mmaps_file;
		ev->bpf_mmap_bytes = a->bpf.mmap_bytes_file;
	} else if (strcmp(r->region, "anon") == 0 || strcmp(r->region, "thread_stacks") == 0) {
		ev->bpf_mmaps = a->bpf.mmaps_anon;
		ev->bpf_mmap_bytes = a->bpf.mmap_bytes_anon;
	}
}

static void fill_evidence(const struct mw_analysis *a, const struct mw_rule *r, int m, bool fb,
                          int wi, struct mw_hyp_evidence *ev)
{
	const struct mw_metric_window *w = &a->m[m].w[wi];

	ev->metric = m;
	ev->fallback = fb;
	ev->window_s = w->window_s;
	ev->from_ms = w->from_ms;
	ev->to_ms = w->to_ms;
	ev->n = w->tr.n;
	ev->first = w->tr.first;
	ev->last = w->tr.last;
	ev->slope_per_h = w->slope_per_h;
	ev->mk_p = w->tr.mk_p;
	ev->mk_z = w->tr.mk_z;
	ev->floor_slope_per_h = w->floor_slope_per_h;
	ev->floor_n = w->tr.floor_n;
	ev->plateau_s = w->plateau_s;
	ev->support = r->support;
	ev->support_slope_per_h = NAN;
	ev->support_last = NAN;
	if (r->support >= 0 && a->m[r->support].available && a->m[r->support].w[wi].valid) {
		ev->support_slope_per_h = a->m[r->support].w[wi].slope_per_h;
		ev->support_last = a->m[r->support].w[wi].tr.last;
	}
	bpf_support(a, r, ev);
}

static void next_step(const struct mw_rule *r, pid_t pid, char *out, size_t cap)
{
	const char *p = r->next_step;
	size_t o = 0;

	while (*p && o + 1 < cap) {
		if (strncmp(p, "{pid}", 5) == 0) {
			int k = snprintf(out + o, cap - o, "%d", (int)pid);
			o += k > 0 ? (size_t)k : 0;
			p += 5;
			if (o >= cap)
				o = cap - 1;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
}

/* Time to exhaustion: bytes metrics at their own rate, counts at the process's RSS rate. */
static void exhaustion(const struct mw_analysis *a, struct mw_hypothesis *h, int wi)
{
	double rate_h = h->ev.slope_per_h;
	const char *basis;
	double room = headroom(a, &basis);

	h->tte_s = NAN;
	h->tte_basis = NULL;
	if (mw_ametric_kinds[h->ev.metric] != 'b') {
		const struct mw_metric_window *w = &a->m[MW_AM_rss].w[wi];
		rate_h = w->valid ? effective_rate(w) : NAN;
	} else if (h->ev.floor_n >= 3 && isfinite(h->ev.floor_slope_per_h)) {
		rate_h = fmin(rate_h, h->ev.floor_slope_per_h);
	}
	if (h->ev.metric == MW_AM_rss)
		rate_h *= 1.0 - warming_share(a, wi);
	if (!isfinite(room) || !(rate_h > 0))
		return;
	h->tte_s = room / (rate_h / 3600.0);
	h->tte_basis = basis;
}

/*
 * The main stack stops at RLIMIT_STACK with SIGSEGV (8 MiB by default),
 * long before memory runs out: its time to that limit is the one that
 * counts, and at 90 % of it the process is one deep call from the crash.
 */
static void stack_limit(const struct mw_analysis *a, struct mw_hypothesis *h)
{
	double lim = (double)a->limits.stack_soft, last = h->ev.last;
	double rate_h = h->ev.slope_per_h, t;
	size_t l = strlen(h->note);

	if (h->ev.metric != MW_AM_vm_stack || !a->limits.readable ||
	    a->limits.stack_soft == MW_UNKNOWN || !(lim > 0))
		return;
	h->near_limit = last >= 0.9 * lim;
	snprintf(h->note + l, sizeof(h->note) - l, "%sVmStk %.1f of %.1f MiB (RLIMIT_STACK)%s",
	         l ? "; " : "", last / MiB, lim / MiB,
	         h->near_limit ? ": one deep call from SIGSEGV" : "");
	if (!(rate_h > 0) || last >= lim)
		return;
	t = (lim - last) / (rate_h / 3600.0);
	if (isfinite(h->tte_s) && h->tte_s <= t)
		return;
	h->tte_s = t;
	h->tte_basis = "RLIMIT_STACK soft limit (then SIGSEGV)";
	h->own_limit = true;
}

/* The OOM hypothesis scores urgency: how soon, not how steep. */
static double oom_urgency(double tte_s)
{
	static const struct {
		double within_s, urgency;
	} steps[] = {{3600, 1.0},
	             {6 * 3600, 0.8},
	             {24 * 3600, 0.6},
	             {3 * 86400, 0.45},
	             {7 * 86400, 0.3}};
	if (!isfinite(tte_s))
		return 0;
	for (size_t i = 0; i < MW_ARRAY_SIZE(steps); i++)
		if (tte_s <= steps[i].within_s)
			return steps[i].urgency;
	return 0.1;
}

/* The kernel's view: its badness score and the user's bias (-1000 exempts). */
static void oom_note(const struct mw_analysis *a, struct mw_hypothesis *h)
{
	size_t l = strlen(h->note);

	if (a->oom_score == MW_UNKNOWN)
		return;
	snprintf(h->note + l, sizeof(h->note) - l, "%soom_score %lld, oom_score_adj %lld%s",
	         l ? "; " : "", (long long)a->oom_score, (long long)a->oom_adj,
	         a->oom_adj == -1000 ? " (exempt: something else is killed instead)" : "");
}

/* The best window's score for rule r on metric m; -1 when no window is valid. */
static int best_window(const struct mw_analysis *a, const struct mw_rule *r, int m, double *score)
{
	int best = -1;

	*score = 0;
	for (int wi = 0; wi < a->nwindows; wi++) {
		if (!a->m[m].w[wi].valid)
			continue;
		double s = window_score(a, r, m, wi);
		if (best < 0 || s > *score) {
			*score = s;
			best = wi;
		}
	}
	return best;
}

static void fallback_note(const struct mw_analysis *a, const struct mw_rule *r,
                          struct mw_hypothesis *h)
{
	size_t l = strlen(h->note);
	double heap = (double)a->bpf.faults_heap, mmap = (double)a->bpf.faults_mmap;
	int k = snprintf(h->note + l, sizeof(h->note) - l, "%s%s: read from a process-wide figure",
	                 l ? "; " : "",
	                 a->m[r->metric].available ? "too few region samples yet"
	                                           : "no region breakdown recorded");

	if (k < 0 || (size_t)k >= sizeof(h->note) - l || !a->bpf.available || !(heap + mmap > 0) ||
	    (r->metric != MW_AM_heap && r->metric != MW_AM_anon))
		return;
	l += (size_t)k;
	snprintf(h->note + l, sizeof(h->note) - l, " (eBPF: %.0f %% of the page faults in %s)",
	         100.0 * (r->metric == MW_AM_heap ? heap : mmap) / (heap + mmap),
	         r->metric == MW_AM_heap ? "the heap" : "anonymous mappings");
}

/* Dampers and bonuses that apply whatever the window: stabilised, fallback, OOM, eBPF. */
static double adjust(const struct mw_analysis *a, const struct mw_rule *r, int m, bool fb,
                     struct mw_hypothesis *h, double s)
{
	double flat_s = stabilised(a, r, m);

	if (flat_s > 0 && s > 0) {
		s *= 0.2;
		snprintf(h->note, sizeof(h->note), "no new high for %.0f s: grew, then stabilised",
		         flat_s);
	}
	if (fb && s > 0)
		fallback_note(a, r, h);
	if (r->kind == MW_RULE_OOM) {
		s *= oom_urgency(h->tte_s);
		oom_note(a, h);
	}
	if (fb)
		s *= 0.85;
	if (s > 0 && h->ev.bpf_available && h->ev.bpf_faults > 0)
		s += 0.05; /* the kernel saw this region being touched */
	return clamp01(s * r->weight);
}

/* The shortest valid window of m: the freshest picture of where it stands. */
static int first_window(const struct mw_analysis *a, int m)
{
	for (int wi = 0; wi < a->nwindows; wi++)
		if (a->m[m].w[wi].valid)
			return wi;
	return -1;
}

/* Usage against a limit: near it (>= 90 %) now, or reaching it soon at this rate. */
static double limit_score(const struct mw_rule *r, const struct mw_metric_window *w, double limit,
                          struct mw_hypothesis *h)
{
	double used = w->tr.last / limit, rate_h = effective_rate(w), near = 0, soon = 0;
	double *tte_s = &h->tte_s;

	*tte_s = NAN;
	h->near_limit = used >= 0.9;
	if (used >= 0.9)
		near = 0.7 + 0.3 * clamp01((used - 0.9) / 0.1);
	if (rate_h >= r->min_rate_h && w->tr.last < limit) {
		*tte_s = (limit - w->tr.last) / (rate_h / 3600.0);
		soon = significance(w->tr.mk_p) * oom_urgency(*tte_s);
	}
	return fmax(near, soon);
}

static void eval_limit(struct mw_analysis *a, const struct mw_rule *r, struct mw_hypothesis *h)
{
	const struct mw_proc_limits *l = &a->limits;
	int wi = a->m[r->metric].available ? first_window(a, r->metric) : -1;
	char hard[32] = "unlimited";

	if (!l->readable || l->nofile_soft == MW_UNKNOWN || l->nofile_soft <= 0) {
		snprintf(h->note, sizeof(h->note), "%s",
		         l->readable ? "no descriptor limit"
		                     : "no limits recorded for this process");
		return;
	}
	if (wi < 0)
		return;
	fill_evidence(a, r, r->metric, false, wi, &h->ev);
	h->score = clamp01(r->weight *
	                   limit_score(r, &a->m[r->metric].w[wi], (double)l->nofile_soft, h));
	h->tte_basis = isfinite(h->tte_s) ? "RLIMIT_NOFILE soft limit" : NULL;
	if (l->nofile_hard != MW_UNKNOWN)
		snprintf(hard, sizeof(hard), "%lld", (long long)l->nofile_hard);
	snprintf(h->note, sizeof(h->note),
	         "%.0f of %lld descriptors (%.0f %% of the soft limit; hard %s)%s", h->ev.last,
	         (long long)l->nofile_soft, 100.0 * h->ev.last / (double)l->nofile_soft, hard,
	         h->ev.last >= (double)l->nofile_soft
	                 ? ": at the limit, open(), socket() and accept() fail with EMFILE"
	                 : "");
}

/* Why a rising metric is no hypothesis (or, for OOM risk, what its rate leaves out). */
static void warm_note(const struct mw_analysis *a, int m, int wi, struct mw_hypothesis *h)
{
	size_t l = strlen(h->note);
	char buf[128];
	double share;

	if (h->score == 0 && h->rule->kind != MW_RULE_SAWTOOTH && released(&a->m[m].w[wi])) {
		const struct mw_metric_window *w = &a->m[m].w[wi];
		if (mw_ametric_kinds[m] == 'b')
			snprintf(h->note + l, sizeof(h->note) - l,
			         "%sfell %.0f MiB from its high of %.0f MiB: given back, no growth "
			         "now",
			         l ? "; " : "", (w->max - w->tr.last) / MiB, w->max / MiB);
		else
			snprintf(h->note + l, sizeof(h->note) - l,
			         "%sfell from %.0f to %.0f: given back, no growth now",
			         l ? "; " : "", w->max, w->tr.last);
		return;
	}
	if (h->rule->kind == MW_RULE_OOM) {
		share = warming_share(a, wi);
		if (share > 0)
			snprintf(h->note + l, sizeof(h->note) - l,
			         "%s%.0f %% of the RSS rise is mappings of a fixed size warming up:"
			         " not counted",
			         l ? "; " : "", 100.0 * share);
		return;
	}
	for (int k = a->nwindows - 1; k >= 0; k--) {
		if (h->score > 0 || !warming(a, &a->m[m].w[k]))
			continue;
		mw_warming_text(&a->m[m].w[k], buf, sizeof(buf));
		snprintf(h->note + l, sizeof(h->note) - l, "%s%s", l ? "; " : "", buf);
		return;
	}
}

static void eval_rule(struct mw_analysis *a, const struct mw_rule *r, struct mw_hypothesis *h)
{
	bool fb;
	int m = metric_for(a, r, &fb), best;
	double s;

	memset(h, 0, sizeof(*h));
	h->rule = r;
	h->tte_s = NAN;
	h->ev.metric = MW_AM_NONE;
	h->ev.support = MW_AM_NONE;
	next_step(r, a->pid, h->next_step, sizeof(h->next_step));
	if (r->kind == MW_RULE_LIMIT) {
		eval_limit(a, r, h);
		return;
	}
	if (m == MW_AM_NONE) {
		if (r->kind == MW_RULE_IPC)
			snprintf(h->note, sizeof(h->note), "%s",
			         a->ipc_tables ? "this process created no message queue"
			                       : "not evaluated: the store has no IPC samples");
		return;
	}
	best = best_window(a, r, m, &s);
	if (best < 0)
		return;
	fill_evidence(a, r, m, fb, best, &h->ev);
	exhaustion(a, h, best);
	stack_limit(a, h);
	if (fb)
		s *= fault_share(a, r);
	h->score = adjust(a, r, m, fb, h, s);
	/* One deep call from the crash: reported even when flat now. */
	if (h->near_limit && h->ev.metric == MW_AM_vm_stack)
		h->score = fmax(h->score, 0.7 * r->weight);
	warm_note(a, m, best, h);
	/* Heap too: malloc's large blocks are mmaps, and without region data anon growth is guessed
	 * heap. */
	if (r->kind == MW_RULE_GROWTH && (r->metric == MW_AM_anon || r->metric == MW_AM_heap) &&
	    h->score > 0)
		mw_hyp_mmap_call_sites(a, &h->ev);
}

/* Does cause's growth use up what limit measures: memory for OOM, descriptors for fd-limit? */
static bool explains(const struct mw_rule *cause, const struct mw_rule *limit)
{
	if (limit->kind == MW_RULE_OOM)
		return cause->in_rss;
	if (limit->kind != MW_RULE_LIMIT || cause->kind != MW_RULE_GROWTH)
		return false;
	return cause->support == limit->metric || cause->fallback == limit->metric;
}

/*
 * A limit is reached once, whatever grows towards it: every hypothesis
 * whose growth uses it up carries the limit rule's time to it, and when
 * one of them is reported, the limit is its consequence, not a verdict of
 * its own -- unless the process is at or near the limit already.
 */
static void consequences(struct mw_analysis *a, struct mw_hypothesis *lim)
{
	struct mw_hypothesis *cause = NULL;

	for (size_t i = 0; i < a->nhyp; i++) {
		struct mw_hypothesis *h = &a->hyp[i];
		if (h == lim || !explains(h->rule, lim->rule))
			continue;
		/*
		 * Where the limit's rule has no time (RSS shows no rise yet: a
		 * slow stack, a short window), each keeps its own, at its own rate.
		 */
		if (isfinite(lim->tte_s) && !(h->own_limit && h->tte_s <= lim->tte_s)) {
			h->tte_s = h->score > 0 ? lim->tte_s : NAN;
			h->tte_basis = h->score > 0 ? lim->tte_basis : NULL;
			h->own_limit = false;
		}
		if (h->score >= MW_HYP_THRESHOLD && (!cause || h->score > cause->score))
			cause = h;
	}
	if (!cause || !(lim->score > 0) || lim->near_limit)
		return;
	lim->score = 0;
	snprintf(lim->note, sizeof(lim->note),
	         "a consequence of %s: its time to the limit is reported there", cause->rule->id);
	if (lim->rule->kind == MW_RULE_OOM)
		oom_note(a, lim);
}

/*
 * A rule that stands in for finer ones (descriptors without their kinds)
 * while their tier is young says nothing once one of them speaks.
 */
static void defer_to_finer(struct mw_analysis *a, struct mw_hypothesis *coarse)
{
	for (size_t i = 0; i < a->nhyp; i++) {
		const struct mw_hypothesis *h = &a->hyp[i];
		if (h == coarse || h->rule->support != coarse->rule->fallback ||
		    !(h->score >= MW_HYP_THRESHOLD))
			continue;
		coarse->score = 0;
		snprintf(coarse->note, sizeof(coarse->note), "%s says which kind", h->rule->id);
		return;
	}
}

/*
 * memwatchd's own growth in its first minutes is its caches filling (the
 * ELF files it maps to name call sites, SQLite's page cache) and its
 * descriptors follow the processes it watches (one /proc/PID/stat each).
 * Its budget is checked by bench/ and it_pid_churn (anonymous RSS under
 * 16 MiB); within it, a verdict on itself would be a false alarm, beyond
 * it the rules speak as for any process.
 */
#define RECORDER_ANON_BUDGET (16.0 * MiB)

static void recorder(struct mw_analysis *a, struct mw_hypothesis *h)
{
	int wi = first_window(a, MW_AM_rss_anon);
	size_t l = strlen(h->note);

	if (wi < 0 || !(a->m[MW_AM_rss_anon].w[wi].tr.last < RECORDER_ANON_BUDGET) ||
	    !(h->score > 0) || h->rule->kind == MW_RULE_LIMIT)
		return;
	h->score = fmin(h->score, MW_HYP_THRESHOLD / 2);
	snprintf(h->note + l, sizeof(h->note) - l,
	         "%smemwatchd itself, within its budget (anonymous RSS %.1f of %.0f MiB):"
	         " caches warming up, descriptors one per watched process",
	         l ? "; " : "", a->m[MW_AM_rss_anon].w[wi].tr.last / MiB,
	         RECORDER_ANON_BUDGET / MiB);
}

/*
 * A process that exited gave its memory back: what grew is history (kept:
 * it says what leaked until the end), but it exhausts nothing any more and
 * a next step for its pid would reach another process or none.
 */
static void exited(struct mw_hypothesis *h)
{
	size_t l = strlen(h->note);

	h->tte_s = NAN;
	h->tte_basis = NULL;
	h->next_step[0] = '\0';
	if (h->rule->kind == MW_RULE_OOM || h->rule->kind == MW_RULE_LIMIT)
		h->score = 0;
	if (h->score > 0 || h->rule->kind == MW_RULE_OOM)
		snprintf(h->note + l, sizeof(h->note) - l,
		         "%sthe process exited: what it held was freed, nothing is exhausted now",
		         l ? "; " : "");
}

/*
 * Read from RssAnon, anonymous-mmap growth cannot be told from new threads'
 * stacks (anonymous mappings too): while threads leak, that reading is
 * theirs until the region tier, which finds stacks by stack pointer, says.
 */
static void threads_own_anon(struct mw_analysis *a)
{
	struct mw_hypothesis *anon = NULL, *threads = NULL;

	for (size_t i = 0; i < a->nhyp; i++) {
		if (a->hyp[i].rule->metric == MW_AM_anon && a->hyp[i].rule->kind == MW_RULE_GROWTH)
			anon = &a->hyp[i];
		if (a->hyp[i].rule->metric == MW_AM_threads)
			threads = &a->hyp[i];
	}
	if (!anon || !threads || !anon->ev.fallback || !(threads->score >= MW_HYP_THRESHOLD) ||
	    !(anon->score >= MW_HYP_THRESHOLD / 2))
		return;
	anon->score = MW_HYP_THRESHOLD / 2;
	snprintf(anon->note, sizeof(anon->note),
	         "threads grow too, and their stacks are anonymous mappings: until the region tier"
	         " has sampled them, RssAnon's growth is read as theirs");
}

static int cmp_hyp(const void *x, const void *y)
{
	const struct mw_hypothesis *a = x, *b = y;
	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	return (a->rule > b->rule) - (a->rule < b->rule); /* table order breaks ties */
}

int mw_hypotheses_eval(struct mw_analysis *a)
{
	a->nhyp = 0;
	for (size_t i = 0; i < mw_nrules && a->nhyp < MW_HYP_MAX; i++)
		eval_rule(a, &mw_rules[i], &a->hyp[a->nhyp++]);
	for (size_t i = 0; i < a->nhyp; i++)
		if (a->hyp[i].rule->fallback_only && a->hyp[i].score > 0)
			defer_to_finer(a, &a->hyp[i]);
	threads_own_anon(a);
	for (size_t i = 0; i < a->nhyp; i++)
		if (a->hyp[i].rule->kind == MW_RULE_OOM || a->hyp[i].rule->kind == MW_RULE_LIMIT)
			consequences(a, &a->hyp[i]);
	for (size_t i = 0; i < a->nhyp && a->exit_ms != MW_UNKNOWN; i++)
		exited(&a->hyp[i]);
	for (size_t i = 0; i < a->nhyp && a->recorder; i++)
		recorder(a, &a->hyp[i]);
	mw_qsort(a->hyp, a->nhyp, sizeof(a->hyp[0]), cmp_hyp);
	return 0;
}

void mw_warming_text(const struct mw_metric_window *w, char *buf, size_t cap)
{
	double pct = w->bound > 0 ? 100.0 * w->tr.last / w->bound : 0;

	snprintf(buf, cap,
	         "warming up: %.0f %% of a fixed %.0f MiB mapping resident (no new mappings):"
	         " bounded, not a leak",
	         pct, w->bound / MiB);
}

bool mw_region_warming(const struct mw_analysis *a, const struct mw_metric_window *w)
{
	return warming(a, w);
}

size_t mw_hypotheses_reported(const struct mw_analysis *a)
{
	size_t k = 0;
	while (k < a->nhyp && a->hyp[k].score >= MW_HYP_THRESHOLD)
		k++;
	return k;
}

int mw_hyp_mmap_call_sites(const struct mw_analysis *a, struct mw_hyp_evidence *ev)
{
	ev->ncall_sites = a->ncallsite_lines;
	ev->call_sites = (const char *const *)a->callsite_lines;
	return a->ncallsite_lines ? 0 : -ENODATA;
}
