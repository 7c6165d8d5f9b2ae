/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "check.h"
#include "memwatch/base/config.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

static void test_defaults(void)
{
	struct mw_config c;

	mw_config_defaults(&c);
	CHECK_EQ_I64(c.interval_ns, 5000000000LL);
	CHECK_EQ_I64(c.retain_raw_ns, 48LL * 3600 * 1000000000LL);
	CHECK_EQ_I64(c.retain_minute_ns, 30LL * 86400 * 1000000000LL);
	CHECK_EQ_I64(c.max_size_bytes, 1LL << 30);
	CHECK_EQ_STR(c.listen, "");
	CHECK(!c.mlockall);
	CHECK(mw_config_proc_wanted(&c, "bash", "/bin/bash -l", 1000));
}

static void test_full_file(void)
{
	static const char text[] = "# memwatchd.conf\n"
	                           "\n"
	                           "interval = 2s   # faster\n"
	                           "slow_interval=90s\n"
	                           "database = \"/tmp/x y/mw.db\"\n"
	                           "retain_raw = 12h\n"
	                           "retain_minute = 7d\n"
	                           "retain_hour = 90d\n"
	                           "max_size = 256M\n"
	                           "disable = bpf, regions\n"
	                           "include_comm = java*\n"
	                           "include_comm = postgres\n"
	                           "exclude_cmdline = *--no-watch*\n"
	                           "exclude_uid = 65534\n"
	                           "listen = 127.0.0.1:9464\n"
	                           "metrics_top = 5\n"
	                           "nice = 5\n"
	                           "mlockall = yes\n"
	                           "\t malloc_arenas = 2 \r\n";
	char err[512] = "";
	struct mw_config c;

	mw_config_defaults(&c);
	CHECK_EQ_I64(mw_config_parse(text, "t.conf", &c, err, sizeof(err)), 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_I64(c.interval_ns, 2000000000LL);
	CHECK_EQ_I64(c.slow_interval_ns, 90000000000LL);
	CHECK_EQ_STR(c.database, "/tmp/x y/mw.db");
	CHECK_EQ_I64(c.retain_raw_ns, 12LL * 3600 * 1000000000LL);
	CHECK_EQ_I64(c.retain_minute_ns, 7LL * 86400 * 1000000000LL);
	CHECK_EQ_I64(c.retain_hour_ns, 90LL * 86400 * 1000000000LL);
	CHECK_EQ_I64(c.max_size_bytes, 256LL << 20);
	CHECK(mw_config_disabled(&c, "bpf"));
	CHECK(mw_config_disabled(&c, "regions"));
	CHECK(!mw_config_disabled(&c, "metrics"));
	CHECK_EQ_STR(c.listen, "127.0.0.1:9464");
	CHECK_EQ_I64(c.metrics_top, 5);
	CHECK_EQ_I64(c.nice, 5);
	CHECK(c.mlockall);
	CHECK_EQ_I64(c.malloc_arenas, 2);
	/* include by comm; exclusions win */
	CHECK(mw_config_proc_wanted(&c, "java", "java -jar a.jar", 1000));
	CHECK(mw_config_proc_wanted(&c, "postgres", "postgres: writer", 110));
	CHECK(!mw_config_proc_wanted(&c, "bash", "bash", 1000));
	CHECK(!mw_config_proc_wanted(&c, "java", "java --no-watch", 1000));
	CHECK(!mw_config_proc_wanted(&c, "java", "java", 65534));
}

/* A bad line names file:line, and the struct is left exactly as it was. */
static void test_errors_keep_old(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	        {"interval = 5s\ninterval = fast\n", "t.conf:2: interval: 'fast'"},
	        {"\n\nbogus = 1\n", "t.conf:3: unknown key 'bogus'"},
	        {"interval\n", "t.conf:1: expected 'key = value'"},
	        {"max_size = 12Q\n", "t.conf:1: max_size"},
	        {"nice = 40\n", "t.conf:1: nice"},
	        {"listen = 127.0.0.1\n", "t.conf:1: listen"},
	        {"listen = :99999\n", "t.conf:1: listen"},
	        {"mlockall = maybe\n", "t.conf:1: mlockall"},
	        {"database = relative.db\n", "t.conf:1: database"},
	        {"exclude_uid = root\n", "t.conf:1: 'root' is not a numeric uid"},
	        {"= 5\n", "t.conf:1: missing key"},
	        {"interval = 0.01s\n", "t.conf:1: interval"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mw_config c, before;
		char err[512] = "";

		mw_config_defaults(&c);
		c.nice = 3;
		before = c;
		CHECK(mw_config_parse(bad[i].text, "t.conf", &c, err, sizeof(err)) == -EINVAL);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0) {
			check_failures++;
			fprintf(stderr, "case %zu: error '%s', expected prefix '%s'\n", i, err,
			        bad[i].want);
		}
		CHECK(memcmp(&c, &before, sizeof(c)) == 0);
	}
}

