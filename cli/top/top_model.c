/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch top's data model: one refresh turns either the daemon's store
 * (read-only) or an in-process sweep of /proc into rows with growth and
 * fault rates, plus the system sample. Nothing here draws.
 */
#include "cli.h"
#include "dbpath.h"
#include "top.h"

#include "memwatch/collect/cgroup.h"
#include "memwatch/base/format.h"
#include "memwatch/base/util.h"
#include "memwatch/store/tickread.h"

#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

const char *top_user_name(struct top_model *m, uint32_t uid)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	size_t slot;

	for (size_t i = 0; i < m->nusers; i++)
		if (m->users[i].uid == uid)
			return m->users[i].name;
	slot = m->nusers < MW_ARRAY_SIZE(m->users) ? m->nusers++ : uid % MW_ARRAY_SIZE(m->users);
	m->users[slot].uid = uid;
	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(m->users[slot].name, sizeof(m->users[slot].name), "%s", res->pw_name);
	else
		snprintf(m->users[slot].name, sizeof(m->users[slot].name), "%u", uid);
	return m->users[slot].name;
}

void top_row_release(struct top_row *r)
{
	free(r->cmdline);
	free(r->cgroup);
	r->cmdline = r->cgroup = NULL;
}

static void rows_clear(struct top_model *m)
{
	for (size_t i = 0; i < m->n; i++)
		top_row_release(&m->rows[i]);
	m->n = 0;
}

static struct top_row *rows_add(struct top_model *m)
{
	struct top_row *r;

	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 512;
		struct top_row *v = realloc(m->rows, nc * sizeof(*v));
		if (!v)
			return NULL;
		m->rows = v;
		m->cap = nc;
	}
	r = &m->rows[m->n++];
	memset(r, 0, sizeof(*r));
	r->growth = r->minflt_s = r->majflt_s = NAN;
	for (int i = 0; i < TOP_REG_COUNT; i++)
		r->reg[i] = MW_UNKNOWN;
	return r;
}

/* The unit or scope a process belongs to, else its cgroup's leaf, else "-". */
static void group_of(const char *cgroup, char *out, size_t cap)
{
	mw_cgroup_unit(cgroup, out, cap, true);
	if (!out[0])
		snprintf(out, cap, "%s", "-");
}

/* ---- embedded source ---- */

static double ring_rate(const struct top_hist *h, const int64_t *v, int64_t now_ms, int64_t back_ms,
                        double per_ms, double *span_s)
{
	int newest = (h->head + TOP_SPARK_N - 1) % TOP_SPARK_N;
	int oldest = (h->head + TOP_SPARK_N - h->n) % TOP_SPARK_N;
	int pick = newest;

	/* The oldest point still inside the window. */
	for (int k = 0; k < h->n; k++) {
		int i = (oldest + k) % TOP_SPARK_N;
		if (now_ms - h->t_ms[i] <= back_ms) {
			pick = i;
			break;
		}
	}
	if (pick == newest || v[pick] == MW_UNKNOWN || v[newest] == MW_UNKNOWN)
		return NAN;
	if (span_s)
		*span_s = (double)(h->t_ms[newest] - h->t_ms[pick]) / 1000.0;
	return (double)(v[newest] - v[pick]) * per_ms / (double)(h->t_ms[newest] - h->t_ms[pick]);
}

static void hist_push(struct top_hist *h, int64_t t_ms, const struct mw_proc_sample *p)
{
	if (h->n == 0) {
		h->first_ms = t_ms;
		memcpy(h->first, p->m, sizeof(h->first));
	}
	h->t_ms[h->head] = t_ms;
	h->rss[h->head] = p->m[MW_PM_rss];
	h->minflt[h->head] = p->m[MW_PM_minflt];
	h->majflt[h->head] = p->m[MW_PM_majflt];
	h->head = (h->head + 1) % TOP_SPARK_N;
	if (h->n < TOP_SPARK_N)
		h->n++;
}

