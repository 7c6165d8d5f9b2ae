/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/store/sysstore.h"
#include "sql.h"
#include "memwatch/base/json.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

enum {
	W_STRING_FIND,
	W_STRING_INSERT,
	W_CACHE_INSERT,
	W_SLAB_SAMPLE,
	W_SLOW_TICK,
	W_ZONE,
	W_TUNABLE,
	W_IPC_INSERT,
	W_IPC_GONE,
	W_IPC_SAMPLE,
	W_CREATOR,
	W_TICK_EXISTS,
	W_SET_CREATOR,
	W_COUNT
};

/*
 * Slab caches and IPC objects are written when they change, and again at
 * least this often: raw rows older than the retention window are deleted,
 * and a value that never moved must still have a row inside the window.
 */
#define REWRITE_NS (3600ull * 1000000000ull)

struct cache_state {
	char name[MW_SLAB_NAME_MAX];
	int64_t id, active, num, bytes;
	uint64_t written_ns;
};

#define IPC_VALUES 10

struct ipc_state {
	char ident[MW_IPC_NAME_MAX + 64];
	int64_t id;
	int64_t v[IPC_VALUES];
	uint64_t written_ns;
	bool seen;
	bool has_creator;
};

struct mw_sysw {
	struct mw_store *store;
	sqlite3 *db;
	struct mw_sysw_lookup lookup;
	sqlite3_stmt *q[W_COUNT];
	struct cache_state *caches;
	size_t ncaches, capcaches;
	struct ipc_state *objs;
	size_t nobjs, capobjs;
	struct mw_tunables tun;
	bool have_tun;
	struct mw_zone_set zones; /* last stored watermarks */
	int64_t last_tick;        /* last tick this writer wrote to */
	uint64_t last_t_ns;       /* and its time */
};

static int step(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : mw_sql_err(db, rc, NULL);
}

