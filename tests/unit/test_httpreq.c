/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The HTTP request parser on real request bytes: what Prometheus sends,
 * every prefix of it, pipelined requests, keep-alive rules, bodies,
 * limits, NULs and binary garbage, content negotiation; then the fuzz
 * target's contract checks over its seeds and a few hundred thousand
 * mutated requests. Each input sits in a buffer of exactly its length, so
 * a read past it fails under ASan.
 */
#include "check.h"
#include "memwatch/base/httpreq.h"

#include <errno.h>
#include <stdint.h>

/* The fuzz target, so its contract checks run here too (they abort on a breach). */
#include "../fuzz/fuzz_httpreq.c"

#define PROM_ACCEPT                                                                                \
	"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"   \
	"q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
#define PROM_REQ                                                                                   \
	"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nUser-Agent: Prometheus/2.42.0\r\n"       \
	"Accept: " PROM_ACCEPT "\r\nAccept-Encoding: gzip\r\n"                                     \
	"X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n"

static int parse_n(const char *s, size_t n, struct mw_httpreq *req)
{
	return parse_copy((const uint8_t *)s, n, req);
}

static int parse(const char *s, struct mw_httpreq *req)
{
	return parse_n(s, strlen(s), req);
}

/* The status a malformed request gets, 0 when it parses, -1 when it needs more. */
static int status_of(const char *s, size_t n)
{
	struct mw_httpreq req = {0};
	int r = parse_n(s, n, &req);

	return r == 0 ? 0 : r == -EAGAIN ? -1 : req.status;
}

static void test_prometheus_request(void)
{
	struct mw_httpreq req = {0};
	size_t n = strlen(PROM_REQ);

	CHECK_EQ_I64(parse(PROM_REQ, &req), 0);
	CHECK_EQ_I64(req.consumed, n);
	CHECK(req.method == MW_HTTP_GET);
	CHECK_EQ_STR(req.target, "/metrics");
	CHECK_EQ_I64(req.minor, 1);
	CHECK(req.keep_alive);
	CHECK(req.openmetrics);
	/* Every prefix, down to nothing, asks for more: the request arrives a byte at a time. */
	for (size_t k = 0; k < n; k++)
		CHECK_EQ_I64(status_of(PROM_REQ, k), -1);
}

static void test_pipelined(void)
{
	static const char two[] =
	        "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
	        "HEAD /metrics?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	        "GET /met";
	struct mw_httpreq req = {0};
	size_t off, n = sizeof(two) - 1;

	CHECK_EQ_I64(parse_n(two, n, &req), 0);
	CHECK(req.method == MW_HTTP_GET && req.keep_alive);
	off = req.consumed;
	CHECK_EQ_I64(off, strlen("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"));
	CHECK_EQ_I64(parse_n(two + off, n - off, &req), 0);
	CHECK(req.method == MW_HTTP_HEAD);
	CHECK_EQ_STR(req.target, "/metrics?x=1");
	CHECK(!req.keep_alive);
	off += req.consumed;
	CHECK_EQ_I64(parse_n(two + off, n - off, &req), -EAGAIN);
}

