/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/view/report.h"
#include "memwatch/store/bpfdata.h"
#include "memwatch/base/format.h"
#include "memwatch/base/json.h"
#include "memwatch/base/util.h"

#include <math.h>
#include <string.h>

static void print_analysis(FILE *f, const struct mw_analysis *a, bool utf8);
static void json_analysis(struct mw_json *j, const struct mw_analysis *a);

/* Rows of the text table: label, metric, and whether it is a size. */
static const struct {
	const char *label;
	int metric;
} text_rows[] = {
        {"RSS", MW_PM_rss},           {"  anon", MW_PM_rss_anon}, {"  file", MW_PM_rss_file},
        {"  shmem", MW_PM_rss_shmem}, {"swap", MW_PM_swap},       {"main stack", MW_PM_stack},
        {"data+stack", MW_PM_data},   {"page tables", MW_PM_pte}, {"VSZ", MW_PM_vsz},
        {"threads", MW_PM_threads},   {"fds", MW_PM_fds},
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

/* The smaps figures the report shows as rows: PSS, USS and the swap share. */
static const struct {
	const char *label;
	int field;
} pss_rows[] = {
        {"PSS", MW_PSS_pss},
        {"USS", MW_PSS_uss},
        {"swap PSS", MW_PSS_swap_pss},
};

static void print_pss(FILE *f, const struct mw_report_pss *p)
{
	char a[32], b[32], c[32], t[32];

	if (!p->valid) {
		fprintf(f, "  %-14s %12s  (no smaps reading of this process)\n", "PSS / USS", "-");
		return;
	}
	for (size_t i = 0; i < MW_ARRAY_SIZE(pss_rows); i++) {
		int k = pss_rows[i].field;
		bool d = p->first[k] != MW_UNKNOWN && p->now[k] != MW_UNKNOWN;

		if (p->now[k] == MW_UNKNOWN)
			snprintf(a, sizeof(a), "-");
		else
			mw_fmt_bytes(a, sizeof(a), p->now[k]);
		if (d)
			mw_fmt_bytes_delta(b, sizeof(b), (double)(p->now[k] - p->first[k]));
		else
			snprintf(b, sizeof(b), "-");
		fprintf(f, "  %-14s %12s %14s\n", pss_rows[i].label, a, b);
	}
	fprintf(f, "  %-14s anon %s, file %s, shmem %s (smaps at %s)\n", "  PSS split",
	        p->now[MW_PSS_pss_anon] == MW_UNKNOWN
	                ? "-"
	                : mw_fmt_bytes(a, sizeof(a), p->now[MW_PSS_pss_anon]),
	        p->now[MW_PSS_pss_file] == MW_UNKNOWN
	                ? "-"
	                : mw_fmt_bytes(b, sizeof(b), p->now[MW_PSS_pss_file]),
	        p->now[MW_PSS_pss_shmem] == MW_UNKNOWN
	                ? "-"
	                : mw_fmt_bytes(c, sizeof(c), p->now[MW_PSS_pss_shmem]),
	        mw_fmt_time(t, sizeof(t), (uint64_t)p->t_ms * 1000000ull));
}

static void json_pss(struct mw_json *j, const struct mw_report_pss *p)
{
	if (!p->valid) {
		mw_json_null(j, "pss");
		return;
	}
	mw_json_obj_open(j, "pss");
	mw_json_int(j, "t_ms", p->t_ms);
	mw_json_int(j, "first_ms", p->first_ms);
	for (int k = 0; k < MW_PSS_COUNT; k++)
		mw_json_int(j, mw_pss_names[k], p->now[k]);
	mw_json_obj_open(j, "first");
	for (int k = 0; k < MW_PSS_COUNT; k++)
		mw_json_int(j, mw_pss_names[k], p->first[k]);
	mw_json_obj_close(j);
	mw_json_obj_close(j);
}

void mw_report_print_text(FILE *f, const struct mw_report *rep, bool utf8)
{
	char comm[MW_COMM_MAX * 4 + 1], cmd[1024], cg[512], t1[32], t2[32], d[32];

	mw_escape_term(rep->proc.comm, strlen(rep->proc.comm), comm, sizeof(comm), utf8);
	mw_escape_term(rep->proc.cmdline ? rep->proc.cmdline : "",
	               rep->proc.cmdline ? strlen(rep->proc.cmdline) : 0, cmd, sizeof(cmd), utf8);
	mw_escape_term(rep->proc.cgroup ? rep->proc.cgroup : "",
	               rep->proc.cgroup ? strlen(rep->proc.cgroup) : 0, cg, sizeof(cg), utf8);
	fprintf(f, "Process %d (%s)%s\n", (int)rep->proc.pid, comm, rep->alive ? "" : "  [exited]");
	mw_report_host_text(f, rep->host, utf8);
	if (rep->proc.start_ms != MW_UNKNOWN)
		fprintf(f, "  started  %s\n",
		        mw_fmt_time(t1, sizeof(t1), (uint64_t)rep->proc.start_ms * 1000000ull));
	fprintf(f, "  cmdline  %s\n", cmd[0] ? cmd : "(none)");
	fprintf(f, "  ppid %d, uid %u\n", (int)rep->proc.ppid, rep->proc.uid);
	if (cg[0])
		fprintf(f, "  cgroup   %s\n", cg);
	if (rep->runtime.note[0]) {
		fprintf(f, "  runtime  %s\n", rep->runtime.note);
		if (rep->runtime_step[0])
			fprintf(f, "           ask it: %s\n", rep->runtime_step);
	}
	if (rep->source == MW_REPORT_FROM_STORE)
		fprintf(f, "  history  %s%s%s%s\n", rep->db_path, rep->db_from[0] ? " (from " : "",
		        rep->db_from, rep->db_from[0] ? ")" : "");
	fprintf(f, "  window   %s .. %s (%s, %zu points)\n",
	        mw_fmt_time(t1, sizeof(t1), (uint64_t)rep->from_ms * 1000000ull),
	        mw_fmt_time(t2, sizeof(t2), (uint64_t)rep->to_ms * 1000000ull),
	        mw_fmt_duration(d, sizeof(d), (uint64_t)(rep->to_ms - rep->from_ms) * 1000000ull),
	        rep->series.n);
	if (rep->note[0])
		fprintf(f, "  note     %s\n", rep->note);
	{
		char bpf[300], esc[600];
		mw_report_bpf_line(rep->an, bpf, sizeof(bpf));
		mw_escape_term(bpf, strlen(bpf), esc, sizeof(esc), utf8);
		fprintf(f, "  eBPF     %s\n", esc);
		if (rep->an)
			mw_report_bpf_missing_text(f, rep->an->bpf_missing, "  missing  ", utf8);
		if (rep->an)
			mw_report_bpf_missing_text(f, rep->an->bpf_gaps, "  gap      ", utf8);
	}
	fprintf(f, "\n  %-14s %12s %14s %16s\n", "", "now", "change", "rate");
	for (size_t i = 0; i < MW_ARRAY_SIZE(text_rows); i++)
		print_row(f, rep, text_rows[i].label, text_rows[i].metric);
	print_pss(f, &rep->pss);
	fprintf(f, "  %-14s %12.1f\n", "minor faults/s", rep->minflt_per_s);
	fprintf(f, "  %-14s %12.1f\n", "major faults/s", rep->majflt_per_s);
	if (rep->now[MW_PM_oom_score] != MW_UNKNOWN)
		fprintf(f, "  %-14s %12lld  (oom_score_adj %lld)\n", "oom_score",
		        (long long)rep->now[MW_PM_oom_score], (long long)rep->now[MW_PM_oom_adj]);
	if (rep->an)
		print_analysis(f, rep->an, utf8);
}

void mw_report_print_json(FILE *f, const struct mw_report *rep)
{
	struct mw_json j;

	mw_json_init(&j, f, true);
	mw_json_obj_open(&j, NULL);
	mw_json_int(&j, "schema", 2);
	mw_json_str(&j, "hostname", rep->host[0] ? rep->host : NULL);
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
	if (rep->runtime.note[0]) {
		mw_json_obj_open(&j, "runtime");
		mw_json_str(&j, "name", mw_runtime_name(rep->runtime.kind));
		if (rep->runtime.heap_max > 0)
			mw_json_int(&j, "heap_max_bytes", rep->runtime.heap_max);
		else
			mw_json_null(&j, "heap_max_bytes");
		mw_json_str(&j, "note", rep->runtime.note);
		mw_json_str(&j, "next_step", rep->runtime_step[0] ? rep->runtime_step : NULL);
		mw_json_obj_close(&j);
	} else {
		mw_json_null(&j, "runtime");
	}
	mw_json_obj_close(&j);
	mw_json_obj_open(&j, "source");
	mw_json_str(&j, "kind", rep->source == MW_REPORT_FROM_STORE ? "store" : "live");
	if (rep->source == MW_REPORT_FROM_STORE)
		mw_json_str(&j, "db", rep->db_path);
	if (rep->source == MW_REPORT_FROM_STORE && rep->db_from[0])
		mw_json_str(&j, "db_from", rep->db_from);
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
	json_pss(&j, &rep->pss);
	if (rep->an)
		json_analysis(&j, rep->an);
	mw_json_obj_close(&j);
	mw_json_end(&j);
}

void mw_report_host_text(FILE *f, const char *host, bool utf8)
{
	char esc[256 * 4 + 1];

	mw_escape_term(host, strlen(host), esc, sizeof(esc), utf8);
	fprintf(f, "  host     %s\n", esc[0] ? esc : "(not recorded)");
}

/* ---- regions, hypotheses, eBPF: shared by text, JSON and HTML ---- */

static const struct {
	const char *region, *label;
	int metric;   /* read when the region tier recorded it */
	int fallback; /* the process-wide figure otherwise; -1 = row only with regions */
} region_rows[] = {
        {"heap", "heap ([heap])", MW_AM_heap, -1},
        {"anon", "anon mmap", MW_AM_anon, MW_AM_rss_anon},
        {"thread_stacks", "thread stacks", MW_AM_thread_stacks, -1},
        {"stack", "main stack", MW_AM_main_stack, MW_AM_vm_stack},
        {"file", "file mappings", MW_AM_file, MW_AM_rss_file},
        {"shm", "shared memory", MW_AM_shm, MW_AM_rss_shmem},
        {"page_tables", "page tables", MW_AM_pte, MW_AM_pte},
        {"swap", "swap", MW_AM_swap, MW_AM_swap},
        {"threads", "threads", MW_AM_threads, MW_AM_threads},
        {"fds", "descriptors", MW_AM_fds, MW_AM_fds},
};

static const struct mw_metric_window *widest(const struct mw_metric_analysis *ma)
{
	const struct mw_metric_window *w = NULL;
	for (int i = 0; i < MW_ANALYSIS_NWINDOWS; i++)
		if (ma->w[i].valid)
			w = &ma->w[i];
	return w;
}

size_t mw_report_regions(const struct mw_analysis *a, struct mw_report_region *rows, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < MW_ARRAY_SIZE(region_rows) && k < cap; i++) {
		int m = region_rows[i].metric;
		if (!a->m[m].available)
			m = region_rows[i].fallback;
		if (m < 0 || !a->m[m].available)
			continue;
		rows[k].region = region_rows[i].region;
		rows[k].metric = m;
		rows[k].label = m == region_rows[i].metric && m != region_rows[i].fallback
		                        ? region_rows[i].label
		                        : mw_ametric_labels[m];
		rows[k].w = widest(&a->m[m]);
		rows[k].growing =
		        rows[k].w && rows[k].w->slope_per_h > 0 && rows[k].w->tr.mk_p < 0.05;
		k++;
	}
	return k;
}

