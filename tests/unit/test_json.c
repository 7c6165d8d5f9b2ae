/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The JSON writer: names that are not UTF-8 stay lossless (U+FFFD in the
 * text, every byte in "<key>_bytes"), and stay distinguishable from a name
 * that really is the text "\xff"; python3's json module must accept it all.
 */
#include "check.h"
#include "memwatch/base/format.h"
#include "memwatch/base/json.h"

#include <unistd.h>

/* One compact document {"k": s} (or [s] when key is NULL). */
static char *doc(const char *key, const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct mw_json j;

	mw_json_init(&j, f, false);
	if (key) {
		mw_json_obj_open(&j, NULL);
		mw_json_str(&j, key, s);
		mw_json_int(&j, "after", 1);
		mw_json_obj_close(&j);
	} else {
		mw_json_arr_open(&j, NULL);
		mw_json_str(&j, NULL, s);
		mw_json_arr_close(&j);
	}
	fclose(f);
	return buf;
}

static void check_doc(const char *key, const char *s, const char *want)
{
	char *got = doc(key, s);

	CHECK_EQ_STR(got, want);
	free(got);
}

static void test_lossless(void)
{
	/* Invalid bytes: replaced in the text, all bytes beside it. */
	check_doc("comm",
	          "\xff"
	          "evil",
	          "{\"comm\":\"\\ufffdevil\",\"comm_bytes\":\"ff6576696c\",\"after\":1}");
	/* The literal four characters \xff: escaped backslash, no _bytes. */
	check_doc("comm", "\\xffevil", "{\"comm\":\"\\\\xffevil\",\"after\":1}");
	/* Valid UTF-8 and C1 controls are kept as they are (escaped), no _bytes. */
	check_doc("comm", "caf\xc3\xa9\xc2\x9b", "{\"comm\":\"caf\xc3\xa9\\u009b\",\"after\":1}");
	/* A truncated sequence, a surrogate and an overlong form are each not UTF-8. */
	check_doc("c", "a\xc3", "{\"c\":\"a\\ufffd\",\"c_bytes\":\"61c3\",\"after\":1}");
	check_doc("c", "\xed\xa0\x80",
	          "{\"c\":\"\\ufffd\\ufffd\\ufffd\",\"c_bytes\":\"eda080\",\"after\":1}");
	check_doc("c", "\xc0\xaf", "{\"c\":\"\\ufffd\\ufffd\",\"c_bytes\":\"c0af\",\"after\":1}");
	/* Array elements have no key to put the bytes beside: U+FFFD only. */
	check_doc(NULL, "\xfe", "[\"\\ufffd\"]");
	check_doc("c", NULL, "{\"c\":null,\"after\":1}");
}

static void test_utf8_valid(void)
{
	CHECK(mw_utf8_valid(""));
	CHECK(mw_utf8_valid("plain \\xff text"));
	CHECK(mw_utf8_valid("\xf0\x9f\x98\x80 \xc2\x85"));
	CHECK(!mw_utf8_valid("\xff"));
	CHECK(!mw_utf8_valid("ok\xf4\x90\x80\x80")); /* past U+10FFFF */
}

/* Every byte value in a name, in pretty and compact form, parses as JSON and round-trips. */
static void test_python_parses(void)
{
	char name[256], cmd[512], path[] = "/tmp/mw-test-json-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct mw_json j;
	int r;

	CHECK(f != NULL);
	if (!f)
		return;
	for (int i = 1; i < 256; i++)
		name[i - 1] = (char)i;
	name[255] = '\0';
	mw_json_init(&j, f, true);
	mw_json_obj_open(&j, NULL);
	mw_json_str(&j, "name", name);
	mw_json_arr_open(&j, "list");
	mw_json_str(&j, NULL, name);
	mw_json_arr_close(&j);
	mw_json_obj_close(&j);
	mw_json_end(&j);
	fclose(f);
	/* The bytes field gives back exactly the 255 bytes written. */
	snprintf(cmd, sizeof(cmd),
	         "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
	         "b=bytes.fromhex(d[\"name_bytes\"]); "
	         "sys.exit(0 if b==bytes(range(1,256)) and \"\\ufffd\" in d[\"name\"] else 1)' %s",
	         path);
	r = system(cmd);
	CHECK_EQ_I64(r, 0);
	snprintf(cmd, sizeof(cmd), "python3 -m json.tool %s >/dev/null", path);
	r = system(cmd);
	CHECK_EQ_I64(r, 0);
	unlink(path);
}

int main(void)
{
	test_lossless();
	test_utf8_valid();
	test_python_parses();
	return check_done();
}