static void test_keep_alive_rules(void)
{
	static const struct {
		const char *req;
		bool keep;
	} cases[] = {
	        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
	        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
	        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: TE, Close\r\n\r\n", false},
	        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
	         false},
	        {"GET / HTTP/1.0\r\n\r\n", false},
	        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
	        {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
	        {"GET / HTTP/1.0\r\nX-Connection: keep-alive\r\n\r\n", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mw_httpreq req = {0};
		CHECK_EQ_I64(parse(cases[i].req, &req), 0);
		if (req.keep_alive != cases[i].keep)
			fprintf(stderr, "keep-alive wrong for %s", cases[i].req);
		CHECK(req.keep_alive == cases[i].keep);
	}
}

static void test_malformed(void)
{
	static const struct {
		const char *req;
		size_t len; /* 0: strlen */
		int status;
	} cases[] = {
	        /* Refused as soon as the bytes show it: no line end needed. */
	        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, 400}, /* a TLS ClientHello */
	        {"\0\0\0\0", 4, 400},
	        {"GET /met\0rics HTTP/1.0\r\n\r\n", 26, 400},
	        {"GET /metrics HTTP/1.0\r\nX: a\0b\r\n\r\n", 34, 400},
	        {"GET\0/metrics", 12, 400},
	        {"GET  /metrics HTTP/1.1", 0, 400},
	        {"GET /metrics HTTP/1.1 ", 0, 400},
	        {"GET /metrics HTTPS/1.1", 0, 400},
	        {"GET /metrics http/1.1", 0, 400},
	        {"GET /metrics HTTP/2.0\r\n", 0, 505},
	        {"GET /metrics HTTP/1.1\rX", 0, 400},
	        {"GET /metrics HTTP/1.1\r\nHost : a\r\n", 0, 400},
	        {"GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n", 0, 400},
	        {"GET /metrics HTTP/1.1\r\n: a\r\n", 0, 400},
	        {"GET /metrics HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n", 0, 400},
	        {"\r\n\r\n", 0, 400},
	        {"\rX", 0, 400},
	        {"\xff\xfe\xfd garbage", 0, 400},
	        {"EXTRAORDINARILYLONGMETHOD / HTTP/1.1\r\n", 0, 501},
	        /* Headers that make the request unacceptable once complete. */
	        {"GET /metrics HTTP/1.1\r\n\r\n", 0, 400}, /* 1.1 without Host */
	        {"GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0, 400},
	        {"GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 0, 413},
	        {"POST /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	         0, 413},
	        {"GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", 0, 400},
	        {"GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: "
	         "1\r\n\r\n",
	         0, 400},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s = cases[i].req;
		size_t n = cases[i].len ? cases[i].len : strlen(s);
		int got = status_of(s, n);
		if (got != cases[i].status)
			fprintf(stderr, "case %zu (%.20s...): status %d, want %d\n", i, s, got,
			        cases[i].status);
		CHECK_EQ_I64(got, cases[i].status);
	}
}

static void test_accepted_forms(void)
{
	struct mw_httpreq req = {0};

	/* Bare LF line ends, one leading empty line, Content-Length 0, other methods (405 later).
	 */
	CHECK_EQ_I64(parse("GET /metrics HTTP/1.1\nHost: a\n\n", &req), 0);
	CHECK_EQ_I64(parse("\r\nGET /metrics HTTP/1.0\r\n\r\n", &req), 0);
	CHECK_EQ_I64(parse("GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &req),
	             0);
	CHECK_EQ_I64(parse("POST /metrics HTTP/1.0\r\n\r\n", &req), 0);
	CHECK(req.method == MW_HTTP_OTHER);
	CHECK_EQ_I64(parse("get /metrics HTTP/1.0\r\n\r\n", &req), 0);
	CHECK(req.method == MW_HTTP_OTHER); /* methods are case-sensitive */
	/* Field values may carry obs-text (UTF-8) and tabs. */
	CHECK_EQ_I64(parse("GET / HTTP/1.0\r\nUser-Agent:\t\xc3\xa9t\xc3\xa9 \t\r\n\r\n", &req), 0);
}

static void test_limits(void)
{
	char buf[2 * MW_HTTPREQ_MAX_HEAD];
	size_t n;

	/* A target over the limit: 414 before its end arrives. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET /");
	memset(buf + n, 'a', MW_HTTPREQ_MAX_TARGET + 10);
	n += MW_HTTPREQ_MAX_TARGET + 10;
	CHECK_EQ_I64(status_of(buf, n), 414);
	/* A target of exactly the limit is fine. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET /");
	memset(buf + n, 'a', MW_HTTPREQ_MAX_TARGET - 1);
	n += MW_HTTPREQ_MAX_TARGET - 1;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, " HTTP/1.0\r\n\r\n");
	CHECK_EQ_I64(status_of(buf, n), 0);
	/* One header of 5000 bytes, never ended: 431 once the limit is reached, not before. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET /metrics HTTP/1.0\r\nX: ");
	memset(buf + n, 'a', sizeof(buf) - n);
	CHECK_EQ_I64(status_of(buf, MW_HTTPREQ_MAX_HEAD - 1), -1);
	CHECK_EQ_I64(status_of(buf, MW_HTTPREQ_MAX_HEAD), 431);
	CHECK_EQ_I64(status_of(buf, sizeof(buf)), 431);
	/* Many short fields: 431 at the 65th. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.0\r\n");
	for (int i = 0; i < MW_HTTPREQ_MAX_FIELDS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X%d: y\r\n", i);
	CHECK_EQ_I64(status_of(buf, n), -1);
	CHECK_EQ_I64(status_of(buf, n + (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n")), 0);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "Z: y\r\n\r\n");
	CHECK_EQ_I64(status_of(buf, n), 431);
}

static bool wants_om(const char *accept)
{
	char req[512];
	struct mw_httpreq r = {0};

	snprintf(req, sizeof(req), "GET /metrics HTTP/1.0\r\n%s%s%s\r\n", accept ? "Accept: " : "",
	         accept ? accept : "", accept ? "\r\n" : "");
	CHECK_EQ_I64(parse(req, &r), 0);
	return r.openmetrics;
}

static void test_accept(void)
{
	CHECK(!wants_om(NULL));
	CHECK(!wants_om("*/*"));
	CHECK(!wants_om("text/plain"));
	CHECK(wants_om("application/openmetrics-text"));
	CHECK(wants_om("Application/OpenMetrics-Text; Version=1.0.0"));
	CHECK(wants_om(PROM_ACCEPT));
	CHECK(!wants_om("application/openmetrics-text;q=0"));
	CHECK(!wants_om("application/openmetrics-text;q=0.000, */*"));
	CHECK(!wants_om("text/plain;q=0.9, application/openmetrics-text;q=0.5"));
	CHECK(wants_om("text/plain;q=0.3, application/openmetrics-text;q=0.5"));
	/* A comma inside a quoted parameter does not split the range. */
	CHECK(wants_om("application/openmetrics-text;x=\"a,text/plain;q=1\";q=0.8, text/*;q=0.2"));
	/* A malformed q refuses that range rather than guessing. */
	CHECK(!wants_om("application/openmetrics-text;q=2"));
	CHECK(!wants_om("application/openmetrics-text;q=0.5x"));
	CHECK(wants_om("application/openmetrics-text;q=1.000"));
	/* Split over two Accept fields. */
	CHECK(wants_om("text/plain;q=0.1\r\nAccept: application/openmetrics-text"));
}

/* The fuzz contract over mutations of real requests (deterministic: a fixed seed). */
static void test_fuzz_contract(void)
{
	static const char *seeds[] = {
	        PROM_REQ,
	        "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nHEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
	        "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
	};
	static const char alphabet[] = " \t\r\n\0:;,=\"/qHTP1.0GET\x80\xff";
	uint8_t buf[1024];
	unsigned seed = 18;

	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		size_t n0 = strlen(seeds[s]);
		for (int round = 0; round < 20000; round++) {
			size_t n = n0;
			memcpy(buf, seeds[s], n);
			for (int k = 0; k < 1 + round % 4; k++) {
				seed = seed * 1103515245u + 12345u;
				size_t at = (seed >> 8) % n;
				uint8_t ch =
				        (uint8_t)alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
				switch ((seed >> 4) % 3) {
				case 0:
					buf[at] = ch;
					break;
				case 1: /* drop a byte */
					memmove(buf + at, buf + at + 1, n - at - 1);
					n--;
					break;
				default: /* insert one */
					if (n < sizeof(buf)) {
						memmove(buf + at + 1, buf + at, n - at);
						buf[at] = ch;
						n++;
					}
				}
			}
			LLVMFuzzerTestOneInput(buf, n);
			LLVMFuzzerTestOneInput(buf, (seed >> 12) % (n + 1));
		}
	}
	check_count++; /* reaching here means no contract check aborted */
}

int main(void)
{
	test_prometheus_request();
	test_pipelined();
	test_keep_alive_rules();
	test_malformed();
	test_accepted_forms();
	test_limits();
	test_accept();
	test_fuzz_contract();
	return check_done();
}
