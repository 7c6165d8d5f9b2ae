/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/base/openmetrics.h"

#include <math.h>
#include <string.h>

static void put_help(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

void mw_om_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s ", name);
	put_help(out, help);
	fprintf(out, "\n# TYPE %s %s\n", name, type);
}

/* Length of a valid UTF-8 sequence at s (no overlongs, no surrogates), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

void mw_om_label_value(FILE *out, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;

	while (*s) {
		size_t n = utf8_len(s);
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (n == 0 || *s < 0x20 || *s == 0x7f)
			fputs("\xef\xbf\xbd", out);
		else
			fwrite(s, 1, n, out);
		s += n ? n : 1;
	}
}

static void labels(FILE *out, const char *name, const char *const *l)
{
	fputs(name, out);
	if (!l || !l[0])
		return;
	fputc('{', out);
	for (size_t i = 0; l[i] && l[i + 1]; i += 2) {
		fprintf(out, "%s%s=\"", i ? "," : "", l[i]);
		mw_om_label_value(out, l[i + 1]);
		fputc('"', out);
	}
	fputc('}', out);
}

void mw_om_sample(FILE *out, const char *name, const char *const *l, double value)
{
	labels(out, name, l);
	if (isnan(value))
		fputs(" NaN\n", out);
	else if (isinf(value))
		fputs(value > 0 ? " +Inf\n" : " -Inf\n", out);
	else
		fprintf(out, " %.15g\n", value);
}

void mw_om_sample_i64(FILE *out, const char *name, const char *const *l, int64_t value)
{
	labels(out, name, l);
	fprintf(out, " %lld\n", (long long)value);
}
