/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Call sites in reports: the text section and its JSON twin. */
#include "memwatch/view/callsiteview.h"
#include "memwatch/base/format.h"
#include "memwatch/base/framerule.h"
#include "memwatch/base/json.h"
/* For MW_CALLSITE_MAX_DEPTH only: a renderer reads no live data. */
#include "memwatch/collect/callsite.h"
#include "memwatch/store/callsitestore.h"

#include <string.h>

/* A stored frame (at most MW_FRAME_MAX) or a collapsed span's line. */
#define FRAME_LINE 272

/* A site's frames with allocator and runtime frames collapsed into one labelled line each. */
static void print_frames(FILE *f, const struct mw_callsite *c, bool utf8)
{
	struct mw_frame_span sp[MW_CALLSITE_MAX_DEPTH];
	char line[FRAME_LINE], esc[4 * (FRAME_LINE)];
	size_t k = mw_frame_collapse(c->frames, c->nframes, sp, MW_CALLSITE_MAX_DEPTH);

	for (size_t i = 0; i < k && i < MW_CALLSITE_MAX_DEPTH; i++) {
		mw_frame_span_text(c->frames, &sp[i], utf8, line, sizeof(line));
		mw_escape_term(line, strlen(line), esc, sizeof(esc), utf8);
		fprintf(f, "      %s%s\n", esc, sp[i].first == c->app ? "   <- the site" : "");
	}
}

static void print_site(FILE *f, size_t i, const struct mw_callsite *c, long pid, bool utf8)
{
	char b1[32], b2[32], esc[4 * FRAME_LINE], step[1024];
	const char *name = c->app < c->nframes ? c->frames[c->app] : mw_runtime_name(c->runtime);

	mw_escape_term(name ? name : "(the allocator's own)",
	               strlen(name ? name : "(the allocator's own)"), esc, sizeof(esc), utf8);
	fprintf(f, "  #%zu %s: %s in %lld %s (%s), growing %s/h\n", i + 1, esc,
	        mw_fmt_bytes(b1, sizeof(b1), c->bytes), (long long)c->count, mw_callsite_held_in(c),
	        c->kind, mw_fmt_bytes_delta(b2, sizeof(b2), c->growth_per_hour));
	print_frames(f, c, utf8);
	mw_frame_next_step(c->frames, c->nframes, pid, step, sizeof(step));
	if (*step)
		fprintf(f, "      next: %s\n", step);
}

/* What share of the process's growth (VmData) the listed sites explain. */
static void print_coverage(FILE *f, const struct mw_callsite_list *l)
{
	char b1[32], b2[32];

	if (l->data_growth <= 0 || l->n == 0)
		return;
	fprintf(f, "  coverage: these sites grew %s of the process's %s VmData growth (%.0f %%)\n",
	        mw_fmt_bytes(b1, sizeof(b1), l->sites_growth > 0 ? l->sites_growth : 0),
	        mw_fmt_bytes(b2, sizeof(b2), l->data_growth), mw_callsite_coverage(l) * 100.0);
}

void mw_callsite_print(FILE *f, const struct mw_callsite_list *l, bool utf8)
{
	fprintf(f, "Call sites holding memory (outstanding mappings and heap growth, by bytes):\n");
	if (!l->available) {
		fprintf(f,
		        "  none recorded: memwatchd's call-site source was off or saw nothing\n");
		return;
	}
	if (l->n == 0)
		fprintf(f, "  no outstanding mapping was traced to a call site\n");
	for (size_t i = 0; i < l->n; i++)
		print_site(f, i, &l->v[i], (long)l->pid, utf8);
	print_coverage(f, l);
	if (l->skipped || l->lost)
		fprintf(f,
		        "  snapshots: %lld recorded, %lld skipped by the rate limit,"
		        " %lld dropped by the kernel (machine-wide)\n",
		        (long long)l->recorded, (long long)l->skipped, (long long)l->lost);
}

static void site_json(struct mw_json *j, const struct mw_callsite *c, long pid)
{
	struct mw_frame_span sp[MW_CALLSITE_MAX_DEPTH];
	size_t k = mw_frame_collapse(c->frames, c->nframes, sp, MW_CALLSITE_MAX_DEPTH);
	char line[FRAME_LINE], step[1024];

	if (c->app < c->nframes)
		mw_json_str(j, "name", c->frames[c->app]);
	else
		mw_json_null(j, "name");
	mw_json_arr_open(j, "frames");
	for (size_t i = 0; i < c->nframes; i++)
		mw_json_str(j, NULL, c->frames[i]);
	mw_json_arr_close(j);
	mw_json_arr_open(j, "collapsed");
	for (size_t i = 0; i < k && i < MW_CALLSITE_MAX_DEPTH; i++) {
		mw_frame_span_text(c->frames, &sp[i], true, line, sizeof(line));
		mw_json_str(j, NULL, line);
	}
	mw_json_arr_close(j);
	mw_frame_next_step(c->frames, c->nframes, pid, step, sizeof(step));
	if (*step) {
		mw_json_str(j, "runtime", mw_runtime_name(c->runtime));
		mw_json_str(j, "next_step", step);
	}
}

void mw_callsite_json(struct mw_json *j, const char *key, const struct mw_callsite_list *l)
{
	mw_json_obj_open(j, key);
	mw_json_bool(j, "available", l->available);
	mw_json_int(j, "since_ms", l->since_ms);
	mw_json_int(j, "until_ms", l->until_ms);
	mw_json_int(j, "recorded", l->recorded);
	mw_json_int(j, "skipped", l->skipped);
	mw_json_int(j, "lost", l->lost);
	if (l->data_growth >= 0) {
		mw_json_int(j, "sites_growth", l->sites_growth);
		mw_json_int(j, "data_growth", l->data_growth);
		mw_json_num(j, "coverage", mw_callsite_coverage(l));
	}
	mw_json_arr_open(j, "sites");
	for (size_t i = 0; i < l->n; i++) {
		const struct mw_callsite *c = &l->v[i];
		mw_json_obj_open(j, NULL);
		mw_json_int(j, "stack_id", c->stack_id);
		mw_json_str(j, "kind", c->kind);
		mw_json_int(j, "bytes", c->bytes);
		mw_json_int(j, "count", c->count);
		mw_json_num(j, "growth_per_hour", c->growth_per_hour);
		site_json(j, c, (long)l->pid);
		mw_json_obj_close(j);
	}
	mw_json_arr_close(j);
	mw_json_obj_close(j);
}

#define REPORT_SITES 5

int mw_callsite_report_text(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                            FILE *f, bool utf8)
{
	struct mw_callsite_list l;
	int r = mw_store_callsites(s, proc_id, since_ms, until_ms, REPORT_SITES, &l);

	if (r < 0)
		return r;
	mw_callsite_print(f, &l, utf8);
	mw_callsite_list_release(&l);
	return 0;
}

int mw_callsite_report_json(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                            struct mw_json *j, const char *key)
{
	struct mw_callsite_list l;
	int r = mw_store_callsites(s, proc_id, since_ms, until_ms, REPORT_SITES, &l);

	if (r < 0)
		return r;
	mw_callsite_json(j, key, &l);
	mw_callsite_list_release(&l);
	return 0;
}
