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
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*
 * The analysis module (trends, hypotheses) brings the region store with
 * it: when its header is in the tree, the seams below use both.
 */
#if __has_include("memwatch/analysis.h")
#include "memwatch/analysis.h"
#define TOP_HAVE_ANALYSIS 1
#else
#define TOP_HAVE_ANALYSIS 0
#endif

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

#if TOP_HAVE_ANALYSIS
/* The latest region sample in the window (the slow tier writes one a minute or so). */
static int latest_regions(struct top_model *m, const struct top_row *r, int64_t since_ms,
                          struct mw_region_series *sr)
{
	int rc;

	if (m->src != TOP_FROM_STORE || r->is_group)
		return -EOPNOTSUPP;
	rc = mw_store_region_series(m->store, r->proc_id, since_ms, m->now_ms, sr);
	if (rc == 0 && (sr->n == 0 || !sr->v[sr->n - 1].reg.readable)) {
		mw_region_series_release(sr);
		return -ENODATA;
	}
	return rc;
}

int top_src_regions(struct top_model *m, struct top_row *r)
{
	struct mw_region_series sr = {0};
	const struct mw_regions *g;
	int rc = latest_regions(m, r, m->now_ms - m->window_ms, &sr);

	if (rc < 0)
		return rc;
	g = &sr.v[sr.n - 1].reg;
	r->reg[TOP_REG_HEAP] = g->r[MW_REG_heap].rss;
	r->reg[TOP_REG_TSTACK] = g->r[MW_REG_thread_stacks].rss;
	r->reg[TOP_REG_ANON] = g->r[MW_REG_anon].rss + g->r[MW_REG_arena].rss;
	mw_region_series_release(&sr);
	return 0;
}

int top_src_hypothesis(struct top_model *m, struct top_row *r)
{
	if (m->src != TOP_FROM_STORE || r->is_group)
		return -EOPNOTSUPP;
	r->tag[0] = '\0';
	if (mw_top_hypothesis_tag(m->store, r->proc_id, m->now_ms, r->tag, sizeof(r->tag), NULL) <
	    0)
		return -EIO;
	r->tag_known = true;
	return 0;
}

int top_src_region_table(struct top_model *m, const struct top_row *r, struct top_text *out)
{
	struct mw_region_series sr = {0};
	int rc = latest_regions(m, r, m->now_ms - m->window_ms, &sr);
	char a[32], b[32], c[32];

	if (rc < 0)
		return rc;
	rc = text_add(out, "%-14s %10s %12s %10s %6s", "region", "RSS", "change", "size", "maps");
	for (int k = 0; k < MW_REG_COUNT && rc == 0; k++) {
		const struct mw_region_stat *first = &sr.v[0].reg.r[k],
		                            *last = &sr.v[sr.n - 1].reg.r[k];

		if (last->count == 0 && first->count == 0)
			continue;
		mw_fmt_bytes(a, sizeof(a), last->rss);
		mw_fmt_bytes_delta(b, sizeof(b), (double)(last->rss - first->rss));
		mw_fmt_bytes(c, sizeof(c), last->size);
		rc = text_add(out, "%-14s %10s %12s %10s %6lld", mw_region_names[k], a, b, c,
		              (long long)last->count);
	}
	mw_region_series_release(&sr);
	return rc;
}

int top_src_hypotheses_detail(struct top_model *m, const struct top_row *r, struct top_text *out)
{
	struct mw_analysis a;
	size_t shown = 0;
	int rc;

	if (m->src != TOP_FROM_STORE || r->is_group)
		return -EOPNOTSUPP;
	rc = mw_analyze_process(m->store, r->proc_id, m->now_ms - m->window_ms, m->now_ms, &a);
	for (size_t i = 0; rc == 0 && i < a.nhyp && shown < 5; i++) {
		const struct mw_hypothesis *h = &a.hyp[i];
		char rate[32], tte[32];

		if (h->score < MW_HYP_THRESHOLD)
			break;
		if (mw_ametric_kinds[h->ev.metric] == 'b')
			mw_fmt_bytes_delta(rate, sizeof(rate), h->ev.slope_per_h);
		else
			snprintf(rate, sizeof(rate), "%+.1f", h->ev.slope_per_h);
		if (isnan(h->tte_s))
			snprintf(tte, sizeof(tte), "-");
		else
			mw_fmt_duration(tte, sizeof(tte), (uint64_t)(h->tte_s * 1e9));
		rc = text_add(out, "%-8s %.2f  %s", h->rule->tag, h->score, h->rule->title);
		if (rc == 0)
			rc = text_add(out,
			              "         %s %s/h (Mann-Kendall p %.2g), exhaustion in %s",
			              mw_ametric_labels[h->ev.metric], rate, h->ev.mk_p, tte);
		if (rc == 0 && h->next_step[0])
			rc = text_add(out, "         next: %s", h->next_step);
		shown++;
	}
	if (rc == 0 && shown == 0)
		rc = text_add(out, "no hypothesis scores above %.1f: no steady growth",
		              MW_HYP_THRESHOLD);
	mw_analysis_release(&a);
	return rc;
}
#else
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
#endif

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
