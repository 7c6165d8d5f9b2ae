/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/oom.h"
#include "memwatch/collect/cgroup.h"
#include "memwatch/base/format.h"
#include "memwatch/base/json.h"
#include "memwatch/analyse/trend.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
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

static int64_t col_i64(sqlite3_stmt *st, int c)
{
	return sqlite3_column_type(st, c) == SQLITE_NULL ? MW_UNKNOWN : sqlite3_column_int64(st, c);
}

static void col_text(sqlite3_stmt *st, int c, char *buf, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, c);

	snprintf(buf, cap, "%s", t ? (const char *)t : "");
}

/* The victim's series in the minutes before the kill: what grew. */
static void kill_growth(struct mw_store *s, struct mw_oom_kill *k)
{
	struct mw_series sr = {0};
	double *t = NULL, *y = NULL;

	k->rss_slope = NAN;
	k->rss_before = k->rss_last = MW_UNKNOWN;
	k->before_ms = k->t_ms - MW_OOM_GROWTH_WINDOW_MS;
	if (!k->proc_id || mw_store_proc_series(s, k->proc_id, k->before_ms, k->t_ms, &sr) < 0 ||
	    sr.n == 0)
		goto out;
	k->rss_before = sr.m[0][MW_PM_rss];
	k->rss_last = sr.m[sr.n - 1][MW_PM_rss];
	k->last_sample_ms = sr.t_ms[sr.n - 1];
	if (k->rss == MW_UNKNOWN)
		k->rss = k->rss_last;
	if (k->swap == MW_UNKNOWN)
		k->swap = sr.m[sr.n - 1][MW_PM_swap];
	t = malloc(sr.n * sizeof(*t));
	y = malloc(sr.n * sizeof(*y));
	if (!t || !y)
		goto out;
	for (size_t i = 0; i < sr.n; i++) {
		t[i] = (double)(sr.t_ms[i] - sr.t_ms[0]) / 1000.0;
		y[i] = (double)sr.m[i][MW_PM_rss];
	}
	if (sr.n >= 2)
		k->rss_slope = mw_trend_theil_sen(t, y, sr.n);
	/* Keep at most 32 points, evenly spread, always the last. */
	for (size_t i = 0; i < 32 && i < sr.n; i++) {
		size_t j = sr.n <= 32 ? i : i * (sr.n - 1) / 31;
		k->pt_ms[i] = sr.t_ms[j];
		k->pt_rss[i] = sr.m[j][MW_PM_rss];
		k->npoints = i + 1;
	}
out:
	free(t);
	free(y);
	mw_series_release(&sr);
}

static int history_events(sqlite3 *db, int64_t since, int64_t until, struct mw_oom_history *h,
                          size_t *cap)
{
	sqlite3_stmt *st = NULL;
	int rc;

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
		return -EIO;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mw_oom_kill *k = kill_push(h, cap);
		if (!k) {
			sqlite3_finalize(st);
			return -ENOMEM;
		}
		k->from_event = true;
		k->t_ms = sqlite3_column_int64(st, 0);
		k->pid = (pid_t)sqlite3_column_int64(st, 1);
		k->proc_id =
		        sqlite3_column_type(st, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 2);
		col_text(st, 3, k->comm, sizeof(k->comm));
		k->total_vm = col_i64(st, 4);
		k->anon_rss = col_i64(st, 5);
		k->file_rss = col_i64(st, 6);
		k->shmem_rss = col_i64(st, 7);
		k->pgtables = col_i64(st, 8);
		k->oom_score_adj = col_i64(st, 9);
		k->rss = k->anon_rss == MW_UNKNOWN
		                 ? MW_UNKNOWN
		                 : k->anon_rss + (k->file_rss == MW_UNKNOWN ? 0 : k->file_rss) +
		                           (k->shmem_rss == MW_UNKNOWN ? 0 : k->shmem_rss);
		k->swap = MW_UNKNOWN;
		h->have_events = true;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static bool near_event(const struct mw_oom_history *h, int64_t from_ms, int64_t to_ms)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].from_event && h->v[i].t_ms >= from_ms && h->v[i].t_ms <= to_ms)
			return true;
	return false;
}

