/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store on a real SQLite file: change-only rows, full rows, exits, execs, locking, versions. */
#include "check.h"
#include "memwatch/store/inspect.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <sys/stat.h>

#define SEC 1000000000ull

static char dir[] = "/tmp/mw-test-store-XXXXXX";
static char path[256];

static int64_t count(const char *sql)
{
	int64_t v = -1;
	int r = mw_inspect_i64(path, sql, &v);

	if (r < 0)
		fprintf(stderr, "query failed: %s: %s\n", sql, strerror(-r));
	return v;
}

static void sample(struct mw_proc_sample *s, pid_t pid, uint64_t start, const char *comm,
                   int64_t rss)
{
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->ppid = 1;
	s->start_ticks = start;
	snprintf(s->comm, sizeof(s->comm), "%s", comm);
	s->cmdline = strdup(comm);
	s->cgroup = strdup("0::/test");
	for (int i = 0; i < MW_PM_COUNT; i++)
		s->m[i] = 1000 + i;
	s->m[MW_PM_rss] = rss;
	s->m[MW_PM_fds] = MW_UNKNOWN; /* unreadable, stored as NULL */
}

static int write_tick(struct mw_store *st, struct mw_proc_set *set, uint64_t t)
{
	struct mw_sys_sample sys;
	struct mw_tick tk = {.t_ns = t, .procs = set, .sys = &sys};

	for (int i = 0; i < MW_MI_COUNT; i++)
		sys.mem[i] = i;
	for (int i = 0; i < MW_VM_COUNT; i++)
		sys.vm[i] = MW_UNKNOWN;
	for (int i = 0; i < MW_PSI_COUNT; i++)
		sys.psi[i] = 7;
	return mw_store_write_tick(st, &tk);
}

