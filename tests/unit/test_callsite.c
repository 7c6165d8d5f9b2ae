/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The call-site reader on a real store: outstanding-at-time semantics,
 * ordering, growth per hour over the window, counters, and the text and
 * JSON renderers the report uses. Rows are written as memwatchd writes
 * them (docs/schema-callsite.md).
 */
#include "check.h"
#include "memwatch/store/callsitestore.h"
#include "memwatch/view/callsiteview.h"
#include "memwatch/base/json.h"
#include "memwatch/store/inspect.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#define SEC 1000000000ull
#define MIB (1024 * 1024)

static char dir[] = "/tmp/mw-test-callsite-XXXXXX";
static char path[256];

static void exec_sql(struct mw_store *st, const char *sql)
{
	if (mw_inspect_store_exec(st, sql, NULL, 0) != 0) {
		fprintf(stderr, "%s: failed\n", sql);
		CHECK(false);
	}
}

static int64_t setup(struct mw_store *st, uint64_t t)
{
	struct mw_proc_sample v = {0};
	struct mw_proc_set set = {.v = &v, .n = 1, .cap = 1};
	struct mw_sys_sample sys = {0};
	struct mw_tick tk = {.procs = &set, .sys = &sys};
	char sql[1024];
	int64_t base = (int64_t)(t / 1000000ull), proc;

	v.pid = 4321;
	v.ppid = 1;
	v.start_ticks = 77;
	snprintf(v.comm, sizeof(v.comm), "leaker");
	v.cmdline = strdup("leaker");
	v.cgroup = strdup("0::/");
	for (int k = 0; k < 2; k++) {
		tk.t_ns = t + (uint64_t)k * SEC;
		CHECK_EQ_I64(mw_store_write_tick(st, &tk), 0);
	}
	proc = mw_store_live_proc_id(st, 4321, 77);
	CHECK(proc > 0);
	exec_sql(st, "INSERT INTO callsite_stacks(id, hash, depth, frames) VALUES"
	             " (1, 11, 3, '__mmap+0x13 (libc.so.6)' || char(10) ||"
	             " 'leak_mapping+0x20 (leaker)' || char(10) || 'main+0x13e (leaker)'),"
	             " (2, 22, 2, '__mmap+0x13 (libc.so.6)' || char(10) ||"
	             " 'scratch' || char(27) || '[2J+0x1 (leaker)')");
	/* The leak: 1 MiB at +10, +20, +30, +40 s, never unmapped. */
	for (int k = 1; k <= 4; k++) {
		snprintf(sql, sizeof(sql),
		         "INSERT INTO callsite_maps(proc, stack, kind, addr, len, t_ms)"
		         " VALUES(%lld, 1, 'anon', %d, %d, %lld)",
		         (long long)proc, k * 0x100000, MIB, (long long)(base + k * 10000));
		exec_sql(st, sql);
	}
	/* Scratch: 3 MiB at +5 s, unmapped at +50 s. */
	snprintf(sql, sizeof(sql),
	         "INSERT INTO callsite_maps(proc, stack, kind, addr, len, t_ms, gone_ms)"
	         " VALUES(%lld, 2, 'anon', 0x900000, %d, %lld, %lld)",
	         (long long)proc, 3 * MIB, (long long)(base + 5000), (long long)(base + 50000));
	exec_sql(st, sql);
	snprintf(
	        sql, sizeof(sql),
	        "INSERT INTO callsite_counters(tick, proc, samples, taken, recorded, skipped, lost)"
	        " VALUES(1, %lld, 100, 40, 5, 60, NULL), (1, NULL, 1000, 50, 6, 950, 12)",
	        (long long)proc);
	exec_sql(st, sql);
	mw_proc_sample_release(&v);
	return proc;
}

/*
 * After +70 s: the leak's stack again under another hash (an earlier run's
 * row) and through another kind of mapping; a C++ leak through jemalloc;
 * a CPython arena.
 */
