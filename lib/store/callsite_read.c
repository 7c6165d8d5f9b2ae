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

static int64_t outstanding_at(sqlite3 *db, int64_t proc_id, int64_t stack, const char *kind,
                              int64_t t_ms)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(
	            db,
	            "SELECT coalesce(sum(m.len), 0) FROM callsite_maps m WHERE m.proc = ?1"
	            " AND " OUTSTANDING_AT " AND m.stack = ?3 AND m.kind = ?4",
	            -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, proc_id);
	sqlite3_bind_int64(st, 2, t_ms);
	sqlite3_bind_int64(st, 3, stack);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
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

int mw_store_callsites(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                       size_t max, struct mw_callsite_list *out)
{
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	int64_t start;
	int rc, r = 0;

	memset(out, 0, sizeof(*out));
	out->since_ms = since_ms;
	out->until_ms = until_ms;
	rc = sqlite3_prepare_v2(db,
	                        "SELECT m.stack, m.kind, sum(m.len), count(*), s.frames"
	                        " FROM callsite_maps m JOIN callsite_stacks s ON s.id = m.stack"
	                        " WHERE m.proc = ?1 AND " OUTSTANDING_AT
	                        " GROUP BY m.stack, m.kind ORDER BY 3 DESC, 4 DESC LIMIT ?3",
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
		c->bytes = sqlite3_column_int64(st, 2);
		c->count = sqlite3_column_int64(st, 3);
		r = split_frames((const char *)sqlite3_column_text(st, 4), c);
		if (r < 0)
			break;
		if (until_ms > start) {
			int64_t before = outstanding_at(db, proc_id, c->stack_id, c->kind, start);
			c->growth_per_hour =
			        (double)(c->bytes - before) * 3600e3 / (double)(until_ms - start);
		}
	}
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

const char *mw_callsite_held_in(const struct mw_callsite *c)
{
	bool heap = strcmp(c->kind, "heap") == 0;

	if (c->count == 1)
		return heap ? "brk extent" : "mapping";
	return heap ? "brk extents" : "mappings";
}

/* Frames of libc and the dynamic loader: the allocator's and mmap's own, not the caller's. */
static bool system_frame(const char *f)
{
	const char *mod = strrchr(f, '(');

	return mod && (strncmp(mod, "(libc.so", 8) == 0 || strncmp(mod, "(ld-linux", 9) == 0 ||
	               strncmp(mod, "(libc-", 6) == 0);
}

int mw_callsite_evidence(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                         size_t max, char ***lines, size_t *n)
{
	struct mw_callsite_list l;
	char **v = NULL;
	size_t k = 0;
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
		char b1[32], b2[32], line[3 * MW_CALLSITE_LINE];
		size_t f = 0;
		if (strcmp(c->kind, "anon") != 0 && strcmp(c->kind, "heap") != 0)
			continue;
		while (f < c->nframes && system_frame(c->frames[f]))
			f++;
		if (f == c->nframes)
			continue; /* the loader's or libc's own mappings: nobody to blame */
		snprintf(line, sizeof(line), "%.*s%s%.*s: %s in %lld %s, %s/h", MW_CALLSITE_LINE,
		         c->frames[f], f + 1 < c->nframes ? " <- " : "", MW_CALLSITE_LINE,
		         f + 1 < c->nframes ? c->frames[f + 1] : "",
		         mw_fmt_bytes(b1, sizeof(b1), c->bytes), (long long)c->count,
		         mw_callsite_held_in(c),
		         mw_fmt_bytes_delta(b2, sizeof(b2), c->growth_per_hour));
		v[k] = strdup(line);
		if (!v[k])
			break;
		k++;
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
