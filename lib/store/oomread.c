/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/store/oomread.h"
#include "memwatch/store/procread.h"
#include "sql.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void mw_oom_history_release(struct mw_oom_history *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static struct mw_oom_kill *kill_push(struct mw_oom_history *h, size_t *cap)
{
	if (h->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct mw_oom_kill *v = realloc(h->v, nc * sizeof(*v));
		if (!v)
			return NULL;
		h->v = v;
		*cap = nc;
	}
	memset(&h->v[h->n], 0, sizeof(h->v[0]));
	return &h->v[h->n++];
}

static int history_events(sqlite3 *db, int64_t since, int64_t until, struct mw_oom_history *h,
                          size_t *cap)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(
	        db,
	        "SELECT e.t_ms, coalesce(json_extract(e.detail, '$.victim_pid'), e.pid),"
	        " coalesce(e.proc, (SELECT p.id FROM procs p WHERE p.pid = coalesce("
	        "  json_extract(e.detail, '$.victim_pid'), e.pid) AND (p.start_ms IS NULL OR"
	        "  p.start_ms <= e.t_ms) ORDER BY p.id DESC LIMIT 1)),"
	        " json_extract(e.detail, '$.comm'), json_extract(e.detail, '$.total_vm'),"
	        " json_extract(e.detail, '$.anon_rss'), json_extract(e.detail, '$.file_rss'),"
	        " json_extract(e.detail, '$.shmem_rss'), json_extract(e.detail, '$.pgtables'),"
	        " json_extract(e.detail, '$.oom_score_adj')"
	        " FROM events e WHERE e.kind = 'oom-kill' AND e.t_ms BETWEEN ? AND ?"
	        " AND json_valid(coalesce(e.detail, '{}')) ORDER BY e.t_ms",
	        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return mw_sql_err(db, rc, "oom-kill events");
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mw_oom_kill *k = kill_push(h, cap);
		if (!k) {
			r = -ENOMEM;
			goto out;
		}
		k->from_event = true;
		k->t_ms = sqlite3_column_int64(st, 0);
		k->pid = (pid_t)sqlite3_column_int64(st, 1);
		k->proc_id =
		        sqlite3_column_type(st, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 2);
		mw_sql_text(st, 3, k->comm, sizeof(k->comm));
		k->total_vm = mw_sql_i64(st, 4);
		k->anon_rss = mw_sql_i64(st, 5);
		k->file_rss = mw_sql_i64(st, 6);
		k->shmem_rss = mw_sql_i64(st, 7);
		k->pgtables = mw_sql_i64(st, 8);
		k->oom_score_adj = mw_sql_i64(st, 9);
		k->rss = k->anon_rss == MW_UNKNOWN
		                 ? MW_UNKNOWN
		                 : k->anon_rss + (k->file_rss == MW_UNKNOWN ? 0 : k->file_rss) +
		                           (k->shmem_rss == MW_UNKNOWN ? 0 : k->shmem_rss);
		k->swap = MW_UNKNOWN;
		h->have_events = true;
	}
	if (rc != SQLITE_DONE)
		r = mw_sql_err(db, rc, "oom-kill events");
out:
	sqlite3_finalize(st);
	return r;
}

static bool near_event(const struct mw_oom_history *h, int64_t from_ms, int64_t to_ms)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].from_event && h->v[i].t_ms >= from_ms && h->v[i].t_ms <= to_ms)
			return true;
	return false;
}

static const struct mw_kmsg_kill *kmsg_find(const struct mw_kmsg_kills *kl, pid_t pid,
                                            const char *comm)
{
	if (!kl)
		return NULL;
	for (size_t i = kl->n; i-- > 0;)
		if (kl->v[i].pid == pid && strncmp(kl->v[i].comm, comm, 15) == 0)
			return &kl->v[i];
	return NULL;
}

/*
 * Of the processes whose exit was recorded at the tick the counter rose
 * (or the next), the ones the kernel log names; then the largest last RSS.
 */
static int pick_victims(sqlite3_stmt *vq, int64_t t_ms, int64_t nkills,
                        const struct mw_kmsg_kills *kl, struct mw_oom_history *h, size_t *cap)
{
	struct cand {
		int64_t proc_id;
		pid_t pid;
		char comm[MW_COMM_MAX];
		char cgroup[256];
		const struct mw_kmsg_kill *log;
	} c[64];
	size_t n = 0;
	int64_t taken = 0;

	while (n < MW_ARRAY_SIZE(c) && sqlite3_step(vq) == SQLITE_ROW) {
		c[n].proc_id = sqlite3_column_int64(vq, 0);
		c[n].pid = (pid_t)sqlite3_column_int(vq, 1);
		mw_sql_text(vq, 2, c[n].comm, sizeof(c[n].comm));
		mw_sql_text(vq, 3, c[n].cgroup, sizeof(c[n].cgroup));
		c[n].log = kmsg_find(kl, c[n].pid, c[n].comm);
		n++;
	}
	sqlite3_reset(vq);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n && taken < nkills; i++) {
			struct mw_oom_kill *k;
			if ((pass == 0) != (c[i].log != NULL) || c[i].proc_id == 0)
				continue;
			k = kill_push(h, cap);
			if (!k)
				return -ENOMEM;
			k->proc_id = c[i].proc_id;
			k->pid = c[i].pid;
			memcpy(k->comm, c[i].comm, sizeof(k->comm));
			memcpy(k->cgroup, c[i].cgroup, sizeof(k->cgroup));
			/* The kill happened between the two ticks; say the later one. */
			k->t_ms = t_ms;
			k->total_vm = k->anon_rss = k->file_rss = k->shmem_rss = MW_UNKNOWN;
			k->pgtables = k->oom_score_adj = k->rss = k->swap = MW_UNKNOWN;
			if (c[i].log) {
				k->in_kernel_log = true;
				k->total_vm = c[i].log->total_vm * 1024;
				k->anon_rss = c[i].log->anon * 1024;
				k->file_rss = c[i].log->file * 1024;
				k->shmem_rss = c[i].log->shmem * 1024;
				k->pgtables = c[i].log->pgtables * 1024;
				k->oom_score_adj = c[i].log->adj;
				k->rss = k->anon_rss + k->file_rss + k->shmem_rss;
			}
			c[i].proc_id = 0;
			taken++;
		}
	return 0;
}

