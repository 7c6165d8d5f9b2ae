/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/store/sysread.h"
#include "sql.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mw_sysview_series_push(size_t *n, size_t *cap, int64_t **t, double **a, double **b, double **c,
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

int mw_sysview_grow(void **arr, size_t n, size_t *cap, size_t elem)
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

int mw_sysview_sys_push(struct mw_sysview *v, size_t *cap, int64_t t, const struct mw_sys_sample *s)
{
	size_t c2 = *cap;
	int r = mw_sysview_grow((void **)&v->t_ms, v->n, cap, sizeof(*v->t_ms));

	if (r == 0)
		r = mw_sysview_grow((void **)&v->sys, v->n, &c2, sizeof(*v->sys));
	if (r < 0)
		return r;
	v->t_ms[v->n] = t;
	v->sys[v->n] = *s;
	v->n++;
	return 0;
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
		return mw_sql_err(db, rc, "system samples");
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mw_sys_sample s = {0};
		int c = 1;
		int64_t *dst[] = {s.mem, s.vm, s.psi};
		const int cnt[] = {MW_MI_COUNT, MW_VM_COUNT, MW_PSI_COUNT};
		for (int g = 0; g < 3; g++)
			for (int i = 0; i < cnt[g]; i++, c++)
				dst[g][i] = mw_sql_i64(st, c);
		r = mw_sysview_sys_push(v, &cap, sqlite3_column_int64(st, 0), &s);
	}
	sqlite3_finalize(st);
	return r;
}

