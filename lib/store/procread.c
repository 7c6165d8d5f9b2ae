/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/store/procread.h"
#include "memwatch/base/util.h"
#include "sql.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mw_ipc_series_release(struct mw_ipc_series *sr)
{
	free(sr->t_ms);
	free(sr->v);
	memset(sr, 0, sizeof(*sr));
}

bool mw_store_has_table(struct mw_store *s, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;

	if (sqlite3_prepare_v2(mw_store_db(s),
	                       "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1,
	                       &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

bool mw_store_has_column(struct mw_store *s, const char *table, const char *column)
{
	return mw_sql_has_column(mw_store_db(s), table, column);
}

/* One integer from sql with up to two integer parameters; MW_UNKNOWN on NULL or error. */
static int64_t query_i64(sqlite3 *db, const char *sql, int64_t a1, int64_t a2)
{
	sqlite3_stmt *st = NULL;
	int64_t v = MW_UNKNOWN;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return MW_UNKNOWN;
	sqlite3_bind_int64(st, 1, a1);
	sqlite3_bind_int64(st, 2, a2);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = mw_sql_i64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int64_t mw_store_interval_ms(struct mw_store *s, int64_t since_ms, int64_t until_ms)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	int64_t n = MW_UNKNOWN, lo = MW_UNKNOWN, hi = MW_UNKNOWN;

	if (sqlite3_prepare_v2(db,
	                       "SELECT count(*), min(t_ms), max(t_ms) FROM ticks"
	                       " WHERE t_ms BETWEEN ?1 AND ?2",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, since_ms);
		sqlite3_bind_int64(st, 2, until_ms);
		if (sqlite3_step(st) == SQLITE_ROW) {
			n = mw_sql_i64(st, 0);
			lo = mw_sql_i64(st, 1);
			hi = mw_sql_i64(st, 2);
		}
		sqlite3_finalize(st);
	}
	if (n == MW_UNKNOWN || n < 2 || lo == MW_UNKNOWN || hi == MW_UNKNOWN || hi <= lo)
		return 5000;
	return (hi - lo) / (n - 1) > 0 ? (hi - lo) / (n - 1) : 1;
}

#define MAX_IPC_OBJECTS 256

/* The objects of one series: last value, and when each was removed. */
struct ipc_objs {
	size_t n;
	int64_t id[MAX_IPC_OBJECTS], last[MAX_IPC_OBJECTS], gone_ms[MAX_IPC_OBJECTS];
};

/* Append (t, sum of the live objects' last values). */
static int ipc_push(struct mw_ipc_series *sr, size_t *cap, int64_t t, const struct ipc_objs *o)
{
	int64_t sum = 0;

	if (sr->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		int64_t *tt = realloc(sr->t_ms, nc * sizeof(*tt));
		if (!tt)
			return -ENOMEM;
		sr->t_ms = tt;
		int64_t *vv = realloc(sr->v, nc * sizeof(*vv));
		if (!vv)
			return -ENOMEM;
		sr->v = vv;
		*cap = nc;
	}
	for (size_t i = 0; i < o->n; i++)
		if (o->gone_ms[i] == MW_UNKNOWN || t < o->gone_ms[i])
			sum += o->last[i];
	sr->t_ms[sr->n] = t;
	sr->v[sr->n++] = sum;
	return 0;
}

struct ipc_query {
	int64_t proc_id, since_ms, until_ms, to_ms;
};

/* Rows are change-only: each object's value is carried forward per tick. */
static int load_ipc(sqlite3 *db, const struct ipc_query *q, const char *sql,
                    struct mw_ipc_series *sr)
{
	struct ipc_objs *o = calloc(1, sizeof(*o));
	int64_t cur_t = MW_UNKNOWN;
	size_t cap = 0;
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (!o)
		return -ENOMEM;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out; /* an older or different IPC schema: nothing to say */
	sqlite3_bind_int64(st, 1, q->proc_id);
	sqlite3_bind_int64(st, 2, q->since_ms);
	sqlite3_bind_int64(st, 3, q->until_ms);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 1);
		size_t k = 0;
		if (cur_t != MW_UNKNOWN && t != cur_t)
			r = ipc_push(sr, &cap, cur_t, o);
		cur_t = t;
		while (k < o->n && o->id[k] != id)
			k++;
		if (k == o->n && o->n < MAX_IPC_OBJECTS) {
			o->id[k] = id;
			o->gone_ms[k] = mw_sql_i64(st, 3);
			o->n++;
		}
		if (k < o->n)
			o->last[k] = sqlite3_column_int64(st, 2);
	}
	if (r == 0 && cur_t != MW_UNKNOWN)
		r = ipc_push(sr, &cap, cur_t, o);
	/* Carried forward to the end of the process series, like every step series. */
	if (r == 0 && sr->n && q->to_ms > sr->t_ms[sr->n - 1])
		r = ipc_push(sr, &cap, q->to_ms, o);
out:
	sqlite3_finalize(st);
	free(o);
	return r;
}

/* ?1 proc, ?2 since, ?3 until; columns: object, t_ms, value, removal time. */
#define IPC_SQL(value, kinds)                                                                      \
	"SELECT o.id, t.t_ms, " value ", (SELECT t_ms FROM ticks WHERE id = o.gone_tick)"          \
	" FROM ipc_objects o JOIN ipc_samples s ON s.object = o.id JOIN ticks t ON t.id ="         \
	" s.tick WHERE o.creator = ?1 AND o.kind IN (" kinds ") AND t.t_ms BETWEEN ?2 AND ?3"      \
	" ORDER BY s.tick"

int mw_store_ipc_series(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                        int64_t to_ms, struct mw_ipc_series out[2])
{
	static const char *const sql[2] = {
	        IPC_SQL("coalesce(s.bytes, 0)", "'sysv-msg', 'posix-mqueue'"),
	        /* A SysV segment counts while nobody has it attached; a POSIX object always
	         * (its file stays in /dev/shm until unlinked). */
	        IPC_SQL("CASE WHEN o.kind = 'sysv-shm' AND coalesce(s.nattch, 0) > 0 THEN 0"
	                " ELSE coalesce(s.size, 0) END",
	                "'sysv-shm', 'posix-shm'"),
	};
	const struct ipc_query q = {proc_id, since_ms, until_ms, to_ms};
	int r = 0;

	memset(out, 0, 2 * sizeof(*out));
	if (!mw_store_has_table(s, "ipc_objects") || !mw_store_has_table(s, "ipc_samples"))
		return 0;
	for (int i = 0; i < 2 && r == 0; i++)
		r = load_ipc(mw_store_db(s), &q, sql[i], &out[i]);
	if (r < 0) {
		mw_ipc_series_release(&out[0]);
		mw_ipc_series_release(&out[1]);
	}
	return r;
}

/* Columns path, limit, usage of the latest memcg row; ?1 cgroup text id, ?2 until. */
#define MEMCG_SQL(cgroup)                                                                          \
	"SELECT l.value, m.limit_bytes, m.usage_bytes FROM memcg_samples m"                        \
	" JOIN ticks t ON t.id = m.tick JOIN strings l ON l.id = m.path"                           \
	" WHERE m.cgroup = " cgroup " AND t.t_ms <= ?2 ORDER BY m.tick DESC LIMIT 1"

static int memcg_query(struct mw_store *s, const char *sql, const char *text, int64_t id,
                       int64_t until_ms, struct mw_cgroup_limit *out)
{
	sqlite3_stmt *st = NULL;
	int r = -ENOENT, rc;

	out->limit = out->usage = MW_UNKNOWN;
	out->path[0] = '\0';
	/* Databases from before step 8 have no limits: say so, do not guess. */
	if (!mw_store_has_table(s, "memcg_samples"))
		return -ENOENT;
	rc = sqlite3_prepare_v2(mw_store_db(s), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(mw_store_db(s), rc, "memcg");
	if (text)
		sqlite3_bind_text(st, 1, text, (int)strlen(text), SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, until_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		mw_sql_text(st, 0, out->path, sizeof(out->path));
		out->limit = mw_sql_i64(st, 1);
		out->usage = mw_sql_i64(st, 2);
		r = 0;
	} else if (rc != SQLITE_DONE) {
		r = mw_sql_err(mw_store_db(s), rc, "memcg");
	}
	sqlite3_finalize(st);
	return r;
}

int mw_store_memcg_at(struct mw_store *s, const char *cgroup_text, int64_t until_ms,
                      struct mw_cgroup_limit *out)
{
	return memcg_query(s, MEMCG_SQL("(SELECT id FROM strings WHERE value = ?1)"),
	                   cgroup_text ? cgroup_text : "", 0, until_ms, out);
}

int mw_store_memcg_of_proc(struct mw_store *s, int64_t proc_id, int64_t until_ms,
                           struct mw_cgroup_limit *out)
{
	return memcg_query(s, MEMCG_SQL("(SELECT cgroup FROM procs WHERE id = ?1)"), NULL, proc_id,
	                   until_ms, out);
}

int mw_store_proc_context(struct mw_store *s, int64_t proc_id, int64_t until_ms,
                          struct mw_proc_context *out)
{
	sqlite3 *db = mw_store_db(s);
	int64_t cgroup = MW_UNKNOWN;
	sqlite3_stmt *st = NULL;
	int r = 0;

	out->pid = 0;
	out->exit_ms = MW_UNKNOWN;
	out->memcg.limit = out->memcg.usage = MW_UNKNOWN;
	out->memcg.path[0] = '\0';
	out->mem_available =
	        query_i64(db,
	                  "SELECT mem_available FROM sys_samples WHERE tick <= (SELECT"
	                  " max(id) FROM ticks WHERE t_ms <= ?1) ORDER BY tick DESC LIMIT 1",
	                  until_ms, 0);
	if (sqlite3_prepare_v2(db,
	                       "SELECT pid, cgroup, (SELECT t_ms FROM ticks WHERE id = exit_tick"
	                       " AND t_ms <= ?2) FROM procs WHERE id = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		return mw_sql_err(db, sqlite3_errcode(db), "procs");
	sqlite3_bind_int64(st, 1, proc_id);
	sqlite3_bind_int64(st, 2, until_ms);
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->pid = (pid_t)sqlite3_column_int64(st, 0);
		cgroup = mw_sql_i64(st, 1);
		out->exit_ms = mw_sql_i64(st, 2);
	} else {
		r = -ENOENT;
	}
	sqlite3_finalize(st);
	if (r == 0 && cgroup != MW_UNKNOWN)
		memcg_query(s, MEMCG_SQL("?1"), NULL, cgroup, until_ms, &out->memcg);
	return r;
}
