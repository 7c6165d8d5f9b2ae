/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Retention on a real store: a synthetic 10-day history written with SQL,
 * bounded steps, then the rollup readers answer the long trend.
 */
#include "check.h"
#include "memwatch/store/retention.h"
#include "memwatch/store/inspect.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define DAY_MS    86400000LL
#define MIB       1048576LL
#define NS_PER_MS 1000000ull

/* One tick per minute over [start, end): proc 1 leaks 1 MiB/day, proc 2 is flat. */
static int synth(struct mw_store *s, int64_t start_ms, int64_t end_ms)
{
	char sql[2048];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO boots(boot_id, btime) VALUES('synthetic', 0);"
	         "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq"
	         " WHERE i < %lld) INSERT INTO ticks(t_ms, boot, duration_us, nprocs)"
	         " SELECT %lld + i * 60000, (SELECT id FROM boots WHERE boot_id = 'synthetic'),"
	         " 1000, 2 FROM seq;"
	         "INSERT INTO procs(boot, pid, start_ticks, first_tick) SELECT id, 70001, 1, 1"
	         " FROM boots WHERE boot_id = 'synthetic';"
	         "INSERT INTO procs(boot, pid, start_ticks, first_tick) SELECT id, 70002, 1, 1"
	         " FROM boots WHERE boot_id = 'synthetic';"
	         "INSERT INTO proc_samples(proc, tick, full, rss, swap) SELECT p.id, t.id, 1,"
	         " CASE p.pid WHEN 70001 THEN 100 * %lld + (t.t_ms - %lld) * %lld / %lld"
	         " ELSE 50 * %lld END, 0 FROM ticks t, procs p WHERE p.pid IN (70001, 70002);"
	         "INSERT INTO sys_samples(tick, mem_total) SELECT id, 1 << 33 FROM ticks;",
	         (long long)((end_ms - start_ms) / 60000 - 1), (long long)start_ms, MIB,
	         (long long)start_ms, MIB, DAY_MS, MIB);
	return mw_inspect_store_exec(s, sql, NULL, 0) == 0 ? 0 : -EIO;
}

static int64_t proc_id(struct mw_store *s, int pid)
{
	int64_t id = 0, arg = pid;

	mw_inspect_store_i64(s, "SELECT id FROM procs WHERE pid = ?", &arg, 1, &id);
	return id;
}

static double slope_per_day(const int64_t *t, const int64_t *v, size_t stride, size_t n)
{
	double mt = 0, mv = 0, num = 0, den = 0;

	for (size_t i = 0; i < n; i++) {
		mt += (double)t[i];
		mv += (double)v[i * stride];
	}
	mt /= (double)n;
	mv /= (double)n;
	for (size_t i = 0; i < n; i++) {
		num += ((double)t[i] - mt) * ((double)v[i * stride] - mv);
		den += ((double)t[i] - mt) * ((double)t[i] - mt);
	}
	return den > 0 ? num / den * (double)DAY_MS : 0;
}

int main(void)
{
	char dir[] = "/tmp/mw-test-retention-XXXXXX", path[256];
	struct mw_store *s = NULL;
	struct mw_retention_policy pol = {.raw_ns = 2 * DAY_MS * NS_PER_MS,
	                                  .minute_ns = 5 * DAY_MS * NS_PER_MS,
	                                  .hour_ns = 365 * DAY_MS * NS_PER_MS,
	                                  .max_bytes = 1ull << 30};
	struct mw_retention_stats st;
	struct mw_rollup_series ro;
	struct mw_series sr;
	int64_t now_ms = (int64_t)(mw_now_ns() / NS_PER_MS), leak, flat;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/mw.db", dir);
	CHECK_EQ_I64(mw_store_open_writer(path, NULL, &s, NULL), 0);
	if (!s)
		return check_done();
	CHECK_EQ_I64(synth(s, now_ms - 10 * DAY_MS, now_ms - 60000), 0);
	leak = proc_id(s, 70001);
	flat = proc_id(s, 70002);

	/* One step is bounded, and says more remains. */
	CHECK_EQ_I64(mw_retention_step(s, &pol, (uint64_t)now_ms * NS_PER_MS, &st), 0);
	CHECK(st.rolled_minutes <= 120);
	CHECK(st.rolled_hours <= 2);
	CHECK(st.deleted_ticks <= 240);
	CHECK(st.more);

	CHECK_EQ_I64(mw_retention_run(s, &pol, (uint64_t)now_ms * NS_PER_MS, 100000, &st), 0);
	CHECK(!st.more);

	/* Minute rollups: the 5-day window, one bucket a minute, min <= last <= max. */
	CHECK_EQ_I64(mw_store_proc_rollup_series(s, leak, MW_ROLLUP_MINUTE, 0, now_ms, &ro), 0);
	CHECK(ro.n >= 5 * 1440 - 2 && ro.n <= 5 * 1440 + 1);
	CHECK(ro.n && ro.t_ms[0] >= now_ms - 5 * DAY_MS - 60000);
	for (size_t i = 0; i < ro.n; i++)
		if (!(ro.min[i][MW_PM_rss] <= ro.last[i][MW_PM_rss] &&
		      ro.last[i][MW_PM_rss] <= ro.max[i][MW_PM_rss])) {
			CHECK(!"min <= last <= max");
			break;
		}
	CHECK(ro.n && ro.min[0][MW_PM_vsz] == MW_UNKNOWN); /* only last for vsz */
	CHECK_NEAR(slope_per_day(ro.t_ms, &ro.last[0][MW_PM_rss], MW_PM_COUNT, ro.n), MIB,
	           MIB / 100);
	mw_rollup_series_release(&ro);

	/* Hour rollups reach back over all 10 days. */
	CHECK_EQ_I64(mw_store_proc_rollup_series(s, flat, MW_ROLLUP_HOUR, 0, now_ms, &ro), 0);
	CHECK(ro.n >= 10 * 24 - 2);
	CHECK(ro.n && ro.last[0][MW_PM_rss] == 50 * MIB);
	mw_rollup_series_release(&ro);

	/* The long-window hook: rollups before the raw window, raw after; one trend. */
	CHECK_EQ_I64(mw_store_proc_series_long(s, leak, now_ms - 9 * DAY_MS, now_ms, &sr), 0);
	CHECK(sr.n > 7 * 24);
	for (size_t i = 1; i < sr.n; i++)
		if (sr.t_ms[i] < sr.t_ms[i - 1]) {
			CHECK(!"series in time order");
			break;
		}
	CHECK(sr.n && sr.t_ms[0] >= now_ms - 9 * DAY_MS);
	CHECK_NEAR(slope_per_day(sr.t_ms, &sr.m[0][MW_PM_rss], MW_PM_COUNT, sr.n), MIB, MIB / 50);
	mw_series_release(&sr);

	mw_store_close(s);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK_EQ_I64(system(path), 0);
	return check_done();
}
