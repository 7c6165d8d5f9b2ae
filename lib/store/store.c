/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/store/store.h"
#include "sql.h"
#include "fsecure.h"
#include "memwatch/base/log.h"
#include "memwatch/base/pidmap.h"
#include "memwatch/collect/region.h"
#include "memwatch/store/retention.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

/* Statements prepared once per connection; index names say what they do. */
enum {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_TICK_INSERT,
	Q_STRING_FIND,
	Q_STRING_INSERT,
	Q_PROC_INSERT,
	Q_PROC_EXEC,
	Q_PROC_EXIT,
	Q_SAMPLE_INSERT,
	Q_SYS_INSERT,
	Q_EVENT_INSERT,
	Q_MEMCG_INSERT,
	Q_COUNT
};

struct pidmap_backup;
struct mw_store;
static void tick_state_reset(struct mw_store *s);

/* What the writer remembers of each live process between ticks. */
struct live_proc {
	int64_t id; /* procs.id; 0 while pending */
	int64_t comm_id, cmdline_id;
	uint64_t last_full_ns;
	uint64_t seen_tick;
	/*
	 * A process first seen after the daemon's first tick stays pending
	 * (nothing written) until the next tick sees it again. Build jobs and
	 * health checks fork hundreds of processes that live under one
	 * interval; they hold no memory worth a history, and recording each
	 * (identity, strings, start and exit events) dominated the store's
	 * growth on busy hosts. The eBPF exit events still record them.
	 */
	bool pending;
	int64_t pending_tick;
	uint64_t pending_ns;
	int64_t m[MW_PM_COUNT]; /* last written values; the first sample while pending */
};

struct mw_store {
	sqlite3 *db;
	bool writer;
	int lock_fd;
	sqlite3_stmt *q[Q_COUNT];
	struct mw_pidmap *live;
	struct mw_store_options opt;
	int64_t boot;     /* boots.id of this boot */
	uint64_t btime_s; /* boot time, for process start times */
	long hz;
	uint64_t tick_seq;     /* in-memory tick counter, for exit detection */
	uint64_t prev_tick_ns; /* previous committed tick's time; 0 before the first */
	/* The tick in progress (between tick_begin and commit/rollback). */
	bool in_tick, procs_written;
	int64_t tick_id;
	uint64_t tick_t_ns;
	struct pidmap_backup *undo, *gone;
	size_t nundo, ngone;
	char path[4096];
	/* Why the last tick was rolled back: the ROLLBACK itself overwrites SQLite's message. */
	char rollback_why[256];
};

