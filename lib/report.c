/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/report.h"
#include "memwatch/retention.h"
#include "memwatch/format.h"
#include "memwatch/json.h"
#include "memwatch/util.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#define FAULT_RATE_WINDOW_MS 60000

int64_t mw_series_at(const struct mw_series *sr, int metric, int64_t t_ms)
{
	int64_t v = MW_UNKNOWN;

	/* Series are short enough (one process, one window) for a linear scan. */
	for (size_t i = 0; i < sr->n && sr->t_ms[i] <= t_ms; i++)
		v = sr->m[i][metric];
	return v;
}

static double rate_per_s(const struct mw_series *sr, int metric, int64_t end_ms)
{
	int64_t start_ms = end_ms - FAULT_RATE_WINDOW_MS;
	int64_t a, b;

	if (sr->n == 0)
		return NAN;
	if (start_ms < sr->t_ms[0])
		start_ms = sr->t_ms[0];
	if (end_ms <= start_ms)
		return NAN;
	a = mw_series_at(sr, metric, start_ms);
	b = mw_series_at(sr, metric, end_ms);
	if (a == MW_UNKNOWN || b == MW_UNKNOWN || b < a)
		return NAN;
	return (double)(b - a) * 1000.0 / (double)(end_ms - start_ms);
}

/* Window figures shared by both sources, once rep->series is filled. */
static void summarize(struct mw_report *rep)
{
	const struct mw_series *sr = &rep->series;
	double hours;

	if (sr->n == 0)
		return;
	rep->from_ms = sr->t_ms[0];
	rep->to_ms = sr->t_ms[sr->n - 1];
	hours = (double)(rep->to_ms - rep->from_ms) / 3600000.0;
	for (int i = 0; i < MW_PM_COUNT; i++) {
		int64_t a = sr->m[0][i], b = sr->m[sr->n - 1][i];

		rep->now[i] = b;
		rep->delta[i] = a == MW_UNKNOWN || b == MW_UNKNOWN ? MW_UNKNOWN : b - a;
		rep->per_hour[i] = rep->delta[i] == MW_UNKNOWN || hours <= 0
					   ? NAN
					   : (double)rep->delta[i] / hours;
	}
	rep->minflt_per_s = rate_per_s(sr, MW_PM_minflt, rep->to_ms);
	rep->majflt_per_s = rate_per_s(sr, MW_PM_majflt, rep->to_ms);
}

