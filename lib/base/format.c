/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/base/format.h"
#include "memwatch/base/util.h"

#include <math.h>
#include <string.h>
#include <time.h>

static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

static const char *fmt_abs_bytes(char *buf, size_t cap, const char *sign, double v)
{
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < MW_ARRAY_SIZE(units)) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%s%.0f B", sign, v);
	else
		snprintf(buf, cap, "%s%.*f %s", sign, v < 10 ? 1 : v < 100 ? 1 : 0, v, units[u]);
	return buf;
}

const char *mw_fmt_bytes(char *buf, size_t cap, int64_t bytes)
{
	if (bytes == MW_UNKNOWN) {
		snprintf(buf, cap, "-");
		return buf;
	}
	if (bytes < 0)
		return fmt_abs_bytes(buf, cap, "-", -(double)bytes);
	return fmt_abs_bytes(buf, cap, "", (double)bytes);
}

const char *mw_fmt_bytes_delta(char *buf, size_t cap, double bytes)
{
	if (!isfinite(bytes)) {
		snprintf(buf, cap, "-");
		return buf;
	}
	if (bytes < 0)
		return fmt_abs_bytes(buf, cap, "-", -bytes);
	return fmt_abs_bytes(buf, cap, "+", bytes);
}

const char *mw_fmt_duration(char *buf, size_t cap, uint64_t ns)
{
	uint64_t s = ns / 1000000000ull;

	if (s < 60)
		snprintf(buf, cap, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, cap, "%llum %02llus", (unsigned long long)(s / 60),
		         (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, cap, "%lluh %02llum", (unsigned long long)(s / 3600),
		         (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, cap, "%llud %lluh", (unsigned long long)(s / 86400),
		         (unsigned long long)(s % 86400 / 3600));
	return buf;
}

const char *mw_fmt_time(char *buf, size_t cap, uint64_t t_ns)
{
	time_t t = (time_t)(t_ns / 1000000000ull);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, cap, "@%lld", (long long)t);
	return buf;
}

int mw_utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	int n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)n > avail)
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls (U+0080..U+009F) act as escape introducers on some terminals. */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	return n;
}

/* One escaped unit for byte c: writes to esc, returns its length. */
static int escape_byte(unsigned char c, char esc[5])
{
	switch (c) {
	case '\n':
		return (int)(memcpy(esc, "\\n", 2), 2);
	case '\t':
		return (int)(memcpy(esc, "\\t", 2), 2);
	case '\r':
		return (int)(memcpy(esc, "\\r", 2), 2);
	case 0x1b:
		return (int)(memcpy(esc, "\\e", 2), 2);
	case '\\':
		return (int)(memcpy(esc, "\\\\", 2), 2);
	default:
		snprintf(esc, 5, "\\x%02x", c);
		return 4;
	}
}

size_t mw_escape_term(const char *in, size_t len, char *out, size_t cap, bool utf8)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, i = 0;

	if (cap == 0)
		return 0;
	while (i < len) {
		char esc[5];
		const char *src;
		int n, seq;

		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
			src = (const char *)s + i;
			n = 1;
			seq = 1;
		} else if (utf8 && s[i] >= 0x80 && (seq = mw_utf8_seq_len(s + i, len - i)) > 0) {
			src = (const char *)s + i;
			n = seq;
		} else {
			n = escape_byte(s[i], esc);
			src = esc;
			seq = 1;
		}
		if (o + (size_t)n >= cap)
			break;
		memcpy(out + o, src, (size_t)n);
		o += (size_t)n;
		i += (size_t)seq;
	}
	out[o] = '\0';
	return o;
}

/* A C1 control (U+0080..U+009F) in UTF-8: valid, but mw_utf8_seq_len refuses it for terminals. */
static bool is_c1(const unsigned char *s, size_t avail)
{
	return avail >= 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f;
}

void mw_json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len = strlen((const char *)s);

	fputc('"', f);
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		int seq;

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			fputc('\\', f);
			fputc(c == '\n' ? 'n' : c == '\t' ? 't' : 'r', f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			fputc(c, f);
			i++;
		} else if (is_c1(s + i, len - i)) {
			fprintf(f, "\\u%04x", s[i + 1]);
			i += 2;
		} else if ((seq = mw_utf8_seq_len(s + i, len - i)) > 0) {
			fwrite(s + i, 1, (size_t)seq, f);
			i += (size_t)seq;
		} else {
			fputs("\\ufffd", f);
			i++;
		}
	}
	fputc('"', f);
}

bool mw_utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str);

	for (size_t i = 0; i < len;) {
		int seq = is_c1(s + i, len - i) ? 2 : mw_utf8_seq_len(s + i, len - i);
		if (seq <= 0)
			return false;
		i += (size_t)seq;
	}
	return true;
}

void mw_html_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t avail = strlen((const char *)p);

	while (*p) {
		int l = mw_utf8_seq_len(p, avail);
		if (l == 0) {
			fprintf(f, "\\x%02x", *p);
			l = 1;
		} else if (l == 1) {
			switch (*p) {
			case '&':
				fputs("&amp;", f);
				break;
			case '<':
				fputs("&lt;", f);
				break;
			case '>':
				fputs("&gt;", f);
				break;
			case '"':
				fputs("&quot;", f);
				break;
			case '\'':
				fputs("&#39;", f);
				break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					fprintf(f, "\\x%02x", *p);
				else
					fputc(*p, f);
			}
		} else {
			fwrite(p, 1, (size_t)l, f);
		}
		p += l;
		avail -= (size_t)l;
	}
}
