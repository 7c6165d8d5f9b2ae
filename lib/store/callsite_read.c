/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Call sites, reader side: outstanding mappings per stack, growth, evidence lines. */
#include "memwatch/store/callsitestore.h"
#include "sql.h"
#include "memwatch/base/format.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <sqlite3.h>
#include <string.h>

/* A frame as quoted in one evidence line. */
#define MW_CALLSITE_LINE 160

/* Outstanding at time T: mapped by T and not seen gone by T. */
#define OUTSTANDING_AT "m.t_ms <= ?2 AND (m.gone_ms IS NULL OR m.gone_ms > ?2)"

static int split_frames(const char *text, struct mw_callsite *c)
{
	size_t n = 1;
	const char *p;

	for (p = text; *p; p++)
		n += *p == '\n';
	c->frames = calloc(n, sizeof(char *));
	if (!c->frames)
		return -ENOMEM;
	for (p = text; c->nframes < n;) {
		size_t len = strcspn(p, "\n");
		c->frames[c->nframes] = strndup(p, len);
		if (!c->frames[c->nframes])
			return -ENOMEM;
		c->nframes++;
		p += len + (p[len] ? 1 : 0);
	}
	return 0;
}

/* One integer from sql bound to (?1 proc_id, ?2 t_ms, ?3 text), or def. */
static int64_t query_i64(sqlite3 *db, const char *sql, int64_t proc_id, int64_t t_ms,
                         const char *text, int64_t def)
{
	sqlite3_stmt *st = NULL;
	int64_t v = def;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return def;
	sqlite3_bind_int64(st, 1, proc_id);
	sqlite3_bind_int64(st, 2, t_ms);
	if (text)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Bytes outstanding at t_ms from every stack row with these frames (rows of earlier runs too). */
static int64_t outstanding_at(sqlite3 *db, int64_t proc_id, const char *frames, int64_t t_ms)
{
	return query_i64(db,
	                 "SELECT coalesce(sum(m.len), 0) FROM callsite_maps m"
	                 " JOIN callsite_stacks s ON s.id = m.stack WHERE m.proc = ?1"
	                 " AND " OUTSTANDING_AT " AND s.frames = ?3",
	                 proc_id, t_ms, frames, 0);
}

/* VmData at the last sample at or before t_ms (the first after it when none). */
static int64_t data_at(sqlite3 *db, int64_t proc_id, int64_t t_ms)
{
	int64_t v = query_i64(db,
	                      "SELECT s.data FROM proc_samples s JOIN ticks t ON t.id = s.tick"
	                      " WHERE s.proc = ?1 AND t.t_ms <= ?2 AND s.data IS NOT NULL"
	                      " ORDER BY s.tick DESC LIMIT 1",
	                      proc_id, t_ms, NULL, -1);

	if (v < 0)
		v = query_i64(db,
		              "SELECT s.data FROM proc_samples s JOIN ticks t ON t.id = s.tick"
		              " WHERE s.proc = ?1 AND t.t_ms > ?2 AND s.data IS NOT NULL"
		              " ORDER BY s.tick LIMIT 1",
		              proc_id, t_ms, NULL, -1);
	return v;
}

/* When the process was first seen: growth before that is not in the window. */
static int64_t first_seen_ms(sqlite3 *db, int64_t proc_id)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db,
	                       "SELECT t.t_ms FROM procs p JOIN ticks t ON t.id = p.first_tick"
	                       " WHERE p.id = ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, proc_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void read_counters(sqlite3 *db, int64_t proc_id, struct mw_callsite_list *l)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
	                       "SELECT recorded, skipped FROM callsite_counters WHERE proc = ?"
	                       " ORDER BY tick DESC LIMIT 1",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, proc_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			l->recorded = sqlite3_column_int64(st, 0);
			l->skipped = sqlite3_column_int64(st, 1);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db,
	                       "SELECT lost FROM callsite_counters WHERE proc IS NULL"
	                       " ORDER BY tick DESC LIMIT 1",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		l->lost = sqlite3_column_int64(st, 0);
		l->available = true;
	}
	sqlite3_finalize(st);
}

/* The process's pid and VmData growth over [start, until]: what the sites' growth is set against.
 */
static void read_coverage(sqlite3 *db, int64_t proc_id, int64_t start, int64_t until,
                          struct mw_callsite_list *l)
{
	int64_t a = data_at(db, proc_id, start), b = data_at(db, proc_id, until);

	l->pid = query_i64(db, "SELECT pid FROM procs WHERE id = ?1 AND ?2 = ?2", proc_id, 0, NULL,
	                   0);
	l->data_growth = a >= 0 && b >= 0 ? b - a : -1;
}

