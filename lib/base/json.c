/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/base/json.h"
#include "memwatch/base/format.h"
#include "memwatch/base/util.h"

#include <inttypes.h>
#include <math.h>

void mw_json_init(struct mw_json *j, FILE *f, bool pretty)
{
	*j = (struct mw_json){.f = f, .pretty = pretty};
}

static void indent(struct mw_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Comma, newline and key before any value. */
static void item(struct mw_json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->has_items[j->depth])
			fputc(',', j->f);
		j->has_items[j->depth] = true;
		indent(j);
	}
	if (key) {
		mw_json_string(j->f, key);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void open_(struct mw_json *j, const char *key, char c)
{
	item(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < MW_JSON_MAX_DEPTH)
		j->depth++;
	j->has_items[j->depth] = false;
}

static void close_(struct mw_json *j, char c)
{
	bool had = j->has_items[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had)
		indent(j);
	fputc(c, j->f);
}

void mw_json_obj_open(struct mw_json *j, const char *key)
{
	open_(j, key, '{');
}

void mw_json_obj_close(struct mw_json *j)
{
	close_(j, '}');
}

void mw_json_arr_open(struct mw_json *j, const char *key)
{
	open_(j, key, '[');
}

void mw_json_arr_close(struct mw_json *j)
{
	close_(j, ']');
}

void mw_json_int(struct mw_json *j, const char *key, int64_t v)
{
	item(j, key);
	if (v == MW_UNKNOWN)
		fputs("null", j->f);
	else
		fprintf(j->f, "%" PRId64, v);
}

void mw_json_num(struct mw_json *j, const char *key, double v)
{
	item(j, key);
	if (!isfinite(v))
		fputs("null", j->f);
	else
		fprintf(j->f, "%.10g", v);
}

/* The bytes of s as lowercase hex: what "<key>_bytes" holds. */
static void hex_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fprintf(f, "%02x", *p);
	fputc('"', f);
}

void mw_json_str(struct mw_json *j, const char *key, const char *s)
{
	char bytes_key[128];

	item(j, key);
	if (!s) {
		fputs("null", j->f);
		return;
	}
	mw_json_string(j->f, s);
	/* U+FFFD stood for the bytes that were not UTF-8: say which they were. */
	if (key && !mw_utf8_valid(s)) {
		snprintf(bytes_key, sizeof(bytes_key), "%s_bytes", key);
		item(j, bytes_key);
		hex_string(j->f, s);
	}
}

void mw_json_bool(struct mw_json *j, const char *key, bool v)
{
	item(j, key);
	fputs(v ? "true" : "false", j->f);
}

void mw_json_null(struct mw_json *j, const char *key)
{
	item(j, key);
	fputs("null", j->f);
}

void mw_json_end(struct mw_json *j)
{
	fputc('\n', j->f);
}
