/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The slow tier: region breakdown (/proc/PID/smaps), descriptor kinds
 * (/proc/PID/fd) and resource limits (/proc/PID/limits) of the processes
 * that changed or rank high.
 *
 * Reading smaps takes the target's mmap lock and costs tens of ms for a
 * big process, so it never runs on the tick: every slow interval the
 * tick's collect hands a bounded job list (at most max_procs, at most
 * budget_ns of reading) to a worker thread, and later ticks pick up what
 * it finished and store it in their own transaction. A tick never waits
 * for the worker; the worker never touches the database.
 */
#include "daemon.h"
#include "memwatch/base/log.h"
#include "memwatch/base/pidmap.h"
#include "memwatch/collect/proc.h"
#include "memwatch/collect/region.h"
#include "memwatch/store/regionstore.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOP_N     10
#define MAX_PROCS 200
#define BUDGET_NS (2000ull * 1000000ull)

/* The /proc metrics whose movement makes a process worth a new region sample. */
static const int watched[] = {MW_PM_rss, MW_PM_vsz, MW_PM_threads, MW_PM_fds};
#define NWATCHED (sizeof(watched) / sizeof(watched[0]))

struct job {
	pid_t pid;
	uint64_t start;
	int64_t m[NWATCHED]; /* the metrics when scheduled */
};

struct result {
	struct job job;
	bool done;
	uint64_t t_ns;
	struct mw_regions reg;
	struct mw_fd_kinds fds;
	struct mw_proc_limits lim;
};

/* Per live process, main thread only. */
struct track {
	bool sampled;
	int64_t m[NWATCHED];
	uint64_t sampled_ns, seen_tick;
	bool have_reg, have_fds, have_lim;
	struct mw_regions reg;
	struct mw_fd_kinds fds;
	struct mw_proc_limits lim;
	uint64_t reg_full_ns, fds_full_ns, lim_full_ns;
};

struct undo {
	pid_t pid;
	uint64_t start;
	bool created;
	struct track before;
};

struct regions_src {
	const char *root;
	uint64_t interval_ns, budget_ns, full_every_ns;
	size_t max_procs;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Shared under mu: the job list while busy, the results when done. */
	bool stop, busy;
	struct result *work;
	size_t nwork;

	/* Main thread only. */
	struct mw_pidmap *track;
	struct result *pending;
	size_t npending;
	/*
	 * What the last write changed in track, so a tick that was rolled
	 * back after it (no commit: d->ticks did not move) is undone and its
	 * results written again by the next tick.
	 */
	struct undo *undo;
	size_t nundo;
	bool written;
	uint64_t written_tick;
	uint64_t next_pass_ns;
	struct mw_region_writer *w;
	uint64_t passes;
};

static void read_one(const char *root, struct result *res)
{
	uint64_t start = 0;

	mw_region_read(root, res->job.pid, &res->reg);
	mw_fd_kinds_read(root, res->job.pid, &res->fds);
	mw_proc_limits_read(root, res->job.pid, &res->lim);
	res->t_ns = mw_now_ns();
	/* Gone, or the pid now belongs to someone else: nothing to store. */
	if (mw_proc_start_ticks(root, res->job.pid, &start) < 0 || start != res->job.start) {
		memset(&res->reg, 0, sizeof(res->reg));
		memset(&res->fds, 0, sizeof(res->fds));
		res->reg.err = res->fds.err = -ESRCH;
	}
	res->done = true;
}

static void *worker(void *arg)
{
	struct regions_src *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		uint64_t deadline;
		size_t n;

		while (!s->stop && !(s->busy && s->nwork))
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop)
			break;
		n = s->nwork;
		pthread_mutex_unlock(&s->mu);
		/* The list is ours while busy: the main thread touches it only when idle. */
		deadline = mw_mono_ns() + s->budget_ns;
		for (size_t i = 0; i < n && mw_mono_ns() < deadline; i++) {
			pthread_mutex_lock(&s->mu);
			bool stop = s->stop;
			pthread_mutex_unlock(&s->mu);
			if (stop)
				break;
			read_one(s->root, &s->work[i]);
		}
		pthread_mutex_lock(&s->mu);
		s->busy = false;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void metrics_of(const struct mw_proc_sample *p, int64_t m[NWATCHED])
{
	for (size_t k = 0; k < NWATCHED; k++)
		m[k] = p->m[watched[k]];
}

static int cmp_rss_desc(const void *a, const void *b)
{
	const struct mw_proc_sample *x = *(const struct mw_proc_sample *const *)a;
	const struct mw_proc_sample *y = *(const struct mw_proc_sample *const *)b;
	int64_t rx = x->m[MW_PM_rss], ry = y->m[MW_PM_rss];

	return rx < ry ? 1 : rx > ry ? -1 : 0;
}

/* A due process and its place in the queue. */
struct cand {
	const struct mw_proc_sample *p;
	int top;             /* 0 for the top N by RSS: they go first */
	uint64_t sampled_ns; /* then the longest unsampled (0: never) */
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->top != y->top)
		return x->top - y->top;
	if (x->sampled_ns != y->sampled_ns)
		return x->sampled_ns < y->sampled_ns ? -1 : 1;
	return cmp_rss_desc(&x->p, &y->p);
}