static const char *const schema_v1[] = {
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS boots(id INTEGER PRIMARY KEY, boot_id TEXT NOT NULL UNIQUE,"
        " btime INTEGER)",
        "CREATE TABLE IF NOT EXISTS strings(id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE)",
        "CREATE TABLE IF NOT EXISTS ticks(id INTEGER PRIMARY KEY, t_ms INTEGER NOT NULL,"
        " boot INTEGER NOT NULL REFERENCES boots(id), duration_us INTEGER, nprocs INTEGER)",
        "CREATE INDEX IF NOT EXISTS ticks_t_ms ON ticks(t_ms)",
        "CREATE TABLE IF NOT EXISTS procs(id INTEGER PRIMARY KEY,"
        " boot INTEGER NOT NULL REFERENCES boots(id), pid INTEGER NOT NULL,"
        " start_ticks INTEGER NOT NULL, start_ms INTEGER, ppid INTEGER, uid INTEGER,"
        " comm INTEGER REFERENCES strings(id), cmdline INTEGER REFERENCES strings(id),"
        " cgroup INTEGER REFERENCES strings(id), first_tick INTEGER NOT NULL,"
        " exit_tick INTEGER, UNIQUE(boot, pid, start_ticks))",
        "CREATE INDEX IF NOT EXISTS procs_live ON procs(exit_tick)",
        "CREATE TABLE IF NOT EXISTS proc_samples(proc INTEGER NOT NULL, tick INTEGER NOT NULL,"
        " full INTEGER NOT NULL, PRIMARY KEY(proc, tick)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS sys_samples(tick INTEGER PRIMARY KEY)",
        "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, t_ms INTEGER NOT NULL,"
        " kind TEXT NOT NULL, proc INTEGER, pid INTEGER, detail TEXT)",
        "CREATE INDEX IF NOT EXISTS events_t_ms ON events(t_ms)",
        "CREATE INDEX IF NOT EXISTS events_proc ON events(proc) WHERE proc IS NOT NULL",
};

/* Step 2: slow-tier region and descriptor samples (docs/schema-regions.md). */
#define MW_REG_COLS(name, str)                                                                     \
	", " str "_size INTEGER, " str "_rss INTEGER, " str "_swap INTEGER, " str "_count INTEGER"
#define MW_FD_COLS(name) ", " #name " INTEGER"
/* The same columns by name: a kind added to MW_REGION_KINDS reaches older databases too. */
#define MW_REG_COLNAMES(name, str) str "_size", str "_rss", str "_swap", str "_count",
static const char *const region_columns[] = {MW_REGION_KINDS(MW_REG_COLNAMES)};
static const char *const schema_v2[] = {
        "CREATE TABLE IF NOT EXISTS region_samples(proc INTEGER NOT NULL, tick INTEGER NOT NULL,"
        " t_ms INTEGER NOT NULL, full INTEGER NOT NULL, err INTEGER, files INTEGER,"
        " so_files INTEGER, so_hash INTEGER, stacks INTEGER, read_us INTEGER" MW_REGION_KINDS(
                MW_REG_COLS) ", PRIMARY KEY(proc, tick)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS fd_samples(proc INTEGER NOT NULL, tick INTEGER NOT NULL,"
        " t_ms INTEGER NOT NULL, full INTEGER NOT NULL, err INTEGER" MW_FD_KINDS(
                MW_FD_COLS) ", PRIMARY KEY(proc, tick)) WITHOUT ROWID",
};

/* Step 3: slab caches, zone watermarks, vm tunables, IPC objects (docs/schema-system.md). */
static const char *const schema_system[] = {
        "CREATE TABLE IF NOT EXISTS slab_caches(id INTEGER PRIMARY KEY,"
        " name INTEGER NOT NULL UNIQUE REFERENCES strings(id), objsize INTEGER,"
        " aliases INTEGER REFERENCES strings(id))",
        "CREATE TABLE IF NOT EXISTS slab_samples(cache INTEGER NOT NULL, tick INTEGER NOT NULL,"
        " active_objs INTEGER, num_objs INTEGER, bytes INTEGER, PRIMARY KEY(cache, tick))"
        " WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS slab_samples_tick ON slab_samples(tick)",
        "CREATE TABLE IF NOT EXISTS system_slow_ticks(tick INTEGER PRIMARY KEY,"
        " slab INTEGER NOT NULL, ipc INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS zone_samples(tick INTEGER NOT NULL, node INTEGER NOT NULL,"
        " zone INTEGER NOT NULL REFERENCES strings(id), free_pages INTEGER, min_pages INTEGER,"
        " low_pages INTEGER, high_pages INTEGER, managed_pages INTEGER, present_pages INTEGER,"
        " PRIMARY KEY(tick, node, zone)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS tunables(tick INTEGER NOT NULL, name TEXT NOT NULL,"
        " value INTEGER, PRIMARY KEY(tick, name)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS ipc_objects(id INTEGER PRIMARY KEY,"
        " boot INTEGER NOT NULL REFERENCES boots(id), kind TEXT NOT NULL, ident TEXT NOT NULL,"
        " ipc_key INTEGER, ipc_id INTEGER, name INTEGER REFERENCES strings(id), uid INTEGER,"
        " cuid INTEGER, mode INTEGER, cpid INTEGER, creator INTEGER REFERENCES procs(id),"
        " ctime INTEGER, first_tick INTEGER NOT NULL, gone_tick INTEGER, UNIQUE(boot, ident))",
        "CREATE INDEX IF NOT EXISTS ipc_objects_live ON ipc_objects(gone_tick)",
        "CREATE TABLE IF NOT EXISTS ipc_samples(object INTEGER NOT NULL, tick INTEGER NOT NULL,"
        " size INTEGER, bytes INTEGER, swap INTEGER, nattch INTEGER, qnum INTEGER, lpid INTEGER,"
        " lrpid INTEGER, atime INTEGER, dtime INTEGER, PRIMARY KEY(object, tick)) WITHOUT ROWID",
};

/* Step 4: eBPF evidence (docs/schema-bpf.md); the reader is lib/bpfdata.c. */
static const char *const schema_bpf[] = {
        "CREATE TABLE IF NOT EXISTS bpf_proc_samples(proc INTEGER NOT NULL, tick INTEGER NOT NULL,"
        " faults_heap INTEGER, faults_stack INTEGER, faults_mmap INTEGER, mmaps_anon INTEGER,"
        " mmap_bytes_anon INTEGER, mmaps_file INTEGER, mmap_bytes_file INTEGER,"
        " PRIMARY KEY(proc, tick)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS bpf_rss_moves(id INTEGER PRIMARY KEY, t_ms INTEGER NOT NULL,"
        " proc INTEGER, pid INTEGER NOT NULL, rss_anon INTEGER, rss_file INTEGER,"
        " rss_shmem INTEGER, swap INTEGER)",
        "CREATE INDEX IF NOT EXISTS bpf_rss_moves_proc ON bpf_rss_moves(proc, t_ms)",
};

/* Step 5: call sites (lib/callsite.c, docs/schema-callsite.md). */
static const char *const schema_callsite[] = {
        "CREATE TABLE IF NOT EXISTS callsite_stacks(id INTEGER PRIMARY KEY,"
        " hash INTEGER NOT NULL UNIQUE, depth INTEGER NOT NULL, frames TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS callsite_maps(id INTEGER PRIMARY KEY,"
        " proc INTEGER NOT NULL REFERENCES procs(id),"
        " stack INTEGER NOT NULL REFERENCES callsite_stacks(id), kind TEXT NOT NULL,"
        " addr INTEGER NOT NULL, len INTEGER NOT NULL, t_ms INTEGER NOT NULL, gone_ms INTEGER)",
        "CREATE INDEX IF NOT EXISTS callsite_maps_proc ON callsite_maps(proc, t_ms)",
        "CREATE TABLE IF NOT EXISTS callsite_counters(tick INTEGER NOT NULL REFERENCES ticks(id),"
        " proc INTEGER REFERENCES procs(id), samples INTEGER, taken INTEGER, recorded INTEGER,"
        " skipped INTEGER,"
        " lost INTEGER)",
        "CREATE INDEX IF NOT EXISTS callsite_counters_proc ON callsite_counters(proc, tick)",
};

/*
 * Add-only migrations: each step moves user_version to its number. A new
 * module's tables are a new step at the end; never edit a released step.
 * Columns of the X-macro field lists are added separately (add_columns),
 * so a field added to a list needs no step.
 */
struct migration {
	int version;
	const char *const *sql;
	size_t n;
};

#define MW_MIGRATION(v, arr)                                                                       \
	{                                                                                          \
		v, arr, MW_ARRAY_SIZE(arr)                                                         \
	}

/* Step 6: retention rollup tables; their metric columns come from add_columns. */
static const char *const schema_retention[] = {
        "CREATE TABLE IF NOT EXISTS proc_rollups(res INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
        " proc INTEGER NOT NULL, n INTEGER, PRIMARY KEY(res, t_ms, proc)) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS proc_rollups_proc ON proc_rollups(proc, res, t_ms)",
        "CREATE TABLE IF NOT EXISTS sys_rollups(res INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
        " n INTEGER, PRIMARY KEY(res, t_ms)) WITHOUT ROWID",
        /* Retention deletes raw rows by tick range; without this it would scan the table. */
        "CREATE INDEX IF NOT EXISTS proc_samples_tick ON proc_samples(tick)",
};

/*
 * Step 7: retention deletes every tick-keyed table by tick range; these
 * tables are keyed (proc|object, tick), so without an index on tick each
 * pass would scan them whole.
 */
static const char *const schema_tick_indexes[] = {
        "CREATE INDEX IF NOT EXISTS region_samples_tick ON region_samples(tick)",
        "CREATE INDEX IF NOT EXISTS fd_samples_tick ON fd_samples(tick)",
        "CREATE INDEX IF NOT EXISTS ipc_samples_tick ON ipc_samples(tick)",
        "CREATE INDEX IF NOT EXISTS bpf_proc_samples_tick ON bpf_proc_samples(tick)",
        "CREATE INDEX IF NOT EXISTS callsite_counters_tick ON callsite_counters(tick)",
};

/*
 * Step 8: the memory-cgroup limit binding each process, as recorded, so
 * the analysis and the OOM history replay a copied database with the
 * limits of the host and the moment it was recorded (not today's, read
 * from whatever host runs the report). Rows only for cgroups that have a
 * limit, keyed by the /proc/PID/cgroup text procs.cgroup names.
 */
static const char *const schema_memcg[] = {
        "CREATE TABLE IF NOT EXISTS memcg_samples(cgroup INTEGER NOT NULL REFERENCES strings(id),"
        " tick INTEGER NOT NULL REFERENCES ticks(id), path INTEGER NOT NULL REFERENCES"
        " strings(id), limit_bytes INTEGER NOT NULL, usage_bytes INTEGER,"
        " PRIMARY KEY(cgroup, tick)) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS memcg_samples_tick ON memcg_samples(tick)",
};

/*
 * Step 9: the resource limits each process's usage is measured against
 * (/proc/PID/limits, read by the slow tier), stored when they change and
 * with each full row, so a copied database replays with the limits the
 * process ran under. NULL is unlimited.
 */
static const char *const schema_limits[] = {
        "CREATE TABLE IF NOT EXISTS proc_limits(proc INTEGER NOT NULL, tick INTEGER NOT NULL,"
        " t_ms INTEGER NOT NULL, nofile_soft INTEGER, nofile_hard INTEGER, stack_soft INTEGER,"
        " nproc_soft INTEGER, PRIMARY KEY(proc, tick)) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS proc_limits_tick ON proc_limits(tick)",
};

static const struct migration migrations[] = {
        MW_MIGRATION(1, schema_v1),           MW_MIGRATION(2, schema_v2),
        MW_MIGRATION(3, schema_system),       MW_MIGRATION(4, schema_bpf),
        MW_MIGRATION(5, schema_callsite),     MW_MIGRATION(6, schema_retention),
        MW_MIGRATION(7, schema_tick_indexes), MW_MIGRATION(8, schema_memcg),
        MW_MIGRATION(9, schema_limits),
};
/* Steps are numbered 1..N, and a database at N has had them all. */
_Static_assert(MW_ARRAY_SIZE(migrations) == MW_STORE_SCHEMA_VERSION,
               "MW_STORE_SCHEMA_VERSION is not the last migration");

static int exec_sql(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : mw_sql_err(db, rc, sql);
}

/* Run a single-integer query; *out untouched when there is no row. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return mw_sql_err(db, rc, sql);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : mw_sql_err(db, rc, sql);
}

/* Add any column the field lists have and the table lacks: add-only, so old rows read NULL. */
static int add_columns(sqlite3 *db, const char *table, const char *const *cols, size_t n)
{
	char sql[256];
	int r;

	for (size_t i = 0; i < n; i++) {
		if (mw_sql_has_column(db, table, cols[i]))
			continue;
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s INTEGER", table, cols[i]);
		r = exec_sql(db, sql);
		if (r < 0)
			return r;
	}
	return 0;
}

static int migrate(sqlite3 *db)
{
	int64_t version = 0, app = 0, tables = 0;
	int r;

	r = query_int(db, "PRAGMA user_version", &version);
	if (r < 0)
		return r;
	r = query_int(db, "PRAGMA application_id", &app);
	if (r < 0)
		return r;
	r = query_int(db, "SELECT count(*) FROM sqlite_master", &tables);
	if (r < 0)
		return r;
	if (tables > 0 && app != MW_STORE_APPLICATION_ID)
		return -ENOTRECOVERABLE;
	if (version > MW_STORE_SCHEMA_VERSION)
		return -EPROTONOSUPPORT;

	r = exec_sql(db, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	for (size_t m = 0; m < MW_ARRAY_SIZE(migrations) && r == 0; m++) {
		if (migrations[m].version <= version)
			continue;
		for (size_t i = 0; i < migrations[m].n && r == 0; i++)
			r = exec_sql(db, migrations[m].sql[i]);
	}
	if (r == 0)
		r = add_columns(db, "proc_samples", mw_proc_metric_names, MW_PM_COUNT);
	if (r == 0)
		r = add_columns(db, "region_samples", region_columns,
		                MW_ARRAY_SIZE(region_columns));
	if (r == 0)
		r = add_columns(db, "region_samples", mw_pss_names, MW_PSS_COUNT);
	if (r == 0)
		r = add_columns(db, "sys_samples", mw_meminfo_columns, MW_MI_COUNT);
	if (r == 0)
		r = add_columns(db, "sys_samples", mw_vmstat_columns, MW_VM_COUNT);
	if (r == 0)
		r = add_columns(db, "sys_samples", mw_psi_columns, MW_PSI_COUNT);
	if (r == 0)
		r = add_columns(db, "proc_rollups", mw_rollup_proc_columns,
		                mw_rollup_proc_ncolumns);
	if (r == 0)
		r = add_columns(db, "sys_rollups", mw_rollup_sys_columns, mw_rollup_sys_ncolumns);
	if (r == 0) {
		char sql[128];
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
		         MW_STORE_APPLICATION_ID, MW_STORE_SCHEMA_VERSION);
		r = exec_sql(db, sql);
	}
	if (r < 0) {
		if (!sqlite3_get_autocommit(db))
			exec_sql(db, "ROLLBACK");
		return r;
	}
	return exec_sql(db, "COMMIT");
}

/* INSERT with one placeholder per listed column, after `fixed` leading columns. */
static int build_insert(char *buf, size_t cap, const char *table, const char *fixed, int nfixed,
                        const char *const *lists[], const size_t *lens, size_t nlists)
{
	size_t o = 0;
	int n;

	n = snprintf(buf, cap, "INSERT INTO %s(%s", table, fixed);
	o = (size_t)n;
	for (size_t l = 0; l < nlists; l++)
		for (size_t i = 0; i < lens[l]; i++)
			o += (size_t)snprintf(buf + o, cap - o, ",%s", lists[l][i]);
	o += (size_t)snprintf(buf + o, cap - o, ") VALUES(");
	for (int i = 0; i < nfixed; i++)
		o += (size_t)snprintf(buf + o, cap - o, i ? ",?" : "?");
	for (size_t l = 0; l < nlists; l++)
		for (size_t i = 0; i < lens[l]; i++)
			o += (size_t)snprintf(buf + o, cap - o, ",?");
	o += (size_t)snprintf(buf + o, cap - o, ")");
	return o < cap ? 0 : -ENAMETOOLONG;
}

static int prepare_writer(struct mw_store *s)
{
	static char sample_sql[2048], sys_sql[4096];
	const char *const *plist[] = {mw_proc_metric_names};
	const size_t plen[] = {MW_PM_COUNT};
	const char *const *slist[] = {mw_meminfo_columns, mw_vmstat_columns, mw_psi_columns};
	const size_t slen[] = {MW_MI_COUNT, MW_VM_COUNT, MW_PSI_COUNT};
	const char *sql[Q_COUNT] = {
	        [Q_BEGIN] = "BEGIN IMMEDIATE",
	        [Q_COMMIT] = "COMMIT",
	        [Q_ROLLBACK] = "ROLLBACK",
	        [Q_TICK_INSERT] =
	                "INSERT INTO ticks(t_ms, boot, duration_us, nprocs) VALUES(?,?,?,?)",
	        [Q_STRING_FIND] = "SELECT id FROM strings WHERE value = ?",
	        [Q_STRING_INSERT] = "INSERT INTO strings(value) VALUES(?)",
	        [Q_PROC_INSERT] = "INSERT INTO procs(boot, pid, start_ticks, start_ms, ppid, uid,"
	                          " comm, cmdline, cgroup, first_tick) VALUES(?,?,?,?,?,?,?,?,?,?)",
	        [Q_PROC_EXEC] = "UPDATE procs SET comm = ?, cmdline = ? WHERE id = ?",
	        [Q_PROC_EXIT] = "UPDATE procs SET exit_tick = ? WHERE id = ?",
	        [Q_SAMPLE_INSERT] = sample_sql,
	        [Q_SYS_INSERT] = sys_sql,
	        [Q_EVENT_INSERT] =
	                "INSERT INTO events(t_ms, kind, proc, pid, detail) VALUES(?,?,?,?,?)",
	        [Q_MEMCG_INSERT] = "INSERT OR REPLACE INTO memcg_samples(cgroup, tick, path,"
	                           " limit_bytes, usage_bytes) VALUES(?,?,?,?,?)",
	};
	int r;

	/* Static buffers hold the same text for every store; building them twice is harmless. */
	r = build_insert(sample_sql, sizeof(sample_sql), "proc_samples", "proc,tick,full", 3, plist,
	                 plen, 1);
	if (r == 0)
		r = build_insert(sys_sql, sizeof(sys_sql), "sys_samples", "tick", 1, slist, slen,
		                 3);
	if (r < 0)
		return r;
	for (int i = 0; i < Q_COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i],
		                            NULL);
		if (rc != SQLITE_OK)
			return mw_sql_err(s->db, rc, sql[i]);
	}
	return 0;
}