void mw_report_bpf_line(const struct mw_analysis *a, char *buf, size_t cap)
{
	const char *st = a ? a->bpf_state : "";

	if (!st[0])
		snprintf(buf, cap, "off (no eBPF state recorded by the daemon)");
	else if (strncmp(st, "off:", 4) == 0)
		snprintf(buf, cap, "off (%s)", st + 4 + strspn(st + 4, " "));
	else
		snprintf(buf, cap, "%s", st);
}

struct missing_out {
	FILE *f;
	const char *label;
	bool utf8;
	struct mw_json *j;
};

static int missing_text_one(const char *hook, const char *why, const char *evidence, void *ctx)
{
	struct missing_out *o = ctx;
	char line[1200], esc[2400];

	snprintf(line, sizeof(line), "%s: %s missing (%s)", hook, evidence, why);
	mw_escape_term(line, strlen(line), esc, sizeof(esc), o->utf8);
	fprintf(o->f, "%s%s\n", o->label, esc);
	return 0;
}

void mw_report_bpf_missing_text(FILE *f, const char *missing, const char *label, bool utf8)
{
	struct missing_out o = {.f = f, .label = label, .utf8 = utf8};

	mw_bpf_missing_each(missing, missing_text_one, &o);
}

static int missing_json_one(const char *hook, const char *why, const char *evidence, void *ctx)
{
	struct missing_out *o = ctx;

	mw_json_obj_open(o->j, NULL);
	mw_json_str(o->j, "program", hook);
	mw_json_str(o->j, "reason", why);
	mw_json_str(o->j, "evidence", evidence);
	mw_json_obj_close(o->j);
	return 0;
}

