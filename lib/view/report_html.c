/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/view/report_html.h"
#include "htmlstyle.h"
#include "memwatch/base/format.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define CHART_W 640
#define CHART_H 160
#define PAD_L   70
#define PAD_B   20
#define PAD_T   10

static void value(char *buf, size_t cap, int metric, double v, bool delta)
{
	if (!isfinite(v))
		snprintf(buf, cap, "-");
	else if (mw_ametric_kinds[metric] == 'b')
		delta ? mw_fmt_bytes_delta(buf, cap, v) : mw_fmt_bytes(buf, cap, (int64_t)v);
	else
		snprintf(buf, cap, delta ? "%+.1f" : "%.0f", v);
}

static void header(FILE *f, const struct mw_report *rep)
{
	char t1[32], t2[32], bpf[300], title[64 + MW_COMM_MAX];

	snprintf(title, sizeof(title), "memwatch report: %d (%s)", (int)rep->proc.pid,
	         rep->proc.comm);
	mw_html_head(f, MW_HTML_PROCESS, title);
	fprintf(f, "<h1>memwatch report: process %d (", (int)rep->proc.pid);
	mw_html_escape(f, rep->proc.comm);
	fprintf(f, ")%s</h1>\n<table class=\"id\">\n<tr><td>host</td><td class=\"host\">",
	        rep->alive ? "" : " [exited]");
	mw_html_escape(f, rep->host[0] ? rep->host : "(not recorded)");
	fputs("</td></tr>\n<tr><td>cmdline</td><td><code>", f);
	mw_html_escape(f, rep->proc.cmdline);
	fputs("</code></td></tr>\n<tr><td>cgroup</td><td>", f);
	mw_html_escape(f, rep->proc.cgroup);
	if (rep->runtime.note[0]) {
		fputs("</td></tr>\n<tr><td>runtime</td><td>", f);
		mw_html_escape(f, rep->runtime.note);
		if (rep->runtime_step[0]) {
			fputs("<br>ask it: <code>", f);
			mw_html_escape(f, rep->runtime_step);
			fputs("</code>", f);
		}
	}
	fprintf(f, "</td></tr>\n<tr><td>window</td><td>%s .. %s</td></tr>\n",
	        mw_fmt_time(t1, sizeof(t1), (uint64_t)rep->from_ms * 1000000ull),
	        mw_fmt_time(t2, sizeof(t2), (uint64_t)rep->to_ms * 1000000ull));
	fputs("<tr><td>source</td><td>", f);
	mw_html_escape(f, rep->source == MW_REPORT_FROM_STORE ? rep->db_path : "live sampling");
	if (rep->note[0]) {
		fputs(" (", f);
		mw_html_escape(f, rep->note);
		fputc(')', f);
	}
	mw_report_bpf_line(rep->an, bpf, sizeof(bpf));
	fputs("</td></tr>\n<tr><td>eBPF</td><td>", f);
	mw_html_escape(f, bpf);
	fputs("</td></tr>\n</table>\n", f);
}

static void hypothesis(FILE *f, const struct mw_hypothesis *h)
{
	const struct mw_hyp_evidence *ev = &h->ev;
	char rate[40], fl[40], a[32], b[32], tte[32];

	value(rate, sizeof(rate), ev->metric, ev->slope_per_h, true);
	value(fl, sizeof(fl), ev->metric, ev->floor_slope_per_h, true);
	value(a, sizeof(a), ev->metric, ev->first, false);
	value(b, sizeof(b), ev->metric, ev->last, false);
	fprintf(f,
	        "<li class=\"hyp\" data-tag=\"%s\" data-score=\"%.3f\"><span "
	        "class=\"tag\">%s</span> ",
	        h->rule->tag, h->score, h->rule->tag);
	mw_html_escape(f, h->rule->title);
	fprintf(f, "<br>score %.2f, region <b>%s</b><br>evidence: ", h->score, h->rule->region);
	mw_html_escape(f, mw_ametric_labels[ev->metric]);
	fprintf(f, " %s &rarr; %s, %s/h (Theil&ndash;Sen), Mann&ndash;Kendall p=%.2g", a, b, rate,
	        ev->mk_p);
	if (ev->floor_n >= 3)
		fprintf(f, ", floor %s/h", fl);
	if (ev->bpf_available)
		fprintf(f, "<br>eBPF: %lld faults in this region, %lld new mappings",
		        (long long)ev->bpf_faults, (long long)ev->bpf_mmaps);
	if (isfinite(h->tte_s)) {
		fprintf(f, "<br>exhaustion: %s in %s at this rate", h->tte_basis,
		        mw_fmt_duration(tte, sizeof(tte), (uint64_t)(h->tte_s * 1e9)));
	}
	if (h->next_step[0]) {
		fputs("<br>next: <code>", f);
		mw_html_escape(f, h->next_step);
		fputs("</code>", f);
	}
	if (h->note[0]) {
		fputs("<br><i>", f);
		mw_html_escape(f, h->note);
		fputs("</i>", f);
	}
	fputs("</li>\n", f);
}