/* Every error is listed with its file:line, not only the first; nothing applies. */
static void test_all_errors(void)
{
	static const char text[] = "interval = 2s\n"
	                           "intreval = 3s\n"
	                           "nice = 40\n"
	                           "# fine\n"
	                           "slow_intervl = 9s\n"
	                           "frobnicate = 1\n"
	                           "listen 127.0.0.1\n"
	                           "metrics_top = 7\n";
	char err[1024] = "";
	struct mw_config c, before;

	mw_config_defaults(&c);
	before = c;
	CHECK_EQ_I64(mw_config_parse(text, "t.conf", &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "t.conf:2: unknown key 'intreval'; did you mean interval?\n"
	                  "t.conf:3: nice: '40': expected -20 to 19\n"
	                  "t.conf:5: unknown key 'slow_intervl'; did you mean slow_interval?\n"
	                  "t.conf:6: unknown key 'frobnicate'\n"
	                  "t.conf:7: expected 'key = value', got 'listen 127.0.0.1'");
	CHECK(memcmp(&c, &before, sizeof(c)) == 0);
}

/* More errors than err holds: whole lines only, then how many were left out. */
static void test_errors_overflow(void)
{
	char text[4096] = "", err[200];
	struct mw_config c;
	size_t n = 0;
	const char *last;

	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "bogus%d = 1\n", i);
	mw_config_defaults(&c);
	CHECK_EQ_I64(mw_config_parse(text, "t.conf", &c, err, sizeof(err)), -EINVAL);
	static const char first[] = "t.conf:1: unknown key 'bogus0'\n";
	CHECK(strncmp(err, first, strlen(first)) == 0);
	last = strrchr(err, '\n');
	CHECK(last && strncmp(last, "\n... and ", strlen("\n... and ")) == 0 &&
	      strstr(last, " more"));
	/* Every line before the count is whole. */
	for (const char *l = err; l && l < last; l = strchr(l, '\n'), l = l ? l + 1 : l)
		CHECK(strncmp(l, "t.conf:", 7) == 0);
}

static void test_suggest(void)
{
	CHECK_EQ_STR(mw_config_suggest("intervall"), "interval");
	CHECK_EQ_STR(mw_config_suggest("Retain_Raw"), "retain_raw");
	CHECK_EQ_STR(mw_config_suggest("mlcokall"), "mlockall"); /* one transposition */
	CHECK_EQ_STR(mw_config_suggest("exclude_ui"), "exclude_uid");
	CHECK(mw_config_suggest("retain") == NULL); /* 4 edits from retain_raw */
	CHECK(mw_config_suggest("frobnicate") == NULL);
	CHECK(mw_config_suggest("") == NULL);
	/* The list is the keys mw_config_set takes, and each is its own best match. */
	for (size_t i = 0; mw_config_keys[i]; i++) {
		struct mw_config c;
		char err[256] = "";
		mw_config_defaults(&c);
		CHECK(mw_config_set(&c, mw_config_keys[i], "", err, sizeof(err)) != -ENOENT);
		CHECK_EQ_STR(mw_config_suggest(mw_config_keys[i]), mw_config_keys[i]);
	}
}

static void test_sizes(void)
{
	uint64_t v;

	CHECK_EQ_I64(mw_config_parse_size("1024", &v), 0);
	CHECK_EQ_I64(v, 1024);
	CHECK_EQ_I64(mw_config_parse_size("4k", &v), 0);
	CHECK_EQ_I64(v, 4096);
	CHECK_EQ_I64(mw_config_parse_size("1GiB", &v), 0);
	CHECK_EQ_I64(v, 1LL << 30);
	CHECK_EQ_I64(mw_config_parse_size("2TB", &v), 0);
	CHECK_EQ_I64(v, 2LL << 40);
	CHECK(mw_config_parse_size("", &v) < 0);
	CHECK(mw_config_parse_size("-1", &v) < 0);
	CHECK(mw_config_parse_size("1X", &v) < 0);
	CHECK(mw_config_parse_size("99999999999999T", &v) < 0);
}

static void test_load_file(void)
{
	char path[] = "/tmp/mw-config-XXXXXX", err[512];
	struct mw_config c;
	int fd = mkstemp(path);
	FILE *f;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	fputs("interval = 1s\nlisten = off\n", f);
	fclose(f);
	mw_config_defaults(&c);
	CHECK_EQ_I64(mw_config_load(path, &c, err, sizeof(err)), 0);
	CHECK_EQ_I64(c.interval_ns, 1000000000LL);
	unlink(path);
	CHECK_EQ_I64(mw_config_load(path, &c, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, path) != NULL);
}

int main(void)
{
	test_defaults();
	test_full_file();
	test_errors_keep_old();
	test_all_errors();
	test_errors_overflow();
	test_suggest();
	test_sizes();
	test_load_file();
	return check_done();
}