void mw_report_bpf_missing_json(struct mw_json *j, const char *key, const char *missing)
{
	struct missing_out o = {.j = j};

	mw_json_arr_open(j, key);
	mw_bpf_missing_each(missing, missing_json_one, &o);
	mw_json_arr_close(j);
}

void mw_report_no_leak_reason(const struct mw_analysis *a, char *buf, size_t cap)
{
	const struct mw_metric_window *w = widest(&a->m[MW_AM_rss]);
	double span = w ? (double)(w->to_ms - w->from_ms) / 1000.0 : 0;
	char d[32];

	mw_fmt_duration(d, sizeof(d), (uint64_t)(span * 1e9));
	if (a->nhyp && a->hyp[0].score > 0)
		snprintf(buf, cap, "the strongest sign, %s, scores %.2f (below %.2f)%s%s",
		         a->hyp[0].rule->id, a->hyp[0].score, MW_HYP_THRESHOLD,
		         a->hyp[0].note[0] ? ": " : "", a->hyp[0].note);
	else if (w && w->slope_per_h > 0 && w->tr.floor_n >= 3 && !(w->floor_slope_per_h > 0))
		snprintf(buf, cap,
		         "RSS rises and falls back to its floor (a cache or GC cycle) over %s", d);
	else
		snprintf(buf, cap, "no metric rose steadily over %s", d);
	if (span > 0 && span < 300) {
		size_t l = strlen(buf);
		snprintf(buf + l, cap - l, "; only %s of history: a slow leak needs longer", d);
	}
}