static void setup_sites(struct mw_store *st, int64_t proc, int64_t base)
{
	char sql[1024];

	exec_sql(st,
	         "INSERT INTO callsite_stacks(id, hash, depth, frames) VALUES"
	         " (3, 33, 3, '__mmap+0x13 (libc.so.6)' || char(10) ||"
	         " 'leak_mapping+0x20 (leaker)' || char(10) || 'main+0x13e (leaker)'),"
	         " (4, 44, 5, 'libjemalloc.so.2+0x94b59 [build-id 0a1b]' || char(10) ||"
	         " 'libjemalloc.so.2+0x94bc1 [build-id 0a1b]' || char(10) ||"
	         " 'je_malloc_default+0x2a (libjemalloc.so.2)' || char(10) ||"
	         " 'leak::Cache::grow()+0x2c (cpp_leak)' || char(10) || 'main+0x40 (cpp_leak)'),"
	         " (5, 55, 2, '0x22d098 (python3.11)' || char(10) || '0xfb706 (python3.11)')");
	snprintf(sql, sizeof(sql),
	         "INSERT INTO callsite_maps(proc, stack, kind, addr, len, t_ms) VALUES"
	         " (%lld, 3, 'other', 0xa00000, %d, %lld), (%lld, 4, 'anon', 0xc00000, %d, %lld),"
	         " (%lld, 5, 'anon', 0xe00000, %d, %lld)",
	         (long long)proc, 2 * MIB, (long long)(base + 70000), (long long)proc, 5 * MIB,
	         (long long)(base + 70000), (long long)proc, MIB, (long long)(base + 70000));
	exec_sql(st, sql);
}

/* One entry per frame list; names, collapsed spans and the runtime's next step. */
static void test_sites(struct mw_store *st, int64_t proc, int64_t base)
{
	struct mw_callsite_list l;
	char *text = NULL, **lines = NULL;
	size_t len = 0, n = 0;
	FILE *f;

	CHECK_EQ_I64(mw_store_callsites(st, proc, base, base + 80000, 10, &l), 0);
	CHECK_EQ_I64(l.n, 3);
	CHECK_EQ_I64(l.pid, 4321);
	if (l.n == 3) {
		CHECK_EQ_I64(l.v[0].bytes, 6 * MIB);
		CHECK_EQ_I64(l.v[0].count, 5);
		CHECK_EQ_STR(l.v[0].frames[l.v[0].app], "leak_mapping+0x20 (leaker)");
		CHECK_EQ_I64(l.v[1].bytes, 5 * MIB);
		CHECK_EQ_STR(l.v[1].frames[l.v[1].app], "leak::Cache::grow()+0x2c (cpp_leak)");
		CHECK_EQ_I64(l.v[2].app, 2);
		CHECK_EQ_I64(l.v[2].runtime, MW_RUNTIME_PYTHON);
	}
	f = open_memstream(&text, &len);
	mw_callsite_print(f, &l, true);
	fclose(f);
	printf("%s", text);
	CHECK(strstr(text, "#2 leak::Cache::grow()+0x2c (cpp_leak): 5.0 MiB") != NULL);
	CHECK(strstr(text, "      [jemalloc \u00d73]\n      leak::Cache::grow()") != NULL);
	CHECK(strstr(text, "#3 CPython: 1.0 MiB") != NULL);
	CHECK(strstr(text, "PYTHONTRACEMALLOC=25") != NULL);
	free(text);
	mw_callsite_list_release(&l);

	CHECK_EQ_I64(mw_callsite_evidence(st, proc, base, base + 80000, 3, &lines, &n), 0);
	CHECK_EQ_I64(n, 3);
	if (n == 3) {
		CHECK(strstr(lines[1], "leak::Cache::grow()+0x2c (cpp_leak) <- main+0x40 (cpp_leak)"
		                       " (via jemalloc x3): 5.0 MiB") == lines[1]);
		CHECK(strstr(lines[2], "[CPython x2]: 1.0 MiB") == lines[2]);
	}
	mw_callsite_evidence_free(lines, n);
	/* With room for the runtime's next step, it follows its site. */
	CHECK_EQ_I64(mw_callsite_evidence(st, proc, base, base + 80000, 4, &lines, &n), 0);
	CHECK_EQ_I64(n, 4);
	if (n == 4)
		CHECK(strstr(lines[3], "tracemalloc") != NULL);
	mw_callsite_evidence_free(lines, n);
}

