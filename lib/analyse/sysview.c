/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/sysview.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- small series helpers ---- */

struct ts {
	size_t n, cap;
	int64_t *t;
	double *a, *b, *c;
};

static int ts_push(size_t *n, size_t *cap, int64_t **t, double **a, double **b, double **c,
                   int64_t tv, double av, double bv, double cv)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		int64_t *nt = realloc(*t, nc * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		*t = nt;
		double **arr[] = {a, b, c};
		for (int k = 0; k < 3; k++) {
			if (!arr[k])
				continue;
			double *na = realloc(*arr[k], nc * sizeof(*na));
			if (!na)
				return -ENOMEM;
			*arr[k] = na;
		}
		*cap = nc;
	}
	(*t)[*n] = tv;
	if (a)
		(*a)[*n] = av;
	if (b)
		(*b)[*n] = bv;
	if (c)
		(*c)[*n] = cv;
	(*n)++;
	return 0;
}

double mw_step_at(const int64_t *t_ms, const double *v, size_t n, int64_t t)
{
	double r = NAN;

	for (size_t i = 0; i < n && t_ms[i] <= t; i++)
		r = v[i];
	return r;
}

static void ranks(const double *x, size_t n, double *rk)
{
	for (size_t i = 0; i < n; i++) {
		double less = 0, eq = 0;
		for (size_t j = 0; j < n; j++) {
			if (x[j] < x[i])
				less++;
			else if (x[j] == x[i])
				eq++;
		}
		rk[i] = less + (eq + 1) / 2.0;
	}
}