/* Buckets the grid into width cells (mean of each), scaled to eight levels. */
static void sparkline(char *out, size_t cap, const double *y, size_t n, int width, bool utf8)
{
	static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
	                                      "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char ascii[] = "_.-~=+*#";
	double cell[64], lo = INFINITY, hi = -INFINITY;
	size_t o = 0;

	out[0] = '\0';
	if (n < 2 || width > 64)
		return;
	if ((size_t)width > n)
		width = (int)n;
	for (int c = 0; c < width; c++) {
		size_t a = n * (size_t)c / (size_t)width, b = n * (size_t)(c + 1) / (size_t)width;
		double sum = 0;
		for (size_t i = a; i < b; i++)
			sum += y[i];
		cell[c] = sum / (double)(b - a);
		lo = fmin(lo, cell[c]);
		hi = fmax(hi, cell[c]);
	}
	for (int c = 0; c < width; c++) {
		int lvl = hi > lo ? (int)((cell[c] - lo) / (hi - lo) * 7.0 + 0.5) : 0;
		const char *s = utf8 ? blocks[lvl] : (char[2]){ascii[lvl], 0};
		size_t l = strlen(s);
		if (o + l + 1 > cap)
			break;
		memcpy(out + o, s, l);
		o += l;
	}
	out[o] = '\0';
}