/*
 * Is p due: never sampled, moved since its last sample, in the top N, or
 * its full row is due? *sampled_ns gets when it was last sampled.
 */
static bool due(struct regions_src *s, const struct mw_proc_sample *p, size_t rank, uint64_t now,
                uint64_t *sampled_ns)
{
	struct track *t = mw_pidmap_get(s->track, p->pid, p->start_ticks);
	int64_t m[NWATCHED];

	*sampled_ns = t && t->sampled ? t->sampled_ns : 0;
	if (!t || !t->sampled || rank < TOP_N || now - t->sampled_ns >= s->full_every_ns)
		return true;
	metrics_of(p, m);
	return memcmp(m, t->m, sizeof(m)) != 0;
}

/*
 * Build the next pass's job list into s->work: the top N by RSS, then the
 * other due processes, least recently sampled first, so a busy host with
 * more movers than a pass can read still gets round to every one.
 * Returns its length or -errno.
 */
static int plan_pass(struct regions_src *s, struct mw_daemon *d)
{
	const struct mw_proc_sample **order;
	struct cand *c;
	size_t n = 0, nc = 0;

	order = calloc(d->procs.n ? d->procs.n : 1, sizeof(*order));
	c = calloc(d->procs.n ? d->procs.n : 1, sizeof(*c));
	free(s->work);
	s->work = calloc(s->max_procs, sizeof(*s->work));
	if (!order || !c || !s->work) {
		free(order);
		free(c);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->procs.n; i++)
		order[i] = &d->procs.v[i];
	mw_qsort(order, d->procs.n, sizeof(*order), cmp_rss_desc);
	for (size_t i = 0; i < d->procs.n; i++) {
		uint64_t when;
		if (order[i]->pid == getpid() || !due(s, order[i], i, d->t_ns, &when))
			continue;
		c[nc++] = (struct cand){order[i], i < TOP_N ? 0 : 1, when};
	}
	mw_qsort(c, nc, sizeof(*c), cmp_cand);
	for (size_t i = 0; i < nc && n < s->max_procs; i++, n++) {
		s->work[n].job.pid = c[i].p->pid;
		s->work[n].job.start = c[i].p->start_ticks;
		metrics_of(c[i].p, s->work[n].job.m);
	}
	free(order);
	free(c);
	return (int)n;
}

static bool track_keep(void *value, void *ctx)
{
	return ((struct track *)value)->seen_tick == *(const uint64_t *)ctx;
}

/* Forget processes that are gone, so the map does not grow with pid churn. */
static int forget_gone(struct regions_src *s, struct mw_daemon *d)
{
	uint64_t seen = d->ticks + 1;

	for (size_t i = 0; i < d->procs.n; i++) {
		struct track *t =
		        mw_pidmap_get(s->track, d->procs.v[i].pid, d->procs.v[i].start_ticks);
		if (t)
			t->seen_tick = seen;
	}
	return mw_pidmap_prune(s->track, track_keep, &seen);
}

/* Take the finished results of the last pass, when the worker is idle. */
static int take_results(struct regions_src *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nwork; i++)
		n += s->work[i].done;
	if (n == 0)
		return 0;
	/* A store failing for many passes must not make the backlog grow without end. */
	if (s->npending > 4 * s->max_procs)
		s->npending = 0;
	struct result *np = realloc(s->pending, (s->npending + n) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	s->pending = np;
	for (size_t i = 0; i < s->nwork; i++)
		if (s->work[i].done)
			s->pending[s->npending++] = s->work[i];
	s->nwork = 0;
	return 0;
}

/* Did the tick that wrote commit? Then the results are done; else undo and write them again. */
static void settle(struct regions_src *s, bool committed)
{
	if (committed) {
		s->npending = 0;
	} else {
		for (size_t i = s->nundo; i-- > 0;) {
			struct undo *u = &s->undo[i];
			struct track *t = mw_pidmap_get(s->track, u->pid, u->start);
			if (u->created)
				mw_pidmap_del(s->track, u->pid, u->start);
			else if (t)
				*t = u->before;
		}
	}
	free(s->undo);
	s->undo = NULL;
	s->nundo = 0;
	s->written = false;
}

