/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The eBPF source: loads the always-on programs at start, and each tick
 * drains their per-process counters (iter/task) and events (ring buffer)
 * into the store. When nothing loads, the daemon runs on /proc alone and
 * meta key "bpf" says why.
 */
#include "config.h"
#include "daemon.h"
#include "memwatch/base/caps.h"

#include <linux/capability.h>
#include "memwatch/store/bpfdata.h"
#include "memwatch/collect/bpfmon.h"
#include "memwatch/base/json.h"
#include "memwatch/base/log.h"
#include "memwatch/base/openmetrics.h"
#include "memwatch/base/pidmap.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Run-time statistics cost two clock reads per program run (~10 % of a
 * page fault here), so they are sampled: on for one tick in this many
 * (5 minutes at 5 s ticks: 0.2 % of a fault on average; the figures in
 * status are per run, so a short window measures them as well).
 */
#define STATS_EVERY_TICKS 60
/* The first window: not the first tick, or a short run (a benchmark) would be all window. */
#define STATS_FIRST_TICK 12

/*
 * Exits of processes never sampled from /proc are recorded only from this
 * final RSS up: a build server forks thousands of tiny processes a minute,
 * which would blow the store's size budget; they are counted instead.
 */
#define EXIT_MIN_RSS (4 << 20)

/* Events held between drains; past this they are counted as lost. */
#define MAX_QUEUED_EVENTS 65536
#define PAGE              4096

enum { D_HEAP, D_STACK, D_MMAP, D_MMAPS_ANON, D_BYTES_ANON, D_MMAPS_FILE, D_BYTES_FILE, D_COUNT };

struct row {
	pid_t pid;
	uint64_t start;
	int64_t d[D_COUNT];
};

/* What we last saw of a process, to turn cumulative counters into deltas. */
struct seen {
	struct mw_bpf_pstate st;
	uint64_t tick;
};

struct pid_start {
	pid_t pid;
	uint64_t start;
};

struct src_bpf {
	struct mw_daemon *d;
	struct mw_bpfmon *mon;
	struct mw_pidmap *prev;
	struct mw_bpf_event *ev;
	size_t nev, capev;
	uint64_t ev_lost;
	uint64_t exits_unrecorded;
	struct row *rows;
	size_t nrows, caprows;
	struct pid_start *known; /* (pid, start) of the last snapshot, by pid */
	size_t nknown;
	long hz;
	int64_t boot_to_real_ns;
	uint64_t tick;
};

static int queue_event(const struct mw_bpf_event *e, void *ctx)
{
	struct src_bpf *s = ctx;

	if (s->nev == s->capev) {
		size_t ncap = s->capev ? s->capev * 2 : 256;
		struct mw_bpf_event *n;
		if (ncap > MAX_QUEUED_EVENTS) {
			s->ev_lost++;
			return 0;
		}
		n = realloc(s->ev, ncap * sizeof(*n));
		if (!n) {
			s->ev_lost++;
			return 0;
		}
		s->ev = n;
		s->capev = ncap;
	}
	s->ev[s->nev++] = *e;
	return 0;
}

static void delta(const struct mw_bpf_pstate *now, const struct mw_bpf_pstate *was,
                  int64_t d[D_COUNT])
{
	d[D_HEAP] = (int64_t)(now->faults_heap - was->faults_heap);
	d[D_STACK] = (int64_t)(now->faults_stack - was->faults_stack);
	d[D_MMAP] = (int64_t)(now->faults_mmap - was->faults_mmap);
	d[D_MMAPS_ANON] = (int64_t)(now->mmaps_anon - was->mmaps_anon);
	d[D_BYTES_ANON] = (int64_t)(now->mmap_bytes_anon - was->mmap_bytes_anon);
	d[D_MMAPS_FILE] = (int64_t)(now->mmaps_file - was->mmaps_file);
	d[D_BYTES_FILE] = (int64_t)(now->mmap_bytes_file - was->mmap_bytes_file);
}