static void test_reader(struct mw_store *st, int64_t proc, int64_t base)
{
	struct mw_callsite_list l;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	/* At +45 s the scratch block (3 MiB) is still there, after the leak (4 MiB). */
	CHECK_EQ_I64(mw_store_callsites(st, proc, base, base + 45000, 10, &l), 0);
	CHECK_EQ_I64(l.n, 2);
	if (l.n == 2) {
		CHECK_EQ_I64(l.v[0].stack_id, 1);
		CHECK_EQ_I64(l.v[1].stack_id, 2);
		CHECK_EQ_I64(l.v[1].bytes, 3 * MIB);
		CHECK_EQ_I64(l.v[1].count, 1);
	}
	mw_callsite_list_release(&l);
	/* At +15 s: one leak mapping, and the scratch block ranks first. */
	CHECK_EQ_I64(mw_store_callsites(st, proc, base, base + 15000, 1, &l), 0);
	CHECK_EQ_I64(l.n, 1);
	if (l.n == 1)
		CHECK_EQ_I64(l.v[0].stack_id, 2);
	mw_callsite_list_release(&l);

	/* At +60 s only the leak: 4 MiB in 4 mappings, growing 4 MiB per minute. */
	CHECK_EQ_I64(mw_store_callsites(st, proc, base, base + 60000, 10, &l), 0);
	CHECK(l.available);
	CHECK_EQ_I64(l.n, 1);
	CHECK_EQ_I64(l.recorded, 5);
	CHECK_EQ_I64(l.skipped, 60);
	CHECK_EQ_I64(l.lost, 12);
	if (l.n == 1) {
		CHECK_EQ_I64(l.v[0].stack_id, 1);
		CHECK_EQ_STR(l.v[0].kind, "anon");
		CHECK_EQ_I64(l.v[0].bytes, 4 * MIB);
		CHECK_EQ_I64(l.v[0].count, 4);
		CHECK_NEAR(l.v[0].growth_per_hour, 4.0 * MIB * 60, 1.0);
		CHECK_EQ_I64(l.v[0].nframes, 3);
		CHECK_EQ_STR(l.v[0].frames[1], "leak_mapping+0x20 (leaker)");
	}
	/* Growth over a window starting at +25 s: two of the four arrived in it. */
	mw_callsite_list_release(&l);
	CHECK_EQ_I64(mw_store_callsites(st, proc, base + 25000, base + 60000, 10, &l), 0);
	if (l.n == 1)
		CHECK_NEAR(l.v[0].growth_per_hour, 2.0 * MIB * 3600.0 / 35.0, 1.0);
	mw_callsite_list_release(&l);

	/* Renderers: the report's text section and JSON object. */
	f = open_memstream(&text, &len);
	CHECK_EQ_I64(mw_callsite_report_text(st, proc, base, base + 45000, f, true), 0);
	{
		struct mw_json j;
		mw_json_init(&j, f, false);
		mw_json_obj_open(&j, NULL);
		CHECK_EQ_I64(mw_callsite_report_json(st, proc, base, base + 60000, &j, "callsites"),
		             0);
		mw_json_obj_close(&j);
		mw_json_end(&j);
	}
	fclose(f);
	printf("%s", text);
	CHECK(strstr(text, "Call sites holding memory") != NULL);
	CHECK(strstr(text, "4.0 MiB in 4 mappings (anon)") != NULL);
	CHECK(strstr(text, "leak_mapping+0x20 (leaker)") != NULL);
	/* Hostile bytes in a frame never reach the terminal raw. */
	CHECK(strchr(text, 27) == NULL);
	CHECK(strstr(text, "60 skipped by the rate limit") != NULL);
	CHECK(strstr(text, "{\"callsites\":{\"available\":true") != NULL);
	CHECK(strstr(text,
	             "\"frames\":[\"__mmap+0x13 (libc.so.6)\",\"leak_mapping+0x20 (leaker)\"") !=
	      NULL);
	free(text);

	/* Evidence lines for the growth hypotheses: libc's own frames skipped. */
	{
		char **lines = NULL;
		size_t n = 0;
		CHECK_EQ_I64(mw_callsite_evidence(st, proc, base, base + 60000, 3, &lines, &n), 0);
		CHECK_EQ_I64(n, 1);
		if (n == 1)
			CHECK_EQ_STR(lines[0],
			             "leak_mapping+0x20 (leaker) <- main+0x13e (leaker)"
			             " (via glibc mmap): 4.0 MiB in 4 mappings, +240 MiB/h");
		mw_callsite_evidence_free(lines, n);
		CHECK_EQ_I64(
		        mw_callsite_evidence(st, proc + 1000, base, base + 60000, 3, &lines, &n),
		        0);
		CHECK(n == 0 && lines == NULL);
	}

	/* A process with nothing recorded: the source ran, no site. */
	CHECK_EQ_I64(mw_store_callsites(st, proc + 1000, base, base + 60000, 10, &l), 0);
	CHECK_EQ_I64(l.n, 0);
	CHECK(l.available);
	CHECK_EQ_I64(l.skipped, 0);
	mw_callsite_list_release(&l);
}

int main(void)
{
	struct mw_store *st = NULL;
	uint64_t t = 1700000000ull * SEC;
	int64_t proc;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/mw.db", dir);
	CHECK_EQ_I64(mw_store_open_writer(path, NULL, &st, NULL), 0);
	proc = setup(st, t);
	setup_sites(st, proc, (int64_t)(t / 1000000ull));
	mw_store_close(st);
	CHECK_EQ_I64(mw_store_open_reader(path, &st), 0);
	test_reader(st, proc, (int64_t)(t / 1000000ull));
	test_sites(st, proc, (int64_t)(t / 1000000ull));
	mw_store_close(st);
	unlink(path);
	rmdir(dir);
	return check_done();
}
