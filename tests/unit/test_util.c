/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "check.h"
#include "memwatch/base/util.h"

#include <errno.h>

static void test_durations(void)
{
	uint64_t ns;

	CHECK_EQ_I64(mw_parse_duration("30", &ns), 0);
	CHECK_EQ_I64(ns, 30000000000LL);
	CHECK_EQ_I64(mw_parse_duration("30m", &ns), 0);
	CHECK_EQ_I64(ns, 1800000000000LL);
	CHECK_EQ_I64(mw_parse_duration("6h", &ns), 0);
	CHECK_EQ_I64(ns, 6 * 3600000000000LL);
	CHECK_EQ_I64(mw_parse_duration("2d", &ns), 0);
	CHECK_EQ_I64(ns, 2 * 86400000000000LL);
	CHECK_EQ_I64(mw_parse_duration("1.5h", &ns), 0);
	CHECK_EQ_I64(ns, 5400000000000LL);
	CHECK_EQ_I64(mw_parse_duration("250ms", &ns), 0);
	CHECK_EQ_I64(ns, 250000000);
	CHECK(mw_parse_duration("", &ns) < 0);
	CHECK(mw_parse_duration("-5m", &ns) < 0);
	CHECK(mw_parse_duration("0", &ns) < 0);
	CHECK(mw_parse_duration("5 m", &ns) < 0);
	CHECK(mw_parse_duration("5x", &ns) < 0);
	CHECK(mw_parse_duration("m", &ns) < 0);
	CHECK(mw_parse_duration("nan", &ns) < 0);
	CHECK(mw_parse_duration("1e30d", &ns) < 0);
}

static void test_times(void)
{
	uint64_t now = 1700000000ull * 1000000000ull, t;

	CHECK_EQ_I64(mw_parse_time("1h", now, &t), 0);
	CHECK_EQ_I64(t, now - 3600000000000ull);
	CHECK_EQ_I64(mw_parse_time("@1600000000", now, &t), 0);
	CHECK_EQ_I64(t, 1600000000ull * 1000000000ull);
	setenv("TZ", "UTC", 1);
	CHECK_EQ_I64(mw_parse_time("2023-11-14 22:13:20", now, &t), 0);
	CHECK_EQ_I64(t, now);
	CHECK_EQ_I64(mw_parse_time("2023-11-14T22:13", now, &t), 0);
	CHECK_EQ_I64(t, now - 20000000000ull);
	CHECK(mw_parse_time("2023-13-40", now, &t) < 0);
	CHECK(mw_parse_time("yesterday", now, &t) < 0);
	CHECK(mw_parse_time("@x", now, &t) < 0);
	CHECK(mw_parse_time("", now, &t) < 0);
}

static void test_numbers(void)
{
	int64_t i;
	uint64_t u;

	CHECK_EQ_I64(mw_parse_i64("-42", &i), 0);
	CHECK_EQ_I64(i, -42);
	CHECK(mw_parse_i64("42x", &i) < 0);
	CHECK(mw_parse_i64(" 42", &i) < 0);
	CHECK(mw_parse_i64("99999999999999999999", &i) < 0);
	CHECK_EQ_I64(mw_parse_u64("18446744073709551615", &u), 0);
	CHECK(u == UINT64_MAX);
	CHECK(mw_parse_u64("-1", &u) < 0);
}

static void test_read_file(void)
{
	char buf[8];
	size_t len = 0;
	char path[] = "/tmp/mw-test-util-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, "abcdefghij", 10) == 10);
	close(fd);
	/* Truncated: the prefix is kept and the caller is told. */
	CHECK_EQ_I64(mw_read_file(path, buf, sizeof(buf), &len), -EFBIG);
	CHECK_EQ_I64(len, 7);
	CHECK_EQ_STR(buf, "abcdefg");
	{
		char *all = NULL;
		CHECK_EQ_I64(mw_read_file_alloc(path, &all, &len), 0);
		CHECK_EQ_I64(len, 10);
		CHECK_EQ_STR(all, "abcdefghij");
		free(all);
	}
	unlink(path);
	CHECK_EQ_I64(mw_read_file(path, buf, sizeof(buf), &len), -ENOENT);
	CHECK_EQ_STR(buf, "");
	/* A /proc file whose size stat() reports as 0. */
	{
		char *all = NULL;
		CHECK_EQ_I64(mw_read_file_alloc("/proc/self/status", &all, &len), 0);
		CHECK(all && strstr(all, "VmRSS:") != NULL);
		free(all);
	}
}

int main(void)
{
	test_durations();
	test_times();
	test_numbers();
	test_read_file();
	return check_done();
}
