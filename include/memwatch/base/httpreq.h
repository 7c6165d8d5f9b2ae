/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsing one HTTP/1.x request head from bytes as they arrive, for the
 * metrics listener. Pure: no I/O, no allocation, no global state. The
 * buffer is bytes, not a string (a NUL is a byte like any other, and gets
 * a 400); nothing past len is read. Bodies are refused: a GET needs none.
 */
#ifndef MEMWATCH_HTTPREQ_H
#define MEMWATCH_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>

/* The request line and every header field together, then 431. */
#define MW_HTTPREQ_MAX_HEAD 4096
/* The request target, then 414. */
#define MW_HTTPREQ_MAX_TARGET 1024
/* Header fields, then 431. */
#define MW_HTTPREQ_MAX_FIELDS 64

enum mw_http_method {
	MW_HTTP_OTHER, /* well-formed, but neither GET nor HEAD: 405 */
	MW_HTTP_GET,
	MW_HTTP_HEAD,
};

struct mw_httpreq {
	enum mw_http_method method;
	char target[MW_HTTPREQ_MAX_TARGET + 1]; /* NUL-terminated, visible ASCII only */
	int minor;                              /* HTTP/1.minor */
	bool keep_alive;  /* the connection persists after the response (version, Connection) */
	bool openmetrics; /* Accept prefers application/openmetrics-text to text/plain */
	size_t consumed;  /* bytes of the request head, when complete */
	int status;       /* when malformed: the HTTP status to answer with */
};

/*
 * Parse the request head at the start of buf[0, len). Returns 0 when a
 * whole head is there (out->consumed bytes of it; what follows may be the
 * next, pipelined, request), -EAGAIN when more bytes are needed, or
 * -EBADMSG when it can never become a valid request, with out->status set
 * to 400, 413 (a body), 414, 431, 501 or 505. An error is reported as soon
 * as the bytes seen so far show it, so garbage is answered without waiting
 * for a line end.
 */
int mw_httpreq_parse(const char *buf, size_t len, struct mw_httpreq *out);

/* The reason phrase for a status this module or the listener uses ("" if unknown). */
const char *mw_http_reason(int status);

#endif