static int row_from_sample(struct top_model *m, const struct mw_proc_sample *p,
                           const struct top_hist *h)
{
	struct top_row *r = rows_add(m);
	int oldest;

	if (!r)
		return -ENOMEM;
	r->pid = p->pid;
	r->ppid = p->ppid;
	r->uid = p->uid;
	r->start_ticks = p->start_ticks;
	memcpy(r->comm, p->comm, sizeof(r->comm));
	memcpy(r->m, p->m, sizeof(r->m));
	r->cmdline = strdup(p->cmdline ? p->cmdline : "");
	r->cgroup = strdup(p->cgroup ? p->cgroup : "");
	if (!r->cmdline || !r->cgroup)
		return -ENOMEM;
	group_of(r->cgroup, r->group, sizeof(r->group));
	snprintf(r->user, sizeof(r->user), "%s", top_user_name(m, r->uid));
	r->growth = ring_rate(h, h->rss, m->now_ms, m->window_ms, 60000.0, &r->span_s);
	r->minflt_s = ring_rate(h, h->minflt, m->now_ms, TOP_SHORT_MS, 1000.0, NULL);
	r->majflt_s = ring_rate(h, h->majflt, m->now_ms, TOP_SHORT_MS, 1000.0, NULL);
	oldest = (h->head + TOP_SPARK_N - h->n) % TOP_SPARK_N;
	r->nspark = h->n;
	for (int k = 0; k < h->n; k++)
		r->spark[k] = (double)h->rss[(oldest + k) % TOP_SPARK_N];
	r->spark_done = true;
	return 0;
}

static bool hist_keep(void *value, void *ctx)
{
	return ((struct top_hist *)value)->seen == ((struct top_model *)ctx)->seq;
}

/* Forget processes that were not in this sweep. */
static int hist_prune(struct top_model *m)
{
	return mw_pidmap_prune(m->hist, hist_keep, m);
}

static void embedded_sys(struct top_model *m)
{
	struct top_sys *s = &m->sys;
	struct mw_sys_sample cur;

	if (mw_sys_sample_read("", &cur) < 0)
		return;
	if (s->valid && m->now_ms > s->t_ms) {
		s->prev = s->now;
		s->dt_s = (double)(m->now_ms - s->t_ms) / 1000.0;
		s->have_prev = true;
	}
	if (!s->have_base) {
		s->base = cur;
		s->have_base = true;
		m->oom_base = cur.vm[MW_VM_oom_kill];
	}
	s->base_dt_s = (double)(m->now_ms - m->first_ms) / 1000.0;
	s->now = cur;
	s->t_ms = m->now_ms;
	s->valid = true;
	/* The counter tells a kill happened, not when: we saw it between two refreshes. */
	if (cur.vm[MW_VM_oom_kill] != MW_UNKNOWN && m->oom_base != MW_UNKNOWN &&
	    cur.vm[MW_VM_oom_kill] > m->oom_base) {
		m->oom_ms = m->now_ms;
		m->oom_base = cur.vm[MW_VM_oom_kill];
	}
}

static int refresh_embedded(struct top_model *m)
{
	int r;

	r = mw_proc_collect(m->pc, &m->set);
	if (r < 0)
		return r;
	m->seq++;
	m->now_ms = (int64_t)(m->set.t_ns / 1000000ull);
	if (!m->first_ms)
		m->first_ms = m->now_ms;
	rows_clear(m);
	for (size_t i = 0; i < m->set.n; i++) {
		const struct mw_proc_sample *p = &m->set.v[i];
		bool created;
		struct top_hist *h = mw_pidmap_put(m->hist, p->pid, p->start_ticks, &created);

		if (!h)
			return -ENOMEM;
		h->seen = m->seq;
		hist_push(h, m->now_ms, p);
		r = row_from_sample(m, p, h);
		if (r < 0)
			return r;
	}
	embedded_sys(m);
	return hist_prune(m);
}

/* ---- store source ---- */

/* The note says what failed in SQLite's words; the caller gets -errno. */
static int store_fail(struct top_model *m, int r, const char *what)
{
	snprintf(m->note, sizeof(m->note), "%s: %s", what,
	         r == -ENOMEM ? strerror(ENOMEM) : mw_store_errmsg(m->store));
	return r;
}

/* The latest tick at or before at_ms (any tick when at_ms is 0). */
static int store_pick_tick(struct top_model *m, int64_t at_ms, int64_t *id, int64_t *t_ms)
{
	struct mw_tick_ref t;
	int r = mw_store_tick_at(m->store, at_ms, &t);

	if (r == -ENODATA)
		return r;
	if (r < 0)
		return store_fail(m, r, "ticks");
	*id = t.id;
	*t_ms = t.t_ms;
	return 0;
}