/*
 * Without events: each rise of the counter between two ticks, matched to
 * the processes whose exit was recorded at that tick or the next (the
 * victim dies right after the kill), largest last RSS first.
 */
static int history_counter(sqlite3 *db, int64_t since, int64_t until, struct mw_oom_history *h,
                           size_t *cap, const struct mw_kmsg_kills *kl)
{
	sqlite3_stmt *st = NULL, *vq = NULL;
	int64_t prev = MW_UNKNOWN, prev_ms = 0;
	size_t nevents = h->n;
	int rc, r = 0;

	h->counter_total = MW_UNKNOWN;
	rc = sqlite3_prepare_v2(db,
	                        "SELECT s.tick, t.t_ms, s.oom_kill FROM sys_samples s JOIN ticks t"
	                        " ON t.id = s.tick WHERE t.t_ms BETWEEN ? AND ? ORDER BY s.tick",
	                        -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		        db,
		        "SELECT p.id, p.pid, c.value, g.value, (SELECT t_ms FROM ticks WHERE id = "
		        "p.exit_tick)"
		        " FROM procs p LEFT JOIN strings c ON c.id = p.comm LEFT JOIN strings g ON"
		        " g.id = p.cgroup WHERE p.exit_tick BETWEEN ?1 AND ?1 + 1 ORDER BY (SELECT"
		        " s.rss FROM proc_samples s WHERE s.proc = p.id AND s.rss IS NOT NULL ORDER"
		        " BY s.tick DESC LIMIT 1) DESC LIMIT 64",
		        -1, &vq, NULL);
	if (rc != SQLITE_OK) {
		r = mw_sql_err(db, rc, "oom_kill counter");
		goto out;
	}
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		int64_t tick = sqlite3_column_int64(st, 0), t_ms = sqlite3_column_int64(st, 1);
		int64_t cnt = mw_sql_i64(st, 2);

		if (cnt == MW_UNKNOWN)
			continue;
		if (prev != MW_UNKNOWN && cnt > prev) {
			h->counter_total = (h->counter_total == MW_UNKNOWN ? 0 : h->counter_total) +
			                   (cnt - prev);
			if (near_event(h, prev_ms, t_ms + 60000) && nevents)
				goto next;
			sqlite3_bind_int64(vq, 1, tick);
			r = pick_victims(vq, t_ms, cnt - prev, kl, h, cap);
			sqlite3_reset(vq);
		} else if (prev == MW_UNKNOWN) {
			h->counter_total = 0;
		}
	next:
		prev = cnt;
		prev_ms = t_ms;
	}
out:
	sqlite3_finalize(st);
	sqlite3_finalize(vq);
	return r;
}

/* An event names its victim by pid: the cgroup (and a missing comm) come from the process table. */
static void kill_proc_names(sqlite3 *db, struct mw_oom_kill *k)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
	                       "SELECT g.value, c.value FROM procs p LEFT JOIN strings g"
	                       " ON g.id = p.cgroup LEFT JOIN strings c ON c.id = p.comm"
	                       " WHERE p.id = ?",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, k->proc_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			mw_sql_text(st, 0, k->cgroup, sizeof(k->cgroup));
			if (!k->comm[0])
				mw_sql_text(st, 1, k->comm, sizeof(k->comm));
		}
	}
	sqlite3_finalize(st);
}

static int cmp_kill(const void *a, const void *b)
{
	const struct mw_oom_kill *x = a, *y = b;

	return (x->t_ms > y->t_ms) - (x->t_ms < y->t_ms);
}

/* The victim's cgroup limit as recorded at the kill, not as it is today. */
static void kill_memcg(struct mw_store *s, struct mw_oom_kill *k)
{
	struct mw_cgroup_limit cl;
	int r = k->proc_id ? mw_store_memcg_of_proc(s, k->proc_id, k->t_ms, &cl)
	                   : mw_store_memcg_at(s, k->cgroup, k->t_ms, &cl);

	if (r == 0 && cl.limit != MW_UNKNOWN) {
		k->cgroup_limit = cl.limit;
		k->cgroup_usage = cl.usage;
	}
}

int mw_store_oom_history(struct mw_store *s, int64_t since_ms, int64_t until_ms,
                         const struct mw_kmsg_kills *kmsg, struct mw_oom_history *h)
{
	sqlite3 *db = mw_store_db(s);
	size_t cap = 0;
	int r;

	memset(h, 0, sizeof(*h));
	r = history_events(db, since_ms, until_ms, h, &cap);
	if (r == 0)
		r = history_counter(db, since_ms, until_ms, h, &cap, kmsg);
	if (r < 0) {
		mw_oom_history_release(h);
		return r;
	}
	for (size_t i = 0; i < h->n; i++) {
		struct mw_oom_kill *k = &h->v[i];
		k->cgroup_limit = k->cgroup_usage = MW_UNKNOWN;
		k->rss_before = k->rss_last = MW_UNKNOWN;
		k->rss_slope = NAN;
		if (k->proc_id && !k->cgroup[0])
			kill_proc_names(db, k);
		kill_memcg(s, k);
	}
	mw_qsort(h->v, h->n, sizeof(*h->v), cmp_kill);
	return 0;
}
