/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/store/bpfdata.h"
#include "memwatch/store/store.h"
#include "sql.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <string.h>

int mw_store_bpf_add_proc_samples(struct mw_store *s, int64_t tick_id,
                                  const struct mw_bpf_proc_sample *v, size_t n)
{
	static const char sql[] =
	        "INSERT INTO bpf_proc_samples(proc, tick, faults_heap, faults_stack, faults_mmap,"
	        " mmaps_anon, mmap_bytes_anon, mmaps_file, mmap_bytes_file)"
	        " VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(proc, tick) DO UPDATE SET"
	        " faults_heap = faults_heap + excluded.faults_heap,"
	        " faults_stack = faults_stack + excluded.faults_stack,"
	        " faults_mmap = faults_mmap + excluded.faults_mmap,"
	        " mmaps_anon = mmaps_anon + excluded.mmaps_anon,"
	        " mmap_bytes_anon = mmap_bytes_anon + excluded.mmap_bytes_anon,"
	        " mmaps_file = mmaps_file + excluded.mmaps_file,"
	        " mmap_bytes_file = mmap_bytes_file + excluded.mmap_bytes_file";
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	/* Persistent: prepared once a tick, stepped for every process that moved. */
	rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		r = mw_sql_err(db, rc, "bpf_proc_samples: prepare");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mw_bpf_proc_sample *p = &v[i];

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, p->proc);
		sqlite3_bind_int64(st, 2, tick_id);
		sqlite3_bind_int64(st, 3, p->faults_heap);
		sqlite3_bind_int64(st, 4, p->faults_stack);
		sqlite3_bind_int64(st, 5, p->faults_mmap);
		sqlite3_bind_int64(st, 6, p->mmaps_anon);
		sqlite3_bind_int64(st, 7, p->mmap_bytes_anon);
		sqlite3_bind_int64(st, 8, p->mmaps_file);
		sqlite3_bind_int64(st, 9, p->mmap_bytes_file);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE) {
			r = mw_sql_err(db, rc, "bpf_proc_samples: insert");
			goto out;
		}
	}
out:
	sqlite3_finalize(st);
	return r;
}

int mw_store_bpf_add_rss_moves(struct mw_store *s, const struct mw_bpf_rss_move *v, size_t n)
{
	static const char sql[] = "INSERT INTO bpf_rss_moves(t_ms, proc, pid, rss_anon, rss_file,"
	                          " rss_shmem, swap) VALUES(?,?,?,?,?,?,?)";
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		r = mw_sql_err(db, rc, "bpf_rss_moves: prepare");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mw_bpf_rss_move *m = &v[i];

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, m->t_ms);
		sqlite3_bind_int64(st, 2, m->proc);
		sqlite3_bind_int(st, 3, (int)m->pid);
		sqlite3_bind_int64(st, 4, m->rss_anon);
		sqlite3_bind_int64(st, 5, m->rss_file);
		sqlite3_bind_int64(st, 6, m->rss_shmem);
		sqlite3_bind_int64(st, 7, m->swap);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE) {
			r = mw_sql_err(db, rc, "bpf_rss_moves: insert");
			goto out;
		}
	}
out:
	sqlite3_finalize(st);
	return r;
}

int mw_store_bpf_proc_evidence(struct mw_store *s, int64_t proc_id, int64_t since_ms,
                               int64_t until_ms, struct mw_bpf_proc_evidence *out)
{
	static const char sql[] =
	        "SELECT count(*), total(b.faults_heap), total(b.faults_stack), "
	        "total(b.faults_mmap),"
	        " total(b.mmaps_anon), total(b.mmap_bytes_anon), total(b.mmaps_file),"
	        " total(b.mmap_bytes_file) FROM bpf_proc_samples b JOIN ticks t ON t.id = b.tick"
	        " WHERE b.proc = ? AND t.t_ms BETWEEN ? AND ?";
	sqlite3 *db = mw_store_db(s);
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	/* Before the eBPF tables exist (built without eBPF, older file) there is nothing to say. */
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, proc_id);
	sqlite3_bind_int64(st, 2, since_ms);
	sqlite3_bind_int64(st, 3, until_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		char state[256];
		out->faults_heap = sqlite3_column_int64(st, 1);
		out->faults_stack = sqlite3_column_int64(st, 2);
		out->faults_mmap = sqlite3_column_int64(st, 3);
		out->mmaps_anon = sqlite3_column_int64(st, 4);
		out->mmap_bytes_anon = sqlite3_column_int64(st, 5);
		out->mmaps_file = sqlite3_column_int64(st, 6);
		out->mmap_bytes_file = sqlite3_column_int64(st, 7);
		/* Zero rows while eBPF was on means "nothing moved", not "unknown". */
		out->available = sqlite3_column_int64(st, 0) > 0 ||
		                 (mw_store_bpf_status(s, state, sizeof(state)) == 0 &&
		                  strncmp(state, "on", 2) == 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int mw_store_bpf_status(struct mw_store *s, char *buf, size_t cap)
{
	return mw_store_meta_get(s, "bpf", buf, cap);
}

int mw_store_bpf_missing(struct mw_store *s, char *buf, size_t cap)
{
	if (mw_store_meta_get(s, "bpf_missing", buf, cap) < 0 && cap)
		buf[0] = '\0';
	return 0;
}

int mw_store_bpf_gaps(struct mw_store *s, char *buf, size_t cap)
{
	if (mw_store_meta_get(s, "bpf_gaps", buf, cap) < 0 && cap)
		buf[0] = '\0';
	return 0;
}

int mw_bpf_missing_each(const char *text, mw_bpf_missing_fn fn, void *ctx)
{
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		char line[1024], *why, *evidence;
		int r;

		snprintf(line, sizeof(line), "%.*s",
		         (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
		p += len + (p[len] == '\n');
		why = strchr(line, '\t');
		if (!why)
			continue;
		*why++ = '\0';
		evidence = strchr(why, '\t');
		if (evidence)
			*evidence++ = '\0';
		r = fn(line, why, evidence ? evidence : "", ctx);
		if (r)
			return r;
	}
	return 0;
}

/* Sum every "key":<integer> in a flat JSON text we wrote ourselves. */
static int64_t json_sum(const char *json, const char *key, int64_t *count)
{
	char pat[64];
	int64_t sum = 0;
	size_t plen;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	plen = strlen(pat);
	for (const char *p = strstr(json, pat); p; p = strstr(p + plen, pat)) {
		sum += strtoll(p + plen, NULL, 10);
		if (count)
			(*count)++;
	}
	return sum;
}

int mw_store_bpf_cost(struct mw_store *s, struct mw_bpf_cost *out)
{
	char json[8192];
	int r;

	memset(out, 0, sizeof(*out));
	r = mw_store_meta_get(s, "bpf_stats", json, sizeof(json));
	if (r < 0)
		return r;
	out->run_cnt = json_sum(json, "run_cnt", &out->programs);
	out->run_time_ns = json_sum(json, "run_time_ns", NULL);
	out->events_dropped =
	        json_sum(json, "events_dropped", NULL) + json_sum(json, "events_lost", NULL);
	out->window_ns = json_sum(json, "stats_window_ns", NULL);
	return 0;
}
