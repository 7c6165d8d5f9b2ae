/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Retention in bounded steps. Design (docs/schema-daemon.md):
 *  - rollups are built from raw rows as soon as a bucket is complete, both
 *    tiers straight from raw, each with its own watermark in meta
 *    (rollup_60_ms, rollup_3600_ms), so neither tier depends on the other
 *    and raw rows are never deleted before both tiers have covered them;
 *  - raw ticks older than the raw window go in batches (all tables with a
 *    `tick` column follow), rollups past their windows likewise;
 *  - over the size cap the oldest raw ticks go first (rollups keep the
 *    trend), then the oldest minute rollups, then the oldest hour rollups;
 *  - freed pages go back with PRAGMA incremental_vacuum, bounded per step.
 */
#include "memwatch/store/retention.h"
#include "sql.h"
#include "memwatch/base/log.h"
#include "memwatch/store/store.h"
#include "memwatch/collect/sysmem.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <sqlite3.h>
#include <string.h>

#define MS_PER_MIN 60000LL
/* Bounds per step: a step stays in the low milliseconds on a 500-process host. */
#define STEP_MINUTES        120
#define STEP_HOURS          2
#define STEP_TICKS          240
#define STEP_ROLLUP_SPAN_MS (2 * 3600 * 1000LL)
#define STEP_VACUUM_PAGES   2048
#define STEP_PROCS          1000
#define STEP_EVENTS         5000
/* Under the size cap, raw rows younger than this are kept so "now" stays answerable. */
#define MIN_RAW_MS (10 * MS_PER_MIN)

/*
 * Every metric keeps its last value per bucket; the ones a leak shows in
 * also keep min and max (a minute row is ~100 bytes instead of ~230, which
 * decides whether 30 days of minute rollups fit the default cap).
 */
#define X_PROLL(col, kind) #col "_last",
static const int minmax_metrics[] = {MW_PM_rss, MW_PM_rss_anon, MW_PM_swap};
const char *const mw_rollup_proc_columns[] = {MW_PROC_METRICS(X_PROLL) "rss_min",
                                              "rss_max",
                                              "rss_anon_min",
                                              "rss_anon_max",
                                              "swap_min",
                                              "swap_max"};
const size_t mw_rollup_proc_ncolumns = MW_ARRAY_SIZE(mw_rollup_proc_columns);

/* Levels keep min/max/last; vmstat counters only need last (rates are differences). */
#define X_SROLL_MEM(col, key)       #col "_min", #col "_max", #col "_last",
#define X_SROLL_VM(col, key)        #col "_last",
#define X_SROLL_PSI(col, line, fld) #col "_min", #col "_max", #col "_last",
const char *const mw_rollup_sys_columns[] = {
        MW_MEMINFO_FIELDS(X_SROLL_MEM) MW_VMSTAT_FIELDS(X_SROLL_VM) MW_PSI_FIELDS(X_SROLL_PSI)};
const size_t mw_rollup_sys_ncolumns = MW_ARRAY_SIZE(mw_rollup_sys_columns);

/* Run sql with up to 4 integer parameters; the first column of the first row into *out. */
static int run(sqlite3 *db, const char *sql, int np, const int64_t *p, int64_t *out,
               int64_t *changes)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return mw_sql_err(db, rc, sql);
	for (int i = 0; i < np; i++)
		sqlite3_bind_int64(st, i + 1, p[i]);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && out)
		*out = mw_sql_i64(st, 0);
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return mw_sql_err(db, rc, sql);
	if (changes)
		*changes += sqlite3_changes(db);
	return 0;
}

static int q1(sqlite3 *db, const char *sql, int np, const int64_t *p, int64_t *out)
{
	*out = MW_UNKNOWN;
	return run(db, sql, np, p, out, NULL);
}