static int regions_collect(void *state, struct mw_daemon *d)
{
	struct regions_src *s = state;
	uint64_t now = mw_mono_ns();
	int r = 0, n;
	bool busy;

	if (s->written)
		settle(s, d->ticks > s->written_tick);
	pthread_mutex_lock(&s->mu);
	busy = s->busy;
	pthread_mutex_unlock(&s->mu);
	if (busy)
		return 0;
	r = take_results(s);
	if (r < 0 || now < s->next_pass_ns)
		return r;
	r = forget_gone(s, d);
	if (r < 0)
		return r;
	n = plan_pass(s, d);
	if (n < 0)
		return n;
	s->next_pass_ns = now + s->interval_ns;
	s->passes++;
	pthread_mutex_lock(&s->mu);
	s->nwork = (size_t)n;
	s->busy = n > 0;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* Limits change rarely: a row when they do, and with each full row so retention keeps one. */
static int store_limits(struct regions_src *s, struct mw_daemon *d, struct track *t,
                        int64_t proc_id, const struct result *res)
{
	bool full = !t->have_lim || res->t_ns - t->lim_full_ns >= s->full_every_ns;
	int r;

	if (!res->lim.readable || (!full && mw_proc_limits_equal(&t->lim, &res->lim)))
		return 0;
	r = mw_limits_write(s->w, proc_id, d->tick_id, (int64_t)(res->t_ns / 1000000ull),
	                    &res->lim);
	if (r < 0)
		return r;
	t->lim = res->lim;
	t->have_lim = true;
	if (full)
		t->lim_full_ns = res->t_ns;
	return 0;
}

static int store_result(struct regions_src *s, struct mw_daemon *d, const struct result *res)
{
	const struct job *j = &res->job;
	int64_t proc_id = mw_store_live_proc_id(d->store, j->pid, j->start);
	int64_t t_ms = (int64_t)(res->t_ns / 1000000ull);
	bool created, full;
	struct track *t;
	int r = 0;

	/* Gone before this tick (or never stored): there is no process row to hang it on. */
	if (!proc_id || res->reg.err == -ESRCH)
		return 0;
	t = mw_pidmap_put(s->track, j->pid, j->start, &created);
	if (!t)
		return -ENOMEM;
	s->undo[s->nundo++] = (struct undo){j->pid, j->start, created, *t};
	t->sampled = true;
	t->sampled_ns = res->t_ns;
	memcpy(t->m, j->m, sizeof(t->m));
	full = !t->have_reg || res->t_ns - t->reg_full_ns >= s->full_every_ns;
	if (full || !mw_regions_equal(&t->reg, &res->reg)) {
		r = mw_region_write(s->w, proc_id, d->tick_id, t_ms, full, &res->reg);
		if (r < 0)
			return r;
		t->reg = res->reg;
		t->have_reg = true;
		if (full)
			t->reg_full_ns = res->t_ns;
	}
	r = store_limits(s, d, t, proc_id, res);
	if (r < 0 || res->fds.err == -ESRCH)
		return r;
	full = !t->have_fds || res->t_ns - t->fds_full_ns >= s->full_every_ns;
	if (full || !mw_fd_kinds_equal(&t->fds, &res->fds)) {
		r = mw_fd_kinds_write(s->w, proc_id, d->tick_id, t_ms, full, &res->fds);
		if (r < 0)
			return r;
		t->fds = res->fds;
		t->have_fds = true;
		if (full)
			t->fds_full_ns = res->t_ns;
	}
	return 0;
}

/* Store what was picked up; settle() later keeps or undoes it. */
static int regions_write(void *state, struct mw_daemon *d)
{
	struct regions_src *s = state;
	int r = 0;

	free(s->undo);
	s->nundo = 0;
	s->undo = calloc(s->npending ? s->npending : 1, sizeof(*s->undo));
	if (!s->undo)
		return -ENOMEM;
	s->written = true;
	s->written_tick = d->ticks;
	for (size_t i = 0; i < s->npending && r == 0; i++)
		r = store_result(s, d, &s->pending[i]);
	return r;
}

static void regions_close(void *state)
{
	struct regions_src *s = state;

	if (!s)
		return;
	if (s->thread_started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	mw_region_writer_free(s->w);
	mw_pidmap_free(s->track);
	free(s->work);
	free(s->pending);
	free(s->undo);
	free(s);
}

static int regions_open(struct mw_daemon *d, void **state, char *why, size_t whylen)
{
	struct regions_src *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->root = d->root;
	s->interval_ns = d->slow_interval_ns ? d->slow_interval_ns : MW_DEFAULT_SLOW_INTERVAL_NS;
	s->budget_ns = BUDGET_NS;
	s->max_procs = MAX_PROCS;
	s->full_every_ns = MW_STORE_FULL_ROW_EVERY_NS;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	r = mw_pidmap_new(sizeof(struct track), &s->track);
	if (r == 0)
		r = mw_region_writer_new(d->store, &s->w);
	if (r < 0) {
		snprintf(why, whylen, "cannot prepare region tables: %s", strerror(-r));
		goto fail;
	}
	r = -pthread_create(&s->thread, NULL, worker, s);
	if (r < 0) {
		snprintf(why, whylen, "cannot start the region reader thread: %s", strerror(-r));
		goto fail;
	}
	s->thread_started = true;
	*state = s;
	mw_info("regions: slow tier every %.1f s, at most %zu processes and %.1f s per pass",
	        (double)s->interval_ns / 1e9, s->max_procs, (double)s->budget_ns / 1e9);
	return 0;
fail:
	regions_close(s);
	return r;
}

const struct mw_source mw_source_regions = {
        .name = "regions",
        .open = regions_open,
        .collect = regions_collect,
        .write = regions_write,
        .close = regions_close,
};