/* Kills the kernel log still holds ("Killed process PID (comm) total-vm:..."). */
struct kmsg_kill {
	pid_t pid;
	char comm[MW_COMM_MAX];
	long long total_vm, anon, file, shmem, pgtables, adj; /* kB, adj as is */
};

struct kmsg_log {
	size_t n;
	struct kmsg_kill v[64]; /* the most recent ones */
};

static void kmsg_parse(const char *msg, struct kmsg_log *kl)
{
	const char *k = strstr(msg, "Killed process ");
	struct kmsg_kill x = {0};

	if (!k || sscanf(k,
	                 "Killed process %d (%63[^)]) total-vm:%lldkB, anon-rss:%lldkB, "
	                 "file-rss:%lldkB, shmem-rss:%lldkB, UID:%*u pgtables:%lldkB "
	                 "oom_score_adj:%lld",
	                 &x.pid, x.comm, &x.total_vm, &x.anon, &x.file, &x.shmem, &x.pgtables,
	                 &x.adj) != 8)
		return;
	if (kl->n == MW_ARRAY_SIZE(kl->v)) {
		memmove(kl->v, kl->v + 1, sizeof(kl->v) - sizeof(kl->v[0]));
		kl->n--;
	}
	kl->v[kl->n++] = x;
}

/*
 * Read /dev/kmsg from its start without blocking (root only; an empty
 * list otherwise): the counter says how many were killed, the log says who.
 */
static void kmsg_read(struct kmsg_log *kl)
{
	_cleanup_close_ int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char rec[8192];

	kl->n = 0;
	if (fd < 0)
		return;
	for (;;) {
		ssize_t k = read(fd, rec, sizeof(rec) - 1);
		if (k < 0 && errno == EPIPE)
			continue; /* a record was overwritten while we read: go on */
		if (k <= 0)
			return;
		rec[k] = '\0';
		const char *msg = strchr(rec, ';');
		if (msg)
			kmsg_parse(msg + 1, kl);
	}
}

static const struct kmsg_kill *kmsg_find(const struct kmsg_log *kl, pid_t pid, const char *comm)
{
	for (size_t i = kl->n; i-- > 0;)
		if (kl->v[i].pid == pid && strncmp(kl->v[i].comm, comm, 15) == 0)
			return &kl->v[i];
	return NULL;
}

/*
 * Of the processes whose exit was recorded at the tick the counter rose
 * (or the next), the ones the kernel log names; then the largest last RSS.
 */
static int pick_victims(sqlite3_stmt *vq, int64_t t_ms, int64_t nkills, const struct kmsg_log *kl,
                        struct mw_oom_history *h, size_t *cap)
{
	struct cand {
		int64_t proc_id;
		pid_t pid;
		char comm[MW_COMM_MAX];
		char cgroup[256];
		const struct kmsg_kill *log;
	} c[64];
	size_t n = 0;
	int64_t taken = 0;

