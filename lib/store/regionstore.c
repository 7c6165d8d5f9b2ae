/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Region samples in the store: the writer the daemon's regions source uses
 * inside its tick transaction, and the step-series reader (both tables
 * described in docs/schema-regions.md). Columns follow the X-macro lists of
 * memwatch/collect/region.h, as the schema in store.c does.
 */
#include "memwatch/store/regionstore.h"
#include "sql.h"
#include "memwatch/store/store.h"
#include "memwatch/store/procread.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct mw_region_writer {
	sqlite3 *db;
	sqlite3_stmt *reg, *fd, *lim;
};

#define REG_VALUE_COLS(name, str) ",?,?,?,?"
#define PSS_NAME_COLS(name)       "," #name
#define PSS_VALUE_COLS(name)      ",?"
#define REG_NAME_COLS(name, str)  "," str "_size," str "_rss," str "_swap," str "_count"
#define FD_NAME_COLS(name)        "," #name
#define FD_VALUE_COLS(name)       ",?"

static const char reg_insert_sql[] =
        "INSERT OR REPLACE INTO region_samples(proc,tick,t_ms,full,err,files,so_files,so_hash,"
        "stacks,read_us" MW_REGION_KINDS(REG_NAME_COLS) MW_PSS_FIELDS(
                PSS_NAME_COLS) ") VALUES(?,?,?,?,?,?,?,?,?,?" MW_REGION_KINDS(REG_VALUE_COLS)
                MW_PSS_FIELDS(PSS_VALUE_COLS) ")";
static const char fd_insert_sql[] =
        "INSERT OR REPLACE INTO fd_samples(proc,tick,t_ms,full,err" MW_FD_KINDS(
                FD_NAME_COLS) ") VALUES(?,?,?,?,?" MW_FD_KINDS(FD_VALUE_COLS) ")";

static const char lim_insert_sql[] =
        "INSERT OR REPLACE INTO proc_limits(proc,tick,t_ms,nofile_soft,nofile_hard,stack_soft,"
        "nproc_soft) VALUES(?,?,?,?,?,?,?)";