static void test_rows(void)
{
	struct mw_store_options opt = {.full_row_every_ns = 60 * SEC};
	struct mw_store *st = NULL, *other = NULL;
	struct mw_proc_sample v[3];
	struct mw_proc_set set = {.v = v, .n = 2, .cap = 3};
	const char hostile[] = "evil\x1b[2J\n\xff";
	uint64_t t = 1700000000ull * SEC;
	pid_t holder = 0;

	CHECK_EQ_I64(mw_store_open_writer(path, &opt, &st, NULL), 0);
	/* One writer only; the second is told who holds it. */
	mw_store_meta_set(st, "writer_pid", "4242");
	CHECK_EQ_I64(mw_store_open_writer(path, &opt, &other, &holder), -EBUSY);
	CHECK_EQ_I64(holder, 4242);
	CHECK_EQ_I64(mw_store_writer_active(path), 1);

	sample(&v[0], 100, 5, "grower", 4096);
	sample(&v[1], 200, 6, hostile, 8192);
	/* 10 ticks: the grower changes each time, the flat one never. */
	for (int k = 0; k < 10; k++) {
		v[0].m[MW_PM_rss] = 4096 * (k + 1);
		CHECK_EQ_I64(write_tick(st, &set, t + (uint64_t)k * 5 * SEC), 0);
	}
	CHECK_EQ_I64(count("SELECT count(*) FROM ticks"), 10);
	CHECK_EQ_I64(count("SELECT count(*) FROM sys_samples"), 10);
	CHECK_EQ_I64(count("SELECT count(*) FROM proc_samples s JOIN procs p ON p.id = s.proc"
	                   " WHERE p.pid = 100"),
	             10);
	/* The flat process: its first (full) row only, within the full-row interval. */
	CHECK_EQ_I64(count("SELECT count(*) FROM proc_samples s JOIN procs p ON p.id = s.proc"
	                   " WHERE p.pid = 200"),
	             1);
	CHECK_EQ_I64(count("SELECT full FROM proc_samples s JOIN procs p ON p.id = s.proc"
	                   " WHERE p.pid = 200"),
	             1);
	CHECK_EQ_I64(count("SELECT count(*) FROM proc_samples WHERE fds IS NULL"), 11);
	/* After the full-row interval, a full row even without change. */
	CHECK_EQ_I64(write_tick(st, &set, t + 61 * SEC), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM proc_samples s JOIN procs p ON p.id = s.proc"
	                   " WHERE p.pid = 200 AND full = 1"),
	             2);
	/* Hostile bytes round-trip exactly (bound as parameters, not spliced into SQL). */
	CHECK_EQ_I64(count("SELECT count(*) FROM strings WHERE value = 'evil' || char(27) ||"
	                   " '[2J' || char(10) || CAST(x'ff' AS TEXT)"),
	             1);

	/* exec: same identity, new name -> updated identity and an event. */
	free(v[0].cmdline);
	v[0].cmdline = strdup("grower --after-exec");
	snprintf(v[0].comm, sizeof(v[0].comm), "grower2");
	CHECK_EQ_I64(write_tick(st, &set, t + 62 * SEC), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM events WHERE kind = 'exec'"), 1);
	CHECK_EQ_I64(count("SELECT count(*) FROM procs"), 2);

	/* pid reuse: same pid, new start time = a new process; the old one exits. */
	mw_proc_sample_release(&v[0]);
	sample(&v[0], 100, 999, "reborn", 4096);
	CHECK_EQ_I64(write_tick(st, &set, t + 63 * SEC), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM procs WHERE pid = 100 AND exit_tick IS NOT NULL"),
	             1);
	CHECK_EQ_I64(count("SELECT count(*) FROM events WHERE kind = 'exit' AND pid = 100"), 1);
	/* Seen once: pending, nothing written until a second tick sees it. */
	CHECK_EQ_I64(count("SELECT count(*) FROM procs WHERE pid = 100"), 1);
	CHECK_EQ_I64(write_tick(st, &set, t + 64 * SEC), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM procs WHERE pid = 100"), 2);
	/* Recorded from its first sighting: identity, a full row and the start event at 63 s. */
	CHECK_EQ_I64(count("SELECT t.t_ms FROM procs p JOIN ticks t ON t.id = p.first_tick"
	                   " WHERE p.start_ticks = 999"),
	             1700000063000LL);
	CHECK_EQ_I64(count("SELECT count(*) FROM proc_samples s JOIN procs p ON p.id = s.proc"
	                   " WHERE p.start_ticks = 999 AND s.full = 1"),
	             1);
	CHECK_EQ_I64(count("SELECT t_ms FROM events WHERE kind = 'start' AND pid = 100"),
	             1700000063000LL);
	/* The first tick's processes predate us: no start events for them. */
	CHECK_EQ_I64(count("SELECT count(*) FROM events WHERE kind = 'start'"), 1);

	/* A process seen in one tick only leaves nothing behind. */
	sample(&v[2], 300, 7, "blink", 4096);
	set.n = 3;
	CHECK_EQ_I64(write_tick(st, &set, t + 65 * SEC), 0);
	set.n = 2;
	CHECK_EQ_I64(write_tick(st, &set, t + 66 * SEC), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM procs WHERE pid = 300"), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM events WHERE pid = 300"), 0);
	mw_proc_sample_release(&v[2]);

	/* Reopen: live processes carry on without a duplicate identity. */
	mw_store_close(st);
	CHECK_EQ_I64(mw_store_writer_active(path), 0);
	CHECK_EQ_I64(mw_store_open_writer(path, &opt, &st, NULL), 0);
	CHECK_EQ_I64(write_tick(st, &set, t + 70 * SEC), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM procs"), 3);
	set.n = 1;
	CHECK_EQ_I64(write_tick(st, &set, t + 75 * SEC), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM procs WHERE pid = 200 AND exit_tick IS NOT NULL"),
	             1);
	mw_store_close(st);
	mw_proc_sample_release(&v[0]);
	mw_proc_sample_release(&v[1]);
}

static void test_series(void)
{
	struct mw_store *st = NULL;
	struct mw_proc_info info;
	struct mw_series sr;
	char boot[64];
	int64_t t0 = 1700000000000LL;

	CHECK_EQ_I64(mw_store_open_reader(path, &st), 0);
	CHECK_EQ_I64(mw_boot_id("", boot, sizeof(boot)), 0);
	CHECK_EQ_I64(mw_store_find_proc(st, boot, 200, 6, &info), 0);
	CHECK(info.exited);
	/* Last seen alive at 70 s; found gone at 75 s. */
	CHECK_EQ_I64(info.last_ms, t0 + 70000);
	CHECK_EQ_I64(mw_store_proc_series(st, info.id, 0, INT64_MAX, &sr), 0);
	/* Rows at 0 s, 61 s (full row) and 70 s (the reopened writer's full row). */
	CHECK_EQ_I64(sr.n, 3);
	if (sr.n == 3) {
		CHECK_EQ_I64(sr.t_ms[0], t0);
		CHECK_EQ_I64(sr.m[2][MW_PM_rss], 8192);
		CHECK_EQ_I64(sr.m[0][MW_PM_fds], MW_UNKNOWN);
	}
	mw_series_release(&sr);
	mw_proc_info_release(&info);

	/* A window starting mid-way carries the earlier value to its start. */
	CHECK_EQ_I64(mw_store_find_proc(st, boot, 100, 5, &info), 0);
	CHECK_EQ_I64(mw_store_proc_series(st, info.id, t0 + 12000, t0 + 30000, &sr), 0);
	CHECK(sr.n >= 2);
	if (sr.n >= 2) {
		CHECK_EQ_I64(sr.t_ms[0], t0 + 12000);
		CHECK_EQ_I64(sr.m[0][MW_PM_rss], 4096 * 3);
		CHECK_EQ_I64(sr.m[sr.n - 1][MW_PM_rss], 4096 * 7);
	}
	mw_series_release(&sr);
	CHECK_EQ_STR(info.comm, "grower2");
	mw_proc_info_release(&info);
	CHECK_EQ_I64(mw_store_find_proc(st, boot, 12345, 1, &info), -ENOENT);
	{
		struct mw_store_stats s;
		CHECK_EQ_I64(mw_store_stats(st, &s), 0);
		CHECK_EQ_I64(s.ticks, 18);
		CHECK_EQ_I64(s.schema_version, MW_STORE_SCHEMA_VERSION);
		CHECK(s.file_bytes > 0);
	}
	mw_store_close(st);
}

static void test_foreign_and_newer(void)
{
	char p2[300];
	struct mw_store *st = NULL;

	snprintf(p2, sizeof(p2), "%s/foreign.db", dir);
	CHECK_EQ_I64(mw_inspect_exec(p2, "CREATE TABLE other(x)"), 0);
	CHECK_EQ_I64(mw_store_open_writer(p2, NULL, &st, NULL), -ENOTRECOVERABLE);
	CHECK_EQ_I64(mw_store_open_reader(p2, &st), -ENOTRECOVERABLE);

	snprintf(p2, sizeof(p2), "%s/newer.db", dir);
	{
		char sql[200];
		snprintf(sql, sizeof(sql),
		         "PRAGMA application_id = %d; PRAGMA user_version = 999;"
		         " CREATE TABLE meta(key, value)",
		         MW_STORE_APPLICATION_ID);
		CHECK_EQ_I64(mw_inspect_exec(p2, sql), 0);
	}
	CHECK_EQ_I64(mw_store_open_writer(p2, NULL, &st, NULL), -EPROTONOSUPPORT);
	CHECK_EQ_I64(mw_store_open_reader(p2, &st), -EPROTONOSUPPORT);

	snprintf(p2, sizeof(p2), "%s/garbage.db", dir);
	{
		FILE *f = fopen(p2, "w");
		for (int i = 0; i < 1000; i++)
			fputs("this is not a database at all ", f);
		fclose(f);
	}
	CHECK_EQ_I64(mw_store_open_writer(p2, NULL, &st, NULL), -ENOTRECOVERABLE);
	snprintf(p2, sizeof(p2), "%s/missing.db", dir);
	CHECK_EQ_I64(mw_store_open_reader(p2, &st), -ENOENT);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/sub/dir/test.db", dir);
	test_rows();
	test_series();
	test_foreign_and_newer();
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return check_done();
}