static void bind_v(sqlite3_stmt *st, int i, int64_t v)
{
	if (v == MW_UNKNOWN)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

/* One int64 from a prepared single-row query; -ENOENT without a row. */
static int step_int(sqlite3 *db, sqlite3_stmt *st, int64_t *out)
{
	int rc = sqlite3_step(st), r;

	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		r = 0;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : mw_sql_err(db, rc, NULL);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

static int intern(struct mw_sysw *w, const char *str, int64_t *id)
{
	int r;

	sqlite3_bind_text(w->q[W_STRING_FIND], 1, str, -1, SQLITE_TRANSIENT);
	r = step_int(w->db, w->q[W_STRING_FIND], id);
	if (r != -ENOENT)
		return r;
	sqlite3_bind_text(w->q[W_STRING_INSERT], 1, str, -1, SQLITE_TRANSIENT);
	r = step(w->db, w->q[W_STRING_INSERT]);
	if (r == 0)
		*id = sqlite3_last_insert_rowid(w->db);
	return r;
}

static void forget_state(struct mw_sysw *w)
{
	w->ncaches = 0;
	w->nobjs = 0;
	w->have_tun = false;
	w->zones.n = 0;
}

/* Rebuild what the database holds, after open or after a tick of ours was rolled back. */
static int load_state(struct mw_sysw *w)
{
	sqlite3_stmt *st = NULL;
	int rc;

	forget_state(w);
	rc = sqlite3_prepare_v2(
	        w->db,
	        "SELECT c.id, s.value, (SELECT active_objs FROM slab_samples x WHERE"
	        " x.cache = c.id ORDER BY tick DESC LIMIT 1), (SELECT num_objs FROM"
	        " slab_samples x WHERE x.cache = c.id ORDER BY tick DESC LIMIT 1),"
	        " (SELECT bytes FROM slab_samples x WHERE x.cache = c.id ORDER BY tick"
	        " DESC LIMIT 1) FROM slab_caches c JOIN strings s ON s.id = c.name",
	        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(w->db, rc, NULL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (w->ncaches == w->capcaches) {
			size_t nc = w->capcaches ? w->capcaches * 2 : 256;
			struct cache_state *v = realloc(w->caches, nc * sizeof(*v));
			if (!v) {
				sqlite3_finalize(st);
				return -ENOMEM;
			}
			w->caches = v;
			w->capcaches = nc;
		}
		struct cache_state *c = &w->caches[w->ncaches++];
		const unsigned char *name = sqlite3_column_text(st, 1);
		c->id = sqlite3_column_int64(st, 0);
		snprintf(c->name, sizeof(c->name), "%s", name ? (const char *)name : "");
		/* The last stored values: a cache that did not change stays unstored. */
		c->active = mw_sql_i64(st, 2);
		c->num = mw_sql_i64(st, 3);
		c->bytes = mw_sql_i64(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return mw_sql_err(w->db, rc, NULL);
	/* The tunables as last stored, so a change across a restart is still an event. */
	rc = sqlite3_prepare_v2(w->db,
	                        "SELECT name, value FROM tunables t WHERE tick = (SELECT max(tick)"
	                        " FROM tunables u WHERE u.name = t.name)",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(w->db, rc, NULL);
	for (int i = 0; i < MW_TUN_COUNT; i++)
		w->tun.v[i] = MW_UNKNOWN;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(st, 0);
		for (int i = 0; name && i < MW_TUN_COUNT; i++)
			if (strcmp((const char *)name, mw_tunable_names[i]) == 0) {
				w->tun.v[i] = mw_sql_i64(st, 1);
				w->have_tun = true;
			}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return mw_sql_err(w->db, rc, NULL);
	/* Objects the database still calls live: gone_tick is set at the first sample without them.
	 */
	rc = sqlite3_prepare_v2(w->db, "SELECT id, ident FROM ipc_objects WHERE gone_tick IS NULL",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(w->db, rc, NULL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (w->nobjs == w->capobjs) {
			size_t nc = w->capobjs ? w->capobjs * 2 : 64;
			struct ipc_state *v = realloc(w->objs, nc * sizeof(*v));
			if (!v) {
				sqlite3_finalize(st);
				return -ENOMEM;
			}
			w->objs = v;
			w->capobjs = nc;
		}
		struct ipc_state *os = &w->objs[w->nobjs++];
		const unsigned char *ident = sqlite3_column_text(st, 1);
		os->id = sqlite3_column_int64(st, 0);
		os->has_creator = sqlite3_column_int(st, 2) != 0;
		snprintf(os->ident, sizeof(os->ident), "%s", ident ? (const char *)ident : "");
		for (int i = 0; i < IPC_VALUES; i++)
			os->v[i] = MW_UNKNOWN;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : mw_sql_err(w->db, rc, NULL);
}

int mw_sysw_new(struct mw_store *s, const struct mw_sysw_lookup *lookup, struct mw_sysw **out)
{
	static const char *const sql[W_COUNT] = {
	        [W_STRING_FIND] = "SELECT id FROM strings WHERE value = ?",
	        [W_STRING_INSERT] = "INSERT INTO strings(value) VALUES(?)",
	        [W_CACHE_INSERT] = "INSERT INTO slab_caches(name, objsize, aliases) VALUES(?,?,?)",
	        [W_SLAB_SAMPLE] =
	                "INSERT INTO slab_samples(cache, tick, active_objs, num_objs, bytes)"
	                " VALUES(?,?,?,?,?)",
	        [W_SLOW_TICK] = "INSERT INTO system_slow_ticks(tick, slab, ipc) VALUES(?,?,?)",
	        [W_ZONE] = "INSERT INTO zone_samples(tick, node, zone, free_pages, min_pages,"
	                   " low_pages, high_pages, managed_pages, present_pages)"
	                   " VALUES(?,?,?,?,?,?,?,?,?)",
	        [W_TUNABLE] = "INSERT INTO tunables(tick, name, value) VALUES(?,?,?)",
	        [W_IPC_INSERT] = "INSERT INTO ipc_objects(boot, kind, ident, ipc_key, ipc_id, name,"
	                         " uid, cuid, mode, cpid, creator, ctime, first_tick)"
	                         " VALUES((SELECT boot FROM ticks WHERE id = ?1),?2,?3,?4,?5,?6,?7,"
	                         "?8,?9,?10,?11,?12,?1)"
	                         " ON CONFLICT(boot, ident) DO UPDATE SET gone_tick = NULL"
	                         " RETURNING id",
	        [W_IPC_GONE] = "UPDATE ipc_objects SET gone_tick = ? WHERE id = ?",
	        [W_IPC_SAMPLE] =
	                "INSERT OR REPLACE INTO ipc_samples(object, tick, size, bytes, swap,"
	                " nattch, qnum, lpid, lrpid, atime, dtime)"
	                " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	        [W_CREATOR] = "SELECT p.id FROM procs p WHERE p.boot = (SELECT boot FROM ticks"
	                      " WHERE id = ?1) AND p.pid = ?2 AND (p.start_ms IS NULL OR"
	                      " p.start_ms <= ?3) ORDER BY p.start_ms DESC LIMIT 1",
	        [W_TICK_EXISTS] = "SELECT count(*) FROM ticks WHERE id = ?",
	        [W_SET_CREATOR] = "UPDATE ipc_objects SET creator = ? WHERE id = ?",
	};
	struct mw_sysw *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->store = s;
	w->db = mw_store_db(s);
	if (lookup)
		w->lookup = *lookup;
	for (int i = 0; i < W_COUNT; i++) {
		int rc = sqlite3_prepare_v3(w->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->q[i],
		                            NULL);
		if (rc != SQLITE_OK) {
			r = mw_sql_err(w->db, rc, NULL);
			mw_sysw_free(w);
			return r;
		}
	}
	r = load_state(w);
	if (r < 0) {
		mw_sysw_free(w);
		return r;
	}
	*out = w;
	return 0;
}

void mw_sysw_free(struct mw_sysw *w)
{
	if (!w)
		return;
	for (int i = 0; i < W_COUNT; i++)
		sqlite3_finalize(w->q[i]);
	free(w->caches);
	free(w->objs);
	free(w);
}

/*
 * The daemon rolls a whole tick back when any part fails, and does not
 * tell sources: when our previous tick is not in the database, what we
 * remember as stored is not, so start over from the database.
 */
static int check_rollback(struct mw_sysw *w, int64_t tick, uint64_t t_ns)
{
	int64_t n = 0;
	int r;

	if (w->last_tick == 0 || (w->last_tick == tick && w->last_t_ns == t_ns))
		goto ok;
	/* SQLite hands a rolled-back rowid out again: the same id with another time is a new tick.
	 */
	if (w->last_tick != tick) {
		sqlite3_bind_int64(w->q[W_TICK_EXISTS], 1, w->last_tick);
		r = step_int(w->db, w->q[W_TICK_EXISTS], &n);
		if (r < 0)
			return r;
	}
	if (n == 0) {
		r = load_state(w);
		if (r < 0)
			return r;
	}
ok:
	w->last_tick = tick;
	w->last_t_ns = t_ns;
	return 0;
}

int mw_sysw_tunables(struct mw_sysw *w, int64_t tick, uint64_t t_ns, const struct mw_tunables *t)
{
	int r = check_rollback(w, tick, t_ns);

	for (int i = 0; i < MW_TUN_COUNT && r == 0; i++) {
		bool changed = w->have_tun && w->tun.v[i] != t->v[i];

		if (w->have_tun && !changed)
			continue;
		sqlite3_bind_int64(w->q[W_TUNABLE], 1, tick);
		sqlite3_bind_text(w->q[W_TUNABLE], 2, mw_tunable_names[i], -1, SQLITE_STATIC);
		bind_v(w->q[W_TUNABLE], 3, t->v[i]);
		r = step(w->db, w->q[W_TUNABLE]);
		if (r == 0 && changed) {
			char detail[160], a[24] = "null", b[24] = "null";
			if (w->tun.v[i] != MW_UNKNOWN)
				snprintf(a, sizeof(a), "%lld", (long long)w->tun.v[i]);
			if (t->v[i] != MW_UNKNOWN)
				snprintf(b, sizeof(b), "%lld", (long long)t->v[i]);
			snprintf(detail, sizeof(detail), "{\"name\":\"%s\",\"old\":%s,\"new\":%s}",
			         mw_tunable_names[i], a, b);
			r = mw_store_add_event(w->store, t_ns, "tunable-change", 0, 0, detail);
		}
	}
	if (r == 0) {
		w->tun = *t;
		w->have_tun = true;
	}
	return r;
}

static struct cache_state *cache_get(struct mw_sysw *w, const struct mw_slab_cache *c, int *err)
{
	int64_t name_id = 0, alias_id = 0;
	char aliases[1024];
	struct cache_state *cs;

	for (size_t i = 0; i < w->ncaches; i++)
		if (strcmp(w->caches[i].name, c->name) == 0)
			return &w->caches[i];
	if (w->ncaches == w->capcaches) {
		size_t nc = w->capcaches ? w->capcaches * 2 : 256;
		struct cache_state *v = realloc(w->caches, nc * sizeof(*v));
		if (!v) {
			*err = -ENOMEM;
			return NULL;
		}
		w->caches = v;
		w->capcaches = nc;
	}
	*err = intern(w, c->name, &name_id);
	aliases[0] = '\0';
	if (*err == 0 && w->lookup.slab_aliases &&
	    w->lookup.slab_aliases(w->lookup.ctx, c->name, aliases, sizeof(aliases)) == 0 &&
	    aliases[0])
		*err = intern(w, aliases, &alias_id);
	if (*err < 0)
		return NULL;
	sqlite3_bind_int64(w->q[W_CACHE_INSERT], 1, name_id);
	sqlite3_bind_int64(w->q[W_CACHE_INSERT], 2, c->objsize);
	if (alias_id)
		sqlite3_bind_int64(w->q[W_CACHE_INSERT], 3, alias_id);
	*err = step(w->db, w->q[W_CACHE_INSERT]);
	if (*err < 0)
		return NULL;
	cs = &w->caches[w->ncaches++];
	snprintf(cs->name, sizeof(cs->name), "%s", c->name);
	cs->id = sqlite3_last_insert_rowid(w->db);
	cs->active = cs->num = cs->bytes = MW_UNKNOWN;
	return cs;
}

/* Unchanged since its last row, and that row is recent enough to outlive retention. */
static bool fresh(bool same, uint64_t written_ns, uint64_t t_ns)
{
	return same && t_ns >= written_ns && t_ns - written_ns < REWRITE_NS;
}

static int write_slab(struct mw_sysw *w, int64_t tick, uint64_t t_ns,
                      const struct mw_slab_set *slab)
{
	int r = 0;

	for (size_t i = 0; i < slab->n && r == 0; i++) {
		const struct mw_slab_cache *c = &slab->v[i];
		struct cache_state *cs = cache_get(w, c, &r);

		if (!cs)
			return r;
		if (fresh(cs->active == c->active_objs && cs->num == c->num_objs &&
		                  cs->bytes == c->bytes,
		          cs->written_ns, t_ns))
			continue;
		sqlite3_stmt *st = w->q[W_SLAB_SAMPLE];
		sqlite3_bind_int64(st, 1, cs->id);
		sqlite3_bind_int64(st, 2, tick);
		sqlite3_bind_int64(st, 3, c->active_objs);
		sqlite3_bind_int64(st, 4, c->num_objs);
		sqlite3_bind_int64(st, 5, c->bytes);
		r = step(w->db, st);
		if (r == 0) {
			cs->active = c->active_objs;
			cs->num = c->num_objs;
			cs->bytes = c->bytes;
			cs->written_ns = t_ns;
		}
	}
	return r;
}

/* Zones at every slow sample (free pages move), which is a handful of rows. */
static int write_zones(struct mw_sysw *w, int64_t tick, const struct mw_zone_set *zones)
{
	int r = 0;

	for (size_t i = 0; i < zones->n && r == 0; i++) {
		const struct mw_zone *z = &zones->v[i];
		sqlite3_stmt *st = w->q[W_ZONE];
		int64_t zid = 0;

		r = intern(w, z->name, &zid);
		if (r < 0)
			return r;
		sqlite3_bind_int64(st, 1, tick);
		sqlite3_bind_int(st, 2, z->node);
		sqlite3_bind_int64(st, 3, zid);
		bind_v(st, 4, z->free);
		bind_v(st, 5, z->min);
		bind_v(st, 6, z->low);
		bind_v(st, 7, z->high);
		bind_v(st, 8, z->managed);
		bind_v(st, 9, z->present);
		r = step(w->db, st);
	}
	if (r == 0)
		w->zones = *zones;
	return r;
}

static void ipc_values(const struct mw_ipc_obj *o, int64_t v[IPC_VALUES])
{
	int64_t vals[IPC_VALUES] = {o->size, o->bytes, o->swap,  o->nattch, o->qnum,
	                            o->lpid, o->lrpid, o->atime, o->dtime,  0};
	memcpy(v, vals, sizeof(vals));
}

static struct ipc_state *obj_get(struct mw_sysw *w, int64_t tick, const struct mw_ipc_obj *o,
                                 int *err)
{
	sqlite3_stmt *st = w->q[W_IPC_INSERT];
	struct ipc_state *os;
	int64_t name_id = 0, creator = 0;

	for (size_t i = 0; i < w->nobjs; i++)
		if (strcmp(w->objs[i].ident, o->ident) == 0)
			return &w->objs[i];
	if (w->nobjs == w->capobjs) {
		size_t nc = w->capobjs ? w->capobjs * 2 : 64;
		struct ipc_state *v = realloc(w->objs, nc * sizeof(*v));
		if (!v) {
			*err = -ENOMEM;
			return NULL;
		}
		w->objs = v;
		w->capobjs = nc;
	}
	if (o->name[0] && (*err = intern(w, o->name, &name_id)) < 0)
		return NULL;
	if (o->cpid > 0 && o->ctime != MW_UNKNOWN) {
		/* The process with this pid alive when the object was made (ctime in seconds). */
		sqlite3_bind_int64(w->q[W_CREATOR], 1, tick);
		sqlite3_bind_int(w->q[W_CREATOR], 2, o->cpid);
		sqlite3_bind_int64(w->q[W_CREATOR], 3, o->ctime * 1000 + 999);
		*err = step_int(w->db, w->q[W_CREATOR], &creator);
		if (*err == -ENOENT)
			*err = 0;
		if (*err < 0)
			return NULL;
	}
	sqlite3_bind_int64(st, 1, tick);
	sqlite3_bind_text(st, 2, mw_ipc_kind_names[o->kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->ident, -1, SQLITE_TRANSIENT);
	bind_v(st, 4, o->key);
	bind_v(st, 5, o->id);
	if (name_id)
		sqlite3_bind_int64(st, 6, name_id);
	sqlite3_bind_int64(st, 7, o->uid);
	sqlite3_bind_int64(st, 8, o->cuid);
	bind_v(st, 9, o->mode);
	if (o->cpid > 0)
		sqlite3_bind_int(st, 10, o->cpid);
	if (creator)
		sqlite3_bind_int64(st, 11, creator);
	bind_v(st, 12, o->ctime);
	os = &w->objs[w->nobjs];
	*err = step_int(w->db, st, &os->id);
	if (*err < 0)
		return NULL;
	w->nobjs++;
	os->has_creator = creator != 0;
	snprintf(os->ident, sizeof(os->ident), "%s", o->ident);
	for (int i = 0; i < IPC_VALUES; i++)
		os->v[i] = MW_UNKNOWN;
	return os;
}

/*
 * Queues have no creator pid in the kernel: the first process seen writing
 * to one (the SysV last sender, or a holder of a POSIX queue open for
 * writing) stands for it, so a process's report can find its queues.
 */
static int queue_creator(struct mw_sysw *w, int64_t tick, uint64_t t_ns, const struct mw_ipc_obj *o,
                         struct ipc_state *os)
{
	struct mw_ipc_holder h[8];
	pid_t pid = 0;
	int64_t creator = 0;
	int r;

	if (o->kind == MW_IPC_msg) {
		pid = o->lpid;
	} else if (o->kind == MW_IPC_mqueue && w->lookup.ipc_holders) {
		int n = w->lookup.ipc_holders(w->lookup.ctx, o, h, MW_ARRAY_SIZE(h));
		for (int i = 0; i < n && !pid; i++)
			if (h[i].writer)
				pid = h[i].pid;
	}
	if (pid <= 0)
		return 0;
	sqlite3_bind_int64(w->q[W_CREATOR], 1, tick);
	sqlite3_bind_int(w->q[W_CREATOR], 2, pid);
	sqlite3_bind_int64(w->q[W_CREATOR], 3, (int64_t)(t_ns / 1000000ull));
	r = step_int(w->db, w->q[W_CREATOR], &creator);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	sqlite3_bind_int64(w->q[W_SET_CREATOR], 1, creator);
	sqlite3_bind_int64(w->q[W_SET_CREATOR], 2, os->id);
	r = step(w->db, w->q[W_SET_CREATOR]);
	if (r == 0)
		os->has_creator = true;
	return r;
}

static int write_ipc(struct mw_sysw *w, int64_t tick, uint64_t t_ns, const struct mw_ipc_set *ipc)
{
	int r = 0;

	for (size_t i = 0; i < w->nobjs; i++)
		w->objs[i].seen = false;
	for (size_t i = 0; i < ipc->n && r == 0; i++) {
		const struct mw_ipc_obj *o = &ipc->v[i];
		struct ipc_state *os = obj_get(w, tick, o, &r);
		int64_t v[IPC_VALUES];

		if (!os)
			return r;
		os->seen = true;
		ipc_values(o, v);
		/* A POSIX queue's writer is found by scanning fds: only when it was written to. */
		if (!os->has_creator &&
		    (o->kind == MW_IPC_msg ||
		     (o->kind == MW_IPC_mqueue && memcmp(v, os->v, sizeof(v)) != 0)) &&
		    (r = queue_creator(w, tick, t_ns, o, os)) < 0)
			return r;
		if (fresh(memcmp(v, os->v, sizeof(v)) == 0, os->written_ns, t_ns))
			continue;
		sqlite3_stmt *st = w->q[W_IPC_SAMPLE];
		sqlite3_bind_int64(st, 1, os->id);
		sqlite3_bind_int64(st, 2, tick);
		for (int k = 0; k < IPC_VALUES - 1; k++)
			bind_v(st, 3 + k, v[k]);
		r = step(w->db, st);
		if (r == 0) {
			memcpy(os->v, v, sizeof(v));
			os->written_ns = t_ns;
		}
	}
	/* Objects not seen are gone: mark them, forget them (compacting the array). */
	for (size_t i = 0; i < w->nobjs && r == 0;) {
		if (w->objs[i].seen) {
			i++;
			continue;
		}
		sqlite3_bind_int64(w->q[W_IPC_GONE], 1, tick);
		sqlite3_bind_int64(w->q[W_IPC_GONE], 2, w->objs[i].id);
		r = step(w->db, w->q[W_IPC_GONE]);
		w->objs[i] = w->objs[--w->nobjs];
	}
	return r;
}

int mw_sysw_slow(struct mw_sysw *w, int64_t tick, uint64_t t_ns, const struct mw_slab_set *slab,
                 const struct mw_zone_set *zones, const struct mw_ipc_set *ipc)
{
	int r = check_rollback(w, tick, t_ns);

	if (r == 0 && slab)
		r = write_slab(w, tick, t_ns, slab);
	if (r == 0 && zones)
		r = write_zones(w, tick, zones);
	if (r == 0 && ipc)
		r = write_ipc(w, tick, t_ns, ipc);
	if (r == 0) {
		sqlite3_bind_int64(w->q[W_SLOW_TICK], 1, tick);
		sqlite3_bind_int(w->q[W_SLOW_TICK], 2, slab != NULL);
		sqlite3_bind_int(w->q[W_SLOW_TICK], 3, ipc != NULL);
		r = step(w->db, w->q[W_SLOW_TICK]);
	}
	return r;
}