int mw_region_writer_new(struct mw_store *s, struct mw_region_writer **out)
{
	struct mw_region_writer *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return -ENOMEM;
	w->db = mw_store_db(s);
	rc = sqlite3_prepare_v3(w->db, reg_insert_sql, -1, SQLITE_PREPARE_PERSISTENT, &w->reg,
	                        NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(w->db, fd_insert_sql, -1, SQLITE_PREPARE_PERSISTENT, &w->fd,
		                        NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(w->db, lim_insert_sql, -1, SQLITE_PREPARE_PERSISTENT,
		                        &w->lim, NULL);
	if (rc != SQLITE_OK) {
		mw_region_writer_free(w);
		return mw_sql_err(NULL, rc, "regions");
	}
	*out = w;
	return 0;
}

void mw_region_writer_free(struct mw_region_writer *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->reg);
	sqlite3_finalize(w->fd);
	sqlite3_finalize(w->lim);
	free(w);
}

static int step_reset(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : mw_sql_err(NULL, rc, "regions");
}

static void bind_head(sqlite3_stmt *st, int64_t proc_id, int64_t tick, int64_t t_ms, bool full,
                      bool readable, int err)
{
	sqlite3_bind_int64(st, 1, proc_id);
	sqlite3_bind_int64(st, 2, tick);
	sqlite3_bind_int64(st, 3, t_ms);
	sqlite3_bind_int(st, 4, full);
	if (!readable)
		sqlite3_bind_int(st, 5, err < 0 ? -err : EIO);
}

/* Unbound parameters are NULL: an unreadable sample stores only its error code. */
int mw_region_write(struct mw_region_writer *w, int64_t proc_id, int64_t tick, int64_t t_ms,
                    bool full, const struct mw_regions *reg)
{
	sqlite3_stmt *st = w->reg;
	int idx = 6;

	bind_head(st, proc_id, tick, t_ms, full, reg->readable, reg->err);
	if (reg->readable) {
		sqlite3_bind_int64(st, idx++, reg->files);
		sqlite3_bind_int64(st, idx++, reg->so_files);
		sqlite3_bind_int64(st, idx++, (int64_t)reg->so_hash);
		sqlite3_bind_int64(st, idx++, reg->stacks);
		sqlite3_bind_int64(st, idx++, reg->read_us);
		for (int k = 0; k < MW_REG_COUNT; k++) {
			sqlite3_bind_int64(st, idx++, reg->r[k].size);
			sqlite3_bind_int64(st, idx++, reg->r[k].rss);
			sqlite3_bind_int64(st, idx++, reg->r[k].swap);
			sqlite3_bind_int64(st, idx++, reg->r[k].count);
		}
		/* Unknown (a kernel without Pss in smaps) stays NULL. */
		for (int k = 0; k < MW_PSS_COUNT; k++, idx++)
			if (reg->pss[k] != MW_UNKNOWN)
				sqlite3_bind_int64(st, idx, reg->pss[k]);
	}
	return step_reset(st);
}

int mw_fd_kinds_write(struct mw_region_writer *w, int64_t proc_id, int64_t tick, int64_t t_ms,
                      bool full, const struct mw_fd_kinds *fds)
{
	sqlite3_stmt *st = w->fd;

	bind_head(st, proc_id, tick, t_ms, full, fds->readable, fds->err);
	if (fds->readable)
		for (int k = 0; k < MW_FD_COUNT; k++)
			sqlite3_bind_int64(st, 6 + k, fds->n[k]);
	return step_reset(st);
}

static void bind_limit(sqlite3_stmt *st, int idx, int64_t v)
{
	if (v != MW_UNKNOWN)
		sqlite3_bind_int64(st, idx, v);
}

int mw_limits_write(struct mw_region_writer *w, int64_t proc_id, int64_t tick, int64_t t_ms,
                    const struct mw_proc_limits *lim)
{
	sqlite3_stmt *st = w->lim;

	sqlite3_bind_int64(st, 1, proc_id);
	sqlite3_bind_int64(st, 2, tick);
	sqlite3_bind_int64(st, 3, t_ms);
	bind_limit(st, 4, lim->nofile_soft);
	bind_limit(st, 5, lim->nofile_hard);
	bind_limit(st, 6, lim->stack_soft);
	bind_limit(st, 7, lim->nproc_soft);
	return step_reset(st);
}

static int64_t limit_column(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? MW_UNKNOWN
	                                                   : sqlite3_column_int64(st, col);
}

int mw_store_proc_limits(struct mw_store *s, int64_t proc_id, int64_t until_ms,
                         struct mw_proc_limits *out)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->nofile_soft = out->nofile_hard = out->stack_soft = out->nproc_soft = MW_UNKNOWN;
	if (!mw_store_has_table(s, "proc_limits"))
		return -ENODATA;
	rc = sqlite3_prepare_v2(db,
	                        "SELECT nofile_soft, nofile_hard, stack_soft, nproc_soft FROM"
	                        " proc_limits WHERE proc = ?1 AND t_ms <= ?2 ORDER BY tick DESC"
	                        " LIMIT 1",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(db, rc, "limits");
	sqlite3_bind_int64(st, 1, proc_id);
	sqlite3_bind_int64(st, 2, until_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->readable = true;
		out->nofile_soft = limit_column(st, 0);
		out->nofile_hard = limit_column(st, 1);
		out->stack_soft = limit_column(st, 2);
		out->nproc_soft = limit_column(st, 3);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENODATA : mw_sql_err(db, rc, "limits");
}

/*
 * A row's values; column 0 is t_ms, 1 err, then the values in insert
 * order (the PSS columns last, when the file has them).
 */
static void row_regions(sqlite3_stmt *st, struct mw_regions *r, bool pss)
{
	int idx = 2;

	memset(r, 0, sizeof(*r));
	for (int k = 0; k < MW_PSS_COUNT; k++)
		r->pss[k] = MW_UNKNOWN;
	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		r->err = -sqlite3_column_int(st, 1);
		return;
	}
	r->readable = true;
	r->files = sqlite3_column_int64(st, idx++);
	r->so_files = sqlite3_column_int64(st, idx++);
	r->so_hash = (uint64_t)sqlite3_column_int64(st, idx++);
	r->stacks = sqlite3_column_int64(st, idx++);
	r->read_us = sqlite3_column_int64(st, idx++);
	for (int k = 0; k < MW_REG_COUNT; k++) {
		r->r[k].size = sqlite3_column_int64(st, idx++);
		r->r[k].rss = sqlite3_column_int64(st, idx++);
		r->r[k].swap = sqlite3_column_int64(st, idx++);
		r->r[k].count = sqlite3_column_int64(st, idx++);
	}
	for (int k = 0; pss && k < MW_PSS_COUNT; k++, idx++)
		r->pss[k] = limit_column(st, idx);
}

static void row_fds(sqlite3_stmt *st, struct mw_fd_kinds *f)
{
	memset(f, 0, sizeof(*f));
	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		f->err = -sqlite3_column_int(st, 1);
		return;
	}
	f->readable = true;
	for (int k = 0; k < MW_FD_COUNT; k++)
		f->n[k] = sqlite3_column_int64(st, 2 + k);
}

#define REG_SELECT_COLS(name, str) ",s." str "_size,s." str "_rss,s." str "_swap,s." str "_count"
#define FD_SELECT_COLS(name)       ",s." #name
#define PSS_SELECT_COLS(name)      ",s." #name

/* The last row at or before since, every row inside, up to until (like mw_store_proc_series). */
#define WINDOW_SQL(table)                                                                          \
	" FROM " table " s WHERE s.proc = ?1 AND s.t_ms <= ?3 AND (s.t_ms >= ?2 OR s.tick ="       \
	" (SELECT max(s2.tick) FROM " table " s2 WHERE s2.proc = ?1 AND s2.t_ms < ?2))"            \
	" ORDER BY s.tick"