static int open_db(const char *path, int flags, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		int r = mw_sql_err(db, rc, path);
		sqlite3_close(db);
		return r;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 2000);
	*out = db;
	return 0;
}

/*
 * The WAL and shared-memory files SQLite opens next to the database, made
 * (or checked) here first so SQLite never creates or follows one another
 * user placed; a leftover rollback journal is checked, not made.
 */
static int secure_sidecars(const char *path)
{
	static const char *const sfx[] = {"-wal", "-shm", "-journal"};
	char side[4200];
	int fd, r = 0;

	for (size_t i = 0; i < MW_ARRAY_SIZE(sfx) && r == 0; i++) {
		snprintf(side, sizeof(side), "%s%s", path, sfx[i]);
		r = mw_fs_secure_open(side, i < 2, &fd);
		if (fd >= 0)
			close(fd);
	}
	return r;
}

/* Files up to this size are converted to incremental auto-vacuum at open (VACUUM copies them). */
#define CONVERT_VACUUM_MAX_BYTES (256ll << 20)

/*
 * Before anything writes to the file (journal_mode=WAL rewrites its
 * header): a new file gets incremental auto-vacuum, which must be set
 * before the first table; an existing one must pass quick_check, carry
 * our application id and a schema version we know. Foreign and corrupt
 * files are reported (the daemon moves them aside); a newer one is left
 * untouched.
 */