static int add_row(struct src_bpf *s, pid_t pid, uint64_t start, const int64_t d[D_COUNT])
{
	bool moved = false;

	for (int i = 0; i < D_COUNT; i++)
		moved |= d[i] != 0;
	if (!moved)
		return 0;
	if (s->nrows == s->caprows) {
		size_t ncap = s->caprows ? s->caprows * 2 : 64;
		struct row *n = realloc(s->rows, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->rows = n;
		s->caprows = ncap;
	}
	s->rows[s->nrows] = (struct row){.pid = pid, .start = start};
	memcpy(s->rows[s->nrows].d, d, sizeof(s->rows[0].d));
	s->nrows++;
	return 0;
}

/* A process's last counters arrive with its exit: the final delta. */
static int account_exits(struct src_bpf *s)
{
	int r = 0;

	for (size_t i = 0; i < s->nev && r == 0; i++) {
		const struct mw_bpf_event *e = &s->ev[i];
		uint64_t start = mw_bpf_start_ticks(e->start_boottime_ns, s->hz);
		static const struct mw_bpf_pstate zero;
		struct seen *was;
		int64_t d[D_COUNT];

		if (e->kind != MW_EV_PROC_EXIT)
			continue;
		was = mw_pidmap_get(s->prev, (pid_t)e->pid, start);
		delta(&e->exit.st, was ? &was->st : &zero, d);
		r = add_row(s, (pid_t)e->pid, start, d);
		mw_pidmap_del(s->prev, (pid_t)e->pid, start);
	}
	return r;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct pid_start *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int account_snapshot(struct src_bpf *s, const struct mw_bpf_snapshot *snap)
{
	struct pid_start *known = calloc(snap->n + 1, sizeof(*known));
	int r = 0;

	if (!known)
		return -ENOMEM;
	for (size_t i = 0; i < snap->n && r == 0; i++) {
		const struct mw_bpf_proc *p = &snap->v[i];
		uint64_t start = mw_bpf_start_ticks(p->start_boottime_ns, s->hz);
		struct seen *was;
		bool created;
		int64_t d[D_COUNT];

		known[i] = (struct pid_start){(pid_t)p->pid, start};
		if (!p->has_state)
			continue;
		was = mw_pidmap_put(s->prev, (pid_t)p->pid, start, &created);
		if (!was)
			return free(known), -ENOMEM;
		delta(&p->st, &was->st, d);
		r = add_row(s, (pid_t)p->pid, start, d);
		was->st = p->st;
		was->tick = s->tick;
	}
	mw_qsort(known, snap->n, sizeof(*known), cmp_pid);
	free(s->known);
	s->known = known;
	s->nknown = snap->n;
	return r;
}

/*
 * Forget processes gone for two ticks without an exit event (it was
 * dropped); one tick of grace, since an exit can land between the drain
 * and the snapshot.
 */
static int prune(struct src_bpf *s)
{
	size_t pos = 0, n = 0, cap = mw_pidmap_size(s->prev);
	struct pid_start *gone = calloc(cap + 1, sizeof(*gone));
	struct seen *v;
	pid_t pid;
	uint64_t start;

	if (!gone)
		return -ENOMEM;
	while ((v = mw_pidmap_next(s->prev, &pos, &pid, &start)))
		if (v->tick + 1 < s->tick)
			gone[n++] = (struct pid_start){pid, start};
	for (size_t i = 0; i < n; i++)
		mw_pidmap_del(s->prev, gone[i].pid, gone[i].start);
	free(gone);
	return 0;
}

static int64_t boot_to_real_ns(void)
{
	struct timespec rt, bt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	return ((int64_t)rt.tv_sec - (int64_t)bt.tv_sec) * 1000000000ll +
	       ((int64_t)rt.tv_nsec - (int64_t)bt.tv_nsec);
}

static int bpf_collect(void *state, struct mw_daemon *d MW_UNUSED)
{
	struct src_bpf *s = state;
	struct mw_bpf_snapshot snap = {0};
	int r;

	s->tick++;
	s->nrows = 0;
	r = mw_bpfmon_stats_enable(s->mon, s->tick % STATS_EVERY_TICKS == STATS_FIRST_TICK);
	if (r < 0)
		mw_debug("bpf: run-time statistics: %s", strerror(-r));
	s->boot_to_real_ns = boot_to_real_ns();
	r = mw_bpfmon_drain(s->mon, queue_event, s);
	if (r < 0)
		mw_debug("bpf: ring buffer: %s", strerror(-r));
	r = account_exits(s);
	if (r == 0)
		r = mw_bpfmon_snapshot(s->mon, &snap);
	if (r == 0)
		r = account_snapshot(s, &snap);
	mw_bpf_snapshot_release(&snap);
	if (r == 0)
		r = prune(s);
	return r;
}

static void bpf_on_ready(void *state, struct mw_daemon *d MW_UNUSED)
{
	struct src_bpf *s = state;

	mw_bpfmon_drain(s->mon, queue_event, s);
}

static int bpf_fd(void *state)
{
	return mw_bpfmon_fd(((struct src_bpf *)state)->mon);
}

/* The start time of a pid as of the last snapshot (0 when not seen). */
static uint64_t known_start(const struct src_bpf *s, pid_t pid)
{
	struct pid_start key = {pid, 0};
	const struct pid_start *k = bsearch(&key, s->known, s->nknown, sizeof(key), cmp_pid);

	return k ? k->start : 0;
}

static int64_t proc_id_of(struct src_bpf *s, struct mw_daemon *d, pid_t pid, uint64_t start)
{
	if (!start)
		start = known_start(s, pid);
	return start ? mw_store_live_proc_id(d->store, pid, start) : 0;
}

static int write_rows(struct src_bpf *s, struct mw_daemon *d)
{
	struct mw_bpf_proc_sample *v = calloc(s->nrows + 1, sizeof(*v));
	size_t n = 0;
	int r;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->nrows; i++) {
		const struct row *w = &s->rows[i];
		int64_t proc = mw_store_live_proc_id(d->store, w->pid, w->start);
		if (!proc)
			continue; /* never sampled from /proc: too short-lived for a row */
		v[n++] = (struct mw_bpf_proc_sample){
		        .proc = proc,
		        .faults_heap = w->d[D_HEAP],
		        .faults_stack = w->d[D_STACK],
		        .faults_mmap = w->d[D_MMAP],
		        .mmaps_anon = w->d[D_MMAPS_ANON],
		        .mmap_bytes_anon = w->d[D_BYTES_ANON],
		        .mmaps_file = w->d[D_MMAPS_FILE],
		        .mmap_bytes_file = w->d[D_BYTES_FILE],
		};
	}
	r = mw_store_bpf_add_proc_samples(d->store, d->tick_id, v, n);
	free(v);
	return r;
}

static uint64_t real_ns(const struct src_bpf *s, uint64_t boot_ns)
{
	return (uint64_t)((int64_t)boot_ns + s->boot_to_real_ns);
}

static int64_t pages_or_unknown(int64_t pages)
{
	return pages < 0 ? MW_UNKNOWN : pages * PAGE;
}

/* The detail JSON of one event; comm is hostile text, so it goes through mw_json. */
static void event_json(const struct mw_bpf_event *e, FILE *f, const char **kind)
{
	struct mw_json j;
	char comm[MW_BPF_COMM_LEN + 1];

	memcpy(comm, e->comm, MW_BPF_COMM_LEN);
	comm[MW_BPF_COMM_LEN] = '\0';
	mw_json_init(&j, f, false);
	mw_json_obj_open(&j, NULL);
	switch (e->kind) {
	case MW_EV_OOM_KILL:
		*kind = "oom-kill";
		mw_json_int(&j, "victim_pid", e->pid);
		mw_json_str(&j, "comm", comm);
		mw_json_int(&j, "total_vm", (int64_t)e->oom.total_vm_kb * 1024);
		mw_json_int(&j, "anon_rss", (int64_t)e->oom.anon_rss_kb * 1024);
		mw_json_int(&j, "file_rss", (int64_t)e->oom.file_rss_kb * 1024);
		mw_json_int(&j, "shmem_rss", (int64_t)e->oom.shmem_rss_kb * 1024);
		mw_json_int(&j, "pgtables", (int64_t)e->oom.pgtables_kb * 1024);
		mw_json_int(&j, "oom_score_adj",
		            e->oom.oom_score_adj == -10000 ? MW_UNKNOWN : e->oom.oom_score_adj);
		break;
	case MW_EV_PROC_EXIT: {
		const __s64 *rss = e->exit.rss;
		*kind = "proc-exit";
		mw_json_int(&j, "pid", e->pid);
		mw_json_str(&j, "comm", comm);
		mw_json_int(&j, "rss",
		            rss[MW_RSS_ANON] < 0
		                    ? MW_UNKNOWN
		                    : (rss[MW_RSS_ANON] + rss[MW_RSS_FILE] + rss[MW_RSS_SHMEM]) *
		                              PAGE);
		mw_json_int(&j, "rss_anon", pages_or_unknown(rss[MW_RSS_ANON]));
		mw_json_int(&j, "rss_file", pages_or_unknown(rss[MW_RSS_FILE]));
		mw_json_int(&j, "rss_shmem", pages_or_unknown(rss[MW_RSS_SHMEM]));
		mw_json_int(&j, "swap", pages_or_unknown(rss[MW_RSS_SWAP]));
		mw_json_int(&j, "minflt", (int64_t)e->exit.minflt);
		mw_json_int(&j, "majflt", (int64_t)e->exit.majflt);
		mw_json_int(&j, "lifetime_ms", (int64_t)(e->exit.lifetime_ns / 1000000));
		mw_json_int(&j, "exit_code", e->exit.exit_code);
		break;
	}
	case MW_EV_RECLAIM:
		*kind = "direct-reclaim";
		mw_json_int(&j, "pid", e->pid);
		mw_json_str(&j, "comm", comm);
		mw_json_int(&j, "duration_ns", (int64_t)e->reclaim.duration_ns);
		mw_json_int(&j, "nr_reclaimed", (int64_t)e->reclaim.nr_reclaimed);
		break;
	case MW_EV_OOM_ADJ:
		*kind = "oom-score-adj";
		mw_json_int(&j, "pid", e->pid);
		mw_json_str(&j, "comm", comm);
		mw_json_int(&j, "old", e->adj.old_adj == -10000 ? MW_UNKNOWN : e->adj.old_adj);
		mw_json_int(&j, "new", e->adj.new_adj);
		break;
	default:
		*kind = NULL;
	}
	mw_json_obj_close(&j);
}

/* The row of an RSS movement; false when it has no process to attach to. */
static bool rss_move(struct src_bpf *s, struct mw_daemon *d, const struct mw_bpf_event *e,
                     struct mw_bpf_rss_move *m)
{
	uint64_t start = mw_bpf_start_ticks(e->start_boottime_ns, s->hz);
	int64_t proc = proc_id_of(s, d, (pid_t)e->pid, start);

	/*
	 * Not a recorded process (it lived less than a tick, or is in its first
	 * tick): no history to attach the movement to. Every exec'd process
	 * crosses the threshold once on start-up, so on a host that forks a
	 * few processes a second these rows were most of the store's growth.
	 */
	if (!proc)
		return false;
	*m = (struct mw_bpf_rss_move){
	        .t_ms = (int64_t)(real_ns(s, e->t_ns) / 1000000),
	        .proc = proc,
	        .pid = (pid_t)e->pid,
	        .rss_anon = e->rss.rss[MW_RSS_ANON] * PAGE,
	        .rss_file = e->rss.rss[MW_RSS_FILE] * PAGE,
	        .rss_shmem = e->rss.rss[MW_RSS_SHMEM] * PAGE,
	        .swap = e->rss.rss[MW_RSS_SWAP] * PAGE,
	};
	return true;
}

/*
 * What an exit held: its final RSS, or where the kernel fires the exit
 * after the memory is gone (before 6.14), the most it faulted in or mapped.
 */
static int64_t exit_size(const struct mw_bpf_event *e)
{
	const __s64 *rss = e->exit.rss;
	int64_t faulted = (int64_t)e->exit.minflt * PAGE;
	int64_t mapped = (int64_t)e->exit.st.mmap_bytes_anon;

	if (rss[MW_RSS_ANON] >= 0)
		return (rss[MW_RSS_ANON] + rss[MW_RSS_FILE] + rss[MW_RSS_SHMEM]) * PAGE;
	return faulted > mapped ? faulted : mapped;
}

static int write_event(struct src_bpf *s, struct mw_daemon *d, const struct mw_bpf_event *e)
{
	char *json = NULL;
	size_t len = 0;
	const char *kind = NULL;
	uint64_t start =
	        e->kind == MW_EV_OOM_KILL ? 0 : mw_bpf_start_ticks(e->start_boottime_ns, s->hz);
	int64_t proc = proc_id_of(s, d, (pid_t)e->pid, start);
	FILE *f;
	int r;

	if (e->kind == MW_EV_PROC_EXIT && !proc && exit_size(e) < EXIT_MIN_RSS) {
		s->exits_unrecorded++;
		return 0;
	}
	f = open_memstream(&json, &len);
	if (!f)
		return -ENOMEM;
	event_json(e, f, &kind);
	if (fclose(f) != 0 || !json) {
		free(json);
		return -ENOMEM;
	}
	r = kind ? mw_store_add_event(d->store, real_ns(s, e->t_ns), kind, proc, (pid_t)e->pid,
	                              json)
	         : 0;
	free(json);
	return r;
}

static int write_events(struct src_bpf *s, struct mw_daemon *d)
{
	struct mw_bpf_rss_move *moves = calloc(s->nev + 1, sizeof(*moves));
	size_t nmoves = 0;
	int r = 0;

	if (!moves)
		return -ENOMEM;
	for (size_t i = 0; i < s->nev && r == 0; i++) {
		if (s->ev[i].kind != MW_EV_RSS_MOVE)
			r = write_event(s, d, &s->ev[i]);
		else if (rss_move(s, d, &s->ev[i], &moves[nmoves]))
			nmoves++;
	}
	if (r == 0)
		r = mw_store_bpf_add_rss_moves(d->store, moves, nmoves);
	free(moves);
	return r;
}

/* Kernel-side cost and losses, for `memwatch status` (meta key bpf_stats). */
static int write_stats(struct src_bpf *s, struct mw_daemon *d)
{
	struct mw_bpf_prog_stat ps[32];
	struct mw_bpf_counters c;
	struct mw_json j;
	char *json = NULL;
	size_t n = 0, len = 0;
	FILE *f;
	int r;

	mw_bpfmon_prog_stats(s->mon, ps, MW_ARRAY_SIZE(ps), &n);
	mw_bpfmon_counters(s->mon, &c);
	f = open_memstream(&json, &len);
	if (!f)
		return -ENOMEM;
	mw_json_init(&j, f, false);
	mw_json_obj_open(&j, NULL);
	mw_json_arr_open(&j, "programs");
	for (size_t i = 0; i < n; i++) {
		mw_json_obj_open(&j, NULL);
		mw_json_str(&j, "name", ps[i].name);
		mw_json_int(&j, "run_cnt", (int64_t)ps[i].run_cnt);
		mw_json_int(&j, "run_time_ns", (int64_t)ps[i].run_time_ns);
		mw_json_obj_close(&j);
	}
	mw_json_arr_close(&j);
	mw_json_int(&j, "events_dropped", (int64_t)c.events_dropped);
	mw_json_int(&j, "events_lost", (int64_t)s->ev_lost);
	mw_json_int(&j, "storage_failures", (int64_t)c.storage_failures);
	mw_json_int(&j, "snaps_dropped", (int64_t)c.snaps_dropped);
	mw_json_int(&j, "snaps_unread", (int64_t)c.snaps_unread);
	mw_json_int(&j, "rss_limited", (int64_t)c.rss_limited);
	mw_json_int(&j, "exits_unrecorded", (int64_t)s->exits_unrecorded);
	mw_json_int(&j, "stats_window_ns", (int64_t)mw_bpfmon_stats_window_ns(s->mon));
	mw_json_obj_close(&j);
	if (fclose(f) != 0 || !json) {
		free(json);
		return -ENOMEM;
	}
	r = mw_store_meta_set(d->store, "bpf_stats", json);
	free(json);
	return r;
}

static int bpf_write(void *state, struct mw_daemon *d)
{
	struct src_bpf *s = state;
	int r = write_rows(s, d);

	if (r == 0)
		r = write_events(s, d);
	if (r == 0)
		r = write_stats(s, d);
	/* Written (or the tick is rolled back and they are lost with it): start afresh. */
	s->nev = 0;
	return r;
}

static void bpf_close(void *state)
{
	struct src_bpf *s = state;

	if (!s)
		return;
	if (s->d)
		s->d->bpf = NULL;
	mw_bpfmon_close(s->mon);
	mw_pidmap_free(s->prev);
	free(s->ev);
	free(s->rows);
	free(s->known);
	free(s);
}

static int bpf_open(struct mw_daemon *d, void **state, char *why, size_t whylen)
{
	struct src_bpf *s = calloc(1, sizeof(*s));
	const char *hook = getenv("MEMWATCH_BPF_RSS_STAT");
	const char *variant = getenv("MEMWATCH_BPF_VARIANT");
	struct mw_bpfmon_options o;
	char line[1200];
	int r;

	if (!s)
		return -ENOMEM;
	s->hz = mw_clock_ticks_per_sec();
	mw_bpfmon_options_default(&o);
	o.rss_stat_hook = hook && strcmp(hook, "1") == 0;
	o.disable = getenv("MEMWATCH_BPF_OFF");
	o.owner_pointer = variant && strcmp(variant, "owner-pointer") == 0;
	r = mw_pidmap_new(sizeof(struct seen), &s->prev);
	if (r == 0)
		r = mw_bpfmon_open(&o, &s->mon, why, whylen);
	if (r < 0) {
		if (!why[0])
			snprintf(why, whylen, "%s", strerror(-r));
		snprintf(line, sizeof(line), "off: %s", why);
		mw_store_meta_set(d->store, "bpf", line);
		mw_store_meta_set(d->store, "bpf_missing", "");
		mw_store_meta_set(d->store, "bpf_gaps", "");
		/* A previous run's figures would read as this run's. */
		mw_store_meta_set(d->store, "bpf_stats", "{}");
		bpf_close(s);
		return r;
	}
	snprintf(line, sizeof(line), "on: %s", mw_bpfmon_programs(s->mon));
	mw_store_meta_set(d->store, "bpf", line);
	mw_store_meta_set(d->store, "bpf_missing", mw_bpfmon_missing(s->mon));
	mw_store_meta_set(d->store, "bpf_gaps", mw_bpfmon_gaps(s->mon));
	mw_notice("eBPF %s", line);
	s->d = d;
	d->bpf = s->mon; /* for the call-site source's heap snapshots */
	*state = s;
	return 0;
}

struct om_rows {
	FILE *out;
	const char *metric;
};

static int om_row(const char *hook, const char *why, const char *evidence, void *ctx)
{
	const struct om_rows *o = ctx;
	const char *labels[] = {"program", hook, "reason", why, "evidence", evidence, NULL};

	mw_om_sample_i64(o->out, o->metric, labels, 1);
	return 0;
}

/* So an alert can fire when a kernel upgrade costs evidence. */
static void bpf_metrics(void *state, struct mw_daemon *d MW_UNUSED, FILE *out)
{
	struct src_bpf *s = state;
	struct om_rows missing = {out, "memwatch_bpf_program_missing"};
	struct om_rows gaps = {out, "memwatch_bpf_gap"};

	mw_om_family(out, missing.metric, "gauge",
	             "An eBPF program left out (1 each): why, and the evidence that is missing.");
	mw_bpf_missing_each(mw_bpfmon_missing(s->mon), om_row, &missing);
	mw_om_family(out, gaps.metric, "gauge",
	             "A program that loaded but cannot see everything on this kernel (1 each).");
	mw_bpf_missing_each(mw_bpfmon_gaps(s->mon), om_row, &gaps);
}

const struct mw_source mw_source_bpf = {
        .name = "bpf",
        .open = bpf_open,
        .collect = bpf_collect,
        .write = bpf_write,
        .fd = bpf_fd,
        .on_ready = bpf_on_ready,
        .close = bpf_close,
        .metrics = bpf_metrics,
        /* Run-time statistics are switched on and off each sampled tick: BPF_ENABLE_STATS
         * needs CAP_SYS_ADMIN; the rest keeps already-loaded programs and maps working. */
        .keep_caps = MW_CAP(CAP_SYS_ADMIN) | MW_CAP(CAP_BPF) | MW_CAP(CAP_PERFMON),
};