#define REG_SERIES_HEAD                                                                            \
	"SELECT s.t_ms,s.err,s.files,s.so_files,s.so_hash,s.stacks,s.read_us" MW_REGION_KINDS(     \
	        REG_SELECT_COLS)
static const char reg_series_sql[] =
        REG_SERIES_HEAD MW_PSS_FIELDS(PSS_SELECT_COLS) WINDOW_SQL("region_samples");
/* A file from before the PSS columns, opened without being migrated. */
static const char reg_series_nopss_sql[] = REG_SERIES_HEAD WINDOW_SQL("region_samples");
static const char fd_series_sql[] =
        "SELECT s.t_ms,s.err" MW_FD_KINDS(FD_SELECT_COLS) WINDOW_SQL("fd_samples");

static int series_push(struct mw_region_series *sr, size_t *cap, const struct mw_region_point *p)
{
	if (sr->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct mw_region_point *nv = realloc(sr->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		sr->v = nv;
		*cap = nc;
	}
	sr->v[sr->n++] = *p;
	return 0;
}

static int prepare_window(sqlite3 *db, const char *sql, int64_t proc_id, int64_t since,
                          int64_t until, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	if (rc != SQLITE_OK)
		return mw_sql_err(NULL, rc, "regions");
	sqlite3_bind_int64(*st, 1, proc_id);
	sqlite3_bind_int64(*st, 2, since);
	sqlite3_bind_int64(*st, 3, until);
	return 0;
}

static int step_row(sqlite3_stmt *st, bool *have)
{
	int rc = sqlite3_step(st);

	*have = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : mw_sql_err(NULL, rc, "regions");
}

/* The last time the process was seen alive, bounded by until; MW_UNKNOWN when not known. */
static int64_t last_alive_ms(sqlite3 *db, int64_t proc_id, int64_t until)
{
	sqlite3_stmt *st = NULL;
	int64_t t = MW_UNKNOWN;

	if (sqlite3_prepare_v2(db,
	                       "SELECT (SELECT t_ms FROM ticks WHERE id < coalesce(p.exit_tick,"
	                       " 9223372036854775807) ORDER BY id DESC LIMIT 1) FROM procs p"
	                       " WHERE p.id = ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return MW_UNKNOWN;
	sqlite3_bind_int64(st, 1, proc_id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		t = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return t != MW_UNKNOWN && t > until ? until : t;
}

/*
 * Merge the two tables by time: a point wherever either changed, the
 * other's value carried forward (unknown -- readable = false, err 0 --
 * before its first row).
 */
int mw_store_region_series(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                           struct mw_region_series *out)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *rs = NULL, *fs = NULL;
	struct mw_region_point cur = {0};
	bool hr = false, hf = false;
	size_t cap = 0;
	bool pss = mw_store_has_column(s, "region_samples", "pss");
	int64_t end;
	int r;

	memset(out, 0, sizeof(*out));
	for (int k = 0; k < MW_PSS_COUNT; k++)
		cur.reg.pss[k] = MW_UNKNOWN;
	r = prepare_window(db, pss ? reg_series_sql : reg_series_nopss_sql, proc_id, since_ms,
	                   until_ms, &rs);
	if (r == 0)
		r = prepare_window(db, fd_series_sql, proc_id, since_ms, until_ms, &fs);
	if (r == 0)
		r = step_row(rs, &hr);
	if (r == 0)
		r = step_row(fs, &hf);
	while (r == 0 && (hr || hf)) {
		int64_t tr = hr ? sqlite3_column_int64(rs, 0) : INT64_MAX;
		int64_t tf = hf ? sqlite3_column_int64(fs, 0) : INT64_MAX;
		int64_t t = tr < tf ? tr : tf;

		if (tr == t) {
			row_regions(rs, &cur.reg, pss);
			r = step_row(rs, &hr);
		}
		if (r == 0 && tf == t) {
			row_fds(fs, &cur.fds);
			r = step_row(fs, &hf);
		}
		cur.t_ms = t < since_ms ? since_ms : t;
		/* Rows before the window collapse into its start. */
		if (r == 0 && out->n && out->v[out->n - 1].t_ms == cur.t_ms)
			out->v[out->n - 1] = cur;
		else if (r == 0)
			r = series_push(out, &cap, &cur);
	}
	if (r == 0 && out->n) {
		end = last_alive_ms(db, proc_id, until_ms);
		if (end != MW_UNKNOWN && end > out->v[out->n - 1].t_ms) {
			cur = out->v[out->n - 1];
			cur.t_ms = end;
			r = series_push(out, &cap, &cur);
		}
	}
	sqlite3_finalize(rs);
	sqlite3_finalize(fs);
	if (r < 0)
		mw_region_series_release(out);
	return r;
}

void mw_region_series_release(struct mw_region_series *sr)
{
	free(sr->v);
	memset(sr, 0, sizeof(*sr));
}