/* Processes alive at the tick, with their values then. */
static int store_rows(struct top_model *m)
{
	struct mw_tick_procs ps;
	int r;

	r = mw_store_procs_at(m->store, m->tick_id, m->at_ms == 0, &ps);
	if (r < 0)
		return store_fail(m, r, "processes");
	for (size_t i = 0; i < ps.n; i++) {
		struct mw_tick_proc *p = &ps.v[i];
		struct top_row *row = rows_add(m);

		if (!row) {
			r = -ENOMEM;
			break;
		}
		row->proc_id = p->proc_id;
		row->pid = p->pid;
		row->ppid = p->ppid;
		row->uid = p->uid;
		row->start_ticks = p->start_ticks;
		memcpy(row->comm, p->comm, sizeof(row->comm));
		/* The row takes the strings over. */
		row->cmdline = p->cmdline;
		row->cgroup = p->cgroup;
		p->cmdline = p->cgroup = NULL;
		group_of(row->cgroup, row->group, sizeof(row->group));
		snprintf(row->user, sizeof(row->user), "%s", top_user_name(m, row->uid));
		memcpy(row->m, p->m, sizeof(row->m));
	}
	mw_tick_procs_release(&ps);
	return r;
}

/*
 * Values at an earlier moment for every row: the latest row at or before
 * tick `then`, or the process's first row when it is younger than that.
 * Calls fn(row, t_ms of the value, rss, minflt, majflt); rows and results
 * are both ordered by proc id, so this is a merge.
 */
typedef void (*past_fn)(struct top_row *r, int64_t t_ms, int64_t then_ms, int64_t now_ms,
                        const int64_t v[3]);

static int store_past(struct top_model *m, int64_t then_tick, int64_t then_ms, past_fn fn)
{
	struct mw_procs_then pt;
	size_t k = 0;
	int r;

	r = mw_store_procs_then(m->store, m->tick_id, m->at_ms == 0, then_tick, &pt);
	if (r < 0)
		return store_fail(m, r, "history");
	for (size_t i = 0; i < pt.n && k < m->n; i++) {
		const struct mw_proc_then *p = &pt.v[i];
		const int64_t v[3] = {p->rss, p->minflt, p->majflt};

		while (k < m->n && m->rows[k].proc_id < p->proc_id)
			k++;
		if (k == m->n || m->rows[k].proc_id != p->proc_id)
			continue;
		fn(&m->rows[k], p->t_ms, then_ms, m->now_ms, v);
	}
	mw_procs_then_release(&pt);
	return 0;
}

static double rate(int64_t a, int64_t b, int64_t t0, int64_t t1, double per_ms)
{
	if (a == MW_UNKNOWN || b == MW_UNKNOWN || t1 <= t0)
		return NAN;
	return (double)(b - a) * per_ms / (double)(t1 - t0);
}

/* A process younger than the window counts from its first row. */
static void past_growth(struct top_row *r, int64_t t_ms, int64_t then_ms, int64_t now,
                        const int64_t v[3])
{
	int64_t from = t_ms > then_ms ? t_ms : then_ms;

	r->growth = rate(v[0], r->m[MW_PM_rss], from, now, 60000.0);
	r->span_s = isnan(r->growth) ? 0 : (double)(now - from) / 1000.0;
}

static void past_faults(struct top_row *r, int64_t t_ms, int64_t then_ms, int64_t now,
                        const int64_t v[3])
{
	int64_t from = t_ms > then_ms ? t_ms : then_ms;

	r->minflt_s = rate(v[1], r->m[MW_PM_minflt], from, now, 1000.0);
	r->majflt_s = rate(v[2], r->m[MW_PM_majflt], from, now, 1000.0);
}

/* The tick at or before t_ms (the first tick when t_ms predates them all); MW_UNKNOWN none. */
static int64_t tick_at(struct top_model *m, int64_t t_ms, int64_t *tick_ms)
{
	struct mw_tick_ref t;

	if (mw_store_tick_at_or_first(m->store, t_ms, &t) < 0) {
		*tick_ms = MW_UNKNOWN;
		return MW_UNKNOWN;
	}
	*tick_ms = t.t_ms;
	return t.id;
}

/*
 * The kills `memwatch oom` lists, over TOP_OOM_LIST_MS before the moment
 * shown; recomputed when that moment changes (the kernel log read and the
 * victims' series are too costly for every redraw).
 */