static int check_file(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int64_t tables = 0, app = 0, version = 0;
	const unsigned char *v;
	int rc, r;

	r = query_int(db, "SELECT count(*) FROM sqlite_master", &tables);
	if (r < 0)
		return r;
	if (tables == 0)
		return exec_sql(db, "PRAGMA auto_vacuum = INCREMENTAL");
	r = query_int(db, "PRAGMA application_id", &app);
	if (r == 0)
		r = query_int(db, "PRAGMA user_version", &version);
	if (r < 0)
		return r;
	if (app != MW_STORE_APPLICATION_ID)
		return -ENOTRECOVERABLE;
	if (version > MW_STORE_SCHEMA_VERSION)
		return -EPROTONOSUPPORT;
	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(db, rc, "quick_check");
	rc = sqlite3_step(st);
	v = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	r = v && strcmp((const char *)v, "ok") == 0 ? 0 : -ENOTRECOVERABLE;
	if (r < 0)
		mw_debug("quick_check: %s", v ? (const char *)v : sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return r;
}

/*
 * A small file from before incremental auto-vacuum is converted once; a
 * big one keeps reusing its free pages, so it stops growing, it just
 * never shrinks (converting would copy it whole at start).
 */
static int convert_auto_vacuum(sqlite3 *db)
{
	int64_t av = 0, pages = 0, psize = 0;
	int r = query_int(db, "PRAGMA auto_vacuum", &av);

	if (r == 0)
		r = query_int(db, "PRAGMA page_count", &pages);
	if (r == 0)
		r = query_int(db, "PRAGMA page_size", &psize);
	if (r < 0 || av == 2 || pages * psize > CONVERT_VACUUM_MAX_BYTES)
		return r;
	mw_info("converting to incremental auto-vacuum (%lld bytes)", (long long)(pages * psize));
	r = exec_sql(db, "PRAGMA auto_vacuum = INCREMENTAL");
	return r == 0 ? exec_sql(db, "VACUUM") : r;
}

static pid_t read_holder_pid(sqlite3 *db)
{
	int64_t pid = 0;

	query_int(db, "SELECT value FROM meta WHERE key = 'writer_pid'", &pid);
	return (pid_t)pid;
}

static int register_boot(struct mw_store *s)
{
	char boot_id[64];
	sqlite3_stmt *st = NULL;
	int r, rc;

	r = mw_boot_id(s->opt.root, boot_id, sizeof(boot_id));
	if (r < 0)
		return r;
	if (mw_boot_time(s->opt.root, &s->btime_s) < 0)
		s->btime_s = 0;
	rc = sqlite3_prepare_v2(
	        s->db,
	        "INSERT INTO boots(boot_id, btime) VALUES(?, ?) ON CONFLICT(boot_id)"
	        " DO UPDATE SET btime = excluded.btime RETURNING id",
	        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(s->db, rc, "boots");
	sqlite3_bind_text(st, 1, boot_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)s->btime_s);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		s->boot = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : mw_sql_err(s->db, rc, "boots");
}

/*
 * Processes the previous run left open: those still alive carry on (same
 * identity, no duplicate row); the others get their exit at our first tick.
 */
static int load_live_procs(struct mw_store *s)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db,
	                        "SELECT p.id, p.pid, p.start_ticks, p.comm, p.cmdline FROM procs p"
	                        " WHERE p.exit_tick IS NULL AND p.boot = ?",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(s->db, rc, "load live");
	sqlite3_bind_int64(st, 1, s->boot);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct live_proc *lp = mw_pidmap_put(s->live, (pid_t)sqlite3_column_int(st, 1),
		                                     (uint64_t)sqlite3_column_int64(st, 2), NULL);
		if (!lp) {
			sqlite3_finalize(st);
			return -ENOMEM;
		}
		lp->id = sqlite3_column_int64(st, 0);
		lp->comm_id = sqlite3_column_int64(st, 3);
		lp->cmdline_id = sqlite3_column_int64(st, 4);
		/* Unknown last values: the first tick writes a full row. */
		for (int i = 0; i < MW_PM_COUNT; i++)
			lp->m[i] = MW_UNKNOWN;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return mw_sql_err(s->db, rc, "load live");
	/* Processes of earlier boots are gone for sure. */
	return exec_sql(s->db, "UPDATE procs SET exit_tick = (SELECT max(id) FROM ticks)"
	                       " WHERE exit_tick IS NULL AND boot <> (SELECT max(id) FROM boots)");
}

int mw_store_open_writer(const char *path, const struct mw_store_options *opt,
                         struct mw_store **out, pid_t *holder_pid)
{
	struct mw_store *s = calloc(1, sizeof(*s));
	int r;