/* "INSERT ... SELECT" for one bucket of tick ids [?1, ?2] into rollups (res ?3, start ?4). */
static int build_proc_sql(char *b, size_t cap)
{
	size_t o = 0;

#define P(...) o += (size_t)snprintf(b + o, o < cap ? cap - o : 0, __VA_ARGS__)
	P("INSERT OR REPLACE INTO proc_rollups(res,t_ms,proc,n");
	for (size_t i = 0; i < mw_rollup_proc_ncolumns; i++)
		P(",%s", mw_rollup_proc_columns[i]);
	P(") SELECT ?3,?4,a.proc,a.n");
	for (int i = 0; i < MW_PM_COUNT; i++)
		P(",l.%s", mw_proc_metric_names[i]);
	for (size_t k = 0; k < MW_ARRAY_SIZE(minmax_metrics); k++)
		P(",a.%s_min,a.%s_max", mw_proc_metric_names[minmax_metrics[k]],
		  mw_proc_metric_names[minmax_metrics[k]]);
	P(" FROM (SELECT proc,count(*) AS n,max(tick) AS lt");
	for (size_t k = 0; k < MW_ARRAY_SIZE(minmax_metrics); k++) {
		const char *c = mw_proc_metric_names[minmax_metrics[k]];
		P(",min(%s) AS %s_min,max(%s) AS %s_max", c, c, c, c);
	}
	P(" FROM proc_samples WHERE tick BETWEEN ?1 AND ?2 GROUP BY proc) a"
	  " JOIN proc_samples l ON l.proc = a.proc AND l.tick = a.lt");
	return o < cap ? 0 : -ENAMETOOLONG;
}

static void sys_cols(char *b, size_t cap, size_t *o, const char *const *names, size_t n,
                     bool minmax, bool aggregate)
{
	for (size_t i = 0; i < n; i++) {
		const char *c = names[i];
		if (aggregate && minmax)
			*o += (size_t)snprintf(b + *o, *o < cap ? cap - *o : 0,
			                       ",min(%s) AS %s_min,max(%s) AS %s_max", c, c, c, c);
		else if (!aggregate && minmax)
			*o += (size_t)snprintf(b + *o, *o < cap ? cap - *o : 0,
			                       ",a.%s_min,a.%s_max,l.%s", c, c, c);
		else if (!aggregate)
			*o += (size_t)snprintf(b + *o, *o < cap ? cap - *o : 0, ",l.%s", c);
	}
}

static int build_sys_sql(char *b, size_t cap)
{
	size_t o = 0;

	P("INSERT OR REPLACE INTO sys_rollups(res,t_ms,n");
	for (size_t i = 0; i < mw_rollup_sys_ncolumns; i++)
		P(",%s", mw_rollup_sys_columns[i]);
	P(") SELECT ?3,?4,a.n");
	sys_cols(b, cap, &o, mw_meminfo_columns, MW_MI_COUNT, true, false);
	sys_cols(b, cap, &o, mw_vmstat_columns, MW_VM_COUNT, false, false);
	sys_cols(b, cap, &o, mw_psi_columns, MW_PSI_COUNT, true, false);
	P(" FROM (SELECT count(*) AS n,max(tick) AS lt");
	sys_cols(b, cap, &o, mw_meminfo_columns, MW_MI_COUNT, true, true);
	sys_cols(b, cap, &o, mw_psi_columns, MW_PSI_COUNT, true, true);
	P(" FROM sys_samples WHERE tick BETWEEN ?1 AND ?2) a JOIN sys_samples l ON l.tick = a.lt");
#undef P
	return o < cap ? 0 : -ENAMETOOLONG;
}

static int meta_i64(sqlite3 *db, const char *key, int64_t *v)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL);

	*v = MW_UNKNOWN;
	if (rc != SQLITE_OK)
		return mw_sql_err(db, rc, "meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int meta_set_i64(sqlite3 *db, const char *key, int64_t v)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", -1,
	                            &st, NULL);

	if (rc != SQLITE_OK)
		return mw_sql_err(db, rc, "meta set");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : mw_sql_err(db, rc, "meta set");
}