static void hypotheses(FILE *f, const struct mw_analysis *a)
{
	size_t n = mw_hypotheses_reported(a);
	char why[600];

	fputs("<h2>Diagnosis</h2>\n", f);
	if (n == 0) {
		mw_report_no_leak_reason(a, why, sizeof(why));
		fputs("<p class=\"verdict ok\">No leak found: ", f);
		mw_html_escape(f, why);
		fputs(".</p>\n", f);
		return;
	}
	fprintf(f,
	        "<p class=\"verdict leak\">%zu %s at or above score %.2f, most likely "
	        "first.</p>\n<ol>\n",
	        n, n == 1 ? "hypothesis" : "hypotheses", MW_HYP_THRESHOLD);
	for (size_t i = 0; i < n; i++)
		hypothesis(f, &a->hyp[i]);
	fputs("</ol>\n", f);
}

/* One SVG line chart of a region's grid; data-points counts the vertices. */
static void chart(FILE *f, const struct mw_report_region *row, const struct mw_metric_analysis *ma)
{
	double lo = INFINITY, hi = -INFINITY, t0 = ma->grid_t[0], t1 = ma->grid_t[ma->grid_n - 1];
	double pw = CHART_W - PAD_L - 10, ph = CHART_H - PAD_T - PAD_B;
	char a[32], b[32], d[32];

	for (size_t i = 0; i < ma->grid_n; i++) {
		lo = fmin(lo, ma->grid_y[i]);
		hi = fmax(hi, ma->grid_y[i]);
	}
	bool flat = hi <= lo; /* drawn across the middle, labelled with its one value */
	double top = hi;
	if (flat) {
		lo -= 1;
		hi += 1;
	}
	if (t1 <= t0)
		t1 = t0 + 1;
	fprintf(f, "<figure><figcaption%s>%s &mdash; ", row->growing ? " class=\"grow\"" : "",
	        row->region);
	mw_html_escape(f, row->label);
	fprintf(f,
	        "%s</figcaption>\n<svg class=\"region-chart\" data-region=\"%s\" "
	        "data-points=\"%zu\""
	        " width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
	        "%d\""
	        " role=\"img\">\n<polyline class=\"line\" points=\"",
	        row->growing ? " (growing)" : "", row->region, ma->grid_n, CHART_W, CHART_H,
	        CHART_W, CHART_H);
	for (size_t i = 0; i < ma->grid_n; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "",
		        PAD_L + (ma->grid_t[i] - t0) / (t1 - t0) * pw,
		        PAD_T + (1.0 - (ma->grid_y[i] - lo) / (hi - lo)) * ph);
	value(a, sizeof(a), row->metric, flat ? top : hi, false);
	value(b, sizeof(b), row->metric, flat ? top : lo, false);
	mw_fmt_duration(d, sizeof(d), (uint64_t)((t1 - t0) * 1e9));
	fprintf(f,
	        "\"/>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>"
	        "<text x=\"4\" y=\"%d\">%s</text><text x=\"4\" y=\"%d\">%s</text>"
	        "<text x=\"%d\" y=\"%d\">last %s</text>\n</svg></figure>\n",
	        PAD_L, CHART_H - PAD_B, CHART_W - 10, CHART_H - PAD_B, PAD_T + 10, a,
	        CHART_H - PAD_B, b, PAD_L, CHART_H - 4, d);
}

static void regions(FILE *f, const struct mw_analysis *a)
{
	struct mw_report_region rows[16];
	size_t n = mw_report_regions(a, rows, MW_ARRAY_SIZE(rows));

	fprintf(f,
	        "<h2>Regions (%s)</h2>\n<table>\n<tr><th>region</th><th>measured as</th>"
	        "<th>now</th><th>change</th><th>rate</th><th>Mann&ndash;Kendall p</th></tr>\n",
	        a->have_regions ? "from smaps" : "process-wide: no smaps breakdown recorded");
	for (size_t i = 0; i < n; i++) {
		const struct mw_metric_window *w = rows[i].w;
		char now[32], ch[32], rate[40];
		value(now, sizeof(now), rows[i].metric, w ? w->tr.last : NAN, false);
		value(ch, sizeof(ch), rows[i].metric, w ? w->tr.last - w->tr.first : NAN, true);
		value(rate, sizeof(rate), rows[i].metric, w ? w->slope_per_h : NAN, true);
		fprintf(f, "<tr%s><td>%s</td><td class=\"l\">",
		        rows[i].growing ? " class=\"grow\"" : "", rows[i].region);
		mw_html_escape(f, rows[i].label);
		fprintf(f, "</td><td>%s</td><td>%s</td><td>%s/h</td><td>%.2g</td></tr>\n", now, ch,
		        rate, w ? w->tr.mk_p : NAN);
	}
	fputs("</table>\n", f);
	for (size_t i = 0; i < n; i++)
		if (a->m[rows[i].metric].grid_n >= 2)
			chart(f, &rows[i], &a->m[rows[i].metric]);
}

int mw_report_write_html(FILE *f, const struct mw_report *rep)
{
	header(f, rep);
	if (rep->an) {
		hypotheses(f, rep->an);
		regions(f, rep->an);
	} else {
		fputs("<p>No analysis: too few samples.</p>\n", f);
	}
	fputs("<p><small>memwatch: statistics on a regular grid; Theil&ndash;Sen slopes, "
	      "Mann&ndash;Kendall trend test, lower-envelope (floor) slope.</small></p>\n"
	      "</body></html>\n",
	      f);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