	if (holder_pid)
		*holder_pid = 0;
	if (!s)
		return -ENOMEM;
	s->writer = true;
	s->lock_fd = -1;
	s->hz = mw_clock_ticks_per_sec();
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->opt.full_row_every_ns = MW_STORE_FULL_ROW_EVERY_NS;
	s->opt.root = "";
	if (opt) {
		if (opt->full_row_every_ns)
			s->opt.full_row_every_ns = opt->full_row_every_ns;
		if (opt->root)
			s->opt.root = opt->root;
	}
	r = mw_fs_secure_dir(path);
	if (r < 0)
		goto fail;
	/*
	 * flock, not fcntl: SQLite's POSIX locks and flock do not interact on
	 * Linux, and this fd stays open until after sqlite3_close so closing
	 * it cannot drop SQLite's locks.
	 */
	r = mw_fs_secure_open(path, true, &s->lock_fd);
	if (r < 0)
		goto fail;
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (r == -EBUSY && holder_pid && open_db(path, SQLITE_OPEN_READONLY, &s->db) == 0)
			*holder_pid = read_holder_pid(s->db);
		goto fail;
	}
	r = secure_sidecars(path);
	if (r < 0)
		goto fail;
	r = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, &s->db);
	if (r < 0)
		goto fail;
	r = check_file(s->db);
	if (r < 0)
		goto fail;
	r = exec_sql(s->db, "PRAGMA journal_mode = WAL");
	if (r < 0)
		goto fail;
	/* NORMAL in WAL keeps every committed transaction across a process crash. */
	/* journal_size_limit: a WAL grown by a burst is cut back after the next checkpoint. */
	r = exec_sql(s->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;"
	                    " PRAGMA temp_store = MEMORY; PRAGMA cache_size = -2048;"
	                    " PRAGMA journal_size_limit = 16777216");
	if (r < 0)
		goto fail;
	r = migrate(s->db);
	if (r == 0)
		r = convert_auto_vacuum(s->db);
	if (r < 0)
		goto fail;
	r = mw_pidmap_new(sizeof(struct live_proc), &s->live);
	if (r < 0)
		goto fail;
	r = register_boot(s);
	if (r < 0)
		goto fail;
	r = load_live_procs(s);
	if (r < 0)
		goto fail;
	r = prepare_writer(s);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	mw_store_close(s);
	return r;
}

int mw_store_open_reader(const char *path, struct mw_store **out)
{
	struct mw_store *s;
	int64_t version = 0, app = 0;
	int r;

	if (access(path, F_OK) < 0)
		return -errno;
	/* SQLite says only "cannot open" (which would read as absent) for a file we cannot read. */
	if (access(path, R_OK) < 0)
		return -errno;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lock_fd = -1;
	s->hz = mw_clock_ticks_per_sec();
	snprintf(s->path, sizeof(s->path), "%s", path);
	r = open_db(path, SQLITE_OPEN_READONLY, &s->db);
	if (r < 0)
		goto fail;
	r = query_int(s->db, "PRAGMA application_id", &app);
	if (r == 0 && app != MW_STORE_APPLICATION_ID)
		r = -ENOTRECOVERABLE;
	if (r == 0)
		r = query_int(s->db, "PRAGMA user_version", &version);
	if (r == 0 && version > MW_STORE_SCHEMA_VERSION)
		r = -EPROTONOSUPPORT;
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	mw_store_close(s);
	return r;
}

void mw_store_close(struct mw_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->q[i]);
	if (s->db) {
		if (s->writer)
			sqlite3_exec(s->db, "PRAGMA optimize", NULL, NULL, NULL);
		for (sqlite3_stmt *st = sqlite3_next_stmt(s->db, NULL); st;
		     st = sqlite3_next_stmt(s->db, st))
			mw_debug("store close: statement still open: %s", sqlite3_sql(st));
		if (sqlite3_close(s->db) != SQLITE_OK)
			mw_debug("store close: %s", sqlite3_errmsg(s->db));
	}
	if (s->in_tick)
		mw_store_tick_rollback(s);
	tick_state_reset(s);
	mw_pidmap_free(s->live);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
}

sqlite3 *mw_store_db(struct mw_store *s)
{
	return s->db;
}

const char *mw_store_errmsg(struct mw_store *s)
{
	if (!s || !s->db)
		return "no database";
	return s->rollback_why[0] ? s->rollback_why : sqlite3_errmsg(s->db);
}

static int step_done(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : mw_sql_err(db, rc, sqlite3_sql(st));
}

static void bind_i64_or_null(sqlite3_stmt *st, int idx, int64_t v)
{
	if (v == MW_UNKNOWN)
		sqlite3_bind_null(st, idx);
	else
		sqlite3_bind_int64(st, idx, v);
}

static int64_t ns_to_ms(uint64_t ns)
{
	return (int64_t)(ns / 1000000ull);
}

static int intern(struct mw_store *s, const char *str, int64_t *id)
{
	sqlite3_stmt *f = s->q[Q_STRING_FIND], *ins = s->q[Q_STRING_INSERT];
	int rc;

	/* Bind by length: /proc strings are bytes and may hold anything but NUL. */
	sqlite3_bind_text(f, 1, str, (int)strlen(str), SQLITE_STATIC);
	rc = sqlite3_step(f);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(f, 0);
		sqlite3_reset(f);
		return 0;
	}
	sqlite3_reset(f);
	if (rc != SQLITE_DONE)
		return mw_sql_err(s->db, rc, "string find");
	sqlite3_bind_text(ins, 1, str, (int)strlen(str), SQLITE_STATIC);
	rc = step_done(s->db, ins);
	if (rc < 0)
		return rc;
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int mw_store_add_event(struct mw_store *s, uint64_t t_ns, const char *kind, int64_t proc_id,
                       pid_t pid, const char *detail_json)
{
	sqlite3_stmt *st = s->q[Q_EVENT_INSERT];

	if (!s->writer)
		return -EBADF;
	sqlite3_bind_int64(st, 1, ns_to_ms(t_ns));
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	if (proc_id)
		sqlite3_bind_int64(st, 3, proc_id);
	if (pid)
		sqlite3_bind_int(st, 4, pid);
	if (detail_json)
		sqlite3_bind_text(st, 5, detail_json, -1, SQLITE_STATIC);
	return step_done(s->db, st);
}

int mw_store_write_memcg(struct mw_store *s, int64_t tick_id, const char *cgroup_text,
                         const struct mw_cgroup_limit *cl)
{
	sqlite3_stmt *st = s->q[Q_MEMCG_INSERT];
	int64_t text_id, path_id;
	int r;

	if (!s->writer)
		return -EBADF;
	if (!cgroup_text || cl->limit == MW_UNKNOWN)
		return -EINVAL;
	r = intern(s, cgroup_text, &text_id);
	if (r == 0)
		r = intern(s, cl->path, &path_id);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, text_id);
	sqlite3_bind_int64(st, 2, tick_id);
	sqlite3_bind_int64(st, 3, path_id);
	sqlite3_bind_int64(st, 4, cl->limit);
	if (cl->usage != MW_UNKNOWN)
		sqlite3_bind_int64(st, 5, cl->usage);
	else
		sqlite3_bind_null(st, 5);
	return step_done(s->db, st);
}

static int64_t start_ms(const struct mw_store *s, uint64_t start_ticks)
{
	if (!s->btime_s)
		return MW_UNKNOWN;
	return (int64_t)(s->btime_s * 1000ull + start_ticks * 1000ull / (uint64_t)s->hz);
}

static int insert_proc(struct mw_store *s, int64_t tick, const struct mw_proc_sample *p,
                       struct live_proc *lp)
{
	sqlite3_stmt *st = s->q[Q_PROC_INSERT];
	int64_t cgroup_id;
	int r;

