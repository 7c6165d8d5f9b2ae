/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes, durations, and the escapers that stand between /proc and a terminal or JSON. */
#include "check.h"
#include "memwatch/base/format.h"
#include "memwatch/base/util.h"

static void test_bytes(void)
{
	char b[32];

	CHECK_EQ_STR(mw_fmt_bytes(b, sizeof(b), 0), "0 B");
	CHECK_EQ_STR(mw_fmt_bytes(b, sizeof(b), 1023), "1023 B");
	CHECK_EQ_STR(mw_fmt_bytes(b, sizeof(b), 4096), "4.0 KiB");
	CHECK_EQ_STR(mw_fmt_bytes(b, sizeof(b), 1536LL * 1024 * 1024), "1.5 GiB");
	CHECK_EQ_STR(mw_fmt_bytes(b, sizeof(b), 300LL * 1024 * 1024), "300 MiB");
	CHECK_EQ_STR(mw_fmt_bytes(b, sizeof(b), -2048), "-2.0 KiB");
	CHECK_EQ_STR(mw_fmt_bytes(b, sizeof(b), MW_UNKNOWN), "-");
	CHECK_EQ_STR(mw_fmt_bytes_delta(b, sizeof(b), 1048576), "+1.0 MiB");
	CHECK_EQ_STR(mw_fmt_bytes_delta(b, sizeof(b), -512), "-512 B");
}

static void test_duration(void)
{
	char b[32];

	CHECK_EQ_STR(mw_fmt_duration(b, sizeof(b), 45000000000ull), "45s");
	CHECK_EQ_STR(mw_fmt_duration(b, sizeof(b), 125000000000ull), "2m 05s");
	CHECK_EQ_STR(mw_fmt_duration(b, sizeof(b), 3600000000000ull * 3 + 60000000000ull * 20),
	             "3h 20m");
	CHECK_EQ_STR(mw_fmt_duration(b, sizeof(b), 86400000000000ull * 2 + 3600000000000ull * 4),
	             "2d 4h");
}

static const char hostile[] = "a\x1b[2Jb\nc\td\\e\xff\xfe"
                              "f\xc3\xa9g\xc2\x9bh\xed\xa0\x80i";

static void test_escape_term(void)
{
	char out[256];

	mw_escape_term(hostile, strlen(hostile), out, sizeof(out), true);
	/* ESC, newline, tab, backslash, invalid bytes, C1 CSI, a surrogate: all visible text. */
	CHECK_EQ_STR(out, "a\\e[2Jb\\nc\\td\\\\e\\xff\\xfef\xc3\xa9g\\xc2\\x9bh\\xed\\xa0\\x80i");
	/* Non-UTF-8 locale: every non-ASCII byte escaped, output pure ASCII. */
	mw_escape_term("\xc3\xa9", 2, out, sizeof(out), false);
	CHECK_EQ_STR(out, "\\xc3\\xa9");
	/* Truncation never splits an escape or a UTF-8 sequence. */
	mw_escape_term("ab\x1b", 3, out, 4, true);
	CHECK_EQ_STR(out, "ab");
	mw_escape_term("a\xc3\xa9", 3, out, 3, true);
	CHECK_EQ_STR(out, "a");
	for (const char *p = out; *p; p++)
		CHECK((unsigned char)*p >= 0x20);
}

static void test_json_string(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	mw_json_string(f, hostile);
	fclose(f);
	/* Bad bytes are U+FFFD (mw_json_str adds the bytes), a C1 control \u009b. */
	CHECK_EQ_STR(buf, "\"a\\u001b[2Jb\\nc\\td\\\\e\\ufffd\\ufffdf\xc3\xa9g\\u009bh"
	                  "\\ufffd\\ufffd\\ufffdi\"");
	free(buf);
}

int main(void)
{
	test_bytes();
	test_duration();
	test_escape_term();
	test_json_string();
	return check_done();
}