static int step_reset(sqlite3 *db, sqlite3_stmt *st, const int64_t *p, int np)
{
	int rc;

	for (int i = 0; i < np; i++)
		sqlite3_bind_int64(st, i + 1, p[i]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : mw_sql_err(db, rc, "rollup insert");
}

/* Build up to `budget` buckets of one tier; returns the tier's watermark in *wm_out. */
static int roll_tier(sqlite3 *db, int res_s, int64_t keep_ms, int64_t now_ms, int budget,
                     uint64_t deadline, int64_t *wm_out, int64_t *built, bool *more)
{
	char key[32], psql[8192], ssql[12288];
	sqlite3_stmt *pst = NULL, *sst = NULL;
	int64_t wm, bucket = (int64_t)res_s * 1000, v;
	int r, rc;

	snprintf(key, sizeof(key), "rollup_%d_ms", res_s);
	r = meta_i64(db, key, &wm);
	if (r == 0)
		r = build_proc_sql(psql, sizeof(psql));
	if (r == 0)
		r = build_sys_sql(ssql, sizeof(ssql));
	if (r < 0)
		return r;
	for (int k = 0; k < budget; k++) {
		int64_t lo, hi, p[4];
		if (deadline && mw_mono_ns() > deadline) {
			*more = true; /* the rest next time: the tick comes first */
			break;
		}
		/* Jump over gaps (and buckets already past this tier's window) to the next tick. */
		int64_t from = wm == MW_UNKNOWN ? INT64_MIN : wm;
		if (from < now_ms - keep_ms)
			from = now_ms - keep_ms;
		r = q1(db, "SELECT min(t_ms) FROM ticks WHERE t_ms >= ?1", 1, &from, &v);
		if (r < 0 || v == MW_UNKNOWN)
			break;
		v -= ((v % bucket) + bucket) % bucket;
		/* Only complete buckets, a grace tick behind now. */
		if (v + bucket > now_ms - 5000)
			break;
		p[0] = v;
		p[1] = v + bucket;
		/* +id: through the t_ms index; min(id) alone would walk the rowids from the start.
		 */
		r = q1(db, "SELECT min(+id) FROM ticks WHERE t_ms >= ?1 AND t_ms < ?2", 2, p, &lo);
		if (r == 0)
			r = q1(db, "SELECT max(+id) FROM ticks WHERE t_ms >= ?1 AND t_ms < ?2", 2,
			       p, &hi);
		if (r < 0)
			break;
		if (lo != MW_UNKNOWN) {
			int64_t q[4] = {lo, hi, res_s, v};
			if (!pst &&
			    (rc = sqlite3_prepare_v2(db, psql, -1, &pst, NULL)) != SQLITE_OK) {
				r = mw_sql_err(db, rc, "rollup sql");
				break;
			}
			if (!sst &&
			    (rc = sqlite3_prepare_v2(db, ssql, -1, &sst, NULL)) != SQLITE_OK) {
				r = mw_sql_err(db, rc, "rollup sql");
				break;
			}
			r = step_reset(db, pst, q, 4);
			if (r == 0)
				r = step_reset(db, sst, q, 4);
			if (r < 0)
				break;
			(*built)++;
		}
		wm = v + bucket;
		if (k == budget - 1)
			*more = true;
	}
	sqlite3_finalize(pst);
	sqlite3_finalize(sst);
	if (r == 0 && wm != MW_UNKNOWN)
		r = meta_set_i64(db, key, wm);
	*wm_out = wm;
	return r;
}

/*
 * Delete raw ticks with id <= hi from every table keyed by tick, except
 * `tunables`: it is written only when a value changes, so its old rows are
 * the current settings, and it holds a handful of rows.
 */
static int delete_ticks_upto(sqlite3 *db, int64_t hi, int64_t *deleted)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(db,
	                        "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c"
	                        " WHERE m.type = 'table' AND c.name = 'tick'"
	                        " AND m.name <> 'tunables'",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(db, rc, "tick tables");
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *sql = sqlite3_mprintf("DELETE FROM \"%w\" WHERE tick <= ?1",
		                            (const char *)sqlite3_column_text(st, 0));
		r = sql ? run(db, sql, 1, &hi, NULL, NULL) : -ENOMEM;
		sqlite3_free(sql);
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return run(db, "DELETE FROM ticks WHERE id <= ?1", 1, &hi, NULL, deleted);
}

/* The oldest batch of ticks older than cutoff_ms. */
static int drop_raw_before(sqlite3 *db, int64_t cutoff_ms, struct mw_retention_stats *st)
{
	int64_t p[2] = {cutoff_ms, STEP_TICKS}, hi, n = 0;
	int r = q1(db,
	           "SELECT max(id), count(*) FROM (SELECT id FROM ticks WHERE t_ms < ?1"
	           " ORDER BY t_ms LIMIT ?2)",
	           2, p, &hi);

	if (r < 0 || hi == MW_UNKNOWN)
		return r;
	r = delete_ticks_upto(db, hi, &n);
	st->deleted_ticks += n;
	if (n >= STEP_TICKS)
		st->more = true;
	return r;
}

static int drop_rollups_before(sqlite3 *db, int res_s, int64_t cutoff_ms,
                               struct mw_retention_stats *st)
{
	int64_t p[2] = {res_s, cutoff_ms}, oldest, before = st->deleted_rollups;
	int r = q1(db, "SELECT min(t_ms) FROM sys_rollups WHERE res = ?1", 1, p, &oldest);
	int64_t q[2];

	if (r < 0 || oldest == MW_UNKNOWN || oldest >= cutoff_ms)
		return r;
	q[0] = res_s;
	q[1] = oldest + STEP_ROLLUP_SPAN_MS < cutoff_ms ? oldest + STEP_ROLLUP_SPAN_MS : cutoff_ms;
	r = run(db, "DELETE FROM proc_rollups WHERE res = ?1 AND t_ms < ?2", 2, q, NULL,
	        &st->deleted_rollups);
	if (r == 0)
		r = run(db, "DELETE FROM sys_rollups WHERE res = ?1 AND t_ms < ?2", 2, q, NULL,
		        &st->deleted_rollups);
	if (r == 0 && (q[1] < cutoff_ms || st->deleted_rollups > before))
		st->more = st->more || q[1] < cutoff_ms;
	return r;
}

static int used_bytes(sqlite3 *db, int64_t *used)
{
	int64_t pages, free_pages, psize;
	int r = q1(db, "PRAGMA page_count", 0, NULL, &pages);

	if (r == 0)
		r = q1(db, "PRAGMA freelist_count", 0, NULL, &free_pages);
	if (r == 0)
		r = q1(db, "PRAGMA page_size", 0, NULL, &psize);
	if (r == 0)
		*used = (pages - free_pages) * psize;
	return r;
}

/* Over the cap: the oldest raw ticks (beyond the last few minutes), then minute, then hour rollups.
 */
static int enforce_cap(sqlite3 *db, const struct mw_retention_policy *p, int64_t now_ms,
                       struct mw_retention_stats *st)
{
	int64_t used, oldest, before;
	int r = used_bytes(db, &used);

	if (r < 0 || !p->max_bytes || used <= (int64_t)p->max_bytes)
		return r;
	st->more = true;
	before = st->deleted_ticks;
	r = drop_raw_before(db, now_ms - MIN_RAW_MS, st);
	if (r < 0 || st->deleted_ticks > before)
		return r;
	before = st->deleted_rollups;
	for (int res = MW_ROLLUP_MINUTE; res <= MW_ROLLUP_HOUR && r == 0;
	     res = res == MW_ROLLUP_MINUTE ? MW_ROLLUP_HOUR : MW_ROLLUP_HOUR + 1) {
		int64_t pr = res;
		r = q1(db, "SELECT min(t_ms) FROM sys_rollups WHERE res = ?1", 1, &pr, &oldest);
		if (r == 0 && oldest != MW_UNKNOWN)
			r = drop_rollups_before(db, res, oldest + STEP_ROLLUP_SPAN_MS, st);
		if (st->deleted_rollups > before)
			return r;
	}
	st->more = false; /* nothing left that may go */
	return r;
}

static int forget_procs(sqlite3 *db, struct mw_retention_stats *st)
{
	int64_t lim = STEP_PROCS;

	/* Exited before the oldest raw tick, with no rows left anywhere we keep. */
	return run(db,
	           "DELETE FROM procs WHERE id IN (SELECT p.id FROM procs p WHERE"
	           " p.exit_tick IS NOT NULL AND p.exit_tick < (SELECT coalesce(min(id), 0) FROM "
	           "ticks)"
	           " AND NOT EXISTS (SELECT 1 FROM proc_rollups r WHERE r.proc = p.id)"
	           " AND NOT EXISTS (SELECT 1 FROM proc_samples s WHERE s.proc = p.id) LIMIT ?1)",
	           1, &lim, NULL, &st->deleted_procs);
}

static int step_body(sqlite3 *db, const struct mw_retention_policy *p, int64_t now_ms,
                     struct mw_retention_stats *st)
{
	uint64_t deadline = p->budget_ns ? mw_mono_ns() + p->budget_ns : 0;
	int64_t wm_min = MW_UNKNOWN, wm_hour = MW_UNKNOWN, cutoff, q[2];
	int r;

	r = roll_tier(db, MW_ROLLUP_MINUTE, (int64_t)(p->minute_ns / 1000000), now_ms, STEP_MINUTES,
	              deadline, &wm_min, &st->rolled_minutes, &st->more);
	if (r == 0)
		r = roll_tier(db, MW_ROLLUP_HOUR, (int64_t)(p->hour_ns / 1000000), now_ms,
		              STEP_HOURS, deadline, &wm_hour, &st->rolled_hours, &st->more);
	if (r < 0)
		return r;
	/* Raw goes only once both tiers have covered it. */
	cutoff = now_ms - (int64_t)(p->raw_ns / 1000000);
	if (wm_min == MW_UNKNOWN || wm_hour == MW_UNKNOWN)
		cutoff = INT64_MIN;
	else
		cutoff = cutoff < wm_min ? (cutoff < wm_hour ? cutoff : wm_hour)
		                         : (wm_min < wm_hour ? wm_min : wm_hour);
	if (cutoff != INT64_MIN)
		r = drop_raw_before(db, cutoff, st);
	if (r == 0)
		r = drop_rollups_before(db, MW_ROLLUP_MINUTE,
		                        now_ms - (int64_t)(p->minute_ns / 1000000), st);
	if (r == 0)
		r = drop_rollups_before(db, MW_ROLLUP_HOUR,
		                        now_ms - (int64_t)(p->hour_ns / 1000000), st);
	if (r == 0) {
		/* Events live as long as the minute tier: they explain its trends. */
		q[0] = now_ms - (int64_t)(p->minute_ns / 1000000);
		q[1] = STEP_EVENTS;
		r = run(db,
		        "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE t_ms < ?1"
		        " ORDER BY id LIMIT ?2)",
		        2, q, NULL, &st->deleted_events);
	}
	if (r == 0)
		r = forget_procs(db, st);
	if (r == 0)
		r = enforce_cap(db, p, now_ms, st);
	return r;
}

int mw_retention_step(struct mw_store *s, const struct mw_retention_policy *p, uint64_t now_ns,
                      struct mw_retention_stats *st)
{
	sqlite3 *db = mw_store_db(s);
	int64_t now_ms = (int64_t)(now_ns / 1000000), freel = 0, av = 0, n = STEP_VACUUM_PAGES;
	int rc, r;

	memset(st, 0, sizeof(*st));
	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(db, rc, "begin");
	r = step_body(db, p, now_ms, st);
	if (r == 0) {
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			r = mw_sql_err(db, rc, "commit");
	}
	if (r < 0) {
		if (!sqlite3_get_autocommit(db)) /* SQLite may have rolled back already */
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	/* Give freed pages back, a bounded number per step (auto_vacuum = INCREMENTAL files). */
	r = q1(db, "PRAGMA auto_vacuum", 0, NULL, &av);
	if (r == 0)
		r = q1(db, "PRAGMA freelist_count", 0, NULL, &freel);
	if (r == 0 && av == 2 && freel > 0) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%lld)", (long long)n);
		r = run(db, sql, 0, NULL, NULL, NULL);
		st->vacuumed_pages = freel < n ? freel : n;
		if (freel > n)
			st->more = true;
	}
	if (r == 0)
		r = used_bytes(db, &st->used_bytes);
	return r;
}