static void fmt_value(char *buf, size_t cap, int metric, double v, bool delta)
{
	if (!isfinite(v)) {
		snprintf(buf, cap, "-");
	} else if (mw_ametric_kinds[metric] == 'b') {
		if (delta)
			mw_fmt_bytes_delta(buf, cap, v);
		else
			mw_fmt_bytes(buf, cap, (int64_t)v);
	} else {
		snprintf(buf, cap, delta ? "%+.1f" : "%.0f", v);
	}
}

static void print_regions(FILE *f, const struct mw_analysis *a, bool utf8)
{
	struct mw_report_region rows[16];
	size_t n = mw_report_regions(a, rows, MW_ARRAY_SIZE(rows));

	fprintf(f, "\nRegions (%s)\n",
	        a->have_regions ? "from smaps" : "process-wide: no smaps breakdown recorded");
	fprintf(f, "  %-14s %-22s %12s %12s %14s  %s\n", "region", "measured as", "now", "change",
	        "rate", "trend");
	for (size_t i = 0; i < n; i++) {
		const struct mw_metric_window *w = rows[i].w;
		const struct mw_metric_analysis *ma = &a->m[rows[i].metric];
		char now[32], ch[32], rate[40], spark[64 * 4 + 1] = "";
		fmt_value(now, sizeof(now), rows[i].metric, w ? w->tr.last : NAN, false);
		fmt_value(ch, sizeof(ch), rows[i].metric, w ? w->tr.last - w->tr.first : NAN, true);
		fmt_value(rate, sizeof(rate), rows[i].metric, w ? w->slope_per_h : NAN, true);
		if (w)
			strncat(rate, "/h", sizeof(rate) - strlen(rate) - 1);
		if (rows[i].growing)
			sparkline(spark, sizeof(spark), ma->grid_y, ma->grid_n, 24, utf8);
		fprintf(f, "  %-14s %-22.22s %12s %12s %14s  %s\n", rows[i].region, rows[i].label,
		        now, ch, rate, spark);
		if (w && mw_region_warming(a, w)) {
			char warm[128];
			mw_warming_text(w, warm, sizeof(warm));
			fprintf(f, "  %-14s %s\n", "", warm);
		}
	}
}