static int store_slab(sqlite3 *db, int64_t since, int64_t until, struct mw_sysview *v)
{
	sqlite3_stmt *st = NULL;
	size_t capslab = 0;
	int64_t cur = -1, last_slow = MW_UNKNOWN;
	int rc, r = 0;
	struct mw_slab_view *s = NULL;
	size_t cap = 0;

	rc = sqlite3_prepare_v2(
	        db,
	        "SELECT max(t.t_ms), min(x.slab) FROM system_slow_ticks x JOIN ticks t"
	        " ON t.id = x.tick WHERE t.t_ms BETWEEN ? AND ? AND x.slab = 1",
	        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(db, rc, "slow ticks");
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
		return mw_sql_err(db, rc, "slab samples");
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (id != cur) {
			/* Carry the previous cache's last value to the last slow sample. */
			if (s && s->t_ms[s->n - 1] < last_slow)
				r = mw_sysview_series_push(
				        &s->n, &cap, &s->t_ms, &s->bytes, &s->objs, NULL, last_slow,
				        s->bytes[s->n - 1], s->objs[s->n - 1], 0);
			if (r == 0)
				r = mw_sysview_grow((void **)&v->slab, v->nslab, &capslab,
				                    sizeof(*v->slab));
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
		r = mw_sysview_series_push(&s->n, &cap, &s->t_ms, &s->bytes, &s->objs, NULL,
		                           sqlite3_column_int64(st, 4), (double)s->bytes_now,
		                           (double)s->objs_now, 0);
	}
	if (r == 0 && s && s->t_ms[s->n - 1] < last_slow)
		r = mw_sysview_series_push(&s->n, &cap, &s->t_ms, &s->bytes, &s->objs, NULL,
		                           last_slow, s->bytes[s->n - 1], s->objs[s->n - 1], 0);
	sqlite3_finalize(st);
	return r;
}

static enum mw_ipc_kind kind_of(const char *tag)
{
	for (int i = 0; i < MW_IPC_COUNT; i++)
		if (strcmp(tag, mw_ipc_kind_names[i]) == 0)
			return (enum mw_ipc_kind)i;
	return MW_IPC_shm;
}

/* IPC objects alive at the window's end, with their samples and creator/writer names. */
static int store_ipc(sqlite3 *db, int64_t since, int64_t until, struct mw_sysview *v)
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
	rc = sqlite3_prepare_v2(db, objs_sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, samp_sql, -1, &ss, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, writer_sql, -1, &ws, NULL);
	if (rc != SQLITE_OK) {
		r = mw_sql_err(db, rc, "ipc objects");
		goto out;
	}
	sqlite3_bind_int64(st, 2, until);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char tag[32];
		struct mw_ipc_view *o;
		size_t cap = 0;

		r = mw_sysview_grow((void **)&v->ipc, v->nipc, &capipc, sizeof(*v->ipc));
		if (r < 0)
			break;
		o = &v->ipc[v->nipc++];
		o->db_id = sqlite3_column_int64(st, 0);
		mw_sql_text(st, 1, tag, sizeof(tag));
		o->o.kind = kind_of(tag);
		mw_sql_text(st, 2, o->o.ident, sizeof(o->o.ident));
		o->o.key = mw_sql_i64(st, 3);
		o->o.id = mw_sql_i64(st, 4);
		mw_sql_text(st, 5, o->o.name, sizeof(o->o.name));
		o->o.uid = (uint32_t)sqlite3_column_int64(st, 6);
		o->o.cuid = (uint32_t)sqlite3_column_int64(st, 7);
		o->o.mode = mw_sql_i64(st, 8);
		o->o.cpid = (pid_t)sqlite3_column_int64(st, 9);
		o->o.ctime = mw_sql_i64(st, 10);
		o->first_ms = sqlite3_column_int64(st, 11);
		if (sqlite3_column_type(st, 12) != SQLITE_NULL) {
			o->creator_known = true;
			mw_sql_text(st, 12, o->creator_comm, sizeof(o->creator_comm));
			o->creator_alive = sqlite3_column_int(st, 13) != 0;
		}
		sqlite3_bind_int64(ss, 1, o->db_id);
		sqlite3_bind_int64(ss, 2, since);
		sqlite3_bind_int64(ss, 3, until);
		while (r == 0 && sqlite3_step(ss) == SQLITE_ROW) {
			int64_t t = sqlite3_column_int64(ss, 0);
			o->o.size = mw_sql_i64(ss, 1);
			o->o.bytes = mw_sql_i64(ss, 2);
			o->o.swap = mw_sql_i64(ss, 3);
			o->o.nattch = mw_sql_i64(ss, 4);
			o->o.qnum = mw_sql_i64(ss, 5);
			o->o.lpid = (pid_t)sqlite3_column_int64(ss, 6);
			o->o.lrpid = (pid_t)sqlite3_column_int64(ss, 7);
			o->o.atime = mw_sql_i64(ss, 8);
			o->o.dtime = mw_sql_i64(ss, 9);
			r = mw_sysview_series_push(
			        &o->n, &cap, &o->t_ms, &o->bytes, NULL, NULL, t < since ? since : t,
			        (double)(o->o.bytes == MW_UNKNOWN ? 0 : o->o.bytes), 0, 0);
		}
		sqlite3_reset(ss);
		if (o->o.lpid > 0 && o->o.kind == MW_IPC_msg) {
			sqlite3_bind_int(ws, 1, o->o.lpid);
			if (sqlite3_step(ws) == SQLITE_ROW) {
				o->writer_known = true;
				mw_sql_text(ws, 0, o->writer_comm, sizeof(o->writer_comm));
			}
			sqlite3_reset(ws);
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
		return mw_sql_err(db, rc, "process samples");
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 5);
		if (id != cur) {
			r = mw_sysview_grow((void **)&v->procs, v->nproc, &capproc,
			                    sizeof(*v->procs));
			if (r < 0)
				break;
			pv = &v->procs[v->nproc++];
			cap = 0;
			cur = id;
			pv->db_id = id;
			pv->pid = (pid_t)sqlite3_column_int(st, 1);
			pv->start_ticks = (uint64_t)sqlite3_column_int64(st, 2);
			mw_sql_text(st, 3, pv->comm, sizeof(pv->comm));
			const unsigned char *g = sqlite3_column_text(st, 4);
			pv->cgroup = strdup(g ? (const char *)g : "");
			if (!pv->cgroup) {
				r = -ENOMEM;
				break;
			}
		}
		for (int i = 0; i < MW_PM_COUNT; i++)
			pv->now[i] = mw_sql_i64(st, 6 + i);
		r = mw_sysview_series_push(
		        &pv->n, &cap, &pv->t_ms, &pv->fds, &pv->threads, &pv->rss,
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
			v->tun.v[i] = mw_sql_i64(st, 0);
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
		mw_sql_text(st, 1, z->name, sizeof(z->name));
		z->free = mw_sql_i64(st, 2);
		z->min = mw_sql_i64(st, 3);
		z->low = mw_sql_i64(st, 4);
		z->high = mw_sql_i64(st, 5);
		z->managed = mw_sql_i64(st, 6);
		z->present = mw_sql_i64(st, 7);
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

int mw_store_sysview(struct mw_store *s, int64_t since_ms, int64_t until_ms, int parts,
                     struct mw_sysview *v)
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
		r = store_slab(db, since_ms, until_ms, v);
	if (r == 0 && (parts & MW_SV_IPC))
		r = store_ipc(db, since_ms, until_ms, v);
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
	v->from_ms = v->t_ms[0];
	v->to_ms = v->t_ms[v->n - 1];
	return 0;
}
