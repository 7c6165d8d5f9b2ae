/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System tables on a real SQLite file: only changed caches stored,
 * tunable changes as events, IPC objects keep their identity and get a
 * gone tick, creators joined to the process table, a rolled-back tick
 * does not make the writer skip rows, and the view reads it all back.
 */
#include "check.h"
#include "memwatch/store/inspect.h"
#include "memwatch/store/store.h"
#include "memwatch/store/sysstore.h"
#include "memwatch/analyse/sysview.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define SEC 1000000000ull

static char dir[] = "/tmp/mw-test-sysstore-XXXXXX";
static char path[256];

static int64_t count(const char *sql)
{
	int64_t v = -1;
	int r = mw_inspect_i64(path, sql, &v);

	if (r < 0)
		fprintf(stderr, "query failed: %s: %s\n", sql, strerror(-r));
	return v;
}

struct fixture {
	struct mw_proc_set procs;
	struct mw_sys_sample sys;
	struct mw_slab_set slab;
	struct mw_zone_set zones;
	struct mw_ipc_set ipc;
	struct mw_tunables tun;
};

static int tick(struct mw_store *st, struct mw_sysw *w, struct fixture *f, uint64_t t,
                bool rollback)
{
	struct mw_tick tk = {.t_ns = t, .procs = &f->procs, .sys = &f->sys};
	int64_t id;
	int r;

	r = mw_store_tick_begin(st, &tk, &id);
	if (r == 0)
		r = mw_store_tick_write_procs(st, id, &tk);
	if (r == 0)
		r = mw_sysw_tunables(w, id, t, &f->tun);
	if (r == 0)
		r = mw_sysw_slow(w, id, t, &f->slab, &f->zones, &f->ipc);
	if (r < 0 || rollback) {
		mw_store_tick_rollback(st);
		return r;
	}
	return mw_store_tick_commit(st);
}

static void set_proc(struct mw_proc_set *ps, pid_t pid, const char *comm)
{
	struct mw_proc_sample *p;

	ps->v = calloc(1, sizeof(*ps->v));
	ps->n = ps->cap = 1;
	p = &ps->v[0];
	p->pid = pid;
	p->ppid = 1;
	p->start_ticks = 100;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->cmdline = strdup(comm);
	p->cgroup = strdup("0::/");
	for (int i = 0; i < MW_PM_COUNT; i++)
		p->m[i] = 10;
}

/* The collector's side of the writer's lookups, on the recorded tree. */
static int fixture_aliases(void *ctx, const char *cache, char *buf, size_t cap)
{
	return mw_slab_aliases(ctx, cache, buf, cap);
}

static int fixture_holders(void *ctx, const struct mw_ipc_obj *o, struct mw_ipc_holder *out,
                           size_t cap)
{
	return mw_ipc_holders(ctx, o, out, cap);
}