static void print_hypothesis(FILE *f, const struct mw_analysis *a, size_t i, bool utf8)
{
	const struct mw_hypothesis *h = &a->hyp[i];
	const struct mw_hyp_evidence *ev = &h->ev;
	char rate[40], floor[40], win[32], tte[32], first[32], last[32], step[512];

	fmt_value(rate, sizeof(rate), ev->metric, ev->slope_per_h, true);
	fmt_value(floor, sizeof(floor), ev->metric, ev->floor_slope_per_h, true);
	fmt_value(first, sizeof(first), ev->metric, ev->first, false);
	fmt_value(last, sizeof(last), ev->metric, ev->last, false);
	mw_fmt_duration(win, sizeof(win), (uint64_t)(ev->to_ms - ev->from_ms) * 1000000ull);
	fprintf(f, "\n %zu. [%s] %s\n", i + 1, h->rule->tag, h->rule->title);
	fprintf(f, "    score %.2f, region %s\n", h->score, h->rule->region);
	fprintf(f, "    evidence: %s %s -> %s, %s/h (Theil-Sen) over %s, Mann-Kendall p=%.2g",
	        mw_ametric_labels[ev->metric], first, last, rate, win, ev->mk_p);
	if (ev->floor_n >= 3)
		fprintf(f, ", floor %s/h", floor);
	fputc('\n', f);
	if (ev->support >= 0 && isfinite(ev->support_last)) {
		char sl[32], sr[40];
		fmt_value(sl, sizeof(sl), ev->support, ev->support_last, false);
		fmt_value(sr, sizeof(sr), ev->support, ev->support_slope_per_h, true);
		fprintf(f, "    also: %s %s (%s/h)\n", mw_ametric_labels[ev->support], sl, sr);
	}
	if (ev->bpf_available)
		fprintf(f, "    eBPF: %lld faults in this region, %lld new mappings (%lld bytes)\n",
		        (long long)ev->bpf_faults, (long long)ev->bpf_mmaps,
		        (long long)ev->bpf_mmap_bytes);
	for (size_t k = 0; k < ev->ncall_sites; k++) {
		char site[1024];
		mw_escape_term(ev->call_sites[k], strlen(ev->call_sites[k]), site, sizeof(site),
		               utf8);
		fprintf(f, "    %s %s\n", k ? "           " : "call sites:", site);
	}
	if (isfinite(h->tte_s))
		fprintf(f, "    exhaustion: %s reached in %s at this rate\n", h->tte_basis,
		        mw_fmt_duration(tte, sizeof(tte), (uint64_t)(h->tte_s * 1e9)));
	mw_escape_term(h->next_step, strlen(h->next_step), step, sizeof(step), utf8);
	if (step[0])
		fprintf(f, "    next: %s\n", step);
	if (h->note[0])
		fprintf(f, "    note: %s\n", h->note);
}

static void print_analysis(FILE *f, const struct mw_analysis *a, bool utf8)
{
	size_t n = mw_hypotheses_reported(a);
	char line[600];

	print_regions(f, a, utf8);
	if (n == 0) {
		mw_report_no_leak_reason(a, line, sizeof(line));
		fprintf(f, "\nNo leak found: %s.\n", line);
		return;
	}
	fprintf(f, "\nHypotheses, most likely first (score >= %.2f):\n", MW_HYP_THRESHOLD);
	for (size_t i = 0; i < n; i++)
		print_hypothesis(f, a, i, utf8);
}

/* Sampled values are whole numbers: print them exactly, not as %.10g. */
static void json_value(struct mw_json *j, const char *key, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0)
		mw_json_int(j, key, (int64_t)v);
	else
		mw_json_num(j, key, v);
}

static void json_window(struct mw_json *j, const struct mw_metric_window *w)
{
	mw_json_int(j, "window_s", w->window_s);
	mw_json_int(j, "from_ms", w->from_ms);
	mw_json_int(j, "to_ms", w->to_ms);
	mw_json_int(j, "points", (int64_t)w->tr.n);
	json_value(j, "first", w->tr.first);
	json_value(j, "last", w->tr.last);
	mw_json_num(j, "slope_per_h", w->slope_per_h);
	mw_json_num(j, "mk_p", w->tr.mk_p);
	mw_json_num(j, "floor_slope_per_h", w->floor_slope_per_h);
}

/* Growth that fills mappings of a fixed size (a pool warming up), or null. */
static void json_warming(struct mw_json *j, const struct mw_analysis *a,
                         const struct mw_metric_window *w)
{
	char text[128];

	if (!w || !mw_region_warming(a, w)) {
		mw_json_null(j, "warming");
		return;
	}
	mw_warming_text(w, text, sizeof(text));
	mw_json_obj_open(j, "warming");
	json_value(j, "mapping_bytes", w->bound);
	json_value(j, "resident_bytes", w->tr.last);
	mw_json_num(j, "resident_pct", 100.0 * w->tr.last / w->bound);
	mw_json_str(j, "text", text);
	mw_json_obj_close(j);
}

