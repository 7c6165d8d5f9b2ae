/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A streaming JSON writer: keeps commas and indentation right so callers
 * only say what goes where. Strings go through mw_json_string (escaped,
 * always valid UTF-8); MW_UNKNOWN integers and non-finite numbers are null.
 * A keyed string that is not valid UTF-8 (a comm, cmdline or path from
 * /proc) has U+FFFD for each bad byte and a sibling "<key>_bytes" with all
 * its bytes in hex, so names stay lossless (docs/report-json.md).
 */
#ifndef MEMWATCH_JSON_H
#define MEMWATCH_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define MW_JSON_MAX_DEPTH 32

struct mw_json {
	FILE *f;
	int depth;
	bool pretty;
	bool has_items[MW_JSON_MAX_DEPTH];
};

void mw_json_init(struct mw_json *j, FILE *f, bool pretty);

/* key is NULL inside arrays and at the top level. */
void mw_json_obj_open(struct mw_json *j, const char *key);
void mw_json_obj_close(struct mw_json *j);
void mw_json_arr_open(struct mw_json *j, const char *key);
void mw_json_arr_close(struct mw_json *j);
void mw_json_int(struct mw_json *j, const char *key, int64_t v);
void mw_json_num(struct mw_json *j, const char *key, double v);
void mw_json_str(struct mw_json *j, const char *key, const char *s);
void mw_json_bool(struct mw_json *j, const char *key, bool v);
void mw_json_null(struct mw_json *j, const char *key);

/* Finish the document with a newline. */
void mw_json_end(struct mw_json *j);

#endif
