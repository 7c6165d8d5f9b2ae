/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the HTTP request parser. The input is copied into a
 * buffer of exactly its size, so a read past len is an ASan report. Beyond
 * not crashing, the parser's contract is checked (abort() on a breach):
 * one of three answers; a complete head is no longer than the input or the
 * limit and parses the same on its own (what follows cannot change it); an
 * error is final (more bytes give the same status); a target is visible
 * ASCII. tests/unit/test_httpreq.c runs this on its own inputs too.
 */
#include "memwatch/base/httpreq.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
	if (!cond)
		abort();
}

static int parse_copy(const uint8_t *data, size_t size, struct mw_httpreq *req)
{
	char *buf = malloc(size ? size : 1);
	int r;

	require(buf != NULL);
	if (size)
		memcpy(buf, data, size);
	r = mw_httpreq_parse(buf, size, req);
	free(buf);
	return r;
}

static void check_target(const struct mw_httpreq *req)
{
	size_t n = strnlen(req->target, sizeof(req->target));

	require(n < sizeof(req->target));
	for (size_t i = 0; i < n; i++)
		require(req->target[i] > 0x20 && req->target[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mw_httpreq req = {0}, again = {0};
	int r = parse_copy(data, size, &req);

	require(r == 0 || r == -EAGAIN || r == -EBADMSG);
	if (r == 0) {
		require(req.consumed > 0 && req.consumed <= size &&
		        req.consumed <= MW_HTTPREQ_MAX_HEAD);
		require(req.method == MW_HTTP_GET || req.method == MW_HTTP_HEAD ||
		        req.method == MW_HTTP_OTHER);
		check_target(&req);
		require(parse_copy(data, req.consumed, &again) == 0);
		require(again.consumed == req.consumed && again.keep_alive == req.keep_alive &&
		        again.openmetrics == req.openmetrics && !strcmp(again.target, req.target));
	} else if (r == -EBADMSG) {
		require(req.status >= 400 && req.status <= 505 && *mw_http_reason(req.status));
		require(!req.keep_alive);
		/* The same bytes with more after them: still refused, for the same reason. */
		uint8_t *more = malloc(size + 64);
		require(more != NULL);
		memcpy(more, data, size);
		memset(more + size, '\n', 64);
		require(parse_copy(more, size + 64, &again) == -EBADMSG);
		require(again.status == req.status);
		free(more);
	}
	return 0;
}