int mw_retention_run(struct mw_store *s, const struct mw_retention_policy *p, uint64_t now_ns,
                     size_t max_steps, struct mw_retention_stats *total)
{
	struct mw_retention_stats st;
	int r = 0;

	memset(total, 0, sizeof(*total));
	for (size_t i = 0; i < max_steps; i++) {
		r = mw_retention_step(s, p, now_ns, &st);
		if (r < 0)
			break;
		total->rolled_minutes += st.rolled_minutes;
		total->rolled_hours += st.rolled_hours;
		total->deleted_ticks += st.deleted_ticks;
		total->deleted_rollups += st.deleted_rollups;
		total->deleted_events += st.deleted_events;
		total->deleted_procs += st.deleted_procs;
		total->vacuumed_pages += st.vacuumed_pages;
		total->used_bytes = st.used_bytes;
		total->more = st.more;
		if (!st.more)
			break;
	}
	if (r == 0)
		/* Fold the WAL back so the file on disk reflects the vacuum. */
		sqlite3_wal_checkpoint_v2(mw_store_db(s), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
		                          NULL);
	return r;
}

void mw_rollup_series_release(struct mw_rollup_series *r)
{
	free(r->t_ms);
	free(r->nrows);
	free(r->min);
	free(r->max);
	free(r->last);
	memset(r, 0, sizeof(*r));
}

