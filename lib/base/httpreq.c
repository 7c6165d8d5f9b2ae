/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An HTTP/1.x request head parser (RFC 9112 section 2-5) over bytes: every
 * access is bounded by len, nothing assumes a terminator. It is stateless:
 * the listener calls it again on the whole buffer as bytes arrive, which
 * costs little at a 4 KiB limit and leaves no half-parsed state to get
 * wrong.
 */
#include "memwatch/base/httpreq.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Longest method we bother to recognise; a longer token is not one we implement. */
#define MAX_METHOD 16

struct cur {
	const unsigned char *b;
	size_t len, pos;
	struct mw_httpreq *out;
};

/* What the header fields said, folded into out at the end. */
struct fields {
	unsigned n;
	unsigned hosts;
	bool close, keep_alive;
	bool body;
	bool have_length;
	uint64_t length;
	int q_om, q_text; /* thousandths; -1 when not mentioned */
};

static int fail(struct cur *c, int status)
{
	c->out->status = status;
	return -EBADMSG;
}

static bool is_tchar(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool is_ows(unsigned char ch)
{
	return ch == ' ' || ch == '\t';
}

static unsigned char lower(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch - 'A' + 'a') : ch;
}

/* s[0, n) equals the lowercase literal lit, ignoring case. */
static bool ieq(const unsigned char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	if (n != k)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

/* A line end: CRLF, or a bare LF (which RFC 9112 lets a recipient accept). */
static int eol(struct cur *c)
{
	if (c->pos >= c->len)
		return -EAGAIN;
	if (c->b[c->pos] == '\n') {
		c->pos++;
		return 0;
	}
	if (c->b[c->pos] != '\r')
		return fail(c, 400);
	if (c->pos + 1 >= c->len)
		return -EAGAIN;
	if (c->b[c->pos + 1] != '\n')
		return fail(c, 400);
	c->pos += 2;
	return 0;
}

static int method(struct cur *c)
{
	size_t start = c->pos, n;

	while (c->pos < c->len && c->pos - start <= MAX_METHOD && is_tchar(c->b[c->pos]))
		c->pos++;
	n = c->pos - start;
	if (n > MAX_METHOD)
		return fail(c, 501);
	if (c->pos >= c->len)
		return -EAGAIN;
	if (n == 0 || c->b[c->pos] != ' ')
		return fail(c, 400);
	if (n == 3 && !memcmp(c->b + start, "GET", 3))
		c->out->method = MW_HTTP_GET;
	else if (n == 4 && !memcmp(c->b + start, "HEAD", 4))
		c->out->method = MW_HTTP_HEAD;
	else
		c->out->method = MW_HTTP_OTHER;
	c->pos++;
	return 0;
}

static int target(struct cur *c)
{
	size_t start = c->pos, n;

	while (c->pos < c->len && c->b[c->pos] > 0x20 && c->b[c->pos] < 0x7f) {
		if (c->pos - start >= MW_HTTPREQ_MAX_TARGET)
			return fail(c, 414);
		c->pos++;
	}
	n = c->pos - start;
	if (c->pos >= c->len)
		return -EAGAIN;
	if (n == 0 || c->b[c->pos] != ' ')
		return fail(c, 400);
	memcpy(c->out->target, c->b + start, n);
	c->out->target[n] = '\0';
	c->pos++;
	return 0;
}

/* "HTTP/" DIGIT "." DIGIT, checked as far as the bytes go. */
static int version(struct cur *c)
{
	static const char pat[] = "HTTP/d.d";
	size_t i;

	for (i = 0; i < sizeof(pat) - 1; i++, c->pos++) {
		unsigned char ch;
		if (c->pos >= c->len)
			return -EAGAIN;
		ch = c->b[c->pos];
		if (pat[i] == 'd' ? !(ch >= '0' && ch <= '9') : ch != (unsigned char)pat[i])
			return fail(c, 400);
	}
	if (c->b[c->pos - 3] != '1')
		return fail(c, 505);
	c->out->minor = c->b[c->pos - 1] - '0';
	return eol(c);
}

static int request_line(struct cur *c)
{
	int r;

	/* One empty line before the request line is tolerated (RFC 9112 2.2). */
	if (c->len > 0 && c->b[0] == '\n')
		c->pos = 1;
	else if (c->len > 0 && c->b[0] == '\r') {
		if (c->len < 2)
			return -EAGAIN;
		if (c->b[1] != '\n')
			return fail(c, 400);
		c->pos = 2;
	}
	r = method(c);
	if (r == 0)
		r = target(c);
	if (r == 0)
		r = version(c);
	return r;
}

/* The index of the first sep at or after i outside a quoted-string, or n. */
static size_t separator(const unsigned char *v, size_t i, size_t n, unsigned char sep)
{
	bool quoted = false;

	for (; i < n && (quoted || v[i] != sep); i++) {
		if (quoted && v[i] == '\\' && i + 1 < n)
			i++;
		else if (v[i] == '"')
			quoted = !quoted;
	}
	return i;
}

/* Calls fn on each comma-separated element of v[0, n), OWS trimmed, quotes respected. */
static void each_element(const unsigned char *v, size_t n,
                         void (*fn)(const unsigned char *, size_t, struct fields *),
                         struct fields *f)
{
	size_t i = 0;

	while (i < n) {
		size_t start, end;
		while (i < n && (is_ows(v[i]) || v[i] == ','))
			i++;
		start = i;
		i = separator(v, i, n, ',');
		end = i;
		while (end > start && is_ows(v[end - 1]))
			end--;
		if (end > start)
			fn(v + start, end - start, f);
	}
}

static void connection_option(const unsigned char *v, size_t n, struct fields *f)
{
	if (ieq(v, n, "close"))
		f->close = true;
	else if (ieq(v, n, "keep-alive"))
		f->keep_alive = true;
}

/* A qvalue (RFC 9110 12.4.2) in thousandths, or -1 when malformed. */
static int qvalue(const unsigned char *v, size_t n)
{
	int q, scale = 100;

	if (n == 0 || (v[0] != '0' && v[0] != '1') || (n > 1 && v[1] != '.') || n > 5)
		return -1;
	q = (v[0] - '0') * 1000;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		q += (v[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

/* The q parameter of a media range's parameters p[0, n) (";" separated), 1000 if absent. */
static int media_q(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t start;
		while (i < n && (is_ows(p[i]) || p[i] == ';'))
			i++;
		start = i;
		i = separator(p, i, n, ';');
		if (i - start >= 2 && lower(p[start]) == 'q' && p[start + 1] == '=') {
			size_t end = i;
			while (end > start + 2 && is_ows(p[end - 1]))
				end--;
			return qvalue(p + start + 2, end - start - 2);
		}
	}
	return 1000;
}

static void accept_range(const unsigned char *v, size_t n, struct fields *f)
{
	size_t type_end = 0;
	int q;

	while (type_end < n && v[type_end] != ';')
		type_end++;
	q = media_q(v + type_end, n - type_end);
	while (type_end > 0 && is_ows(v[type_end - 1]))
		type_end--;
	if (ieq(v, type_end, "application/openmetrics-text")) {
		if (q > f->q_om)
			f->q_om = q;
	} else if (ieq(v, type_end, "text/plain") || ieq(v, type_end, "text/*") ||
	           ieq(v, type_end, "*/*")) {
		if (q > f->q_text)
			f->q_text = q;
	}
}

static int content_length(struct cur *c, struct fields *f, const unsigned char *v, size_t n)
{
	uint64_t x = 0;

	if (n == 0 || n > 18)
		return fail(c, 400);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(c, 400);
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (f->have_length && f->length != x)
		return fail(c, 400);
	f->have_length = true;
	f->length = x;
	if (x > 0)
		f->body = true;
	return 0;
}

static int field(struct cur *c, struct fields *f, const unsigned char *name, size_t nlen,
                 const unsigned char *v, size_t vlen)
{
	if (ieq(name, nlen, "host"))
		f->hosts++;
	else if (ieq(name, nlen, "connection"))
		each_element(v, vlen, connection_option, f);
	else if (ieq(name, nlen, "accept"))
		each_element(v, vlen, accept_range, f);
	else if (ieq(name, nlen, "content-length"))
		return content_length(c, f, v, vlen);
	else if (ieq(name, nlen, "transfer-encoding"))
		f->body = true;
	return 0;
}

/* One field line, or the empty line that ends the head (returns 1 then). */
static int field_line(struct cur *c, struct fields *f)
{
	size_t name, nlen, v, vend;
	int r;

	if (c->pos >= c->len)
		return -EAGAIN;
	if (c->b[c->pos] == '\r' || c->b[c->pos] == '\n') {
		r = eol(c);
		return r < 0 ? r : 1;
	}
	/* A line starting with whitespace is obsolete folding (or an attack): refused. */
	name = c->pos;
	while (c->pos < c->len && is_tchar(c->b[c->pos]))
		c->pos++;
	nlen = c->pos - name;
	if (c->pos >= c->len)
		return -EAGAIN;
	if (nlen == 0 || c->b[c->pos] != ':')
		return fail(c, 400);
	if (++f->n > MW_HTTPREQ_MAX_FIELDS)
		return fail(c, 431);
	c->pos++;
	while (c->pos < c->len && is_ows(c->b[c->pos]))
		c->pos++;
	v = c->pos;
	while (c->pos < c->len &&
	       ((c->b[c->pos] > 0x20 && c->b[c->pos] != 0x7f) || is_ows(c->b[c->pos])))
		c->pos++;
	vend = c->pos;
	while (vend > v && is_ows(c->b[vend - 1]))
		vend--;
	r = eol(c);
	if (r < 0)
		return r;
	return field(c, f, c->b + name, nlen, c->b + v, vend - v);
}

static int finish(struct cur *c, const struct fields *f)
{
	if (f->hosts > 1 || (c->out->minor >= 1 && f->hosts == 0))
		return fail(c, 400);
	if (f->body)
		return fail(c, 413);
	c->out->keep_alive = !f->close && (c->out->minor >= 1 || f->keep_alive);
	c->out->openmetrics = f->q_om > 0 && f->q_om >= f->q_text;
	c->out->consumed = c->pos;
	return 0;
}

int mw_httpreq_parse(const char *buf, size_t len, struct mw_httpreq *out)
{
	struct cur c = {(const unsigned char *)buf, len, 0, out};
	struct fields f = {.q_om = -1, .q_text = -1};
	int r;

	memset(out, 0, sizeof(*out));
	/* Bytes past the limit cannot be part of an acceptable head: never look at them. */
	if (c.len > MW_HTTPREQ_MAX_HEAD)
		c.len = MW_HTTPREQ_MAX_HEAD;
	r = request_line(&c);
	while (r == 0)
		r = field_line(&c, &f);
	if (r == 1)
		r = finish(&c, &f);
	if (r == -EAGAIN && len >= MW_HTTPREQ_MAX_HEAD)
		r = fail(&c, 431);
	if (r < 0)
		out->keep_alive = false;
	return r;
}

const char *mw_http_reason(int status)
{
	static const struct {
		int code;
		const char *reason;
	} reasons[] = {
	        {200, "OK"},
	        {400, "Bad Request"},
	        {404, "Not Found"},
	        {405, "Method Not Allowed"},
	        {408, "Request Timeout"},
	        {413, "Content Too Large"},
	        {414, "URI Too Long"},
	        {431, "Request Header Fields Too Large"},
	        {500, "Internal Server Error"},
	        {501, "Not Implemented"},
	        {503, "Service Unavailable"},
	        {505, "HTTP Version Not Supported"},
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == status)
			return reasons[i].reason;
	return "";
}