int mw_store_callsites(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                       size_t max, struct mw_callsite_list *out)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	int64_t start;
	int rc, r = 0;

	memset(out, 0, sizeof(*out));
	out->data_growth = -1;
	out->since_ms = since_ms;
	out->until_ms = until_ms;
	/*
	 * One site per frame list: stack rows of earlier runs, or of one path
	 * seen through two kinds of mapping, are one entry (its kind: heap or
	 * anon when any of its mappings is, what the growth hypotheses cite).
	 */
	rc = sqlite3_prepare_v2(db,
	                        "SELECT min(m.stack), CASE min(CASE m.kind WHEN 'heap' THEN 0"
	                        " WHEN 'anon' THEN 1 WHEN 'file' THEN 2 ELSE 3 END) WHEN 0 THEN"
	                        " 'heap' WHEN 1 THEN 'anon' WHEN 2 THEN 'file' ELSE 'other' END,"
	                        " 0, sum(m.len), count(*), s.frames"
	                        " FROM callsite_maps m JOIN callsite_stacks s ON s.id = m.stack"
	                        " WHERE m.proc = ?1 AND " OUTSTANDING_AT
	                        " GROUP BY s.frames ORDER BY 4 DESC, 5 DESC LIMIT ?3",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return 0; /* a store without call-site tables: nothing recorded */
	read_counters(db, proc_id, out);
	start = first_seen_ms(db, proc_id);
	if (start < since_ms)
		start = since_ms;
	sqlite3_bind_int64(st, 1, proc_id);
	sqlite3_bind_int64(st, 2, until_ms);
	sqlite3_bind_int64(st, 3, (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mw_callsite *c, *v = realloc(out->v, (out->n + 1) * sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			break;
		}
		out->v = v;
		c = &v[out->n++];
		memset(c, 0, sizeof(*c));
		c->stack_id = sqlite3_column_int64(st, 0);
		snprintf(c->kind, sizeof(c->kind), "%s", (const char *)sqlite3_column_text(st, 1));
		c->bytes = sqlite3_column_int64(st, 3);
		c->count = sqlite3_column_int64(st, 4);
		r = split_frames((const char *)sqlite3_column_text(st, 5), c);
		if (r < 0)
			break;
		c->app = mw_frame_first_app(c->frames, c->nframes);
		c->runtime = mw_frame_runtime(c->frames, c->nframes);
		if (until_ms > start) {
			int64_t before = outstanding_at(
			        db, proc_id, (const char *)sqlite3_column_text(st, 5), start);
			c->growth_per_hour =
			        (double)(c->bytes - before) * 3600e3 / (double)(until_ms - start);
			out->sites_growth += c->bytes - before;
		}
	}
	read_coverage(db, proc_id, start, until_ms, out);
	sqlite3_finalize(st);
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = -EIO;
	if (r < 0)
		mw_callsite_list_release(out);
	return r;
}

void mw_callsite_list_release(struct mw_callsite_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		for (size_t k = 0; k < l->v[i].nframes; k++)
			free(l->v[i].frames[k]);
		free(l->v[i].frames);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

double mw_callsite_coverage(const struct mw_callsite_list *l)
{
	double c;

	if (l->data_growth <= 0 || l->sites_growth <= 0)
		return 0;
	c = (double)l->sites_growth / (double)l->data_growth;
	return c > 1 ? 1 : c;
}

const char *mw_callsite_held_in(const struct mw_callsite *c)
{
	bool heap = strcmp(c->kind, "heap") == 0;

	if (c->count == 1)
		return heap ? "brk extent" : "mapping";
	return heap ? "brk extents" : "mappings";
}

/* "app-frame <- its caller (via jemalloc x3)" or, inside a runtime, "[CPython]". */
static void site_name(const struct mw_callsite *c, char *buf, size_t cap)
{
	char via[160];
	size_t f = c->app;

	mw_frame_via(c->frames, c->nframes, false, via, sizeof(via));
	if (f == c->nframes)
		snprintf(buf, cap, "[%s]", via);
	else
		snprintf(buf, cap, "%.*s%s%.*s%s%s%s", MW_CALLSITE_LINE, c->frames[f],
		         f + 1 < c->nframes ? " <- " : "", MW_CALLSITE_LINE,
		         f + 1 < c->nframes ? c->frames[f + 1] : "", *via ? " (via " : "", via,
		         *via ? ")" : "");
}

/* Evidence for one site into v[*k] (and its runtime's next step, once per runtime). */
static int site_evidence(const struct mw_callsite_list *l, const struct mw_callsite *c, char **v,
                         size_t *k, size_t max, unsigned *advised)
{
	char b1[32], b2[32], name[4 * MW_CALLSITE_LINE], line[7 * MW_CALLSITE_LINE];

	site_name(c, name, sizeof(name));
	snprintf(line, sizeof(line), "%s: %s in %lld %s, %s/h", name,
	         mw_fmt_bytes(b1, sizeof(b1), c->bytes), (long long)c->count,
	         mw_callsite_held_in(c), mw_fmt_bytes_delta(b2, sizeof(b2), c->growth_per_hour));
	if (!(v[(*k)++] = strdup(line)))
		return -ENOMEM;
	if (c->runtime == MW_RUNTIME_NONE || (*advised & (1u << c->runtime)) || *k >= max)
		return 0;
	*advised |= 1u << c->runtime;
	mw_frame_next_step(c->frames, c->nframes, (long)l->pid, line, sizeof(line));
	return (v[(*k)++] = strdup(line)) ? 0 : -ENOMEM;
}

int mw_callsite_evidence(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                         size_t max, char ***lines, size_t *n)
{
	struct mw_callsite_list l;
	char **v = NULL;
	size_t k = 0;
	unsigned advised = 0;
	int r;

	*lines = NULL;
	*n = 0;
	r = mw_store_callsites(s, proc_id, since_ms, until_ms, 3 * max, &l);
	if (r < 0)
		return r;
	if (l.n)
		v = calloc(max, sizeof(*v));
	for (size_t i = 0; v && i < l.n && k < max; i++) {
		const struct mw_callsite *c = &l.v[i];
		if (strcmp(c->kind, "anon") != 0 && strcmp(c->kind, "heap") != 0)
			continue;
		/* libc's or the loader's own mappings, outside any runtime: nobody to blame */
		if (c->app == c->nframes && c->runtime == MW_RUNTIME_NONE)
			continue;
		if (site_evidence(&l, c, v, &k, max, &advised) < 0)
			break;
	}
	mw_callsite_list_release(&l);
	if (k == 0) {
		free(v);
		v = NULL;
	}
	*lines = v;
	*n = k;
	return 0;
}

void mw_callsite_evidence_free(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}
