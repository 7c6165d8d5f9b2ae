/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The eBPF evidence readers (bpfdata.h) against the tables schema step 2
 * creates, in a real SQLite file, filled the way the daemon's eBPF source
 * fills them.
 */
#include "check.h"
#include "memwatch/store/inspect.h"
#include "memwatch/store/bpfdata.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#include <stdlib.h>
#include <unistd.h>

#define SEC 1000000000ull

static char dir[] = "/tmp/mw-test-bpfdata-XXXXXX";

static int add_tick(struct mw_store *st, uint64_t t, pid_t pid, int64_t *tick, int64_t *proc,
                    const int64_t row[7])
{
	static const char sql[] =
	        "INSERT INTO bpf_proc_samples(proc, tick, faults_heap, faults_stack, faults_mmap,"
	        " mmaps_anon, mmap_bytes_anon, mmaps_file, mmap_bytes_file) "
	        "VALUES(?,?,?,?,?,?,?,?,?)";
	struct mw_proc_sample s = {.pid = pid, .ppid = 1, .start_ticks = 4242};
	struct mw_proc_set set = {.v = &s, .n = 1, .cap = 1, .t_ns = t};
	struct mw_tick tk = {.t_ns = t, .procs = &set};
	int64_t args[9];
	int r;

	snprintf(s.comm, sizeof(s.comm), "grower");
	for (int i = 0; i < MW_PM_COUNT; i++)
		s.m[i] = (int64_t)t;
	r = mw_store_tick_begin(st, &tk, tick);
	if (r == 0)
		r = mw_store_tick_write_procs(st, *tick, &tk);
	*proc = mw_store_live_proc_id(st, pid, 4242);
	if (r == 0 && row) {
		args[0] = *proc;
		args[1] = *tick;
		for (int i = 0; i < 7; i++)
			args[2 + i] = row[i];
		r = mw_inspect_store_exec(st, sql, args, 9) == 0 ? 0 : -1;
	}
	if (r < 0) {
		mw_store_tick_rollback(st);
		return r;
	}
	return mw_store_tick_commit(st);
}

static int64_t query_i64(struct mw_store *st, const char *sql)
{
	int64_t v = -1;

	if (mw_inspect_store_i64(st, sql, NULL, 0, &v) < 0)
		v = -1;
	return v;
}

/* The daemon's writers, inside a tick's transaction: committed, then rolled back. */
static void check_writers(struct mw_store *st, uint64_t t, pid_t pid)
{
	struct mw_proc_sample ps = {.pid = pid, .ppid = 1, .start_ticks = 4242};
	struct mw_proc_set set = {.v = &ps, .n = 1, .cap = 1, .t_ns = t};
	struct mw_tick tk = {.t_ns = t, .procs = &set};
	int64_t tick = 0, proc;
	struct mw_bpf_proc_sample v[2];
	struct mw_bpf_rss_move m[2];

	snprintf(ps.comm, sizeof(ps.comm), "grower");
	CHECK(mw_store_tick_begin(st, &tk, &tick) == 0);
	CHECK(mw_store_tick_write_procs(st, tick, &tk) == 0);
	proc = mw_store_live_proc_id(st, pid, 4242);
	CHECK(proc > 0);
	/* An exit's final delta and a snapshot in one tick: one row, summed. */
	v[0] = (struct mw_bpf_proc_sample){proc, 1, 2, 3, 4, 5, 6, 7};
	v[1] = (struct mw_bpf_proc_sample){proc, 10, 20, 30, 40, 50, 60, 70};
	m[0] = (struct mw_bpf_rss_move){.t_ms = 1000,
	                                .proc = proc,
	                                .pid = pid,
	                                .rss_anon = 4096,
	                                .rss_file = 8192,
	                                .rss_shmem = 0,
	                                .swap = 12288};
	m[1] = m[0];
	m[1].t_ms = 2000;
	CHECK(mw_store_bpf_add_proc_samples(st, tick, v, 2) == 0);
	CHECK(mw_store_bpf_add_proc_samples(st, tick, NULL, 0) == 0);
	CHECK(mw_store_bpf_add_rss_moves(st, m, 2) == 0);
	CHECK(mw_store_bpf_add_rss_moves(st, NULL, 0) == 0);
	CHECK(mw_store_tick_commit(st) == 0);
	CHECK_EQ_I64(query_i64(st, "SELECT count(*) FROM bpf_proc_samples WHERE tick ="
	                           " (SELECT max(id) FROM ticks)"),
	             1);
	CHECK_EQ_I64(query_i64(st,
	                       "SELECT faults_heap * 1000000 + faults_stack * 100000 +"
	                       " faults_mmap * 10000 + mmaps_anon * 1000 + mmap_bytes_anon * 100 +"
	                       " mmaps_file * 10 + mmap_bytes_file FROM bpf_proc_samples"
	                       " WHERE tick = (SELECT max(id) FROM ticks)"),
	             11 * 1000000 + 22 * 100000 + 33 * 10000 + 44 * 1000 + 55 * 100 + 66 * 10 + 77);
	CHECK_EQ_I64(query_i64(st, "SELECT count(*) FROM bpf_rss_moves"), 2);
	CHECK_EQ_I64(query_i64(st, "SELECT sum(t_ms) FROM bpf_rss_moves"), 3000);
	CHECK_EQ_I64(query_i64(st, "SELECT rss_anon + rss_file * 10 + rss_shmem * 100 + swap * 1000"
	                           " FROM bpf_rss_moves WHERE t_ms = 2000"),
	             4096 + 81920 + 12288000);
	CHECK_EQ_I64(query_i64(st, "SELECT count(*) FROM bpf_rss_moves WHERE pid = 777"), 2);

	/* A failed tick takes its rows with it (two from the readers' ticks, one from above). */
	CHECK_EQ_I64(query_i64(st, "SELECT count(*) FROM bpf_proc_samples"), 3);
	tk.t_ns = set.t_ns = t + 5000000000ull;
	CHECK(mw_store_tick_begin(st, &tk, &tick) == 0);
	CHECK(mw_store_tick_write_procs(st, tick, &tk) == 0);
	CHECK(mw_store_bpf_add_proc_samples(st, tick, v, 1) == 0);
	CHECK(mw_store_bpf_add_rss_moves(st, m, 1) == 0);
	CHECK_EQ_I64(query_i64(st, "SELECT count(*) FROM bpf_proc_samples"), 4);
	mw_store_tick_rollback(st);
	CHECK_EQ_I64(query_i64(st, "SELECT count(*) FROM bpf_proc_samples"), 3);
	CHECK_EQ_I64(query_i64(st, "SELECT count(*) FROM bpf_rss_moves"), 2);
}