static int rollup_grow(struct mw_rollup_series *o, size_t *cap)
{
	size_t nc = *cap ? *cap * 2 : 64;
	void *p;

	if (o->n < *cap)
		return 0;
#define GROW(f)                                                                                    \
	p = realloc(o->f, nc * sizeof(*o->f));                                                     \
	if (!p)                                                                                    \
		return -ENOMEM;                                                                    \
	o->f = p;
	GROW(t_ms)
	GROW(nrows)
	GROW(min)
	GROW(max)
	GROW(last)
#undef GROW
	*cap = nc;
	return 0;
}

int mw_store_proc_rollup_series(struct mw_store *s, int64_t proc_id, int res_s, int64_t since_ms,
                                int64_t until_ms, struct mw_rollup_series *out)
{
	char sql[4096];
	size_t o, cap = 0;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = mw_store_db(s);
	int rc, r = 0;

	memset(out, 0, sizeof(*out));
	out->res_s = res_s;
	o = (size_t)snprintf(sql, sizeof(sql), "SELECT t_ms, n");
	for (size_t i = 0; i < mw_rollup_proc_ncolumns; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",%s", mw_rollup_proc_columns[i]);
	snprintf(sql + o, sizeof(sql) - o,
	         " FROM proc_rollups WHERE proc = ?1 AND res = ?2 AND t_ms >= ?3 AND t_ms <= ?4"
	         " ORDER BY t_ms");
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(db, rc, "rollup series");
	sqlite3_bind_int64(st, 1, proc_id);
	sqlite3_bind_int(st, 2, res_s);
	sqlite3_bind_int64(st, 3, since_ms);
	sqlite3_bind_int64(st, 4, until_ms);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = rollup_grow(out, &cap);
		if (r < 0)
			break;
		out->t_ms[out->n] = sqlite3_column_int64(st, 0);
		out->nrows[out->n] = sqlite3_column_int64(st, 1);
		for (int m = 0; m < MW_PM_COUNT; m++) {
			out->last[out->n][m] = mw_sql_i64(st, 2 + m);
			out->min[out->n][m] = out->max[out->n][m] = MW_UNKNOWN;
		}
		for (size_t k = 0; k < MW_ARRAY_SIZE(minmax_metrics); k++) {
			out->min[out->n][minmax_metrics[k]] =
			        mw_sql_i64(st, 2 + MW_PM_COUNT + 2 * (int)k);
			out->max[out->n][minmax_metrics[k]] =
			        mw_sql_i64(st, 3 + MW_PM_COUNT + 2 * (int)k);
		}
		out->n++;
	}
	sqlite3_finalize(st);
	if (r == 0 && rc != SQLITE_DONE)
		r = mw_sql_err(db, rc, "rollup series");
	if (r < 0)
		mw_rollup_series_release(out);
	return r;
}