static void store_oom(struct top_model *m)
{
	int64_t counter_ms = 0;

	if (m->oom.rc == -EAGAIN || m->oom.tick_id != m->tick_id) {
		mw_oom_history_release(&m->oom.h);
		m->oom.rc = cli_oom_history(m->store, m->now_ms - TOP_OOM_LIST_MS, m->now_ms,
		                            &m->oom.h);
		m->oom.tick_id = m->tick_id;
	}
	/* The header holds the latest kill for TOP_OOM_HOLD_MS. */
	m->oom_ms = 0;
	for (size_t i = 0; m->oom.rc == 0 && i < m->oom.h.n; i++)
		if (m->oom.h.v[i].t_ms <= m->now_ms && m->oom.h.v[i].t_ms > m->oom_ms)
			m->oom_ms = m->oom.h.v[i].t_ms;
	/*
	 * A rise of the counter with no event and no recorded victim (it died
	 * between two ticks) is a kill all the same: the OOM view counts it.
	 */
	if (mw_store_oom_counter_rise(m->store, m->tick_id, m->now_ms - TOP_OOM_HOLD_MS,
	                              &counter_ms) == 0 &&
	    counter_ms > m->oom_ms)
		m->oom_ms = counter_ms;
}

static void store_system(struct top_model *m)
{
	struct top_sys *s = &m->sys;
	int64_t prev_ms, base_ms, prev_tick, base_tick;

	s->valid = mw_store_sys_at(m->store, m->tick_id, &s->now) == 0;
	s->t_ms = m->now_ms;
	prev_tick = tick_at(m, m->now_ms - TOP_SHORT_MS, &prev_ms);
	s->have_prev = prev_tick != MW_UNKNOWN && prev_tick < m->tick_id &&
	               mw_store_sys_at(m->store, prev_tick, &s->prev) == 0;
	s->dt_s = (double)(m->now_ms - prev_ms) / 1000.0;
	base_tick = tick_at(m, m->now_ms - m->window_ms, &base_ms);
	s->have_base = base_tick != MW_UNKNOWN && base_tick < m->tick_id &&
	               mw_store_sys_at(m->store, base_tick, &s->base) == 0;
	s->base_dt_s = (double)(m->now_ms - base_ms) / 1000.0;
	store_oom(m);
}

static int refresh_store(struct top_model *m)
{
	int64_t then_ms, then_tick;
	int r;

	r = store_pick_tick(m, m->at_ms, &m->tick_id, &m->now_ms);
	if (r < 0)
		return r;
	if (!m->first_ms && mw_store_first_tick_ms(m->store, &m->first_ms) < 0)
		m->first_ms = 0;
	rows_clear(m);
	r = store_rows(m);
	if (r < 0)
		return r;
	then_tick = tick_at(m, m->now_ms - m->window_ms, &then_ms);
	r = store_past(m, then_tick, m->now_ms - m->window_ms, past_growth);
	if (r == 0) {
		then_tick = tick_at(m, m->now_ms - TOP_SHORT_MS, &then_ms);
		r = store_past(m, then_tick, m->now_ms - TOP_SHORT_MS, past_faults);
	}
	store_system(m);
	return r;
}

/* Regions and hypothesis tag, reused while fresh; stepping back in time recomputes. */
static void lazy_lookups(struct top_model *m, struct top_row *r)
{
	int64_t ttl = TOP_LAZY_TTL_MS + (int64_t)(r->pid % 15) * 2000;
	struct top_lazy *c;
	bool created;

	if (r->is_group) {
		top_src_regions(m, r);
		top_src_hypothesis(m, r);
		return;
	}
	if (m->lazy && mw_pidmap_size(m->lazy) > 4 * m->n + 1024) {
		/* Processes come and go: start over rather than track exits here. */
		mw_pidmap_free(m->lazy);
		m->lazy = NULL;
	}
	if (!m->lazy && mw_pidmap_new(sizeof(struct top_lazy), &m->lazy) < 0)
		m->lazy = NULL;
	c = m->lazy ? mw_pidmap_put(m->lazy, r->pid, r->start_ticks, &created) : NULL;
	if (c && !created && m->now_ms >= c->t_ms && m->now_ms - c->t_ms < ttl) {
		r->tag_known = c->tag_known;
		memcpy(r->tag, c->tag, sizeof(r->tag));
		memcpy(r->reg, c->reg, sizeof(r->reg));
		return;
	}
	top_src_regions(m, r);
	top_src_hypothesis(m, r);
	if (!c)
		return;
	c->t_ms = m->now_ms;
	c->tag_known = r->tag_known;
	memcpy(c->tag, r->tag, sizeof(c->tag));
	memcpy(c->reg, r->reg, sizeof(c->reg));
}

