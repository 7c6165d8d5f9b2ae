/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch top's data model: one refresh turns either the daemon's store
 * (read-only) or an in-process sweep of /proc into rows with growth and
 * fault rates, plus the system sample. Nothing here draws.
 */
#include "top.h"

#include "memwatch/collect/cgroup.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <sqlite3.h>
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

static int sql_fail(struct top_model *m, int rc, const char *what)
{
	snprintf(m->note, sizeof(m->note), "%s: %s", what, sqlite3_errmsg(mw_store_db(m->store)));
	return rc == SQLITE_BUSY ? -EBUSY : -EIO;
}

/* The latest tick at or before at_ms (any tick when at_ms is 0). */
static int store_pick_tick(struct top_model *m, int64_t at_ms, int64_t *id, int64_t *t_ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(
	        mw_store_db(m->store),
	        "SELECT id, t_ms FROM ticks WHERE t_ms <= ? ORDER BY t_ms DESC, id DESC"
	        " LIMIT 1",
	        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(m, rc, "ticks");
	sqlite3_bind_int64(st, 1, at_ms ? at_ms : INT64_MAX);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*t_ms = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return -ENODATA;
	return rc == SQLITE_ROW ? 0 : sql_fail(m, rc, "ticks");
}

static int64_t col_i64(sqlite3_stmt *st, int c)
{
	return sqlite3_column_type(st, c) == SQLITE_NULL ? MW_UNKNOWN : sqlite3_column_int64(st, c);
}

/*
 * Processes alive at the tick, with their latest row at or before it
 * (rows are only written on change, so the latest row is the value).
 * Live view uses the exit_tick index; replay needs the range test.
 */
static int store_rows(struct top_model *m)
{
	char sql[2048];
	size_t o;
	sqlite3_stmt *st = NULL;
	bool live = m->at_ms == 0;
	int rc, r = 0;

	o = (size_t)snprintf(sql, sizeof(sql),
	                     "SELECT p.id, p.pid, p.ppid, p.uid, p.start_ticks, c.value, l.value,"
	                     " g.value");
	for (int i = 0; i < MW_PM_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ", s.%s", mw_proc_metric_names[i]);
	snprintf(sql + o, sizeof(sql) - o,
	         " FROM procs p JOIN proc_samples s ON s.proc = p.id AND s.tick ="
	         " (SELECT max(tick) FROM proc_samples WHERE proc = p.id AND tick <= ?1)"
	         " LEFT JOIN strings c ON c.id = p.comm LEFT JOIN strings l ON l.id = p.cmdline"
	         " LEFT JOIN strings g ON g.id = p.cgroup WHERE %s ORDER BY p.id",
	         live ? "p.exit_tick IS NULL"
	              : "p.first_tick <= ?1 AND (p.exit_tick IS NULL OR p.exit_tick > ?1)");
	rc = sqlite3_prepare_v2(mw_store_db(m->store), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(m, rc, "processes");
	sqlite3_bind_int64(st, 1, m->tick_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct top_row *row = rows_add(m);
		const unsigned char *comm = sqlite3_column_text(st, 5);
		const unsigned char *cmd = sqlite3_column_text(st, 6);
		const unsigned char *cg = sqlite3_column_text(st, 7);

		if (!row) {
			r = -ENOMEM;
			break;
		}
		row->proc_id = sqlite3_column_int64(st, 0);
		row->pid = sqlite3_column_int(st, 1);
		row->ppid = sqlite3_column_int(st, 2);
		row->uid = (uint32_t)sqlite3_column_int64(st, 3);
		row->start_ticks = (uint64_t)sqlite3_column_int64(st, 4);
		snprintf(row->comm, sizeof(row->comm), "%s", comm ? (const char *)comm : "");
		row->cmdline = strdup(cmd ? (const char *)cmd : "");
		row->cgroup = strdup(cg ? (const char *)cg : "");
		if (!row->cmdline || !row->cgroup) {
			r = -ENOMEM;
			break;
		}
		group_of(row->cgroup, row->group, sizeof(row->group));
		snprintf(row->user, sizeof(row->user), "%s", top_user_name(m, row->uid));
		for (int i = 0; i < MW_PM_COUNT; i++)
			row->m[i] = col_i64(st, 8 + i);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sql_fail(m, rc, "processes");
	sqlite3_finalize(st);
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
	static const char sql[] =
	        "SELECT p.id, t.t_ms, s.rss, s.minflt, s.majflt FROM procs p"
	        " JOIN proc_samples s ON s.proc = p.id AND s.tick = coalesce("
	        " (SELECT max(tick) FROM proc_samples WHERE proc = p.id AND tick <= ?2),"
	        " (SELECT min(tick) FROM proc_samples WHERE proc = p.id))"
	        " JOIN ticks t ON t.id = s.tick WHERE %s ORDER BY p.id";
	char q[1024];
	sqlite3_stmt *st = NULL;
	size_t k = 0;
	int rc;

	snprintf(q, sizeof(q), sql,
	         m->at_ms == 0
	                 ? "p.exit_tick IS NULL"
	                 : "p.first_tick <= ?1 AND (p.exit_tick IS NULL OR p.exit_tick > ?1)");
	rc = sqlite3_prepare_v2(mw_store_db(m->store), q, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(m, rc, "history");
	sqlite3_bind_int64(st, 1, m->tick_id);
	sqlite3_bind_int64(st, 2, then_tick);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), v[3];

		while (k < m->n && m->rows[k].proc_id < id)
			k++;
		if (k == m->n)
			break;
		if (m->rows[k].proc_id != id)
			continue;
		for (int i = 0; i < 3; i++)
			v[i] = col_i64(st, 2 + i);
		fn(&m->rows[k], sqlite3_column_int64(st, 1), then_ms, m->now_ms, v);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sql_fail(m, rc, "history");
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

static int store_sys_at(struct top_model *m, int64_t tick, struct mw_sys_sample *out)
{
	char sql[4096];
	size_t o = 0;
	sqlite3_stmt *st = NULL;
	int rc, c = 0;

	o += (size_t)snprintf(sql + o, sizeof(sql) - o, "SELECT tick");
	for (int i = 0; i < MW_MI_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",%s", mw_meminfo_columns[i]);
	for (int i = 0; i < MW_VM_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",%s", mw_vmstat_columns[i]);
	for (int i = 0; i < MW_PSI_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",%s", mw_psi_columns[i]);
	snprintf(sql + o, sizeof(sql) - o,
	         " FROM sys_samples WHERE tick <= ? ORDER BY tick DESC LIMIT 1");
	rc = sqlite3_prepare_v2(mw_store_db(m->store), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(m, rc, "system");
	sqlite3_bind_int64(st, 1, tick);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c = 1;
		for (int i = 0; i < MW_MI_COUNT; i++)
			out->mem[i] = col_i64(st, c++);
		for (int i = 0; i < MW_VM_COUNT; i++)
			out->vm[i] = col_i64(st, c++);
		for (int i = 0; i < MW_PSI_COUNT; i++)
			out->psi[i] = col_i64(st, c++);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return -ENODATA;
	return rc == SQLITE_ROW ? 0 : sql_fail(m, rc, "system");
}

static int64_t scalar(struct top_model *m, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *st = NULL;
	int64_t v = MW_UNKNOWN;

	if (sqlite3_prepare_v2(mw_store_db(m->store), sql, -1, &st, NULL) != SQLITE_OK)
		return MW_UNKNOWN;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = col_i64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The tick at or before t_ms (the first tick when t_ms predates them all). */
static int64_t tick_at(struct top_model *m, int64_t t_ms, int64_t *tick_ms)
{
	int64_t id = scalar(m, "SELECT id FROM ticks WHERE t_ms <= ?1 ORDER BY t_ms DESC LIMIT 1",
	                    t_ms, 0);

	if (id == MW_UNKNOWN)
		id = scalar(m, "SELECT min(id) FROM ticks", 0, 0);
	*tick_ms = scalar(m, "SELECT t_ms FROM ticks WHERE id = ?1", id, 0);
	return id;
}

static void store_system(struct top_model *m)
{
	struct top_sys *s = &m->sys;
	int64_t prev_ms, base_ms, prev_tick, base_tick, v_then, v_now, ev;

	s->valid = store_sys_at(m, m->tick_id, &s->now) == 0;
	s->t_ms = m->now_ms;
	prev_tick = tick_at(m, m->now_ms - TOP_SHORT_MS, &prev_ms);
	s->have_prev = prev_tick != MW_UNKNOWN && prev_tick < m->tick_id &&
	               store_sys_at(m, prev_tick, &s->prev) == 0;
	s->dt_s = (double)(m->now_ms - prev_ms) / 1000.0;
	base_tick = tick_at(m, m->now_ms - m->window_ms, &base_ms);
	s->have_base = base_tick != MW_UNKNOWN && base_tick < m->tick_id &&
	               store_sys_at(m, base_tick, &s->base) == 0;
	s->base_dt_s = (double)(m->now_ms - base_ms) / 1000.0;

	/* An OOM kill: an event, or the kernel's counter rising within the hold time. */
	m->oom_ms = 0;
	ev = scalar(m, "SELECT max(t_ms) FROM events WHERE kind = 'oom-kill' AND t_ms <= ?1",
	            m->now_ms, 0);
	if (ev != MW_UNKNOWN)
		m->oom_ms = ev;
	v_now = s->valid ? s->now.vm[MW_VM_oom_kill] : MW_UNKNOWN;
	v_then = scalar(m,
	                "SELECT s.oom_kill FROM sys_samples s JOIN ticks t ON t.id = s.tick"
	                " WHERE t.t_ms <= ?1 ORDER BY t.t_ms DESC LIMIT 1",
	                m->now_ms - TOP_OOM_HOLD_MS, 0);
	if (v_then == MW_UNKNOWN)
		v_then = scalar(m, "SELECT min(oom_kill) FROM sys_samples WHERE tick <= ?1",
		                m->tick_id, 0);
	if (v_now != MW_UNKNOWN && v_then != MW_UNKNOWN && v_now > v_then) {
		/* When the counter first reached its present value. */
		int64_t t = scalar(m,
		                   "SELECT min(t.t_ms) FROM sys_samples s JOIN ticks t ON"
		                   " t.id = s.tick WHERE s.oom_kill >= ?1 AND t.id <= ?2",
		                   v_now, m->tick_id);
		if (t != MW_UNKNOWN && t > m->oom_ms)
			m->oom_ms = t;
	}
}

static int refresh_store(struct top_model *m)
{
	int64_t then_ms, then_tick;
	int r;

	r = store_pick_tick(m, m->at_ms, &m->tick_id, &m->now_ms);
	if (r < 0)
		return r;
	if (!m->first_ms)
		m->first_ms = scalar(m, "SELECT min(t_ms) FROM ticks", 0, 0);
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
	int64_t id, t;
	const char *sql = delta < 0 ? "SELECT id, t_ms FROM ticks WHERE id < ?1 ORDER BY id DESC"
	                              " LIMIT 1 OFFSET ?2"
	                            : "SELECT id, t_ms FROM ticks WHERE id > ?1 ORDER BY id LIMIT 1"
	                              " OFFSET ?2";
	sqlite3_stmt *st = NULL;
	int rc;

	if (m->src != TOP_FROM_STORE)
		return -EOPNOTSUPP;
	rc = sqlite3_prepare_v2(mw_store_db(m->store), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(m, rc, "step");
	sqlite3_bind_int64(st, 1, m->tick_id);
	sqlite3_bind_int64(st, 2, (delta < 0 ? -delta : delta) - 1);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		/* Past the newest tick: back to live. */
		if (delta > 0)
			m->at_ms = 0;
		return delta > 0 ? 0 : -ERANGE;
	}
	id = sqlite3_column_int64(st, 0);
	t = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	(void)id;
	m->at_ms = t;
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

/*
 * The daemon's database when a daemon records it, or when asked for one
 * by name (--db, --at); otherwise sample in-process.
 */
int top_model_open(struct top_model *m, const struct top_opts *o, char *err, size_t errlen)
{
	int active, r;

	memset(m, 0, sizeof(*m));
	m->opt = *o;
	m->at_ms = o->at_ms;
	m->window_ms = o->window_ms;
	mw_boot_id("", m->boot_id, sizeof(m->boot_id));
	active = mw_store_writer_active(o->db_path);
	if (!o->embedded && (active == 1 || o->db_explicit || o->at_ms)) {
		r = open_store(m, err, errlen);
		if (r < 0)
			return r;
		r = store_pick_tick(m, m->at_ms, &m->tick_id, &m->now_ms);
		if (r == -ENODATA)
			snprintf(err, errlen, "%s: no ticks recorded%s", o->db_path,
			         o->at_ms ? " at or before --at" : "");
		else if (r < 0)
			snprintf(err, errlen, "%s: %s", o->db_path, m->note);
		return r;
	}
	m->src = TOP_FROM_EMBEDDED;
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
	mw_store_close(m->store);
	memset(m, 0, sizeof(*m));
}