	while (n < MW_ARRAY_SIZE(c) && sqlite3_step(vq) == SQLITE_ROW) {
		c[n].proc_id = sqlite3_column_int64(vq, 0);
		c[n].pid = (pid_t)sqlite3_column_int(vq, 1);
		col_text(vq, 2, c[n].comm, sizeof(c[n].comm));
		col_text(vq, 3, c[n].cgroup, sizeof(c[n].cgroup));
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
                           size_t *cap, const struct kmsg_log *kl)
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
	if (rc != SQLITE_OK)
		return -EIO;
	rc = sqlite3_prepare_v2(
	        db,
	        "SELECT p.id, p.pid, c.value, g.value, (SELECT t_ms FROM ticks WHERE id = "
	        "p.exit_tick)"
	        " FROM procs p LEFT JOIN strings c ON c.id = p.comm LEFT JOIN strings g ON"
	        " g.id = p.cgroup WHERE p.exit_tick BETWEEN ?1 AND ?1 + 1 ORDER BY (SELECT s.rss"
	        " FROM proc_samples s WHERE s.proc = p.id AND s.rss IS NOT NULL ORDER BY s.tick"
	        " DESC LIMIT 1) DESC LIMIT 64",
	        -1, &vq, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		int64_t tick = sqlite3_column_int64(st, 0), t_ms = sqlite3_column_int64(st, 1);
		int64_t cnt = col_i64(st, 2);

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
	sqlite3_finalize(st);
	sqlite3_finalize(vq);
	return r;
}

/* The binding memory-cgroup limit of a process's cgroup text; -ENOENT when none. */
static int memcg_read(const char *text, int64_t *limit, int64_t *usage)
{
	struct mw_cgroup_limit cl;

	*limit = *usage = MW_UNKNOWN;
	if (mw_cgroup_memory_limit("", text, &cl) < 0 || cl.limit == MW_UNKNOWN)
		return -ENOENT;
	*limit = cl.limit;
	*usage = cl.usage;
	return 0;
}

static int cmp_kill(const void *a, const void *b)
{
	const struct mw_oom_kill *x = a, *y = b;

	return (x->t_ms > y->t_ms) - (x->t_ms < y->t_ms);
}

int mw_oom_history_from_store(struct mw_store *s, int64_t since_ms, int64_t until_ms,
                              struct mw_oom_history *h)
{
	sqlite3 *db = mw_store_db(s);
	size_t cap = 0;
	int r;

	memset(h, 0, sizeof(*h));
	struct kmsg_log *kl = calloc(1, sizeof(*kl));