static void json_regions(struct mw_json *j, const struct mw_analysis *a)
{
	struct mw_report_region rows[16];
	size_t n = mw_report_regions(a, rows, MW_ARRAY_SIZE(rows));

	mw_json_arr_open(j, "regions");
	for (size_t i = 0; i < n; i++) {
		const struct mw_metric_analysis *ma = &a->m[rows[i].metric];
		mw_json_obj_open(j, NULL);
		mw_json_str(j, "region", rows[i].region);
		mw_json_str(j, "metric", mw_ametric_names[rows[i].metric]);
		mw_json_str(j, "label", rows[i].label);
		mw_json_str(j, "unit", mw_ametric_kinds[rows[i].metric] == 'b' ? "bytes" : "count");
		mw_json_bool(j, "growing", rows[i].growing);
		json_warming(j, a, rows[i].w);
		mw_json_obj_open(j, "trend");
		if (rows[i].w)
			json_window(j, rows[i].w);
		mw_json_obj_close(j);
		mw_json_obj_open(j, "series");
		mw_json_int(j, "t0_ms",
		            ma->grid_n ? (int64_t)llround(ma->grid_t[0] * 1000.0) : MW_UNKNOWN);
		mw_json_num(j, "step_s", rows[i].w ? rows[i].w->step_s : NAN);
		mw_json_arr_open(j, "values");
		for (size_t k = 0; k < ma->grid_n; k++)
			json_value(j, NULL, ma->grid_y[k]);
		mw_json_arr_close(j);
		mw_json_obj_close(j);
		mw_json_obj_close(j);
	}
	mw_json_arr_close(j);
}

static void json_evidence(struct mw_json *j, const struct mw_hyp_evidence *ev)
{
	mw_json_obj_open(j, "evidence");
	mw_json_str(j, "metric", mw_ametric_names[ev->metric]);
	mw_json_str(j, "metric_label", mw_ametric_labels[ev->metric]);
	mw_json_bool(j, "fallback", ev->fallback);
	mw_json_int(j, "window_s", ev->window_s);
	mw_json_int(j, "from_ms", ev->from_ms);
	mw_json_int(j, "to_ms", ev->to_ms);
	mw_json_int(j, "points", (int64_t)ev->n);
	json_value(j, "first", ev->first);
	json_value(j, "last", ev->last);
	mw_json_num(j, "slope_per_h", ev->slope_per_h);
	mw_json_num(j, "mk_p", ev->mk_p);
	mw_json_num(j, "mk_z", ev->mk_z);
	mw_json_num(j, "floor_slope_per_h", ev->floor_slope_per_h);
	mw_json_int(j, "floor_points", (int64_t)ev->floor_n);
	mw_json_num(j, "plateau_s", ev->plateau_s);
	if (ev->support >= 0) {
		mw_json_obj_open(j, "support");
		mw_json_str(j, "metric", mw_ametric_names[ev->support]);
		json_value(j, "last", ev->support_last);
		mw_json_num(j, "slope_per_h", ev->support_slope_per_h);
		mw_json_obj_close(j);
	} else {
		mw_json_null(j, "support");
	}
	if (ev->bpf_available) {
		mw_json_obj_open(j, "bpf");
		mw_json_int(j, "faults", ev->bpf_faults);
		mw_json_int(j, "mmaps", ev->bpf_mmaps);
		mw_json_int(j, "mmap_bytes", ev->bpf_mmap_bytes);
		mw_json_obj_close(j);
	} else {
		mw_json_null(j, "bpf");
	}
	mw_json_arr_open(j, "call_sites");
	for (size_t i = 0; i < ev->ncall_sites; i++)
		mw_json_str(j, NULL, ev->call_sites[i]);
	mw_json_arr_close(j);
	mw_json_obj_close(j);
}