	r = intern(s, p->comm, &lp->comm_id);
	if (r == 0)
		r = intern(s, p->cmdline ? p->cmdline : "", &lp->cmdline_id);
	if (r == 0)
		r = intern(s, p->cgroup ? p->cgroup : "", &cgroup_id);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, s->boot);
	sqlite3_bind_int(st, 2, p->pid);
	sqlite3_bind_int64(st, 3, (int64_t)p->start_ticks);
	bind_i64_or_null(st, 4, start_ms(s, p->start_ticks));
	sqlite3_bind_int(st, 5, p->ppid);
	sqlite3_bind_int64(st, 6, p->uid);
	sqlite3_bind_int64(st, 7, lp->comm_id);
	sqlite3_bind_int64(st, 8, lp->cmdline_id);
	sqlite3_bind_int64(st, 9, cgroup_id);
	sqlite3_bind_int64(st, 10, tick);
	r = step_done(s->db, st);
	if (r < 0)
		return r;
	lp->id = sqlite3_last_insert_rowid(s->db);
	for (int i = 0; i < MW_PM_COUNT; i++)
		lp->m[i] = MW_UNKNOWN;
	return 0;
}

/* exec keeps (pid, start) but changes the name: update the identity, record an event. */
static int check_exec(struct mw_store *s, uint64_t t_ns, const struct mw_proc_sample *p,
                      struct live_proc *lp)
{
	int64_t comm_id = 0, cmdline_id = 0;
	sqlite3_stmt *st = s->q[Q_PROC_EXEC];
	int r;

	r = intern(s, p->comm, &comm_id);
	if (r == 0)
		r = intern(s, p->cmdline ? p->cmdline : "", &cmdline_id);
	if (r < 0 || (comm_id == lp->comm_id && cmdline_id == lp->cmdline_id))
		return r;
	sqlite3_bind_int64(st, 1, comm_id);
	sqlite3_bind_int64(st, 2, cmdline_id);
	sqlite3_bind_int64(st, 3, lp->id);
	r = step_done(s->db, st);
	if (r == 0 && lp->comm_id)
		r = mw_store_add_event(s, t_ns, "exec", lp->id, p->pid, NULL);
	lp->comm_id = comm_id;
	lp->cmdline_id = cmdline_id;
	return r;
}

static int write_values(struct mw_store *s, int64_t tick, uint64_t t_ns, const int64_t *m,
                        struct live_proc *lp)
{
	sqlite3_stmt *st = s->q[Q_SAMPLE_INSERT];
	bool full = t_ns - lp->last_full_ns >= s->opt.full_row_every_ns;
	int r;

	if (!full && memcmp(lp->m, m, sizeof(lp->m)) == 0)
		return 0;
	sqlite3_bind_int64(st, 1, lp->id);
	sqlite3_bind_int64(st, 2, tick);
	sqlite3_bind_int(st, 3, full);
	for (int i = 0; i < MW_PM_COUNT; i++)
		bind_i64_or_null(st, 4 + i, m[i]);
	r = step_done(s->db, st);
	if (r < 0)
		return r;
	memcpy(lp->m, m, sizeof(lp->m));
	if (full)
		lp->last_full_ns = t_ns;
	return 0;
}

static int write_sys(struct mw_store *s, int64_t tick, const struct mw_sys_sample *sys)
{
	sqlite3_stmt *st = s->q[Q_SYS_INSERT];
	int idx = 1;

	sqlite3_bind_int64(st, idx++, tick);
	for (int i = 0; i < MW_MI_COUNT; i++)
		bind_i64_or_null(st, idx++, sys->mem[i]);
	for (int i = 0; i < MW_VM_COUNT; i++)
		bind_i64_or_null(st, idx++, sys->vm[i]);
	for (int i = 0; i < MW_PSI_COUNT; i++)
		bind_i64_or_null(st, idx++, sys->psi[i]);
	return step_done(s->db, st);
}

static int write_exit(struct mw_store *s, int64_t tick, uint64_t t_ns, pid_t pid,
                      const struct live_proc *lp)
{
	sqlite3_stmt *st = s->q[Q_PROC_EXIT];
	char detail[128];
	int r;

	sqlite3_bind_int64(st, 1, tick);
	sqlite3_bind_int64(st, 2, lp->id);
	r = step_done(s->db, st);
	if (r < 0)
		return r;
	if (lp->m[MW_PM_rss] == MW_UNKNOWN)
		snprintf(detail, sizeof(detail), "{\"last_rss\":null}");
	else
		snprintf(detail, sizeof(detail), "{\"last_rss\":%lld}",
		         (long long)lp->m[MW_PM_rss]);
	return mw_store_add_event(s, t_ns, "exit", lp->id, pid, detail);
}

/* What a tick changed in memory, so a failed tick can be undone. */
struct pidmap_backup {
	pid_t pid;
	uint64_t start;
	struct live_proc lp;
	bool created;
};

/* Record a process: at its first sighting (pending) or now. */
static int record_proc(struct mw_store *s, int64_t tick, const struct mw_tick *t,
                       const struct mw_proc_sample *p, struct live_proc *lp, bool created)
{
	int64_t first[MW_PM_COUNT];
	int64_t first_tick = created ? tick : lp->pending_tick;
	uint64_t first_ns = created ? t->t_ns : lp->pending_ns;
	bool was_pending = lp->pending;
	int r;

	memcpy(first, created ? p->m : lp->m, sizeof(first));
	r = insert_proc(s, first_tick, p, lp);
	lp->pending = false;
	if (r < 0)
		return r;
	/* A start we watched happen, not a process that predates us. */
	if (was_pending)
		r = mw_store_add_event(s, first_ns, "start", lp->id, p->pid, NULL);
	if (r == 0 && was_pending)
		r = write_values(s, first_tick, first_ns, first, lp);
	return r;
}

static int write_procs(struct mw_store *s, int64_t tick, const struct mw_tick *t)
{
	const struct mw_proc_set *set = t->procs;
	int r = 0;

	for (size_t i = 0; i < set->n && r == 0; i++) {
		const struct mw_proc_sample *p = &set->v[i];
		bool created;
		struct live_proc *lp = mw_pidmap_put(s->live, p->pid, p->start_ticks, &created);

		if (!lp)
			return -ENOMEM;
		s->undo[s->nundo++] = (struct pidmap_backup){p->pid, p->start_ticks, *lp, created};
		lp->seen_tick = s->tick_seq;
		if (created && s->prev_tick_ns) {
			lp->pending = true;
			lp->pending_tick = tick;
			lp->pending_ns = t->t_ns;
			memcpy(lp->m, p->m, sizeof(lp->m));
			continue;
		}
		if (created || lp->pending)
			r = record_proc(s, tick, t, p, lp, created);
		else
			r = check_exec(s, t->t_ns, p, lp);
		if (r == 0)
			r = write_values(s, tick, t->t_ns, p->m, lp);
	}
	return r;
}

/* Processes not seen this tick have exited; collect first, since deletion moves entries. */
static int write_exits(struct mw_store *s, int64_t tick, uint64_t t_ns)
{
	size_t pos = 0, cap = mw_pidmap_size(s->live);
	struct live_proc *lp;
	pid_t pid;
	uint64_t start;
	int r = 0;

	free(s->gone);
	s->ngone = 0;
	s->gone = calloc(cap ? cap : 1, sizeof(*s->gone));
	if (!s->gone)
		return -ENOMEM;
	while ((lp = mw_pidmap_next(s->live, &pos, &pid, &start)))
		if (lp->seen_tick != s->tick_seq)
			s->gone[s->ngone++] = (struct pidmap_backup){pid, start, *lp, false};
	for (size_t i = 0; i < s->ngone && r == 0; i++)
		if (!s->gone[i].lp.pending)
			r = write_exit(s, tick, t_ns, s->gone[i].pid, &s->gone[i].lp);
	return r;
}