double mw_rank_correlation(const double *x, const double *y, size_t n)
{
	double *rx, *ry, mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0, r = NAN;

	if (n < 3)
		return NAN;
	rx = malloc(n * sizeof(*rx));
	ry = malloc(n * sizeof(*ry));
	if (!rx || !ry)
		goto out;
	ranks(x, n, rx);
	ranks(y, n, ry);
	for (size_t i = 0; i < n; i++) {
		mx += rx[i];
		my += ry[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sxy += (rx[i] - mx) * (ry[i] - my);
		sxx += (rx[i] - mx) * (rx[i] - mx);
		syy += (ry[i] - my) * (ry[i] - my);
	}
	if (sxx > 0 && syy > 0)
		r = sxy / sqrt(sxx * syy);
out:
	free(rx);
	free(ry);
	return r;
}

static void trend_of(const int64_t *t_ms, const double *y, size_t n, struct mw_trend *tr)
{
	double *t;

	memset(tr, 0, sizeof(*tr));
	tr->slope = tr->floor_slope = NAN;
	tr->mk_p = 1;
	if (n == 0)
		return;
	t = malloc(n * sizeof(*t));
	if (!t)
		return;
	for (size_t i = 0; i < n; i++)
		t[i] = (double)(t_ms[i] - t_ms[0]) / 1000.0;
	if (mw_trend_compute(t, y, n, tr) < 0) {
		tr->slope = tr->floor_slope = NAN;
		tr->mk_p = 1;
	}
	free(t);
}

static bool slab_growing(const struct mw_slab_view *c)
{
	const struct mw_trend *tr = &c->tr;

	return c->n >= 3 && tr->slope > 0 && tr->mk_p < 0.05 && tr->mk_s > 0 &&
	       !(tr->floor_slope < 0) && tr->last - tr->first >= MW_SLAB_MIN_GROWTH;
}

static int cmp_slab(const void *pa, const void *pb)
{
	const struct mw_slab_view *a = pa, *b = pb;
	double sa = a->growing ? a->tr.slope : -1, sb = b->growing ? b->tr.slope : -1;

	if (sa != sb)
		return sa > sb ? -1 : 1;
	return a->bytes_now > b->bytes_now ? -1 : a->bytes_now < b->bytes_now;
}

static void finish_slab(struct mw_sysview *v)
{
	for (size_t i = 0; i < v->nslab; i++) {
		struct mw_slab_view *c = &v->slab[i];
		trend_of(c->t_ms, c->bytes, c->n, &c->tr);
		c->growing = slab_growing(c);
	}
	mw_qsort(v->slab, v->nslab, sizeof(*v->slab), cmp_slab);
}

/* shm with nobody attached whose creator is gone or no longer attached. */
static void finish_ipc(struct mw_sysview *v)
{
	for (size_t i = 0; i < v->nipc; i++) {
		struct mw_ipc_view *o = &v->ipc[i];
		trend_of(o->t_ms, o->bytes, o->n, &o->tr);
		if (o->o.kind == MW_IPC_shm)
			o->orphan = o->o.nattch == 0;
		else if (o->o.kind == MW_IPC_posix_shm)
			o->orphan = o->nholders == 0 && o->o.size > 0;
	}
}

void mw_sysview_release(struct mw_sysview *v)
{
	free(v->t_ms);
	free(v->sys);
	for (size_t i = 0; i < v->nslab; i++) {
		free(v->slab[i].t_ms);
		free(v->slab[i].bytes);
		free(v->slab[i].objs);
	}
	free(v->slab);
	for (size_t i = 0; i < v->nipc; i++) {
		free(v->ipc[i].t_ms);
		free(v->ipc[i].bytes);
	}
	free(v->ipc);
	for (size_t i = 0; i < v->nproc; i++) {
		free(v->procs[i].t_ms);
		free(v->procs[i].fds);
		free(v->procs[i].threads);
		free(v->procs[i].rss);
		free(v->procs[i].cgroup);
	}
	free(v->procs);
	memset(v, 0, sizeof(*v));
}

static int grow(void **arr, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 32;
	void *p = realloc(*arr, nc * elem);
	if (!p)
		return -ENOMEM;
	memset((char *)p + *cap * elem, 0, (nc - *cap) * elem);
	*arr = p;
	*cap = nc;
	return 0;
}

static int sys_push(struct mw_sysview *v, size_t *cap, int64_t t, const struct mw_sys_sample *s)
{
	size_t c2 = *cap;
	int r = grow((void **)&v->t_ms, v->n, cap, sizeof(*v->t_ms));

	if (r == 0)
		r = grow((void **)&v->sys, v->n, &c2, sizeof(*v->sys));
	if (r < 0)
		return r;
	v->t_ms[v->n] = t;
	v->sys[v->n] = *s;
	v->n++;
	return 0;
}

/* ---- live ---- */

/* ts_push grows arrays in powers of two from 16: the capacity follows from n. */
static size_t pow2_cap(size_t n)
{
	size_t c = 16;

	if (n == 0)
		return 0;
	while (c < n)
		c *= 2;
	return c;
}

struct live_ctx {
	size_t capslab, capipc, capproc, capsys;
};

static struct mw_slab_view *slab_view(struct mw_sysview *v, struct live_ctx *lc,
                                      const struct mw_slab_cache *c, const char *root)
{
	for (size_t i = 0; i < v->nslab; i++)
		if (strcmp(v->slab[i].name, c->name) == 0)
			return &v->slab[i];
	if (grow((void **)&v->slab, v->nslab, &lc->capslab, sizeof(*v->slab)) < 0)
		return NULL;
	struct mw_slab_view *s = &v->slab[v->nslab++];
	snprintf(s->name, sizeof(s->name), "%s", c->name);
	s->objsize = c->objsize;
	mw_slab_aliases(root, c->name, s->aliases, sizeof(s->aliases));
	return s;
}

static int live_slab(struct mw_sysview *v, struct live_ctx *lc, const char *root, int64_t t)
{
	struct mw_slab_set set = {0};
	int r = mw_slab_read(root, &set);

	if (r < 0) {
		v->slab_ok = false;
		snprintf(v->slab_why, sizeof(v->slab_why), "%s",
		         r == -EACCES ? "unavailable: needs root"
		                      : "unavailable: /proc/slabinfo unreadable");
		mw_slab_set_release(&set);
		return 0;
	}
	v->slab_ok = true;
	for (size_t i = 0; i < set.n && r == 0; i++) {
		struct mw_slab_view *s = slab_view(v, lc, &set.v[i], root);
		size_t cap;
		if (!s) {
			r = -ENOMEM;
			break;
		}
		cap = pow2_cap(s->n);
		r = ts_push(&s->n, &cap, &s->t_ms, &s->bytes, &s->objs, NULL, t,
		            (double)set.v[i].bytes, (double)set.v[i].num_objs, 0);
		s->bytes_now = set.v[i].bytes;
		s->objs_now = set.v[i].num_objs;
	}
	mw_slab_set_release(&set);
	return r;
}

static int live_ipc(struct mw_sysview *v, struct live_ctx *lc, const char *root, int64_t t)
{
	struct mw_ipc_set set = {0};
	int r = mw_ipc_read(root, true, &set);

	v->ipc_ok = r == 0 && set.sysv_ok;
	if (set.note[0])
		snprintf(v->ipc_note, sizeof(v->ipc_note), "%s", set.note);
	for (size_t i = 0; i < set.n && r == 0; i++) {
		struct mw_ipc_view *o = NULL;
		for (size_t k = 0; k < v->nipc && !o; k++)
			if (strcmp(v->ipc[k].o.ident, set.v[i].ident) == 0)
				o = &v->ipc[k];
		if (!o) {
			r = grow((void **)&v->ipc, v->nipc, &lc->capipc, sizeof(*v->ipc));
			if (r < 0)
				break;
			o = &v->ipc[v->nipc++];
			o->first_ms = t;
		}
		o->o = set.v[i];
		size_t cap = pow2_cap(o->n);
		r = ts_push(&o->n, &cap, &o->t_ms, &o->bytes, NULL, NULL, t,
		            (double)(set.v[i].bytes == MW_UNKNOWN ? 0 : set.v[i].bytes), 0, 0);
	}
	mw_ipc_set_release(&set);
	return r;
}

static int live_procs(struct mw_sysview *v, struct live_ctx *lc, struct mw_proc_collector *pc,
                      int64_t t)
{
	struct mw_proc_set set = {0};
	int r = mw_proc_collect(pc, &set);

	for (size_t i = 0; i < set.n && r == 0; i++) {
		const struct mw_proc_sample *p = &set.v[i];
		struct mw_proc_view *pv = NULL;
		for (size_t k = 0; k < v->nproc && !pv; k++)
			if (v->procs[k].pid == p->pid && v->procs[k].start_ticks == p->start_ticks)
				pv = &v->procs[k];
		if (!pv) {
			r = grow((void **)&v->procs, v->nproc, &lc->capproc, sizeof(*v->procs));
			if (r < 0)
				break;
			pv = &v->procs[v->nproc++];
			pv->pid = p->pid;
			pv->start_ticks = p->start_ticks;
			memcpy(pv->comm, p->comm, sizeof(pv->comm));
			pv->cgroup = strdup(p->cgroup ? p->cgroup : "");
			if (!pv->cgroup) {
				r = -ENOMEM;
				break;
			}
		}
		memcpy(pv->now, p->m, sizeof(pv->now));
		size_t cap = pow2_cap(pv->n);
		r = ts_push(&pv->n, &cap, &pv->t_ms, &pv->fds, &pv->threads, &pv->rss, t,
		            (double)p->m[MW_PM_fds], (double)p->m[MW_PM_threads],
		            (double)p->m[MW_PM_rss]);
	}
	mw_proc_set_clear(&set);
	free(set.v);
	return r;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
	                      .tv_nsec = (long)(ns % 1000000000ull)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Creator/writer names for live objects: only processes alive now can be named. */
static void live_names(struct mw_sysview *v, const char *root)
{
	for (size_t i = 0; i < v->nipc; i++) {
		struct mw_ipc_view *o = &v->ipc[i];
		for (size_t k = 0; k < v->nproc; k++) {
			const struct mw_proc_view *p = &v->procs[k];
			if (o->o.cpid && p->pid == o->o.cpid) {
				o->creator_known = o->creator_alive = true;
				memcpy(o->creator_comm, p->comm, sizeof(o->creator_comm));
			}
			if (o->o.lpid && p->pid == o->o.lpid && o->o.kind == MW_IPC_msg) {
				o->writer_known = true;
				memcpy(o->writer_comm, p->comm, sizeof(o->writer_comm));
			}
		}
		if (o->o.kind == MW_IPC_mqueue || o->o.kind == MW_IPC_posix_shm) {
			int n = mw_ipc_holders(root, &o->o, o->holders, MW_ARRAY_SIZE(o->holders));
			o->nholders = n > 0 ? n : 0;
		}
	}
}

int mw_sysview_from_live(const char *root, uint64_t duration_ns, uint64_t interval_ns, int parts,
                         struct mw_sysview *v)
{
	struct mw_proc_collector *pc = NULL;
	struct live_ctx lc = {0};
	uint64_t start = mw_mono_ns();
	int r = 0;

	memset(v, 0, sizeof(*v));
	v->source = MW_SYSVIEW_LIVE;
	if (parts & MW_SV_PROCS) {
		r = mw_proc_collector_new(root, &pc);
		if (r < 0)
			return r;
	}
	for (int k = 0; r == 0; k++) {
		int64_t t = (int64_t)(mw_now_ns() / 1000000ull);
		struct mw_sys_sample s;

		r = mw_sys_sample_read(root, &s);
		if (r == 0)
			r = sys_push(v, &lc.capsys, t, &s);
		if (r == 0 && (parts & MW_SV_SLAB))
			r = live_slab(v, &lc, root, t);
		if (r == 0 && (parts & MW_SV_IPC))
			r = live_ipc(v, &lc, root, t);
		if (r == 0 && pc)
			r = live_procs(v, &lc, pc, t);
		if (r < 0 || (k >= 1 && mw_mono_ns() - start + interval_ns / 2 > duration_ns))
			break;
		sleep_ns(interval_ns);
	}
	mw_proc_collector_free(pc);
	if (r < 0) {
		mw_sysview_release(v);
		return r;
	}
	mw_tunables_read(root, &v->tun);
	mw_zoneinfo_read(root, &v->zones);
	v->numa_nodes = mw_numa_nodes(root);
	v->from_ms = v->t_ms[0];
	v->to_ms = v->t_ms[v->n - 1];
	live_names(v, root);
	finish_slab(v);
	finish_ipc(v);
	snprintf(v->note, sizeof(v->note),
	         "live: no recorded history; %zu samples over %.1f s taken by this command", v->n,
	         (double)(v->to_ms - v->from_ms) / 1000.0);
	return 0;
}

/* ---- store ---- */

static int sql_rc(int rc)
{
	return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

static int store_sys(sqlite3 *db, int64_t since, int64_t until, struct mw_sysview *v)
{
	char sql[4096];
	size_t o, cap = 0;
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	o = (size_t)snprintf(sql, sizeof(sql), "SELECT t.t_ms");
	for (int i = 0; i < MW_MI_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",s.%s", mw_meminfo_columns[i]);
	for (int i = 0; i < MW_VM_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",s.%s", mw_vmstat_columns[i]);
	for (int i = 0; i < MW_PSI_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",s.%s", mw_psi_columns[i]);
	snprintf(sql + o, sizeof(sql) - o,
	         " FROM sys_samples s JOIN ticks t ON t.id = s.tick WHERE t.t_ms BETWEEN ? AND ?"
	         " ORDER BY s.tick");
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_rc(rc);
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mw_sys_sample s = {0};
		int c = 1;
		int64_t *dst[] = {s.mem, s.vm, s.psi};
		const int cnt[] = {MW_MI_COUNT, MW_VM_COUNT, MW_PSI_COUNT};
		for (int g = 0; g < 3; g++)
			for (int i = 0; i < cnt[g]; i++, c++)
				dst[g][i] = sqlite3_column_type(st, c) == SQLITE_NULL
				                    ? MW_UNKNOWN
				                    : sqlite3_column_int64(st, c);
		r = sys_push(v, &cap, sqlite3_column_int64(st, 0), &s);
	}
	sqlite3_finalize(st);
	return r;
}

static int store_slab(sqlite3 *db, const char *root, int64_t since, int64_t until,
                      struct mw_sysview *v)
{
	sqlite3_stmt *st = NULL;
	size_t capslab = 0;
	int64_t cur = -1, last_slow = MW_UNKNOWN;
	int rc, r = 0;
	struct mw_slab_view *s = NULL;
	size_t cap = 0;

	(void)root;
	rc = sqlite3_prepare_v2(
	        db,
	        "SELECT max(t.t_ms), min(x.slab) FROM system_slow_ticks x JOIN ticks t"
	        " ON t.id = x.tick WHERE t.t_ms BETWEEN ? AND ? AND x.slab = 1",
	        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_rc(rc);
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		last_slow = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	v->slab_ok = last_slow != MW_UNKNOWN;
	if (!v->slab_ok)
		return 0;
	rc = sqlite3_prepare_v2(
	        db,
	        "SELECT c.id, n.value, a.value, c.objsize, t.t_ms, s.num_objs, s.bytes"
	        " FROM slab_samples s JOIN slab_caches c ON c.id = s.cache"
	        " JOIN strings n ON n.id = c.name LEFT JOIN strings a ON a.id = c.aliases"
	        " JOIN ticks t ON t.id = s.tick WHERE t.t_ms BETWEEN ? AND ?"
	        " ORDER BY c.id, s.tick",
	        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_rc(rc);
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (id != cur) {
			/* Carry the previous cache's last value to the last slow sample. */
			if (s && s->t_ms[s->n - 1] < last_slow)
				r = ts_push(&s->n, &cap, &s->t_ms, &s->bytes, &s->objs, NULL,
				            last_slow, s->bytes[s->n - 1], s->objs[s->n - 1], 0);
			if (r == 0)
				r = grow((void **)&v->slab, v->nslab, &capslab, sizeof(*v->slab));
			if (r < 0)
				break;
			s = &v->slab[v->nslab++];
			cap = 0;
			cur = id;
			const unsigned char *nm = sqlite3_column_text(st, 1),
			                    *al = sqlite3_column_text(st, 2);
			snprintf(s->name, sizeof(s->name), "%s", nm ? (const char *)nm : "");
			snprintf(s->aliases, sizeof(s->aliases), "%s", al ? (const char *)al : "");
			s->objsize = sqlite3_column_int64(st, 3);
		}
		s->objs_now = sqlite3_column_int64(st, 5);
		s->bytes_now = sqlite3_column_int64(st, 6);
		r = ts_push(&s->n, &cap, &s->t_ms, &s->bytes, &s->objs, NULL,
		            sqlite3_column_int64(st, 4), (double)s->bytes_now, (double)s->objs_now,
		            0);
	}
	if (r == 0 && s && s->t_ms[s->n - 1] < last_slow)
		r = ts_push(&s->n, &cap, &s->t_ms, &s->bytes, &s->objs, NULL, last_slow,
		            s->bytes[s->n - 1], s->objs[s->n - 1], 0);
	sqlite3_finalize(st);
	return r;
}

static void text_col(sqlite3_stmt *st, int c, char *buf, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, c);

	snprintf(buf, cap, "%s", t ? (const char *)t : "");
}

static int64_t int_col(sqlite3_stmt *st, int c)
{
	return sqlite3_column_type(st, c) == SQLITE_NULL ? MW_UNKNOWN : sqlite3_column_int64(st, c);
}

static enum mw_ipc_kind kind_of(const char *tag)
{
	for (int i = 0; i < MW_IPC_COUNT; i++)
		if (strcmp(tag, mw_ipc_kind_names[i]) == 0)
			return (enum mw_ipc_kind)i;
	return MW_IPC_shm;
}

/* IPC objects alive at the window's end, with their samples and creator/writer names. */
static int store_ipc(sqlite3 *db, const char *root, int64_t since, int64_t until,
                     struct mw_sysview *v)
{
	static const char objs_sql[] =
	        "SELECT o.id, o.kind, o.ident, o.ipc_key, o.ipc_id, n.value, o.uid, o.cuid, o.mode,"
	        " o.cpid, o.ctime, (SELECT t_ms FROM ticks WHERE id = o.first_tick),"
	        " (SELECT c.value FROM procs p JOIN strings c ON c.id = p.comm WHERE p.id ="
	        "  coalesce(o.creator, (SELECT p2.id FROM procs p2 WHERE p2.boot = o.boot AND"
	        "  p2.pid = o.cpid AND (p2.start_ms IS NULL OR p2.start_ms <= o.ctime * 1000 + 999)"
	        "  ORDER BY p2.start_ms DESC LIMIT 1))),"
	        " (SELECT p.exit_tick IS NULL FROM procs p WHERE p.id ="
	        "  coalesce(o.creator, (SELECT p2.id FROM procs p2 WHERE p2.boot = o.boot AND"
	        "  p2.pid = o.cpid AND (p2.start_ms IS NULL OR p2.start_ms <= o.ctime * 1000 + 999)"
	        "  ORDER BY p2.start_ms DESC LIMIT 1)))"
	        " FROM ipc_objects o LEFT JOIN strings n ON n.id = o.name"
	        " WHERE o.first_tick <= (SELECT max(id) FROM ticks WHERE t_ms <= ?2)"
	        " AND (o.gone_tick IS NULL OR o.gone_tick > (SELECT max(id) FROM ticks WHERE t_ms "
	        "<= ?2))"
	        " ORDER BY o.id";
	static const char samp_sql[] =
	        "SELECT t.t_ms, s.size, s.bytes, s.swap, s.nattch, s.qnum, s.lpid, s.lrpid, "
	        "s.atime,"
	        " s.dtime FROM ipc_samples s JOIN ticks t ON t.id = s.tick WHERE s.object = ?1"
	        " AND t.t_ms <= ?3 AND (t.t_ms >= ?2 OR s.tick = (SELECT max(s2.tick) FROM"
	        " ipc_samples s2 JOIN ticks t2 ON t2.id = s2.tick WHERE s2.object = ?1 AND"
	        " t2.t_ms < ?2)) ORDER BY s.tick";
	static const char writer_sql[] =
	        "SELECT c.value FROM procs p JOIN strings c ON c.id = p.comm WHERE p.pid = ?"
	        " AND p.boot = (SELECT boot FROM ticks ORDER BY id DESC LIMIT 1)"
	        " ORDER BY p.id DESC LIMIT 1";
	sqlite3_stmt *st = NULL, *ss = NULL, *ws = NULL;
	size_t capipc = 0;
	int rc, r = 0;

	v->ipc_ok = true;
	if (sqlite3_prepare_v2(db, objs_sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, samp_sql, -1, &ss, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, writer_sql, -1, &ws, NULL) != SQLITE_OK) {
		r = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 2, until);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char tag[32];
		struct mw_ipc_view *o;
		size_t cap = 0;

		r = grow((void **)&v->ipc, v->nipc, &capipc, sizeof(*v->ipc));
		if (r < 0)
			break;
		o = &v->ipc[v->nipc++];
		o->db_id = sqlite3_column_int64(st, 0);
		text_col(st, 1, tag, sizeof(tag));
		o->o.kind = kind_of(tag);
		text_col(st, 2, o->o.ident, sizeof(o->o.ident));
		o->o.key = int_col(st, 3);
		o->o.id = int_col(st, 4);
		text_col(st, 5, o->o.name, sizeof(o->o.name));
		o->o.uid = (uint32_t)sqlite3_column_int64(st, 6);
		o->o.cuid = (uint32_t)sqlite3_column_int64(st, 7);
		o->o.mode = int_col(st, 8);
		o->o.cpid = (pid_t)sqlite3_column_int64(st, 9);
		o->o.ctime = int_col(st, 10);
		o->first_ms = sqlite3_column_int64(st, 11);
		if (sqlite3_column_type(st, 12) != SQLITE_NULL) {
			o->creator_known = true;
			text_col(st, 12, o->creator_comm, sizeof(o->creator_comm));
			o->creator_alive = sqlite3_column_int(st, 13) != 0;
		}
		sqlite3_bind_int64(ss, 1, o->db_id);
		sqlite3_bind_int64(ss, 2, since);
		sqlite3_bind_int64(ss, 3, until);
		while (r == 0 && sqlite3_step(ss) == SQLITE_ROW) {
			int64_t t = sqlite3_column_int64(ss, 0);
			o->o.size = int_col(ss, 1);
			o->o.bytes = int_col(ss, 2);
			o->o.swap = int_col(ss, 3);
			o->o.nattch = int_col(ss, 4);
			o->o.qnum = int_col(ss, 5);
			o->o.lpid = (pid_t)sqlite3_column_int64(ss, 6);
			o->o.lrpid = (pid_t)sqlite3_column_int64(ss, 7);
			o->o.atime = int_col(ss, 8);
			o->o.dtime = int_col(ss, 9);
			r = ts_push(&o->n, &cap, &o->t_ms, &o->bytes, NULL, NULL,
			            t < since ? since : t,
			            (double)(o->o.bytes == MW_UNKNOWN ? 0 : o->o.bytes), 0, 0);
		}
		sqlite3_reset(ss);
		if (o->o.lpid > 0 && o->o.kind == MW_IPC_msg) {
			sqlite3_bind_int(ws, 1, o->o.lpid);
			if (sqlite3_step(ws) == SQLITE_ROW) {
				o->writer_known = true;
				text_col(ws, 0, o->writer_comm, sizeof(o->writer_comm));
			}
			sqlite3_reset(ws);
		}
		if (o->o.kind == MW_IPC_mqueue || o->o.kind == MW_IPC_posix_shm) {
			/* Holders are a live fact: look them up now, by the file's identity. */
			struct stat sb;
			char path[4096];
			snprintf(path, sizeof(path), "%s%s/%s", root ? root : "",
			         o->o.kind == MW_IPC_mqueue ? "/dev/mqueue" : "/dev/shm",
			         o->o.name);
			if (stat(path, &sb) == 0) {
				o->o.dev = sb.st_dev;
				o->o.ino = sb.st_ino;
				int n = mw_ipc_holders(root, &o->o, o->holders,
				                       MW_ARRAY_SIZE(o->holders));
				o->nholders = n > 0 ? n : 0;
			}
		}
	}
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ss);
	sqlite3_finalize(ws);
	return r;
}

