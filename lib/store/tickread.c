/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store one tick at a time: ticks, processes alive at one, values then, the system. */
#include "memwatch/store/tickread.h"
#include "memwatch/base/util.h"

#include "sql.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Alive at ?1: the newest tick can use the exit_tick index; a replayed one needs the range. */
#define ALIVE_LIVE   "p.exit_tick IS NULL"
#define ALIVE_REPLAY "p.first_tick <= ?1 AND (p.exit_tick IS NULL OR p.exit_tick > ?1)"

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, const char *what)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : mw_sql_err(db, rc, what);
}

/* One row of (id, t_ms) from st; -ENODATA when it has none. */
static int step_tick(sqlite3 *db, sqlite3_stmt *st, struct mw_tick_ref *out, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return -ENODATA;
	if (rc != SQLITE_ROW)
		return mw_sql_err(db, rc, what);
	out->id = sqlite3_column_int64(st, 0);
	out->t_ms = sqlite3_column_int64(st, 1);
	return 0;
}

int mw_store_tick_at(struct mw_store *s, int64_t at_ms, struct mw_tick_ref *out)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	int r;

	r = prepare(db,
	            "SELECT id, t_ms FROM ticks WHERE t_ms <= ? ORDER BY t_ms DESC, id DESC"
	            " LIMIT 1",
	            &st, "ticks");
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, at_ms ? at_ms : INT64_MAX);
	r = step_tick(db, st, out, "ticks");
out:
	sqlite3_finalize(st);
	return r;
}

int mw_store_tick_at_or_first(struct mw_store *s, int64_t t_ms, struct mw_tick_ref *out)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	int r;

	r = prepare(db, "SELECT id, t_ms FROM ticks WHERE t_ms <= ?1 ORDER BY t_ms DESC LIMIT 1",
	            &st, "ticks");
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, t_ms);
	r = step_tick(db, st, out, "ticks");
	if (r != -ENODATA)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	r = prepare(db, "SELECT id, t_ms FROM ticks ORDER BY id LIMIT 1", &st, "ticks");
	if (r == 0)
		r = step_tick(db, st, out, "ticks");
out:
	sqlite3_finalize(st);
	return r;
}

int mw_store_tick_step(struct mw_store *s, int64_t from_id, int delta, struct mw_tick_ref *out)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	int r;

	if (delta == 0)
		return -EINVAL;
	r = prepare(db,
	            delta < 0 ? "SELECT id, t_ms FROM ticks WHERE id < ?1 ORDER BY id DESC"
	                        " LIMIT 1 OFFSET ?2"
	                      : "SELECT id, t_ms FROM ticks WHERE id > ?1 ORDER BY id LIMIT 1"
	                        " OFFSET ?2",
	            &st, "step");
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, from_id);
	sqlite3_bind_int64(st, 2, (int64_t)(delta < 0 ? -(int64_t)delta : delta) - 1);
	r = step_tick(db, st, out, "step");
out:
	sqlite3_finalize(st);
	return r;
}

int mw_store_first_tick_ms(struct mw_store *s, int64_t *t_ms)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = prepare(db, "SELECT min(t_ms) FROM ticks", &st, "ticks");
	if (r < 0)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = mw_sql_err(db, rc, "ticks");
		goto out;
	}
	*t_ms = mw_sql_i64(st, 0);
	r = *t_ms == MW_UNKNOWN ? -ENODATA : 0;
out:
	sqlite3_finalize(st);
	return r;
}

void mw_tick_procs_release(struct mw_tick_procs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].cmdline);
		free(p->v[i].cgroup);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static void *grow(void *v, size_t n, size_t *cap, size_t size)
{
	size_t nc;
	void *nv;

	if (n < *cap)
		return v;
	nc = *cap ? *cap * 2 : 256;
	nv = realloc(v, nc * size);
	if (nv)
		*cap = nc;
	return nv;
}

int mw_store_procs_at(struct mw_store *s, int64_t tick_id, bool live, struct mw_tick_procs *out)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	char sql[2048];
	size_t o, cap = 0;
	int rc, r;

	memset(out, 0, sizeof(*out));
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
	         live ? ALIVE_LIVE : ALIVE_REPLAY);
	r = prepare(db, sql, &st, "processes");
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, tick_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *cmd = sqlite3_column_text(st, 6);
		const unsigned char *cg = sqlite3_column_text(st, 7);
		struct mw_tick_proc *p, *v = grow(out->v, out->n, &cap, sizeof(*v));

		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		out->v = v;
		p = &v[out->n++];
		memset(p, 0, sizeof(*p));
		p->proc_id = sqlite3_column_int64(st, 0);
		p->pid = sqlite3_column_int(st, 1);
		p->ppid = sqlite3_column_int(st, 2);
		p->uid = (uint32_t)sqlite3_column_int64(st, 3);
		p->start_ticks = (uint64_t)sqlite3_column_int64(st, 4);
		mw_sql_text(st, 5, p->comm, sizeof(p->comm));
		p->cmdline = strdup(cmd ? (const char *)cmd : "");
		p->cgroup = strdup(cg ? (const char *)cg : "");
		if (!p->cmdline || !p->cgroup) {
			r = -ENOMEM;
			goto out;
		}
		for (int i = 0; i < MW_PM_COUNT; i++)
			p->m[i] = mw_sql_i64(st, 8 + i);
	}
	if (rc != SQLITE_DONE)
		r = mw_sql_err(db, rc, "processes");