static void tick_state_reset(struct mw_store *s)
{
	free(s->undo);
	free(s->gone);
	s->undo = NULL;
	s->gone = NULL;
	s->nundo = s->ngone = 0;
	s->in_tick = false;
}

int mw_store_tick_begin(struct mw_store *s, const struct mw_tick *t, int64_t *tick_id)
{
	sqlite3_stmt *st = s->q[Q_TICK_INSERT];
	int r;

	if (!s->writer || s->in_tick)
		return -EBADF;
	tick_state_reset(s);
	s->undo = calloc((t->procs ? t->procs->n : 0) + 1, sizeof(*s->undo));
	if (!s->undo)
		return -ENOMEM;
	r = step_done(s->db, s->q[Q_BEGIN]);
	if (r < 0) {
		tick_state_reset(s);
		return r;
	}
	s->in_tick = true;
	s->tick_seq++;
	s->tick_t_ns = t->t_ns;
	sqlite3_bind_int64(st, 1, ns_to_ms(t->t_ns));
	sqlite3_bind_int64(st, 2, s->boot);
	sqlite3_bind_int64(st, 3, (int64_t)(t->duration_ns / 1000));
	sqlite3_bind_int64(st, 4, t->procs ? (int64_t)t->procs->n : 0);
	r = step_done(s->db, st);
	if (r < 0) {
		mw_store_tick_rollback(s);
		return r;
	}
	*tick_id = sqlite3_last_insert_rowid(s->db);
	s->tick_id = *tick_id;
	if (t->sys)
		r = write_sys(s, *tick_id, t->sys);
	if (r < 0)
		mw_store_tick_rollback(s);
	return r;
}

int mw_store_tick_write_procs(struct mw_store *s, int64_t tick_id, const struct mw_tick *t)
{
	int r;

	if (!s->in_tick)
		return -EBADF;
	r = write_procs(s, tick_id, t);
	if (r == 0)
		r = write_exits(s, tick_id, t->t_ns);
	s->procs_written = r == 0;
	return r;
}

int mw_store_tick_commit(struct mw_store *s)
{
	int r;

	if (!s->in_tick)
		return -EBADF;
	r = step_done(s->db, s->q[Q_COMMIT]);
	if (r < 0) {
		mw_store_tick_rollback(s);
		return r;
	}
	s->rollback_why[0] = '\0';
	for (size_t i = 0; i < s->ngone; i++)
		mw_pidmap_del(s->live, s->gone[i].pid, s->gone[i].start);
	s->prev_tick_ns = s->tick_t_ns;
	tick_state_reset(s);
	return 0;
}

void mw_store_tick_rollback(struct mw_store *s)
{
	if (!s->in_tick)
		return;
	snprintf(s->rollback_why, sizeof(s->rollback_why), "%s", sqlite3_errmsg(s->db));
	/* SQLite already rolled back on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM):
	 * a second ROLLBACK would only fail with "no transaction is active". */
	if (!sqlite3_get_autocommit(s->db))
		step_done(s->db, s->q[Q_ROLLBACK]);
	for (size_t i = s->nundo; i-- > 0;) {
		struct pidmap_backup *b = &s->undo[i];
		if (b->created) {
			mw_pidmap_del(s->live, b->pid, b->start);
		} else {
			struct live_proc *lp = mw_pidmap_get(s->live, b->pid, b->start);
			if (lp)
				*lp = b->lp;
		}
	}
	s->tick_seq--;
	tick_state_reset(s);
}

int mw_store_write_tick(struct mw_store *s, const struct mw_tick *t)
{
	int64_t tick;
	int r;

	r = mw_store_tick_begin(s, t, &tick);
	if (r < 0)
		return r;
	r = mw_store_tick_write_procs(s, tick, t);
	if (r < 0) {
		mw_store_tick_rollback(s);
		return r;
	}
	return mw_store_tick_commit(s);
}

int64_t mw_store_live_proc_id(struct mw_store *s, pid_t pid, uint64_t start_ticks)
{
	struct live_proc *lp = s->live ? mw_pidmap_get(s->live, pid, start_ticks) : NULL;

	return lp && !lp->pending ? lp->id : 0;
}

int mw_store_meta_set(struct mw_store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", -1,
	                        &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(s->db, rc, "meta set");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : mw_sql_err(s->db, rc, "meta set");
}

int mw_store_meta_get(struct mw_store *s, const char *key, char *buf, size_t cap)
{
	sqlite3_stmt *st = NULL;
	int rc, r = -ENOENT;

	rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(s->db, rc, "meta get");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		snprintf(buf, cap, "%s", v ? (const char *)v : "");
		r = 0;
	} else if (rc != SQLITE_DONE) {
		r = mw_sql_err(s->db, rc, "meta get");
	}
	sqlite3_finalize(st);
	return r;
}

void mw_proc_info_release(struct mw_proc_info *p)
{
	free(p->cmdline);
	free(p->cgroup);
	p->cmdline = p->cgroup = NULL;
}

static char *column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	return strdup(v ? (const char *)v : "");
}

int mw_store_find_proc(struct mw_store *s, const char *boot_id, pid_t pid, uint64_t start_ticks,
                       struct mw_proc_info *out)
{
	static const char sql[] =
	        "SELECT p.id, p.pid, p.ppid, p.uid, p.start_ticks, p.start_ms,"
	        " (SELECT t_ms FROM ticks WHERE id = p.first_tick),"
	        " (SELECT t_ms FROM ticks WHERE id < coalesce(p.exit_tick, 9223372036854775807)"
	        "   ORDER BY id DESC LIMIT 1),"
	        " p.exit_tick IS NOT NULL, c.value, l.value, g.value"
	        " FROM procs p JOIN boots b ON b.id = p.boot"
	        " LEFT JOIN strings c ON c.id = p.comm LEFT JOIN strings l ON l.id = p.cmdline"
	        " LEFT JOIN strings g ON g.id = p.cgroup"
	        " WHERE b.boot_id = ? AND p.pid = ? AND p.start_ticks = ?";
	sqlite3_stmt *st = NULL;
	int rc, r = -ENOENT;

	memset(out, 0, sizeof(*out));
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(s->db, rc, "find proc");
	sqlite3_bind_text(st, 1, boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, pid);
	sqlite3_bind_int64(st, 3, (int64_t)start_ticks);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *comm = sqlite3_column_text(st, 9);
		out->id = sqlite3_column_int64(st, 0);
		out->pid = sqlite3_column_int(st, 1);
		out->ppid = sqlite3_column_int(st, 2);
		out->uid = (uint32_t)sqlite3_column_int64(st, 3);
		out->start_ticks = (uint64_t)sqlite3_column_int64(st, 4);
		out->start_ms = sqlite3_column_type(st, 5) == SQLITE_NULL
		                        ? MW_UNKNOWN
		                        : sqlite3_column_int64(st, 5);
		out->first_ms = sqlite3_column_int64(st, 6);
		out->last_ms = sqlite3_column_int64(st, 7);
		out->exited = sqlite3_column_int(st, 8);
		snprintf(out->comm, sizeof(out->comm), "%s", comm ? (const char *)comm : "");
		out->cmdline = column_strdup(st, 10);
		out->cgroup = column_strdup(st, 11);
		r = out->cmdline && out->cgroup ? 0 : -ENOMEM;
	} else if (rc != SQLITE_DONE) {
		r = mw_sql_err(s->db, rc, "find proc");
	}
	sqlite3_finalize(st);
	return r;
}

