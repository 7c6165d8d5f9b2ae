/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/base/openmetrics.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
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

struct om_line {
	const char *s;
	size_t n;
};

/* The line at text[*pos] (without its newline); advances *pos past it. */
static bool next_line(const char *text, size_t len, size_t *pos, struct om_line *l)
{
	const char *nl;

	if (*pos >= len)
		return false;
	l->s = text + *pos;
	nl = memchr(l->s, '\n', len - *pos);
	l->n = nl ? (size_t)(nl - l->s) : len - *pos;
	*pos += l->n + (nl ? 1 : 0);
	return true;
}

/* "# KIND name rest": name and rest, or false for any other line. */
static bool meta_line(const struct om_line *l, const char *kind, struct om_line *name,
                      struct om_line *rest)
{
	size_t k = strlen(kind), i;

	if (l->n < k + 3 || memcmp(l->s, "# ", 2) || memcmp(l->s + 2, kind, k) ||
	    l->s[k + 2] != ' ')
		return false;
	name->s = l->s + k + 3;
	for (i = 0; i < l->n - k - 3 && name->s[i] != ' '; i++)
		;
	name->n = i;
	rest->s = name->s + i + (i < l->n - k - 3 ? 1 : 0);
	rest->n = (size_t)(l->s + l->n - rest->s);
	return true;
}

static bool ends_with(const struct om_line *s, const char *suffix)
{
	size_t k = strlen(suffix);

	return s->n >= k && !memcmp(s->s + s->n - k, suffix, k);
}

/* One family's header: HELP (if any) and TYPE, renamed for OpenMetrics. */
struct om_family {
	struct om_line name, help, type;
	bool has_help;
	bool add_total; /* a counter whose samples lack the suffix OpenMetrics requires */
};

static void om_header(FILE *out, const struct om_family *f)
{
	struct om_line fam = f->name;
	bool counter = f->type.n == 7 && !memcmp(f->type.s, "counter", 7);

	if (counter && ends_with(&fam, "_total"))
		fam.n -= 6;
	if (f->has_help) {
		fprintf(out, "# HELP %.*s ", (int)fam.n, fam.s);
		for (size_t i = 0; i < f->help.n; i++)
			if (f->help.s[i] == '"')
				fputs("\\\"", out);
			else
				fputc(f->help.s[i], out);
		fputc('\n', out);
	}
	if (f->type.n == 7 && !memcmp(f->type.s, "untyped", 7))
		fprintf(out, "# TYPE %.*s unknown\n", (int)fam.n, fam.s);
	else
		fprintf(out, "# TYPE %.*s %.*s\n", (int)fam.n, fam.s, (int)f->type.n, f->type.s);
}

/* A HELP that no TYPE followed: its family is of unknown type. */
static void help_alone(FILE *out, struct om_family *f)
{
	if (!f->has_help)
		return;
	f->type = (struct om_line){"unknown", 7};
	om_header(out, f);
	f->has_help = false;
}

static void om_sample(FILE *out, const struct om_line *l, const struct om_family *f)
{
	size_t n = f->name.n;

	if (f->add_total && l->n > n && !memcmp(l->s, f->name.s, n) &&
	    (l->s[n] == '{' || l->s[n] == ' ')) {
		fprintf(out, "%.*s_total%.*s\n", (int)n, l->s, (int)(l->n - n), l->s + n);
		return;
	}
	fprintf(out, "%.*s\n", (int)l->n, l->s);
}

int mw_om_to_openmetrics(const char *text, size_t len, char **out, size_t *outlen)
{
	struct om_family fam = {0};
	struct om_line l, name, rest;
	size_t pos = 0;
	FILE *f = open_memstream(out, outlen);

	if (!f)
		return -ENOMEM;
	while (next_line(text, len, &pos, &l)) {
		if (meta_line(&l, "HELP", &name, &rest)) {
			help_alone(f, &fam);
			fam = (struct om_family){.name = name, .help = rest, .has_help = true};
			continue; /* written with its TYPE, under the family's new name */
		}
		if (meta_line(&l, "TYPE", &name, &rest)) {
			if (fam.has_help &&
			    (fam.name.n != name.n || memcmp(fam.name.s, name.s, name.n)))
				help_alone(f, &fam);
			if (!fam.has_help)
				fam = (struct om_family){.name = name};
			fam.type = rest;
			fam.add_total = rest.n == 7 && !memcmp(rest.s, "counter", 7) &&
			                !ends_with(&name, "_total");
			om_header(f, &fam);
			fam.has_help = false;
			continue;
		}
		help_alone(f, &fam);
		om_sample(f, &l, &fam);
	}
	help_alone(f, &fam);
	fputs("# EOF\n", f);
	return fclose(f) == 0 ? 0 : -ENOMEM;
}
