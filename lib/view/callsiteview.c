/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Call sites in reports: the text section and its JSON twin. */
#include "memwatch/view/callsiteview.h"
#include "memwatch/base/format.h"
#include "memwatch/base/json.h"
/* For MW_CALLSITE_MAX_DEPTH only: a renderer reads no live data. */
#include "memwatch/collect/callsite.h"
#include "memwatch/store/callsitestore.h"

#include <string.h>

void mw_callsite_print(FILE *f, const struct mw_callsite_list *l, bool utf8)
{
	char b1[32], b2[32], esc[4 * MW_CALLSITE_MAX_DEPTH * 64];

	fprintf(f, "Call sites holding memory (outstanding mappings and heap growth, by bytes):\n");
	if (!l->available) {
		fprintf(f,
		        "  none recorded: memwatchd's call-site source was off or saw nothing\n");
		return;
	}
	if (l->n == 0)
		fprintf(f, "  no outstanding mapping was traced to a call site\n");
	for (size_t i = 0; i < l->n; i++) {
		const struct mw_callsite *c = &l->v[i];
		fprintf(f, "  #%zu %s in %lld %s (%s), growing %s/h\n", i + 1,
		        mw_fmt_bytes(b1, sizeof(b1), c->bytes), (long long)c->count,
		        mw_callsite_held_in(c), c->kind,
		        mw_fmt_bytes_delta(b2, sizeof(b2), c->growth_per_hour));
		for (size_t k = 0; k < c->nframes; k++) {
			mw_escape_term(c->frames[k], strlen(c->frames[k]), esc, sizeof(esc), utf8);
			fprintf(f, "      %s\n", esc);
		}
	}
	if (l->skipped || l->lost)
		fprintf(f,
		        "  snapshots: %lld recorded, %lld skipped by the rate limit,"
		        " %lld dropped by the kernel (machine-wide)\n",
		        (long long)l->recorded, (long long)l->skipped, (long long)l->lost);
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
	mw_json_arr_open(j, "sites");
	for (size_t i = 0; i < l->n; i++) {
		const struct mw_callsite *c = &l->v[i];
		mw_json_obj_open(j, NULL);
		mw_json_int(j, "stack_id", c->stack_id);
		mw_json_str(j, "kind", c->kind);
		mw_json_int(j, "bytes", c->bytes);
		mw_json_int(j, "count", c->count);
		mw_json_num(j, "growth_per_hour", c->growth_per_hour);
		mw_json_arr_open(j, "frames");
		for (size_t k = 0; k < c->nframes; k++)
			mw_json_str(j, NULL, c->frames[k]);
		mw_json_arr_close(j);
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