static void json_hypotheses(struct mw_json *j, const struct mw_analysis *a)
{
	mw_json_arr_open(j, "hypotheses");
	for (size_t i = 0; i < a->nhyp; i++) {
		const struct mw_hypothesis *h = &a->hyp[i];
		if (h->score <= 0)
			continue;
		mw_json_obj_open(j, NULL);
		mw_json_str(j, "id", h->rule->id);
		mw_json_str(j, "tag", h->rule->tag);
		mw_json_num(j, "score", h->score);
		mw_json_bool(j, "reported", h->score >= MW_HYP_THRESHOLD);
		mw_json_str(j, "region", h->rule->region);
		mw_json_str(j, "title", h->rule->title);
		json_evidence(j, &h->ev);
		mw_json_num(j, "time_to_exhaustion_s", h->tte_s);
		mw_json_str(j, "exhaustion_basis", h->tte_basis);
		mw_json_str(j, "next_step", h->next_step[0] ? h->next_step : NULL);
		mw_json_str(j, "note", h->note[0] ? h->note : NULL);
		mw_json_obj_close(j);
	}
	mw_json_arr_close(j);
}

static void json_analysis(struct mw_json *j, const struct mw_analysis *a)
{
	char line[600];
	size_t n = mw_hypotheses_reported(a);

	json_regions(j, a);
	json_hypotheses(j, a);
	mw_json_obj_open(j, "verdict");
	mw_json_bool(j, "leak_suspected", n > 0);
	mw_json_num(j, "threshold", MW_HYP_THRESHOLD);
	mw_json_str(j, "top", n ? a->hyp[0].rule->tag : NULL);
	if (n == 0)
		mw_report_no_leak_reason(a, line, sizeof(line));
	mw_json_str(j, "no_leak_reason", n ? NULL : line);
	mw_json_obj_close(j);
	mw_json_obj_open(j, "limits");
	mw_json_int(j, "mem_available", a->mem_available);
	mw_json_int(j, "cgroup_limit", a->cgroup_limit);
	mw_json_int(j, "cgroup_usage", a->cgroup_usage);
	mw_json_str(j, "cgroup_path", a->cgroup_path[0] ? a->cgroup_path : NULL);
	mw_json_int(j, "nofile_soft", a->limits.nofile_soft);
	mw_json_int(j, "nofile_hard", a->limits.nofile_hard);
	mw_json_int(j, "stack_soft", a->limits.stack_soft);
	mw_json_obj_close(j);
	mw_json_obj_open(j, "bpf");
	mw_json_str(j, "state", a->bpf_state[0] ? a->bpf_state : NULL);
	mw_json_bool(j, "on", strncmp(a->bpf_state, "on", 2) == 0);
	mw_json_bool(j, "evidence_available", a->bpf.available);
	mw_json_int(j, "faults_heap", a->bpf.available ? a->bpf.faults_heap : MW_UNKNOWN);
	mw_json_int(j, "faults_stack", a->bpf.available ? a->bpf.faults_stack : MW_UNKNOWN);
	mw_json_int(j, "faults_mmap", a->bpf.available ? a->bpf.faults_mmap : MW_UNKNOWN);
	mw_json_int(j, "mmaps_anon", a->bpf.available ? a->bpf.mmaps_anon : MW_UNKNOWN);
	mw_json_int(j, "mmap_bytes_anon", a->bpf.available ? a->bpf.mmap_bytes_anon : MW_UNKNOWN);
	mw_json_int(j, "mmaps_file", a->bpf.available ? a->bpf.mmaps_file : MW_UNKNOWN);
	mw_json_int(j, "mmap_bytes_file", a->bpf.available ? a->bpf.mmap_bytes_file : MW_UNKNOWN);
	mw_report_bpf_missing_json(j, "missing", a->bpf_missing);
	mw_report_bpf_missing_json(j, "gaps", a->bpf_gaps);
	mw_json_obj_close(j);
}
