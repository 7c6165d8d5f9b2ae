/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The seams of memwatch top: one function per data source that another
 * part of memwatch provides. Each returns -EOPNOTSUPP while its source is
 * not in this build, and the panels print "-" (never 0) for it. When a
 * source lands, only its function here changes:
 *
 *   regions      region.h: mw_store_region_series (store) / mw_region_read
 *   hypothesis   the analysis branch's per-process top-hypothesis tag
 *   slab, IPC    the system branch's slab caches and IPC objects
 *   OOM forecast the analysis/system branch's ranking and time to exhaustion
 *   call sites   bpfdata.h: outstanding mmaps by call stack
 */
#include "top.h"

#include "memwatch/format.h"
#include "memwatch/util.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void top_text_free(struct top_text *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->lines[i]);
	free(t->lines);
	t->lines = NULL;
	t->n = 0;
}

static int text_add(struct top_text *t, const char *fmt, ...)
{
	char **v = realloc(t->lines, (t->n + 1) * sizeof(*v));
	va_list ap;
	int r;

	if (!v)
		return -ENOMEM;
	t->lines = v;
	va_start(ap, fmt);
	r = vasprintf(&t->lines[t->n], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	t->n++;
	return 0;
}

int top_src_regions(struct top_model *m MW_UNUSED, struct top_row *r MW_UNUSED)
{
	return -EOPNOTSUPP;
}

int top_src_hypothesis(struct top_model *m MW_UNUSED, struct top_row *r)
{
	r->tag[0] = '\0';
	return -EOPNOTSUPP;
}

int top_src_region_table(struct top_model *m MW_UNUSED, const struct top_row *r MW_UNUSED,
                         struct top_text *out MW_UNUSED)
{
	return -EOPNOTSUPP;
}

int top_src_hypotheses_detail(struct top_model *m MW_UNUSED, const struct top_row *r MW_UNUSED,
                              struct top_text *out MW_UNUSED)
{
	return -EOPNOTSUPP;
}

int top_src_callsites(struct top_model *m MW_UNUSED, const struct top_row *r MW_UNUSED,
                      struct top_text *out MW_UNUSED)
{
	return -EOPNOTSUPP;
}

int top_src_slab(struct top_model *m MW_UNUSED, struct top_text *out MW_UNUSED)
{
	return -EOPNOTSUPP;
}

int top_src_ipc(struct top_model *m MW_UNUSED, struct top_text *out MW_UNUSED)
{
	return -EOPNOTSUPP;
}

int top_src_oom_forecast(struct top_model *m MW_UNUSED, struct top_text *out MW_UNUSED)
{
	return -EOPNOTSUPP;
}

/* OOM kills recorded by the daemon (events of kind oom-kill), newest first. */
int top_src_oom_history(struct top_model *m, struct top_text *out)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (m->src != TOP_FROM_STORE)
		return -EOPNOTSUPP;
	rc = sqlite3_prepare_v2(mw_store_db(m->store),
	                        "SELECT t_ms, pid, detail FROM events WHERE kind = 'oom-kill'"
	                        " AND t_ms <= ? ORDER BY t_ms DESC LIMIT 200",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, m->now_ms);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *d = sqlite3_column_text(st, 2);
		char when[32], esc[512];

		mw_fmt_time(when, sizeof(when), (uint64_t)sqlite3_column_int64(st, 0) * 1000000ull);
		mw_escape_term(d ? (const char *)d : "", d ? strlen((const char *)d) : 0, esc,
		               sizeof(esc), m->opt.utf8);
		r = text_add(out, "%s  pid %-8d %s", when, sqlite3_column_int(st, 1), esc);
	}
	sqlite3_finalize(st);
	return r;
}