static int store_procs(sqlite3 *db, int64_t since, int64_t until, struct mw_sysview *v)
{
	char sql[2048];
	size_t o;
	sqlite3_stmt *st = NULL;
	size_t capproc = 0, cap = 0;
	int64_t cur = -1;
	struct mw_proc_view *pv = NULL;
	int rc, r = 0;

	o = (size_t)snprintf(sql, sizeof(sql),
	                     "SELECT p.id, p.pid, p.start_ticks, c.value, g.value, t.t_ms");
	for (int i = 0; i < MW_PM_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",s.%s", mw_proc_metric_names[i]);
	snprintf(sql + o, sizeof(sql) - o,
	         " FROM procs p JOIN proc_samples s ON s.proc = p.id JOIN ticks t ON t.id = s.tick"
	         " LEFT JOIN strings c ON c.id = p.comm LEFT JOIN strings g ON g.id = p.cgroup"
	         " WHERE p.exit_tick IS NULL AND t.t_ms <= ?2 AND (t.t_ms >= ?1 OR s.tick ="
	         " (SELECT max(s2.tick) FROM proc_samples s2 JOIN ticks t2 ON t2.id = s2.tick"
	         " WHERE s2.proc = p.id AND t2.t_ms < ?1)) ORDER BY p.id, s.tick");
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_rc(rc);
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 5);
		if (id != cur) {
			r = grow((void **)&v->procs, v->nproc, &capproc, sizeof(*v->procs));
			if (r < 0)
				break;
			pv = &v->procs[v->nproc++];
			cap = 0;
			cur = id;
			pv->db_id = id;
			pv->pid = (pid_t)sqlite3_column_int(st, 1);
			pv->start_ticks = (uint64_t)sqlite3_column_int64(st, 2);
			text_col(st, 3, pv->comm, sizeof(pv->comm));
			const unsigned char *g = sqlite3_column_text(st, 4);
			pv->cgroup = strdup(g ? (const char *)g : "");
			if (!pv->cgroup) {
				r = -ENOMEM;
				break;
			}
		}
		for (int i = 0; i < MW_PM_COUNT; i++)
			pv->now[i] = int_col(st, 6 + i);
		r = ts_push(&pv->n, &cap, &pv->t_ms, &pv->fds, &pv->threads, &pv->rss,
		            t < since ? since : t, (double)pv->now[MW_PM_fds],
		            (double)pv->now[MW_PM_threads], (double)pv->now[MW_PM_rss]);
	}
	sqlite3_finalize(st);
	return r;
}