int mw_store_find_latest_proc(struct mw_store *s, const char *boot_id, pid_t pid,
                              struct mw_proc_info *out)
{
	sqlite3_stmt *q = NULL;
	int64_t start = -1;
	int rc;

	rc = sqlite3_prepare_v2(s->db,
	                        "SELECT p.start_ticks FROM procs p JOIN boots b ON b.id = p.boot"
	                        " WHERE b.boot_id = ? AND p.pid = ? ORDER BY p.id DESC LIMIT 1",
	                        -1, &q, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(s->db, rc, "find latest");
	sqlite3_bind_text(q, 1, boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, pid);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		start = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return mw_sql_err(s->db, rc, "find latest");
	if (start < 0)
		return -ENOENT;
	return mw_store_find_proc(s, boot_id, pid, (uint64_t)start, out);
}

void mw_series_release(struct mw_series *sr)
{
	free(sr->t_ms);
	free(sr->m);
	memset(sr, 0, sizeof(*sr));
}

static int series_push(struct mw_series *sr, size_t *cap, int64_t t_ms,
                       const int64_t m[MW_PM_COUNT])
{
	if (sr->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		int64_t *t = realloc(sr->t_ms, nc * sizeof(*t));
		if (!t)
			return -ENOMEM;
		sr->t_ms = t;
		int64_t(*mm)[MW_PM_COUNT] = realloc(sr->m, nc * sizeof(*mm));
		if (!mm)
			return -ENOMEM;
		sr->m = mm;
		*cap = nc;
	}
	sr->t_ms[sr->n] = t_ms;
	memcpy(sr->m[sr->n], m, sizeof(sr->m[0]));
	sr->n++;
	return 0;
}

/*
 * Rows before the window still define the value at its start: take the
 * last row at or before since_ms, then every row inside, then the last
 * tick the process was alive (bounded by until_ms).
 */
/*
 * The first tick of the window. Tick ids grow with time, so bounding the
 * row search by tick id keeps it a primary-key range on (proc, tick):
 * the cost follows the window, not the process's whole history.
 */
#define FIRST_TICK_SQL "SELECT coalesce(min(id), 9223372036854775807) FROM ticks WHERE t_ms >= ?2"

int mw_store_proc_series(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                         struct mw_series *out)
{
	char sql[2048];
	size_t o, cap = 0;
	sqlite3_stmt *st = NULL;
	int64_t cur[MW_PM_COUNT], last_alive = MW_UNKNOWN;
	bool have = false;
	int rc, r = 0;

	memset(out, 0, sizeof(*out));
	o = (size_t)snprintf(sql, sizeof(sql), "SELECT t.t_ms");
	for (int i = 0; i < MW_PM_COUNT; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, ", s.%s", mw_proc_metric_names[i]);
	snprintf(sql + o, sizeof(sql) - o,
	         " FROM proc_samples s JOIN ticks t ON t.id = s.tick WHERE s.proc = ?1"
	         " AND t.t_ms <= ?3 AND s.tick >= coalesce((SELECT max(s2.tick)"
	         " FROM proc_samples s2 WHERE s2.proc = ?1 AND s2.tick < (" FIRST_TICK_SQL ")),"
	         " (" FIRST_TICK_SQL ")) ORDER BY s.tick");
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(s->db, rc, "series");
	sqlite3_bind_int64(st, 1, proc_id);
	sqlite3_bind_int64(st, 2, since_ms);
	sqlite3_bind_int64(st, 3, until_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && r == 0) {
		int64_t t = sqlite3_column_int64(st, 0);
		for (int i = 0; i < MW_PM_COUNT; i++)
			cur[i] = sqlite3_column_type(st, 1 + i) == SQLITE_NULL
			                 ? MW_UNKNOWN
			                 : sqlite3_column_int64(st, 1 + i);
		/* The row before the window stands for the window's start. */
		r = series_push(out, &cap, t < since_ms ? since_ms : t, cur);
		have = true;
	}
	sqlite3_finalize(st);
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = mw_sql_err(s->db, rc, "series");
	if (r < 0 || !have)
		goto out;
	rc = sqlite3_prepare_v2(s->db,
	                        "SELECT (SELECT t_ms FROM ticks WHERE id < coalesce(p.exit_tick,"
	                        " 9223372036854775807) ORDER BY id DESC LIMIT 1) FROM procs p"
	                        " WHERE p.id = ?",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = mw_sql_err(s->db, rc, "series end");
		goto out;
	}
	sqlite3_bind_int64(st, 1, proc_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		last_alive = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (last_alive != MW_UNKNOWN && last_alive > until_ms)
		last_alive = until_ms;
	if (last_alive != MW_UNKNOWN && last_alive > out->t_ms[out->n - 1])
		r = series_push(out, &cap, last_alive, out->m[out->n - 1]);
out:
	if (r < 0)
		mw_series_release(out);
	return r;
}

int mw_store_stats(struct mw_store *s, struct mw_store_stats *st)
{
	struct stat sb;
	char wal[4200];
	int64_t v = 0;
	int r = 0;

	memset(st, 0, sizeof(*st));
	r = query_int(s->db, "PRAGMA user_version", &v);
	st->schema_version = (int)v;
	if (r == 0)
		r = query_int(s->db, "SELECT count(*) FROM ticks", &st->ticks);
	if (r == 0)
		r = query_int(s->db, "SELECT coalesce(min(t_ms), 0) FROM ticks",
		              &st->first_tick_ms);
	if (r == 0)
		r = query_int(s->db, "SELECT coalesce(max(t_ms), 0) FROM ticks", &st->last_tick_ms);
	if (r == 0)
		r = query_int(s->db, "SELECT count(*) FROM procs", &st->procs);
	if (r == 0)
		r = query_int(s->db, "SELECT count(*) FROM procs WHERE exit_tick IS NULL",
		              &st->live_procs);
	if (r == 0)
		r = query_int(s->db, "SELECT count(*) FROM proc_samples", &st->proc_rows);
	if (r == 0)
		r = query_int(s->db, "SELECT count(*) FROM sys_samples", &st->sys_rows);
	if (r == 0)
		r = query_int(s->db, "SELECT count(*) FROM events", &st->events);
	if (stat(s->path, &sb) == 0)
		st->file_bytes = sb.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", s->path);
	if (stat(wal, &sb) == 0)
		st->file_bytes += sb.st_size;
	return r;
}

int mw_store_writer_active(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		r = errno == EWOULDBLOCK ? 1 : -errno;
	else
		r = 0;
	close(fd);
	return r;
}