int mw_report_from_store(struct mw_store *s, const struct mw_proc_info *proc, int64_t since_ms,
			 int64_t until_ms, struct mw_report *rep)
{
	int r;

	memset(rep, 0, sizeof(*rep));
	rep->source = MW_REPORT_FROM_STORE;
	rep->proc = *proc;
	rep->proc.cmdline = strdup(proc->cmdline ? proc->cmdline : "");
	rep->proc.cgroup = strdup(proc->cgroup ? proc->cgroup : "");
	if (!rep->proc.cmdline || !rep->proc.cgroup)
		return -ENOMEM;
	rep->alive = !proc->exited;
	/* Raw rows inside the raw window, rollups before it (retention.h). */
	r = mw_store_proc_series_long(s, proc->id, since_ms, until_ms, &rep->series);
	if (r < 0)
		return r;
	if (rep->series.n == 0)
		return -ENODATA;
	summarize(rep);
	return 0;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int mw_report_from_live(struct mw_proc_collector *c, pid_t pid, uint64_t duration_ns,
			uint64_t interval_ns, struct mw_report *rep)
{
	struct mw_proc_sample smp;
	size_t cap = 0;
	uint64_t start = mw_mono_ns();
	uint64_t btime = 0;
	int r;

	memset(rep, 0, sizeof(*rep));
	rep->source = MW_REPORT_FROM_LIVE;
	rep->alive = true;
	mw_boot_time("", &btime);
	for (int k = 0;; k++) {
		r = mw_proc_collect_one(c, pid, &smp);
		if (r < 0) {
			if (k == 0)
				return r;
			rep->alive = false; /* exited while we watched: report what we saw */
			break;
		}
		if (k == 0) {
			rep->proc.pid = smp.pid;
			rep->proc.ppid = smp.ppid;
			rep->proc.uid = smp.uid;
			rep->proc.start_ticks = smp.start_ticks;
			rep->proc.start_ms =
				btime ? (int64_t)(btime * 1000 + smp.start_ticks * 1000 /
								 (uint64_t)mw_clock_ticks_per_sec())
				      : MW_UNKNOWN;
			memcpy(rep->proc.comm, smp.comm, sizeof(smp.comm));
			rep->proc.cmdline = smp.cmdline;
			rep->proc.cgroup = smp.cgroup;
			smp.cmdline = smp.cgroup = NULL;
		} else if (smp.start_ticks != rep->proc.start_ticks) {
			mw_proc_sample_release(&smp);
			rep->alive = false; /* the pid was reused: not our process any more */
			break;
		}
		{
			int64_t now_ms = (int64_t)(mw_now_ns() / 1000000ull);
			struct mw_series *sr = &rep->series;
			if (sr->n == cap) {
				size_t nc = cap ? cap * 2 : 32;
				int64_t *t = realloc(sr->t_ms, nc * sizeof(*t));
				int64_t(*m)[MW_PM_COUNT] = t ? realloc(sr->m, nc * sizeof(*m)) : NULL;
				if (t)
					sr->t_ms = t;
				if (!m) {
					mw_proc_sample_release(&smp);
					return -ENOMEM;
				}
				sr->m = m;
				cap = nc;
			}
			sr->t_ms[sr->n] = now_ms;
			memcpy(sr->m[sr->n], smp.m, sizeof(smp.m));
			sr->n++;
		}
		mw_proc_sample_release(&smp);
		if (mw_mono_ns() - start + interval_ns / 2 > duration_ns)
			break;
		sleep_ns(interval_ns);
	}
	summarize(rep);
	snprintf(rep->note, sizeof(rep->note),
		 "no recorded history: memwatchd was not recording this process; these figures"
		 " come from %zu samples taken over %.1f s by this command",
		 rep->series.n, (double)(rep->to_ms - rep->from_ms) / 1000.0);
	return 0;
}

void mw_report_release(struct mw_report *rep)
{
	mw_proc_info_release(&rep->proc);
	mw_series_release(&rep->series);
}

/* Rows of the text table: label, metric, and whether it is a size. */
static const struct {
	const char *label;
	int metric;
} text_rows[] = {
	{ "RSS", MW_PM_rss },	      { "  anon", MW_PM_rss_anon },
	{ "  file", MW_PM_rss_file }, { "  shmem", MW_PM_rss_shmem },
	{ "swap", MW_PM_swap },	      { "main stack", MW_PM_stack },
	{ "data+stack", MW_PM_data }, { "page tables", MW_PM_pte },
	{ "VSZ", MW_PM_vsz },	      { "threads", MW_PM_threads },
	{ "fds", MW_PM_fds },
};

static void print_row(FILE *f, const struct mw_report *rep, const char *label, int m)
{
	char a[32], b[32], c[32];
	bool bytes = mw_proc_metric_kinds[m] == 'b';

	if (bytes) {
		mw_fmt_bytes(a, sizeof(a), rep->now[m]);
		if (rep->delta[m] == MW_UNKNOWN)
			snprintf(b, sizeof(b), "-");
		else
			mw_fmt_bytes_delta(b, sizeof(b), (double)rep->delta[m]);
		mw_fmt_bytes_delta(c, sizeof(c), rep->per_hour[m]);
		if (isfinite(rep->per_hour[m]))
			strncat(c, "/h", sizeof(c) - strlen(c) - 1);
	} else {
		if (rep->now[m] == MW_UNKNOWN)
			snprintf(a, sizeof(a), "unreadable");
		else
			snprintf(a, sizeof(a), "%lld", (long long)rep->now[m]);
		if (rep->delta[m] == MW_UNKNOWN)
			snprintf(b, sizeof(b), "-");
		else
			snprintf(b, sizeof(b), "%+lld", (long long)rep->delta[m]);
		if (isfinite(rep->per_hour[m]))
			snprintf(c, sizeof(c), "%+.1f/h", rep->per_hour[m]);
		else
			snprintf(c, sizeof(c), "-");
	}
	fprintf(f, "  %-14s %12s %14s %16s\n", label, a, b, c);
}

void mw_report_print_text(FILE *f, const struct mw_report *rep, bool utf8)
{
	char comm[MW_COMM_MAX * 4 + 1], cmd[1024], cg[512], t1[32], t2[32], d[32];

	mw_escape_term(rep->proc.comm, strlen(rep->proc.comm), comm, sizeof(comm), utf8);
	mw_escape_term(rep->proc.cmdline ? rep->proc.cmdline : "",
		       rep->proc.cmdline ? strlen(rep->proc.cmdline) : 0, cmd, sizeof(cmd), utf8);
	mw_escape_term(rep->proc.cgroup ? rep->proc.cgroup : "",
		       rep->proc.cgroup ? strlen(rep->proc.cgroup) : 0, cg, sizeof(cg), utf8);
	fprintf(f, "Process %d (%s)%s\n", (int)rep->proc.pid, comm,
		rep->alive ? "" : "  [exited]");
	if (rep->proc.start_ms != MW_UNKNOWN)
		fprintf(f, "  started  %s\n",
			mw_fmt_time(t1, sizeof(t1), (uint64_t)rep->proc.start_ms * 1000000ull));
	fprintf(f, "  cmdline  %s\n", cmd[0] ? cmd : "(none)");
	fprintf(f, "  ppid %d, uid %u\n", (int)rep->proc.ppid, rep->proc.uid);
	if (cg[0])
		fprintf(f, "  cgroup   %s\n", cg);
	if (rep->source == MW_REPORT_FROM_STORE)
		fprintf(f, "  history  %s\n", rep->db_path);
	fprintf(f, "  window   %s .. %s (%s, %zu points)\n",
		mw_fmt_time(t1, sizeof(t1), (uint64_t)rep->from_ms * 1000000ull),
		mw_fmt_time(t2, sizeof(t2), (uint64_t)rep->to_ms * 1000000ull),
		mw_fmt_duration(d, sizeof(d), (uint64_t)(rep->to_ms - rep->from_ms) * 1000000ull),
		rep->series.n);
	if (rep->note[0])
		fprintf(f, "  note     %s\n", rep->note);
	fprintf(f, "\n  %-14s %12s %14s %16s\n", "", "now", "change", "rate");
	for (size_t i = 0; i < MW_ARRAY_SIZE(text_rows); i++)
		print_row(f, rep, text_rows[i].label, text_rows[i].metric);
	fprintf(f, "  %-14s %12.1f\n", "minor faults/s", rep->minflt_per_s);
	fprintf(f, "  %-14s %12.1f\n", "major faults/s", rep->majflt_per_s);
	if (rep->now[MW_PM_oom_score] != MW_UNKNOWN)
		fprintf(f, "  %-14s %12lld  (oom_score_adj %lld)\n", "oom_score",
			(long long)rep->now[MW_PM_oom_score], (long long)rep->now[MW_PM_oom_adj]);
}

void mw_report_print_json(FILE *f, const struct mw_report *rep)
{
	struct mw_json j;

	mw_json_init(&j, f, true);
	mw_json_obj_open(&j, NULL);
	mw_json_int(&j, "schema", 1);
	mw_json_obj_open(&j, "process");
	mw_json_int(&j, "pid", rep->proc.pid);
	mw_json_int(&j, "ppid", rep->proc.ppid);
	mw_json_int(&j, "uid", rep->proc.uid);
	mw_json_int(&j, "start_ticks", (int64_t)rep->proc.start_ticks);
	mw_json_int(&j, "start_time_ms", rep->proc.start_ms);
	mw_json_str(&j, "comm", rep->proc.comm);
	mw_json_str(&j, "cmdline", rep->proc.cmdline);
	mw_json_str(&j, "cgroup", rep->proc.cgroup);
	mw_json_bool(&j, "alive", rep->alive);
	mw_json_obj_close(&j);
	mw_json_obj_open(&j, "source");
	mw_json_str(&j, "kind", rep->source == MW_REPORT_FROM_STORE ? "store" : "live");
	if (rep->source == MW_REPORT_FROM_STORE)
		mw_json_str(&j, "db", rep->db_path);
	mw_json_str(&j, "note", rep->note[0] ? rep->note : NULL);
	mw_json_obj_close(&j);
	mw_json_obj_open(&j, "window");
	mw_json_int(&j, "from_ms", rep->from_ms);
	mw_json_int(&j, "to_ms", rep->to_ms);
	mw_json_num(&j, "seconds", (double)(rep->to_ms - rep->from_ms) / 1000.0);
	mw_json_int(&j, "points", (int64_t)rep->series.n);
	mw_json_obj_close(&j);
	mw_json_obj_open(&j, "metrics");
	for (int i = 0; i < MW_PM_COUNT; i++) {
		mw_json_obj_open(&j, mw_proc_metric_names[i]);
		mw_json_str(&j, "unit",
			    mw_proc_metric_kinds[i] == 'b'   ? "bytes"
			    : mw_proc_metric_kinds[i] == 'c' ? "count (cumulative)"
							     : "count");
		mw_json_int(&j, "now", rep->now[i]);
		mw_json_int(&j, "start", rep->series.n ? rep->series.m[0][i] : MW_UNKNOWN);
		mw_json_int(&j, "delta", rep->delta[i]);
		mw_json_num(&j, "per_hour", rep->per_hour[i]);
		mw_json_obj_close(&j);
	}
	mw_json_obj_close(&j);
	mw_json_obj_open(&j, "rates");
	mw_json_num(&j, "minflt_per_s", rep->minflt_per_s);
	mw_json_num(&j, "majflt_per_s", rep->majflt_per_s);
	mw_json_obj_close(&j);
	mw_json_obj_close(&j);
	mw_json_end(&j);
}