out:
	sqlite3_finalize(st);
	if (r < 0)
		mw_tick_procs_release(out);
	return r;
}

void mw_procs_then_release(struct mw_procs_then *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

int mw_store_procs_then(struct mw_store *s, int64_t tick_id, bool live, int64_t then_tick,
                        struct mw_procs_then *out)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	char sql[1024];
	size_t cap = 0;
	int rc, r;

	memset(out, 0, sizeof(*out));
	snprintf(sql, sizeof(sql),
	         "SELECT p.id, t.t_ms, s.rss, s.minflt, s.majflt FROM procs p"
	         " JOIN proc_samples s ON s.proc = p.id AND s.tick = coalesce("
	         " (SELECT max(tick) FROM proc_samples WHERE proc = p.id AND tick <= ?2),"
	         " (SELECT min(tick) FROM proc_samples WHERE proc = p.id))"
	         " JOIN ticks t ON t.id = s.tick WHERE %s ORDER BY p.id",
	         live ? ALIVE_LIVE : ALIVE_REPLAY);
	r = prepare(db, sql, &st, "history");
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, tick_id);
	sqlite3_bind_int64(st, 2, then_tick);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mw_proc_then *p, *v = grow(out->v, out->n, &cap, sizeof(*v));

		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		out->v = v;
		p = &v[out->n++];
		p->proc_id = sqlite3_column_int64(st, 0);
		p->t_ms = sqlite3_column_int64(st, 1);
		p->rss = mw_sql_i64(st, 2);
		p->minflt = mw_sql_i64(st, 3);
		p->majflt = mw_sql_i64(st, 4);
	}
	if (rc != SQLITE_DONE)
		r = mw_sql_err(db, rc, "history");
out:
	sqlite3_finalize(st);
	if (r < 0)
		mw_procs_then_release(out);
	return r;
}

int mw_store_sys_at(struct mw_store *s, int64_t tick_id, struct mw_sys_sample *out)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	char sql[4096];
	size_t o = 0;
	int rc, r, c = 1;

	o += (size_t)snprintf(sql + o, sizeof(sql) - o, "SELECT tick");
	for (int i = 0; i < MW_MI_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",%s", mw_meminfo_columns[i]);
	for (int i = 0; i < MW_VM_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",%s", mw_vmstat_columns[i]);
	for (int i = 0; i < MW_PSI_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",%s", mw_psi_columns[i]);
	snprintf(sql + o, sizeof(sql) - o,
	         " FROM sys_samples WHERE tick <= ? ORDER BY tick DESC LIMIT 1");
	r = prepare(db, sql, &st, "system");
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, tick_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = -ENODATA;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = mw_sql_err(db, rc, "system");
		goto out;
	}
	for (int i = 0; i < MW_MI_COUNT; i++)
		out->mem[i] = mw_sql_i64(st, c++);
	for (int i = 0; i < MW_VM_COUNT; i++)
		out->vm[i] = mw_sql_i64(st, c++);
	for (int i = 0; i < MW_PSI_COUNT; i++)
		out->psi[i] = mw_sql_i64(st, c++);
out:
	sqlite3_finalize(st);
	return r;
}

/* A one-value query with up to two integer parameters; MW_UNKNOWN for NULL or no row. */
static int scalar(sqlite3 *db, const char *sql, int64_t a, int64_t b, int64_t *v)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	*v = MW_UNKNOWN;
	r = prepare(db, sql, &st, "oom_kill");
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = mw_sql_i64(st, 0);
	else if (rc != SQLITE_DONE)
		r = mw_sql_err(db, rc, "oom_kill");
out:
	sqlite3_finalize(st);
	return r;
}

int mw_store_oom_counter_rise(struct mw_store *s, int64_t tick_id, int64_t since_ms, int64_t *t_ms)
{
	sqlite3 *db = mw_store_db(s);
	int64_t now = MW_UNKNOWN, then = MW_UNKNOWN, t;
	int r;

	*t_ms = 0;
	r = scalar(db,
	           "SELECT oom_kill FROM sys_samples WHERE tick <= ?1 ORDER BY tick DESC LIMIT 1",
	           tick_id, 0, &now);
	if (r == 0)
		r = scalar(db,
		           "SELECT s.oom_kill FROM sys_samples s JOIN ticks t ON t.id = s.tick"
		           " WHERE t.t_ms <= ?1 ORDER BY t.t_ms DESC LIMIT 1",
		           since_ms, 0, &then);
	/* A recording younger than the hold time: compare with its start. */
	if (r == 0 && then == MW_UNKNOWN)
		r = scalar(db, "SELECT min(oom_kill) FROM sys_samples WHERE tick <= ?1", tick_id, 0,
		           &then);
	if (r < 0 || now == MW_UNKNOWN || then == MW_UNKNOWN || now <= then)
		return r;
	/* The first sample that shows the present value: the kill came just before it. */
	r = scalar(db,
	           "SELECT min(t.t_ms) FROM sys_samples s JOIN ticks t ON t.id = s.tick"
	           " WHERE s.oom_kill >= ?1 AND t.id <= ?2",
	           now, tick_id, &t);
	if (r == 0 && t != MW_UNKNOWN)
		*t_ms = t;
	return r;
}