	if (!kl)
		return -ENOMEM;
	kmsg_read(kl);
	r = history_events(db, since_ms, until_ms, h, &cap);
	if (r == 0)
		r = history_counter(db, since_ms, until_ms, h, &cap, kl);
	free(kl);
	if (r < 0) {
		mw_oom_history_release(h);
		return r;
	}
	for (size_t i = 0; i < h->n; i++) {
		struct mw_oom_kill *k = &h->v[i];
		k->cgroup_limit = k->cgroup_usage = MW_UNKNOWN;
		kill_growth(s, k);
		if (k->proc_id && !k->cgroup[0]) {
			sqlite3_stmt *st = NULL;
			if (sqlite3_prepare_v2(
			            db,
			            "SELECT g.value, c.value FROM procs p LEFT JOIN strings g"
			            " ON g.id = p.cgroup LEFT JOIN strings c ON c.id = p.comm"
			            " WHERE p.id = ?",
			            -1, &st, NULL) == SQLITE_OK) {
				sqlite3_bind_int64(st, 1, k->proc_id);
				if (sqlite3_step(st) == SQLITE_ROW) {
					col_text(st, 0, k->cgroup, sizeof(k->cgroup));
					if (!k->comm[0])
						col_text(st, 1, k->comm, sizeof(k->comm));
				}
			}
			sqlite3_finalize(st);
		}
	}
	for (size_t i = 0; i < h->n; i++)
		memcg_read(h->v[i].cgroup, &h->v[i].cgroup_limit, &h->v[i].cgroup_usage);
	mw_qsort(h->v, h->n, sizeof(*h->v), cmp_kill);
	return 0;
}

bool mw_oom_critical_comm(const char *comm)
{
	static const char *const names[] = {
	        "sshd",           "sshd-session", "systemd",     "systemd-journal",
	        "systemd-logind", "init",         "dbus-daemon", "memwatchd",
	        "containerd",     "dockerd",      "kubelet",     "auditd"};

	for (size_t i = 0; i < MW_ARRAY_SIZE(names); i++)
		if (strcmp(comm, names[i]) == 0)
			return true;
	return false;
}

void mw_oom_forecast_release(struct mw_oom_forecast *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static int cmp_cand(const void *a, const void *b)
{
	const struct mw_oom_candidate *x = a, *y = b;

	if (x->points != y->points)
		return x->points > y->points ? -1 : 1;
	/* The kernel keeps the first it finds on a tie; lower pids are older and found first. */
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static double proc_slope(const struct mw_sysview *view, pid_t pid)
{
	if (!view)
		return NAN;
	for (size_t i = 0; i < view->nproc; i++) {
		const struct mw_proc_view *p = &view->procs[i];
		double *t;
		double s;

		if (p->pid != pid || p->n < 2)
			continue;
		t = malloc(p->n * sizeof(*t));
		if (!t)
			return NAN;
		for (size_t k = 0; k < p->n; k++)
			t[k] = (double)(p->t_ms[k] - p->t_ms[0]) / 1000.0;
		s = mw_trend_theil_sen(t, p->rss, p->n);
		free(t);
		return s;
	}
	return NAN;
}

static void avail_trend(const struct mw_sysview *view, struct mw_oom_forecast *f)
{
	double *t, *y;
	struct mw_trend tr;

	f->avail_slope = NAN;
	f->avail_p = 1;
	f->seconds_to_oom = NAN;
	if (!view || view->n < 3)
		return;
	t = malloc(view->n * sizeof(*t));
	y = malloc(view->n * sizeof(*y));
	if (t && y) {
		size_t n = 0;
		for (size_t i = 0; i < view->n; i++) {
			if (view->sys[i].mem[MW_MI_mem_available] == MW_UNKNOWN)
				continue;
			t[n] = (double)(view->t_ms[i] - view->t_ms[0]) / 1000.0;
			y[n++] = (double)view->sys[i].mem[MW_MI_mem_available];
		}
		if (n >= 3 && mw_trend_compute(t, y, n, &tr) == 0) {
			double span = t[n - 1] - t[0];
			double fell = tr.first - tr.last,
			       total = (double)view->sys[view->n - 1].mem[MW_MI_mem_total];
			f->avail_slope = tr.slope;
			f->avail_p = tr.mk_p;
			/*
			 * A forecast needs a real trend: significant, over a minute or more,
			 * the floor falling too, and a fall that is not noise on a busy box.
			 */
			if (tr.slope < 0 && tr.mk_p < 0.05 && f->mem_available > 0 &&
			    span >= MW_OOM_MIN_SPAN_S && !(tr.floor_slope > 0) &&
			    fell >= fmax(MW_OOM_MIN_FALL, total / 100.0))
				f->seconds_to_oom = (double)f->mem_available / -tr.slope;
		}
	}
	free(t);
	free(y);
}

int mw_oom_forecast(const struct mw_proc_set *procs, const struct mw_sys_sample *now,
                    const struct mw_sysview *view, struct mw_oom_forecast *f)
{
	int64_t page = sysconf(_SC_PAGESIZE);

	memset(f, 0, sizeof(*f));
	f->page_size = page;
	f->victim_at_oom = -1;
	f->totalpages = ((now->mem[MW_MI_mem_total] > 0 ? now->mem[MW_MI_mem_total] : 0) +
	                 (now->mem[MW_MI_swap_total] > 0 ? now->mem[MW_MI_swap_total] : 0)) /
	                page;
	if (f->totalpages <= 0)
		return -EINVAL;
	f->mem_available = now->mem[MW_MI_mem_available];
	f->v = calloc(procs->n ? procs->n : 1, sizeof(*f->v));
	if (!f->v)
		return -ENOMEM;
	for (size_t i = 0; i < procs->n; i++) {
		const struct mw_proc_sample *p = &procs->v[i];
		struct mw_oom_candidate *c = &f->v[f->n];
		int64_t adj = p->m[MW_PM_oom_adj] == MW_UNKNOWN ? 0 : p->m[MW_PM_oom_adj];

		if (p->pid != 1 && mw_oom_critical_comm(p->comm) && adj > -1000 &&
		    f->nprotect < MW_ARRAY_SIZE(f->protect)) {
			f->protect[f->nprotect].pid = p->pid;
			f->protect[f->nprotect].adj = adj;
			memcpy(f->protect[f->nprotect].comm, p->comm, sizeof(p->comm));
			f->nprotect++;
		}
		/* The kernel never picks init, nor a task exempted with -1000. */
		if (adj <= -1000 || p->pid == 1) {
			f->exempt++;
			continue;
		}
		c->pid = p->pid;
		memcpy(c->comm, p->comm, sizeof(c->comm));
		c->rss = p->m[MW_PM_rss] == MW_UNKNOWN ? 0 : p->m[MW_PM_rss];
		c->swap = p->m[MW_PM_swap] == MW_UNKNOWN ? 0 : p->m[MW_PM_swap];
		c->pte = p->m[MW_PM_pte] == MW_UNKNOWN ? 0 : p->m[MW_PM_pte];
		c->adj = adj;
		c->kernel_score = p->m[MW_PM_oom_score];
		/* mm/oom_kill.c oom_badness(): pages, then the user's bias in 1/1000 of all pages.
		 */
		c->points = (double)(c->rss / page + c->swap / page + c->pte / page) +
		            (double)(adj * (f->totalpages / 1000));
		/* fs/proc/base.c proc_oom_score(): scaled to 0..2000, then by 2/3 (0..1333). */
		c->score = (1000 + (int64_t)(c->points * 1000.0 / (double)f->totalpages)) * 2 / 3;
		if (c->score < 0)
			c->score = 0;
		c->rss_slope = proc_slope(view, p->pid);
		c->seconds_to_limit = NAN;
		/* A memory cgroup limit is reached long before the machine runs out. */
		if (memcg_read(p->cgroup, &c->cgroup_limit, &c->cgroup_usage) == 0 &&
		    c->cgroup_usage != MW_UNKNOWN && isfinite(c->rss_slope) && c->rss_slope > 0)
			c->seconds_to_limit = (double)(c->cgroup_limit > c->cgroup_usage
			                                       ? c->cgroup_limit - c->cgroup_usage
			                                       : 0) /
			                      c->rss_slope;
		f->n++;
	}
	mw_qsort(f->v, f->n, sizeof(*f->v), cmp_cand);
	avail_trend(view, f);
	if (isfinite(f->seconds_to_oom)) {
		double best = -INFINITY;
		for (size_t i = 0; i < f->n; i++) {
			double grow = isfinite(f->v[i].rss_slope) && f->v[i].rss_slope > 0
			                      ? f->v[i].rss_slope * f->seconds_to_oom / (double)page
			                      : 0;
			if (f->v[i].points + grow > best) {
				best = f->v[i].points + grow;
				f->victim_at_oom = (long)i;
			}
		}
	}
	return 0;
}

/* ---- output ---- */

static void esc(const char *in, char *out, size_t cap, bool utf8)
{
	mw_escape_term(in, strlen(in), out, cap, utf8);
}

void mw_oom_print_text(FILE *out, const struct mw_oom_history *h, const struct mw_oom_forecast *f,
                       const char *source_note, bool utf8)
{
	char a[32], b[32], c[32], d[32], e[160], tm[32];

	fprintf(out, "source: %s\n\n", source_note);
	fprintf(out, "OOM kills");
	if (h->counter_total != MW_UNKNOWN)
		fprintf(out, " (vmstat oom_kill rose by %lld in the window)",
		        (long long)h->counter_total);
	fprintf(out, ":\n");
	if (h->n == 0)
		fprintf(out, "  none recorded\n");
	for (size_t i = 0; i < h->n; i++) {
		const struct mw_oom_kill *k = &h->v[i];
		esc(k->comm, e, sizeof(e), utf8);
		fprintf(out, "  %s  %s[%d]  rss %s  swap %s",
		        mw_fmt_time(tm, sizeof(tm), (uint64_t)k->t_ms * 1000000ull), e, (int)k->pid,
		        mw_fmt_bytes(a, sizeof(a), k->rss), mw_fmt_bytes(b, sizeof(b), k->swap));
		if (k->anon_rss != MW_UNKNOWN)
			fprintf(out,
			        "  (anon %s, file %s, shmem %s, page tables %s, oom_score_adj "
			        "%lld)",
			        mw_fmt_bytes(a, sizeof(a), k->anon_rss),
			        mw_fmt_bytes(b, sizeof(b), k->file_rss),
			        mw_fmt_bytes(c, sizeof(c), k->shmem_rss),
			        mw_fmt_bytes(d, sizeof(d), k->pgtables),
			        (long long)k->oom_score_adj);
		fprintf(out, "\n    %s\n",
		        k->from_event      ? "seen by the oom:mark_victim tracepoint"
		        : k->in_kernel_log ? "the vmstat oom_kill counter rose as it disappeared;"
		                             " the kernel log names it (no eBPF event)"
		                           : "inferred: it disappeared at the tick the vmstat"
		                             " oom_kill counter rose (no eBPF event)");
		if (k->rss_before != MW_UNKNOWN && k->rss_last != MW_UNKNOWN)
			fprintf(out, "    before the kill: rss %s -> %s over %s (%s/s)\n",
			        mw_fmt_bytes(a, sizeof(a), k->rss_before),
			        mw_fmt_bytes(b, sizeof(b), k->rss_last),
			        mw_fmt_duration(c, sizeof(c),
			                        (uint64_t)(k->last_sample_ms - k->pt_ms[0]) *
			                                1000000ull),
			        isfinite(k->rss_slope)
			                ? mw_fmt_bytes_delta(d, sizeof(d), k->rss_slope)
			                : "?");
		else
			fprintf(out, "    before the kill: no samples of it were recorded\n");
		if (k->cgroup[0]) {
			esc(k->cgroup, e, sizeof(e), utf8);
			fprintf(out, "    cgroup %s", e);
			if (k->cgroup_limit != MW_UNKNOWN)
				fprintf(out, " (memory limit %s)",
				        mw_fmt_bytes(a, sizeof(a), k->cgroup_limit));
			fprintf(out, "\n");
		}
	}
	fprintf(out, "\nForecast (kernel badness: rss + swap + page tables + oom_score_adj *"
	             " totalpages / 1000):\n");
	fprintf(out, "  %8s  %-16s %10s %10s %9s %6s %6s %6s %12s\n", "PID", "COMMAND", "RSS",
	        "SWAP", "PTE", "ADJ", "SCORE", "KERNEL", "GROWTH/h");
	for (size_t i = 0; i < f->n && i < 10; i++) {
		const struct mw_oom_candidate *k = &f->v[i];
		esc(k->comm, e, sizeof(e), utf8);
		fprintf(out, "  %8d  %-16.16s %10s %10s %9s %6lld %6lld %6lld %12s\n", (int)k->pid,
		        e, mw_fmt_bytes(a, sizeof(a), k->rss), mw_fmt_bytes(b, sizeof(b), k->swap),
		        mw_fmt_bytes(c, sizeof(c), k->pte), (long long)k->adj, (long long)k->score,
		        (long long)k->kernel_score,
		        isfinite(k->rss_slope)
		                ? mw_fmt_bytes_delta(d, sizeof(d), k->rss_slope * 3600)
		                : "-");
	}
	if (f->n) {
		esc(f->v[0].comm, e, sizeof(e), utf8);
		fprintf(out, "  next victim if memory ran out now: %s[%d]\n", e, (int)f->v[0].pid);
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct mw_oom_candidate *k = &f->v[i];
		if (!isfinite(k->seconds_to_limit))
			continue;
		esc(k->comm, e, sizeof(e), utf8);
		fprintf(out,
		        "  %s[%d] is in a memory cgroup limited to %s (%s used): at %s/s it is"
		        " killed by the cgroup's OOM in %s\n",
		        e, (int)k->pid, mw_fmt_bytes(a, sizeof(a), k->cgroup_limit),
		        mw_fmt_bytes(b, sizeof(b), k->cgroup_usage),
		        mw_fmt_bytes(c, sizeof(c), (int64_t)k->rss_slope),
		        mw_fmt_duration(d, sizeof(d), (uint64_t)(k->seconds_to_limit * 1e9)));
	}
	fprintf(out, "  MemAvailable %s", mw_fmt_bytes(a, sizeof(a), f->mem_available));
	if (isfinite(f->seconds_to_oom)) {
		fprintf(out, ", falling %s/s: reaches 0 in %s",
		        mw_fmt_bytes(b, sizeof(b), (int64_t)-f->avail_slope),
		        mw_fmt_duration(c, sizeof(c), (uint64_t)(f->seconds_to_oom * 1e9)));
		if (f->victim_at_oom >= 0) {
			esc(f->v[f->victim_at_oom].comm, e, sizeof(e), utf8);
			fprintf(out, "; then the victim would be %s[%d]", e,
			        (int)f->v[f->victim_at_oom].pid);
		}
		fprintf(out, "\n");
	} else {
		fprintf(out, ", not falling steadily: no exhaustion forecast\n");
	}
	if (f->exempt)
		fprintf(out, "  %zu process(es) exempt (oom_score_adj -1000)\n", f->exempt);
	for (size_t i = 0; i < f->nprotect; i++) {
		esc(f->protect[i].comm, e, sizeof(e), utf8);
		fprintf(out,
		        "  protect: %s[%d] has oom_score_adj %lld; a critical service should"
		        " have -1000 (OOMScoreAdjust=-1000 in its unit, or echo -1000 >"
		        " /proc/%d/oom_score_adj)\n",
		        e, (int)f->protect[i].pid, (long long)f->protect[i].adj,
		        (int)f->protect[i].pid);
	}
}

void mw_oom_print_json(FILE *out, const struct mw_oom_history *h, const struct mw_oom_forecast *f,
                       const char *source_kind, const char *source_note)
{
	struct mw_json j;

	mw_json_init(&j, out, true);
	mw_json_obj_open(&j, NULL);
	mw_json_obj_open(&j, "source");
	mw_json_str(&j, "kind", source_kind);
	mw_json_str(&j, "note", source_note);
	mw_json_obj_close(&j);
	mw_json_int(&j, "oom_kill_counter_rise", h->counter_total);
	mw_json_arr_open(&j, "kills");
	for (size_t i = 0; i < h->n; i++) {
		const struct mw_oom_kill *k = &h->v[i];
		mw_json_obj_open(&j, NULL);
		mw_json_int(&j, "t_ms", k->t_ms);
		mw_json_int(&j, "pid", k->pid);
		mw_json_str(&j, "comm", k->comm);
		mw_json_str(&j, "seen_by",
		            k->from_event      ? "event"
		            : k->in_kernel_log ? "oom_kill counter + kernel log"
		                               : "oom_kill counter");
		mw_json_str(&j, "cgroup", k->cgroup);
		mw_json_int(&j, "rss", k->rss);
		mw_json_int(&j, "swap", k->swap);
		mw_json_int(&j, "total_vm", k->total_vm);
		mw_json_int(&j, "anon_rss", k->anon_rss);
		mw_json_int(&j, "file_rss", k->file_rss);
		mw_json_int(&j, "shmem_rss", k->shmem_rss);
		mw_json_int(&j, "pgtables", k->pgtables);
		mw_json_int(&j, "oom_score_adj", k->oom_score_adj);
		mw_json_int(&j, "cgroup_limit", k->cgroup_limit);
		mw_json_obj_open(&j, "before");
		mw_json_int(&j, "from_ms", k->npoints ? k->pt_ms[0] : MW_UNKNOWN);
		mw_json_int(&j, "last_sample_ms", k->npoints ? k->last_sample_ms : MW_UNKNOWN);
		mw_json_int(&j, "rss_start", k->rss_before);
		mw_json_int(&j, "rss_last", k->rss_last);
		mw_json_num(&j, "rss_bytes_per_s", k->rss_slope);
		mw_json_arr_open(&j, "points");
		for (size_t p = 0; p < k->npoints; p++) {
			mw_json_arr_open(&j, NULL);
			mw_json_int(&j, NULL, k->pt_ms[p]);
			mw_json_int(&j, NULL, k->pt_rss[p]);
			mw_json_arr_close(&j);
		}
		mw_json_arr_close(&j);
		mw_json_obj_close(&j);
		mw_json_obj_close(&j);
	}
	mw_json_arr_close(&j);
	mw_json_obj_open(&j, "forecast");
	mw_json_int(&j, "totalpages", f->totalpages);
	mw_json_int(&j, "mem_available", f->mem_available);
	mw_json_num(&j, "mem_available_bytes_per_s", f->avail_slope);
	mw_json_num(&j, "seconds_to_oom", f->seconds_to_oom);
	mw_json_int(&j, "exempt", (int64_t)f->exempt);
	if (f->n)
		mw_json_int(&j, "next_victim_pid", f->v[0].pid);
	else
		mw_json_null(&j, "next_victim_pid");
	if (f->victim_at_oom >= 0)
		mw_json_int(&j, "victim_at_oom_pid", f->v[f->victim_at_oom].pid);
	else
		mw_json_null(&j, "victim_at_oom_pid");
	mw_json_arr_open(&j, "ranking");
	for (size_t i = 0; i < f->n && i < 50; i++) {
		const struct mw_oom_candidate *k = &f->v[i];
		mw_json_obj_open(&j, NULL);
		mw_json_int(&j, "pid", k->pid);
		mw_json_str(&j, "comm", k->comm);
		mw_json_int(&j, "rss", k->rss);
		mw_json_int(&j, "swap", k->swap);
		mw_json_int(&j, "pte", k->pte);
		mw_json_int(&j, "oom_score_adj", k->adj);
		mw_json_num(&j, "points", k->points);
		mw_json_int(&j, "score", k->score);
		mw_json_int(&j, "kernel_oom_score", k->kernel_score);
		mw_json_num(&j, "rss_bytes_per_s", k->rss_slope);
		mw_json_int(&j, "cgroup_limit", k->cgroup_limit);
		mw_json_int(&j, "cgroup_usage", k->cgroup_usage);
		mw_json_num(&j, "seconds_to_cgroup_limit", k->seconds_to_limit);
		mw_json_obj_close(&j);
	}
	mw_json_arr_close(&j);
	mw_json_arr_open(&j, "protect");
	for (size_t i = 0; i < f->nprotect; i++) {
		mw_json_obj_open(&j, NULL);
		mw_json_int(&j, "pid", f->protect[i].pid);
		mw_json_str(&j, "comm", f->protect[i].comm);
		mw_json_int(&j, "oom_score_adj", f->protect[i].adj);
		mw_json_int(&j, "suggested", -1000);
		mw_json_obj_close(&j);
	}
	mw_json_arr_close(&j);
	mw_json_obj_close(&j);
	mw_json_obj_close(&j);
	mw_json_end(&j);
}