static int series_append(struct mw_series *sr, size_t *cap, int64_t t, const int64_t *m)
{
	if (sr->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		int64_t *tt = realloc(sr->t_ms, nc * sizeof(*tt));
		if (!tt)
			return -ENOMEM;
		sr->t_ms = tt;
		int64_t(*mm)[MW_PM_COUNT] = realloc(sr->m, nc * sizeof(*mm));
		if (!mm)
			return -ENOMEM;
		sr->m = mm;
		*cap = nc;
	}
	sr->t_ms[sr->n] = t;
	memcpy(sr->m[sr->n], m, sizeof(sr->m[0]));
	sr->n++;
	return 0;
}

int mw_store_proc_series_long(struct mw_store *s, int64_t proc_id, int64_t since_ms,
                              int64_t until_ms, struct mw_series *out)
{
	struct mw_rollup_series ro = {0};
	struct mw_series raw = {0};
	int64_t first_raw = MW_UNKNOWN, cur[MW_PM_COUNT];
	size_t cap = 0;
	int res, r;

	memset(out, 0, sizeof(*out));
	r = q1(mw_store_db(s), "SELECT min(t_ms) FROM ticks", 0, NULL, &first_raw);
	if (r < 0)
		return r;
	if (first_raw == MW_UNKNOWN || first_raw > until_ms)
		first_raw = until_ms + 1;
	if (since_ms < first_raw) {
		res = first_raw - since_ms > 7 * 86400000LL ? MW_ROLLUP_HOUR : MW_ROLLUP_MINUTE;
		/* Whole buckets that end before the raw rows begin. */
		r = mw_store_proc_rollup_series(s, proc_id, res, since_ms,
		                                first_raw - (int64_t)res * 1000, &ro);
		for (int m = 0; m < MW_PM_COUNT; m++)
			cur[m] = MW_UNKNOWN;
		for (size_t i = 0; r == 0 && i < ro.n; i++) {
			for (int m = 0; m < MW_PM_COUNT; m++)
				if (ro.last[i][m] != MW_UNKNOWN)
					cur[m] = ro.last[i][m];
			/* The bucket's last value stands at the bucket's end. */
			r = series_append(out, &cap, ro.t_ms[i] + (int64_t)res * 1000 - 1, cur);
		}
		mw_rollup_series_release(&ro);
	}
	if (r == 0 && first_raw <= until_ms)
		r = mw_store_proc_series(s, proc_id, since_ms > first_raw ? since_ms : first_raw,
		                         until_ms, &raw);
	for (size_t i = 0; r == 0 && i < raw.n; i++)
		r = series_append(out, &cap, raw.t_ms[i], raw.m[i]);
	mw_series_release(&raw);
	if (r < 0)
		mw_series_release(out);
	return r;
}