void top_model_lazy(struct top_model *m, struct top_row *r, bool spark)
{
	struct mw_series sr = {0};
	int64_t from;

	if (!r->lazy_done) {
		r->lazy_done = true;
		lazy_lookups(m, r);
	}
	if (!spark || r->spark_done || m->src != TOP_FROM_STORE || r->is_group)
		return;
	r->spark_done = true;
	from = m->now_ms - m->window_ms;
	if (mw_store_proc_series(m->store, r->proc_id, from, m->now_ms, &sr) < 0 || sr.n == 0)
		return;
	/* Resample the step series onto TOP_SPARK_N evenly spaced moments. */
	if (from < sr.t_ms[0])
		from = sr.t_ms[0];
	r->nspark = TOP_SPARK_N;
	for (int k = 0; k < TOP_SPARK_N; k++) {
		int64_t t = from + (m->now_ms - from) * k / (TOP_SPARK_N - 1);
		int64_t v = mw_series_at(&sr, MW_PM_rss, t);
		r->spark[k] = v == MW_UNKNOWN ? NAN : (double)v;
	}
	mw_series_release(&sr);
}

int top_model_step(struct top_model *m, int delta)
{
	struct mw_tick_ref t;
	int r;

	if (m->src != TOP_FROM_STORE)
		return -EOPNOTSUPP;
	if (delta == 0)
		return 0;
	r = mw_store_tick_step(m->store, m->tick_id, delta, &t);
	if (r == -ENODATA) {
		/* Past the newest tick: back to live. */
		if (delta > 0)
			m->at_ms = 0;
		return delta > 0 ? 0 : -ERANGE;
	}
	if (r < 0)
		return store_fail(m, r, "step");
	m->at_ms = t.t_ms;
	return 0;
}

int top_model_refresh(struct top_model *m)
{
	m->window_ms = m->window_ms ? m->window_ms : m->opt.window_ms;
	if (m->src == TOP_FROM_STORE)
		return refresh_store(m);
	return refresh_embedded(m);
}

static int open_store(struct top_model *m, char *err, size_t errlen)
{
	int active = mw_store_writer_active(m->opt.db_path);
	int r;

	if (active < 0 && active != -ENOENT) {
		snprintf(err, errlen, "%s: %s", m->opt.db_path, strerror(-active));
		return active;
	}
	r = mw_store_open_reader(m->opt.db_path, &m->store);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", m->opt.db_path,
		         r == -ENOENT            ? "no such database"
		         : r == -EPROTONOSUPPORT ? "written by a newer memwatch"
		         : r == -ENOTRECOVERABLE ? "not a memwatch database"
		                                 : strerror(-r));
		return r;
	}
	m->recording = active == 1;
	m->src = TOP_FROM_STORE;
	return 0;
}

static void set_host(struct top_model *m)
{
	char raw[256];

	cli_host_name(m->store, "", raw, sizeof(raw));
	mw_escape_term(raw, strlen(raw), m->host, sizeof(m->host), m->opt.utf8);
	if (!m->host[0])
		snprintf(m->host, sizeof(m->host), "(host not recorded)");
}

/*
 * The daemon's database when a daemon records it, or when asked for one
 * by name (--db, --at); otherwise sample in-process.
 */
int top_model_open(struct top_model *m, const struct top_opts *o, char *err, size_t errlen)
{
	int active, r;

	memset(m, 0, sizeof(*m));
	m->opt = *o;
	m->oom.rc = -EAGAIN;
	m->at_ms = o->at_ms;
	m->window_ms = o->window_ms;
	mw_boot_id("", m->boot_id, sizeof(m->boot_id));
	active = mw_store_writer_active(o->db_path);
	if (!o->embedded && (active == 1 || o->db_explicit || o->at_ms)) {
		r = open_store(m, err, errlen);
		if (r < 0)
			return r;
		set_host(m);
		r = store_pick_tick(m, m->at_ms, &m->tick_id, &m->now_ms);
		if (r == -ENODATA)
			snprintf(err, errlen, "%s: no ticks recorded%s", o->db_path,
			         o->at_ms ? " at or before --at" : "");
		else if (r < 0)
			snprintf(err, errlen, "%s: %s", o->db_path, m->note);
		return r;
	}
	m->src = TOP_FROM_EMBEDDED;
	set_host(m);
	r = mw_proc_collector_new("", &m->pc);
	if (r == 0)
		r = mw_pidmap_new(sizeof(struct top_hist), &m->hist);
	if (r < 0)
		snprintf(err, errlen, "cannot start the process collector: %s", strerror(-r));
	return r;
}

void top_model_close(struct top_model *m)
{
	rows_clear(m);
	free(m->rows);
	mw_proc_set_clear(&m->set);
	free(m->set.v);
	mw_pidmap_free(m->hist);
	mw_pidmap_free(m->lazy);
	mw_proc_collector_free(m->pc);
	mw_oom_history_release(&m->oom.h);
	mw_store_close(m->store);
	memset(m, 0, sizeof(*m));
}