int main(void)
{
	struct fixture f = {0};
	struct mw_store *st = NULL;
	struct mw_sysw *w = NULL;
	struct mw_sysview v = {0};
	char root[4096];
	struct mw_sysw_lookup look = {fixture_aliases, fixture_holders, root};
	uint64_t t0 = mw_now_ns() - 100 * SEC;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/sys.db", dir);
	snprintf(root, sizeof(root), "%s/tests/data/root-6.18", SRCDIR);
	CHECK_EQ_I64(mw_sys_sample_read(root, &f.sys), 0);
	CHECK_EQ_I64(mw_slab_read(root, &f.slab), 0);
	CHECK_EQ_I64(mw_zoneinfo_read(root, &f.zones), 0);
	CHECK_EQ_I64(mw_ipc_read(root, false, &f.ipc), 0);
	CHECK_EQ_I64(mw_tunables_read(root, &f.tun), 0);
	/*
	 * The recorded segment's creator pid is a process in the table (it
	 * started at this host's boot). Its ctime is the recording host's
	 * clock, so the segment is made "now" here: the creator join compares
	 * it with the start time, which the writer derives from this host's boot.
	 */
	set_proc(&f.procs, 2979, "creator");
	for (size_t i = 0; i < f.ipc.n; i++)
		if (f.ipc.v[i].cpid == 2979)
			f.ipc.v[i].ctime = (int64_t)(t0 / SEC);

	CHECK_EQ_I64(mw_store_open_writer(path, &(struct mw_store_options){.root = ""}, &st, NULL),
	             0);
	if (!st)
		return check_done();
	CHECK_EQ_I64(mw_sysw_new(st, &look, &w), 0);
	CHECK_EQ_I64(tick(st, w, &f, t0, false), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM slab_samples"), (int64_t)f.slab.n);
	CHECK_EQ_I64(count("SELECT count(*) FROM tunables"), MW_TUN_COUNT);
	CHECK_EQ_I64(count("SELECT count(*) FROM ipc_objects"), (int64_t)f.ipc.n);
	CHECK_EQ_I64(count("SELECT count(*) FROM zone_samples"), (int64_t)f.zones.n);
	CHECK_EQ_I64(count("SELECT count(*) FROM ipc_objects o JOIN procs p ON p.id = o.creator"
	                   " WHERE o.kind = 'sysv-shm' AND p.pid = 2979"),
	             1);
	CHECK_EQ_I64(count("SELECT count(*) FROM slab_caches c JOIN strings a ON a.id = c.aliases"
	                   " JOIN strings n ON n.id = c.name WHERE n.value = 'signal_cache'"
	                   " AND a.value = 'UNIX,UNIX-STREAM'"),
	             1);

	/* Nothing changed: no new slab or ipc rows, no tunable rows. */
	CHECK_EQ_I64(tick(st, w, &f, t0 + 1 * SEC, false), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM slab_samples"), (int64_t)f.slab.n);
	CHECK_EQ_I64(count("SELECT count(*) FROM ipc_samples"), (int64_t)f.ipc.n);
	CHECK_EQ_I64(count("SELECT count(*) FROM tunables"), MW_TUN_COUNT);

	/* A rolled-back tick changed a cache; the next tick must still store that change. */
	f.slab.v[0].num_objs += 10;
	f.slab.v[0].bytes += 4096;
	f.tun.v[MW_TUN_swappiness] += 1;
	CHECK_EQ_I64(tick(st, w, &f, t0 + 2 * SEC, true), 0);
	CHECK_EQ_I64(tick(st, w, &f, t0 + 3 * SEC, false), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM slab_samples"), (int64_t)f.slab.n + 1);
	CHECK_EQ_I64(count("SELECT count(*) FROM events WHERE kind = 'tunable-change' AND"
	                   " json_extract(detail, '$.name') = 'swappiness' AND"
	                   " json_extract(detail, '$.new') = json_extract(detail, '$.old') + 1"),
	             1);

	/* Steady growth of one cache, and a queue that fills. */
	for (int k = 0; k < 8; k++) {
		f.slab.v[1].num_objs += 1000;
		f.slab.v[1].bytes += 4 << 20;
		for (size_t i = 0; i < f.ipc.n; i++)
			if (f.ipc.v[i].kind == MW_IPC_msg)
				f.ipc.v[i].bytes += 1000;
		CHECK_EQ_I64(tick(st, w, &f, t0 + (uint64_t)(4 + k) * SEC, false), 0);
	}
	/* The message queue is removed: its object row gets a gone tick. */
	for (size_t i = 0; i < f.ipc.n; i++)
		if (f.ipc.v[i].kind == MW_IPC_msg)
			f.ipc.v[i] = f.ipc.v[--f.ipc.n];
	CHECK_EQ_I64(tick(st, w, &f, t0 + 12 * SEC, false), 0);
	CHECK_EQ_I64(count("SELECT count(*) FROM ipc_objects WHERE kind = 'sysv-msg' AND"
	                   " gone_tick IS NOT NULL"),
	             1);
	CHECK_EQ_I64(count("SELECT count(*) FROM ipc_objects WHERE gone_tick IS NULL"),
	             (int64_t)f.ipc.n);
	mw_sysw_free(w);
	mw_store_close(st);

	/* Read back: the growing cache ranks first; the orphan segment names its creator. */
	CHECK_EQ_I64(mw_store_open_reader(path, &st), 0);
	CHECK_EQ_I64(mw_sysview_from_store(st, root, (int64_t)(t0 / 1000000) - 1000,
	                                   (int64_t)(mw_now_ns() / 1000000), MW_SV_ALL, &v),
	             0);
	CHECK(v.slab_ok);
	CHECK(v.nslab > 0 && v.slab[0].growing);
	if (v.nslab)
		CHECK_EQ_STR(v.slab[0].name, f.slab.v[1].name);
	CHECK(v.nslab > 1 && !v.slab[1].growing);
	CHECK_EQ_I64(v.tun.v[MW_TUN_swappiness], f.tun.v[MW_TUN_swappiness]);
	CHECK_EQ_I64(v.zones.n, f.zones.n);
	for (size_t i = 0; i < v.nipc; i++) {
		CHECK(v.ipc[i].o.kind != MW_IPC_msg); /* gone by the end of the window */
		if (v.ipc[i].o.kind == MW_IPC_shm) {
			CHECK(v.ipc[i].orphan);
			CHECK(v.ipc[i].creator_known);
			CHECK_EQ_STR(v.ipc[i].creator_comm, "creator");
		}
	}
	mw_sysview_release(&v);
	CHECK_EQ_I64(mw_sysview_from_store(st, root, 0, 1000, MW_SV_ALL, &v), -ENODATA);
	mw_store_close(st);

	/*
	 * Unchanged values are written again once an hour, so retention (48 h of
	 * raw rows) never deletes the only row of a cache or object that never moved.
	 */
	unlink(path);
	CHECK_EQ_I64(mw_store_open_writer(path, &(struct mw_store_options){.root = ""}, &st, NULL),
	             0);
	if (st && mw_sysw_new(st, &look, &w) == 0) {
		uint64_t t1 = t0 - 7200 * SEC;
		CHECK_EQ_I64(tick(st, w, &f, t1, false), 0);
		CHECK_EQ_I64(tick(st, w, &f, t1 + 3599 * SEC, false), 0);
		CHECK_EQ_I64(count("SELECT count(*) FROM slab_samples"), (int64_t)f.slab.n);
		CHECK_EQ_I64(count("SELECT count(*) FROM ipc_samples"), (int64_t)f.ipc.n);
		CHECK_EQ_I64(tick(st, w, &f, t1 + 3600 * SEC, false), 0);
		CHECK_EQ_I64(count("SELECT count(*) FROM slab_samples"), 2 * (int64_t)f.slab.n);
		CHECK_EQ_I64(count("SELECT count(*) FROM ipc_samples"), 2 * (int64_t)f.ipc.n);
		mw_sysw_free(w);
	}
	mw_store_close(st);

	mw_proc_set_clear(&f.procs);
	free(f.procs.v);
	mw_slab_set_release(&f.slab);
	mw_ipc_set_release(&f.ipc);
	unlink(path);
	{
		char p2[300];
		snprintf(p2, sizeof(p2), "%s-wal", path);
		unlink(p2);
		snprintf(p2, sizeof(p2), "%s-shm", path);
		unlink(p2);
	}
	rmdir(dir);
	return check_done();
}
