/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The call-site section of reports, text and JSON, from what
 * memwatch/store/callsitestore.h reads.
 */
#ifndef MEMWATCH_CALLSITEVIEW_H
#define MEMWATCH_CALLSITEVIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct mw_store;
struct mw_json;
struct mw_callsite_list;

/* The "call sites" section of a text report (escaped for the terminal). */
void mw_callsite_print(FILE *f, const struct mw_callsite_list *l, bool utf8);

/* The same as a JSON object under key. */
void mw_callsite_json(struct mw_json *j, const char *key, const struct mw_callsite_list *l);

/*
 * One-line hooks for `memwatch report`: read the top 5 sites of proc_id in
 * the window and print the section / emit it under key ("callsites").
 */
int mw_callsite_report_text(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                            FILE *f, bool utf8);
int mw_callsite_report_json(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                            struct mw_json *j, const char *key);

#endif