int main(void)
{
	static const int64_t a[7] = {10, 1, 100, 2, 8192, 1, 4096};
	static const int64_t b[7] = {5, 0, 50, 1, 4096, 0, 0};
	struct mw_bpf_proc_evidence ev;
	struct mw_bpf_cost cost;
	struct mw_store *st = NULL;
	char path[256], state[64];
	int64_t tick = 0, proc = 0;
	uint64_t t0 = 1700000000ull * SEC;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/mw.db", dir);
	CHECK(mw_store_open_writer(path, NULL, &st, NULL) == 0);
	if (!st)
		return check_done();

	/* Before anything is recorded: not available, zeros, and no cost. */
	CHECK(add_tick(st, t0, 777, &tick, &proc, NULL) == 0);
	CHECK(proc > 0);
	CHECK(mw_store_bpf_proc_evidence(st, proc, 0, INT64_MAX, &ev) == 0);
	CHECK(!ev.available);
	CHECK(mw_store_bpf_cost(st, &cost) < 0);

	CHECK(add_tick(st, t0 + 5 * SEC, 777, &tick, &proc, a) == 0);
	CHECK(add_tick(st, t0 + 10 * SEC, 777, &tick, &proc, b) == 0);
	CHECK(mw_store_bpf_proc_evidence(st, proc, 0, INT64_MAX, &ev) == 0);
	CHECK(ev.available);
	CHECK_EQ_I64(ev.faults_heap, 15);
	CHECK_EQ_I64(ev.faults_stack, 1);
	CHECK_EQ_I64(ev.faults_mmap, 150);
	CHECK_EQ_I64(ev.mmaps_anon, 3);
	CHECK_EQ_I64(ev.mmap_bytes_anon, 12288);
	CHECK_EQ_I64(ev.mmaps_file, 1);
	CHECK_EQ_I64(ev.mmap_bytes_file, 4096);
	/* A window holding only the second row. */
	CHECK(mw_store_bpf_proc_evidence(st, proc, (int64_t)((t0 + 8 * SEC) / 1000000), INT64_MAX,
	                                 &ev) == 0);
	CHECK_EQ_I64(ev.faults_heap, 5);

	CHECK(mw_store_meta_set(st, "bpf", "on: page_fault_user (tp_btf)") == 0);
	CHECK(mw_store_bpf_status(st, state, sizeof(state)) == 0);
	CHECK_EQ_STR(state, "on: page_fault_user (tp_btf)");
	CHECK(mw_store_meta_set(
	              st, "bpf_stats",
	              "{\"programs\":[{\"name\":\"a\",\"run_cnt\":10,\"run_time_ns\":500},"
	              "{\"name\":\"b\",\"run_cnt\":5,\"run_time_ns\":100}],"
	              "\"events_dropped\":3,\"events_lost\":1,\"storage_failures\":0,"
	              "\"stats_window_ns\":5000000000}") == 0);
	CHECK(mw_store_bpf_cost(st, &cost) == 0);
	CHECK_EQ_I64(cost.programs, 2);
	CHECK_EQ_I64(cost.run_cnt, 15);
	CHECK_EQ_I64(cost.run_time_ns, 600);
	CHECK_EQ_I64(cost.events_dropped, 4);
	CHECK_EQ_I64(cost.window_ns, 5000000000ll);

	check_writers(st, t0 + 15 * SEC, 777);

	mw_store_close(st);
	unlink(path);
	{
		char extra[300];
		snprintf(extra, sizeof(extra), "%s-wal", path);
		unlink(extra);
		snprintf(extra, sizeof(extra), "%s-shm", path);
		unlink(extra);
	}
	rmdir(dir);
	return check_done();
}
