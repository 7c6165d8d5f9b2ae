/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Call sites, writer side: the sink the daemon hands the tracker in the
 * tick transaction (tables in docs/schema-callsite.md). The reader is in
 * callsite_read.c.
 */
#include "memwatch/store/callsitestore.h"
#include "sql.h"
#include "memwatch/collect/callsite.h"
#include "memwatch/base/log.h"
#include "memwatch/store/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>

struct mw_callsite_writer {
	struct mw_store *s;
	sqlite3 *db;
	sqlite3_stmt *ins, *upd, *cnt;
	struct mw_callsite_sink sink;
};

static int step(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return mw_sql_err(db, rc, "callsite");
}

static int64_t sink_proc_id(void *ctx, pid_t pid, uint64_t start_ticks)
{
	struct mw_callsite_writer *w = ctx;

	return mw_store_live_proc_id(w->s, pid, start_ticks);
}

static int sink_open_maps(void *ctx, int (*fn)(void *arg, const struct mw_callsite_open_map *m),
                          void *arg)
{
	struct mw_callsite_writer *w = ctx;
	sqlite3_stmt *sel = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(
	            w->db,
	            "SELECT m.id, m.addr, m.len, m.t_ms, m.kind, p.pid, p.start_ticks,"
	            " s.id, s.hash, s.depth, s.frames FROM callsite_maps m"
	            " JOIN procs p ON p.id = m.proc JOIN callsite_stacks s ON s.id = m.stack"
	            " WHERE m.gone_ms IS NULL",
	            -1, &sel, NULL) != SQLITE_OK) {
		r = -EIO;
		goto out;
	}
	while (r == 0 && sqlite3_step(sel) == SQLITE_ROW) {
		struct mw_callsite_open_map m = {
		        .row = sqlite3_column_int64(sel, 0),
		        .addr = (uint64_t)sqlite3_column_int64(sel, 1),
		        .len = (uint64_t)sqlite3_column_int64(sel, 2),
		        .t_ms = sqlite3_column_int64(sel, 3),
		        .kind = (const char *)sqlite3_column_text(sel, 4),
		        .pid = (pid_t)sqlite3_column_int(sel, 5),
		        .start_ticks = (uint64_t)sqlite3_column_int64(sel, 6),
		        .stack_row = sqlite3_column_int64(sel, 7),
		        .stack_hash = (uint64_t)sqlite3_column_int64(sel, 8),
		        .depth = (uint32_t)sqlite3_column_int(sel, 9),
		        .frames = (const char *)sqlite3_column_text(sel, 10),
		};
		r = fn(arg, &m);
	}
out:
	sqlite3_finalize(sel);
	return r;
}

/* Stacks are shared by content across processes and runs: the stored hash decides. */
static int sink_stack(void *ctx, uint64_t hash, uint32_t depth, const char *frames, int64_t *row)
{
	struct mw_callsite_writer *w = ctx;
	sqlite3_stmt *ins = NULL, *sel = NULL;
	int r = -EIO;

	if (sqlite3_prepare_v2(
	            w->db,
	            "INSERT OR IGNORE INTO callsite_stacks(hash, depth, frames) VALUES(?,?,?)", -1,
	            &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(w->db, "SELECT id FROM callsite_stacks WHERE hash = ?", -1, &sel,
	                       NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(ins, 1, (int64_t)hash);
	sqlite3_bind_int(ins, 2, (int)depth);
	sqlite3_bind_text(ins, 3, frames, -1, SQLITE_STATIC);
	if (step(w->db, ins) < 0)
		goto out;
	sqlite3_bind_int64(sel, 1, (int64_t)hash);
	if (sqlite3_step(sel) == SQLITE_ROW) {
		*row = sqlite3_column_int64(sel, 0);
		r = 0;
	}
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(sel);
	return r;
}

static int sink_map(void *ctx, int64_t proc_id, int64_t stack_row, const char *kind, uint64_t addr,
                    uint64_t len, int64_t t_ms, int64_t *row)
{
	struct mw_callsite_writer *w = ctx;
	int r;

	sqlite3_bind_int64(w->ins, 1, proc_id);
	sqlite3_bind_int64(w->ins, 2, stack_row);
	sqlite3_bind_text(w->ins, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(w->ins, 4, (int64_t)addr);
	sqlite3_bind_int64(w->ins, 5, (int64_t)len);
	sqlite3_bind_int64(w->ins, 6, t_ms);
	r = step(w->db, w->ins);
	if (r == 0)
		*row = sqlite3_last_insert_rowid(w->db);
	return r;
}

static int sink_gone(void *ctx, int64_t row, int64_t gone_ms)
{
	struct mw_callsite_writer *w = ctx;

	sqlite3_bind_int64(w->upd, 1, gone_ms);
	sqlite3_bind_int64(w->upd, 2, row);
	return step(w->db, w->upd);
}

static int sink_counters(void *ctx, int64_t tick, int64_t proc_id, uint64_t samples, uint64_t taken,
                         uint64_t recorded, uint64_t skipped, int64_t lost)
{
	struct mw_callsite_writer *w = ctx;
	sqlite3_stmt *st = w->cnt;

	sqlite3_bind_int64(st, 1, tick);
	if (proc_id)
		sqlite3_bind_int64(st, 2, proc_id);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, (int64_t)samples);
	sqlite3_bind_int64(st, 4, (int64_t)taken);
	sqlite3_bind_int64(st, 5, (int64_t)recorded);
	sqlite3_bind_int64(st, 6, (int64_t)skipped);
	if (lost >= 0)
		sqlite3_bind_int64(st, 7, lost);
	else
		sqlite3_bind_null(st, 7);
	return step(w->db, st);
}

int mw_callsite_writer_new(struct mw_store *s, struct mw_callsite_writer **out)
{
	struct mw_callsite_writer *w = calloc(1, sizeof(*w));
	int r = -EIO;

	if (!w)
		return -ENOMEM;
	w->s = s;
	w->db = mw_store_db(s);
	w->sink = (struct mw_callsite_sink){
	        .ctx = w,
	        .proc_id = sink_proc_id,
	        .open_maps = sink_open_maps,
	        .stack = sink_stack,
	        .map = sink_map,
	        .gone = sink_gone,
	        .counters = sink_counters,
	};
	if (sqlite3_prepare_v2(w->db,
	                       "INSERT INTO callsite_maps(proc, stack, kind, addr, len, t_ms)"
	                       " VALUES(?,?,?,?,?,?)",
	                       -1, &w->ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(w->db, "UPDATE callsite_maps SET gone_ms = ? WHERE id = ?", -1,
	                       &w->upd, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(w->db,
	                       "INSERT INTO callsite_counters(tick, proc, samples, taken, recorded,"
	                       " skipped, lost) VALUES(?,?,?,?,?,?,?)",
	                       -1, &w->cnt, NULL) != SQLITE_OK)
		goto out;
	*out = w;
	w = NULL;
	r = 0;
out:
	mw_callsite_writer_free(w);
	return r;
}

void mw_callsite_writer_free(struct mw_callsite_writer *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->upd);
	sqlite3_finalize(w->cnt);
	free(w);
}

const struct mw_callsite_sink *mw_callsite_writer_sink(struct mw_callsite_writer *w)
{
	return &w->sink;
}