static void store_tunables(sqlite3 *db, int64_t until, struct mw_sysview *v)
{
	sqlite3_stmt *st = NULL;

	for (int i = 0; i < MW_TUN_COUNT; i++)
		v->tun.v[i] = MW_UNKNOWN;
	if (sqlite3_prepare_v2(db,
	                       "SELECT value FROM tunables u JOIN ticks t ON t.id = u.tick WHERE"
	                       " u.name = ? AND t.t_ms <= ? ORDER BY u.tick DESC LIMIT 1",
	                       -1, &st, NULL) != SQLITE_OK)
		return;
	for (int i = 0; i < MW_TUN_COUNT; i++) {
		sqlite3_bind_text(st, 1, mw_tunable_names[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, until);
		if (sqlite3_step(st) == SQLITE_ROW)
			v->tun.v[i] = int_col(st, 0);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
}

static void store_zones(sqlite3 *db, int64_t until, struct mw_sysview *v)
{
	sqlite3_stmt *st = NULL;

	v->zones.n = 0;
	if (sqlite3_prepare_v2(
	            db,
	            "SELECT z.node, n.value, z.free_pages, z.min_pages, z.low_pages,"
	            " z.high_pages, z.managed_pages, z.present_pages FROM zone_samples z"
	            " JOIN strings n ON n.id = z.zone WHERE z.tick = (SELECT max(z2.tick)"
	            " FROM zone_samples z2 JOIN ticks t ON t.id = z2.tick WHERE t.t_ms <= ?)",
	            -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, until);
	while (sqlite3_step(st) == SQLITE_ROW && v->zones.n < MW_ZONE_MAX) {
		struct mw_zone *z = &v->zones.v[v->zones.n++];
		z->node = sqlite3_column_int(st, 0);
		text_col(st, 1, z->name, sizeof(z->name));
		z->free = int_col(st, 2);
		z->min = int_col(st, 3);
		z->low = int_col(st, 4);
		z->high = int_col(st, 5);
		z->managed = int_col(st, 6);
		z->present = int_col(st, 7);
		z->spanned = MW_UNKNOWN;
	}
	sqlite3_finalize(st);
}

/* A file written before the system tables existed: read what it has. */
static bool has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

int mw_sysview_from_store(struct mw_store *s, const char *root, int64_t since_ms, int64_t until_ms,
                          int parts, struct mw_sysview *v)
{
	sqlite3 *db = mw_store_db(s);
	int r;

	memset(v, 0, sizeof(*v));
	v->source = MW_SYSVIEW_STORE;
	r = store_sys(db, since_ms, until_ms, v);
	if (r == 0 && v->n == 0)
		r = -ENODATA;
	if (!has_table(db, "system_slow_ticks")) {
		parts &= ~(MW_SV_SLAB | MW_SV_IPC);
		snprintf(v->ipc_note, sizeof(v->ipc_note),
		         "this database has no system tables (written by an older memwatchd)");
	}
	if (r == 0 && (parts & MW_SV_SLAB))
		r = store_slab(db, root, since_ms, until_ms, v);
	if (r == 0 && (parts & MW_SV_IPC))
		r = store_ipc(db, root, since_ms, until_ms, v);
	if (r == 0 && (parts & MW_SV_PROCS))
		r = store_procs(db, since_ms, until_ms, v);
	if (r < 0) {
		mw_sysview_release(v);
		return r;
	}
	if (!v->slab_ok) {
		char buf[128];
		if (mw_store_meta_get(s, "slab", buf, sizeof(buf)) == 0 && strcmp(buf, "on") != 0)
			snprintf(v->slab_why, sizeof(v->slab_why), "%s", buf);
		else
			snprintf(v->slab_why, sizeof(v->slab_why),
			         "unavailable: no slab samples recorded in the window");
	}
	for (int i = 0; i < MW_TUN_COUNT; i++)
		v->tun.v[i] = MW_UNKNOWN;
	if (has_table(db, "tunables")) {
		store_tunables(db, until_ms, v);
		store_zones(db, until_ms, v);
	}
	/* The node count is a fact of this machine, not of the window. */
	v->numa_nodes = mw_numa_nodes(root);
	v->from_ms = v->t_ms[0];
	v->to_ms = v->t_ms[v->n - 1];
	finish_slab(v);
	finish_ipc(v);
	return 0;
}
