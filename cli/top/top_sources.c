/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The slower sources of memwatch top, each as lines of text for a panel
 * (escaped here: names, frames and details come from /proc and the
 * kernel). Each returns -EOPNOTSUPP where the mode cannot provide it,
 * and the panel prints "-" (never 0) for it:
 *
 *   regions      region.h: mw_store_region_series (store)
 *   hypothesis   analysis.h: the per-process top hypothesis and its evidence
 *   call sites   callsite.h: outstanding mappings by call stack (store)
 *   slab, IPC    sysview.h: slab caches and IPC objects (IPC also live)
 *   OOM          oom.h: the kill history `memwatch oom` shows, and the forecast
 */
#include "cli.h"
#include "top.h"

#include "memwatch/analyse/analysis.h"
#include "memwatch/analyse/oom.h"
#include "memwatch/analyse/sysview.h"
#include "memwatch/base/format.h"
#include "memwatch/store/callsitestore.h"
#include "memwatch/store/regionstore.h"
#include "memwatch/view/callsiteview.h"
#include "memwatch/view/sysreport.h"
#include "memwatch/base/util.h"
#include "memwatch/collect/callsite.h"
#include "memwatch/collect/ipc.h"
#include "memwatch/collect/region.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void top_text_free(struct top_text *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->lines[i]);
	free(t->lines);
	t->lines = NULL;
	t->n = 0;
}

void top_text_scroll(struct top_text *t, size_t keep, size_t skip)
{
	if (keep >= t->n)
		return;
	if (skip > t->n - keep - 1)
		skip = t->n - keep - 1;
	for (size_t i = keep; i < keep + skip; i++)
		free(t->lines[i]);
	memmove(t->lines + keep, t->lines + keep + skip, (t->n - keep - skip) * sizeof(*t->lines));
	t->n -= skip;
}

__attribute__((format(printf, 2, 3))) static int text_add(struct top_text *t, const char *fmt, ...)
{
	char **v = realloc(t->lines, (t->n + 1) * sizeof(*v));
	va_list ap;
	int r;

	if (!v)
		return -ENOMEM;
	t->lines = v;
	va_start(ap, fmt);
	r = vasprintf(&t->lines[t->n], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	t->n++;
	return 0;
}

/* Regions (smaps, slow tier) from the store. */
/* The latest region sample in the window (the slow tier writes one a minute or so). */
static int latest_regions(struct top_model *m, const struct top_row *r, int64_t since_ms,
                          struct mw_region_series *sr)
{
	int rc;

	if (m->src != TOP_FROM_STORE || r->is_group)
		return -EOPNOTSUPP;
	rc = mw_store_region_series(m->store, r->proc_id, since_ms, m->now_ms, sr);
	if (rc == 0 && (sr->n == 0 || !sr->v[sr->n - 1].reg.readable)) {
		mw_region_series_release(sr);
		return -ENODATA;
	}
	return rc;
}

int top_src_regions(struct top_model *m, struct top_row *r)
{
	struct mw_region_series sr = {0};
	const struct mw_regions *g;
	int rc = latest_regions(m, r, m->now_ms - m->window_ms, &sr);

	if (rc < 0)
		return rc;
	g = &sr.v[sr.n - 1].reg;
	r->reg[TOP_REG_HEAP] = g->r[MW_REG_heap].rss;
	r->reg[TOP_REG_TSTACK] = g->r[MW_REG_thread_stacks].rss;
	r->reg[TOP_REG_ANON] = g->r[MW_REG_anon].rss + g->r[MW_REG_arena].rss;
	r->reg[TOP_REG_PSS] = g->pss[MW_PSS_pss];
	r->reg[TOP_REG_USS] = g->pss[MW_PSS_uss];
	mw_region_series_release(&sr);
	return 0;
}

int top_src_region_table(struct top_model *m, const struct top_row *r, struct top_text *out)
{
	struct mw_region_series sr = {0};
	int rc = latest_regions(m, r, m->now_ms - m->window_ms, &sr);
	char a[32], b[32], c[32];

	if (rc < 0)
		return rc;
	rc = text_add(out, "%-14s %10s %12s %10s %6s", "region", "RSS", "change", "size", "maps");
	for (int k = 0; k < MW_REG_COUNT && rc == 0; k++) {
		const struct mw_region_stat *first = &sr.v[0].reg.r[k],
		                            *last = &sr.v[sr.n - 1].reg.r[k];

		if (last->count == 0 && first->count == 0)
			continue;
		mw_fmt_bytes(a, sizeof(a), last->rss);
		mw_fmt_bytes_delta(b, sizeof(b), (double)(last->rss - first->rss));
		mw_fmt_bytes(c, sizeof(c), last->size);
		rc = text_add(out, "%-14s %10s %12s %10s %6lld", mw_region_names[k], a, b, c,
		              (long long)last->count);
	}
	mw_region_series_release(&sr);
	return rc;
}

int top_src_hypothesis(struct top_model *m, struct top_row *r)
{
	if (m->src != TOP_FROM_STORE || r->is_group)
		return -EOPNOTSUPP;
	r->tag[0] = '\0';
	if (mw_top_hypothesis_tag(m->store, r->proc_id, m->now_ms, r->tag, sizeof(r->tag), NULL) <
	    0)
		return -EIO;
	r->tag_known = true;
	return 0;
}

int top_src_hypotheses_detail(struct top_model *m, const struct top_row *r, struct top_text *out,
                              char *tag, size_t cap)
{
	struct mw_analysis a;
	size_t shown = 0;
	int rc;

	if (cap)
		tag[0] = '\0';
	if (m->src != TOP_FROM_STORE || r->is_group)
		return -EOPNOTSUPP;
	rc = mw_analyze_process(m->store, r->proc_id, m->now_ms - m->window_ms, m->now_ms, &a);
	if (rc == 0 && a.nhyp && a.hyp[0].score >= MW_HYP_THRESHOLD)
		snprintf(tag, cap, "%s", a.hyp[0].rule->tag);
	for (size_t i = 0; rc == 0 && i < a.nhyp && shown < 5; i++) {
		const struct mw_hypothesis *h = &a.hyp[i];
		char rate[32], tte[32];

		if (h->score < MW_HYP_THRESHOLD)
			break;
		if (mw_ametric_kinds[h->ev.metric] == 'b')
			mw_fmt_bytes_delta(rate, sizeof(rate), h->ev.slope_per_h);
		else
			snprintf(rate, sizeof(rate), "%+.1f", h->ev.slope_per_h);
		if (isnan(h->tte_s))
			snprintf(tte, sizeof(tte), "-");
		else
			mw_fmt_duration(tte, sizeof(tte), (uint64_t)(h->tte_s * 1e9));
		rc = text_add(out, "%-8s %.2f  %s", h->rule->tag, h->score, h->rule->title);
		if (rc == 0)
			rc = text_add(out,
			              "         %s %s/h (Mann-Kendall p %.2g), exhaustion in %s",
			              mw_ametric_labels[h->ev.metric], rate, h->ev.mk_p, tte);
		if (rc == 0 && h->next_step[0])
			rc = text_add(out, "         next: %s", h->next_step);
		shown++;
	}
	if (rc == 0 && shown == 0)
		rc = text_add(out, "no hypothesis scores above %.1f: no steady growth",
		              MW_HYP_THRESHOLD);
	mw_analysis_release(&a);
	return rc;
}

/* Sites shown: the report's five; `memwatch callsites PID --top N` lists more. */
#define TOP_CALLSITES 5

/*
 * The report's call-site section, one panel line per line (the renderer
 * escapes the frames); its heading is the panel's title, so it is dropped.
 */
int top_src_callsites(struct top_model *m, const struct top_row *r, struct top_text *out)
{
	struct mw_callsite_list l = {0};
	char *buf = NULL, *line, *next;
	size_t len = 0;
	FILE *f = NULL;
	int rc;

	if (r->is_group)
		return text_add(out, "%s", "call sites are per process: open one of its processes");
	if (m->src != TOP_FROM_STORE)
		return text_add(out, "%s",
		                "none here: top is sampling /proc itself; memwatchd records call"
		                " sites (eBPF or perf events) in its database");
	rc = mw_store_callsites(m->store, r->proc_id, m->now_ms - m->window_ms, m->now_ms,
	                        TOP_CALLSITES, &l);
	if (rc < 0)
		goto out;
	f = open_memstream(&buf, &len);
	if (!f) {
		rc = -ENOMEM;
		goto out;
	}
	mw_callsite_print(f, &l, m->opt.utf8);
	rc = fclose(f) == 0 ? 0 : -ENOMEM;
	line = buf ? strchr(buf, '\n') : NULL;
	for (; rc == 0 && line && line[1]; line = next) {
		line++;
		next = strchr(line, '\n');
		if (next)
			*next = '\0';
		/* The report indents by two; the panel indents its blocks itself. */
		rc = text_add(out, "%s", strncmp(line, "  ", 2) == 0 ? line + 2 : line);
		if (!next)
			break;
	}
out:
	free(buf);
	mw_callsite_list_release(&l);
	return rc;
}

static int sysview(struct top_model *m, int parts, struct mw_sysview *v)
{
	if (m->src != TOP_FROM_STORE)
		return -EOPNOTSUPP;
	return cli_sysview_from_store(m->store, "", m->now_ms - m->window_ms, m->now_ms, parts, v);
}

int top_src_slab(struct top_model *m, struct top_text *out)
{
	struct mw_sysview v;
	int rc = sysview(m, MW_SV_SLAB, &v);
	char now[32], rate[32];

	if (rc < 0)
		return rc;
	if (!v.slab_ok) {
		rc = text_add(out, "%s", v.slab_why[0] ? v.slab_why : "slab not recorded");
		goto out;
	}
	rc = text_add(out, "%-28s %10s %12s", "cache", "bytes", "growth/min");
	for (size_t i = 0; i < v.nslab && i < 10 && rc == 0; i++) {
		const struct mw_slab_view *c = &v.slab[i];
		char esc[128];

		mw_escape_term(c->name, strlen(c->name), esc, sizeof(esc), m->opt.utf8);
		mw_fmt_bytes(now, sizeof(now), c->bytes_now);
		if (isnan(c->tr.slope))
			snprintf(rate, sizeof(rate), "-");
		else
			mw_fmt_bytes_delta(rate, sizeof(rate), c->tr.slope * 60.0);
		rc = text_add(out, "%s%-27s %10s %12s%s", c->growing ? "!" : " ", esc, now, rate,
		              c->growing ? "  growing" : "");
	}
out:
	mw_sysview_release(&v);
	return rc;
}

/* Flag, kind, object, size, held, attachments, creator. */
#define IPC_ROW "%s%-9s %-28.28s %9s %9s %6s %s"

/* The same names as memwatch ipc (mw_ipc_label and company), in top's narrower columns. */
static int ipc_line(struct top_model *m, struct top_text *out, const struct mw_ipc_view *o)
{
	char lbl[400], name[400], cr[200], esc[300], size[32], held[32], att[32];

	mw_ipc_label(&o->o, lbl, sizeof(lbl));
	mw_escape_term(lbl, strlen(lbl), name, sizeof(name), m->opt.utf8);
	mw_ipc_creator_label(o, cr, sizeof(cr));
	mw_escape_term(cr, strlen(cr), esc, sizeof(esc), m->opt.utf8);
	return text_add(out, IPC_ROW "%s", o->orphan ? "!" : " ", mw_ipc_kind_names[o->o.kind],
	                name, mw_ipc_size_label(&o->o, size, sizeof(size)),
	                mw_fmt_bytes(held, sizeof(held), o->o.bytes),
	                mw_ipc_attach_label(&o->o, att, sizeof(att)), esc,
	                o->orphan ? "  ORPHAN" : "");
}

int top_src_ipc(struct top_model *m, struct top_text *out)
{
	int rc;

	if (m->src == TOP_FROM_STORE) {
		struct mw_sysview v;

		rc = sysview(m, MW_SV_IPC, &v);
		if (rc < 0)
			return rc;
		rc = text_add(out, IPC_ROW, " ", "KIND", "OBJECT", "SIZE", "HELD", "ATTACH",
		              "CREATOR");
		for (size_t i = 0; i < v.nipc && rc == 0; i++)
			rc = ipc_line(m, out, &v.ipc[i]);
		if (rc == 0 && !v.ipc_ok)
			rc = text_add(out, "%s", v.ipc_note);
		mw_sysview_release(&v);
		return rc;
	}
	/* Embedded: the objects now; an attachment-less shm segment is an orphan. */
	{
		struct mw_ipc_set set = {0};

		rc = mw_ipc_read("", false, &set);
		if (rc == 0)
			rc = text_add(out, IPC_ROW, " ", "KIND", "OBJECT", "SIZE", "HELD", "ATTACH",
			              "CREATOR");
		for (size_t i = 0; i < set.n && rc == 0; i++) {
			struct mw_ipc_view o = {.o = set.v[i], .orphan = set.v[i].nattch == 0};
			rc = ipc_line(m, out, &o);
		}
		free(set.v);
	}
	return rc;
}

/* The rows as a process set, the shape the forecast reads. */
static int rows_as_set(struct top_model *m, struct mw_proc_set *set)
{
	set->v = calloc(m->n ? m->n : 1, sizeof(*set->v));
	if (!set->v)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		struct mw_proc_sample *p = &set->v[set->n++];
		const struct top_row *r = &m->rows[i];

		p->pid = r->pid;
		p->ppid = r->ppid;
		p->uid = r->uid;
		p->start_ticks = r->start_ticks;
		memcpy(p->comm, r->comm, sizeof(p->comm));
		memcpy(p->m, r->m, sizeof(p->m));
		p->cmdline = r->cmdline; /* borrowed */
		p->cgroup = r->cgroup;
	}
	return 0;
}

int top_src_oom_forecast(struct top_model *m, struct top_text *out)
{
	struct mw_proc_set set = {0};
	struct mw_oom_forecast f;
	struct mw_sysview v;
	bool have_view;
	char t[32], avail[32];
	int rc;

	if (!m->sys.valid)
		return -ENODATA;
	rc = rows_as_set(m, &set);
	if (rc < 0)
		return rc;
	have_view = sysview(m, 0, &v) == 0;
	rc = cli_oom_forecast(m->src == TOP_FROM_STORE ? m->store : NULL, m->now_ms, &set,
	                      &m->sys.now, have_view ? &v : NULL, &f);
	if (have_view)
		mw_sysview_release(&v);
	free(set.v);
	if (rc < 0)
		return rc;
	mw_fmt_bytes(avail, sizeof(avail), f.mem_available);
	if (isnan(f.seconds_to_oom))
		rc = text_add(out, "MemAvailable %s, not falling%s", avail,
		              have_view ? "" : " (trend needs a recording)");
	else
		rc = text_add(out, "!MemAvailable %s, exhausted in %s at the current rate", avail,
		              mw_fmt_duration(t, sizeof(t), (uint64_t)(f.seconds_to_oom * 1e9)));
	if (rc == 0 && f.victim_at_oom >= 0) {
		char esc[128];
		const struct mw_oom_candidate *c = &f.v[f.victim_at_oom];

		mw_escape_term(c->comm, strlen(c->comm), esc, sizeof(esc), m->opt.utf8);
		rc = text_add(out, "!then the kernel kills pid %d (%s)", (int)c->pid, esc);
	}
	for (size_t i = 0; i < f.n && i < 3 && rc == 0; i++) {
		const struct mw_oom_candidate *c = &f.v[i];
		char esc[128];

		if (isnan(c->seconds_to_limit))
			continue;
		mw_escape_term(c->comm, strlen(c->comm), esc, sizeof(esc), m->opt.utf8);
		rc = text_add(out, "!pid %d (%s) reaches its cgroup limit in %s", (int)c->pid, esc,
		              mw_fmt_duration(t, sizeof(t), (uint64_t)(c->seconds_to_limit * 1e9)));
	}
	for (size_t i = 0; i < f.nprotect && rc == 0; i++) {
		char esc[128];

		mw_escape_term(f.protect[i].comm, strlen(f.protect[i].comm), esc, sizeof(esc),
		               m->opt.utf8);
		rc = text_add(out, "critical service %s (pid %d) can be killed: oom_score_adj %lld",
		              esc, (int)f.protect[i].pid, (long long)f.protect[i].adj);
	}
	mw_oom_forecast_release(&f);
	return rc;
}

/* How memwatch saw a kill, in the words of `memwatch oom`. */
static const char *kill_seen_by(const struct mw_oom_kill *k)
{
	if (k->from_event)
		return "event";
	return k->in_kernel_log ? "oom_kill counter + kernel log" : "oom_kill counter";
}

/*
 * The kills `memwatch oom` lists (its history, read at refresh), newest
 * first: who, memory at the kill, how it was seen, what grew before it.
 */
int top_src_oom_history(struct top_model *m, struct top_text *out)
{
	const struct mw_oom_history *h = &m->oom.h;
	char span[32];
	int rc = 0;

	if (m->src != TOP_FROM_STORE)
		return -EOPNOTSUPP;
	if (m->oom.rc < 0)
		return m->oom.rc;
	for (size_t i = h->n; i-- > 0 && rc == 0;) {
		const struct mw_oom_kill *k = &h->v[i];
		char when[32], rss[32], lim[32], a[32], b[32], d[32], comm[4 * MW_COMM_MAX];

		mw_fmt_time(when, sizeof(when), (uint64_t)k->t_ms * 1000000ull);
		mw_escape_term(k->comm, strlen(k->comm), comm, sizeof(comm), m->opt.utf8);
		mw_fmt_bytes(rss, sizeof(rss), k->rss);
		if (k->cgroup_limit != MW_UNKNOWN)
			snprintf(lim, sizeof(lim), "  cgroup limit %s",
			         mw_fmt_bytes(a, sizeof(a), k->cgroup_limit));
		else
			lim[0] = '\0';
		rc = text_add(out, "!%s  pid %-8d %-16s rss %s%s  (%s)", when, (int)k->pid,
		              comm[0] ? comm : "?", rss, lim, kill_seen_by(k));
		if (rc == 0 && k->rss_before != MW_UNKNOWN && k->rss_last != MW_UNKNOWN &&
		    k->npoints > 0)
			rc = text_add(out, "    before: rss %s -> %s over %s",
			              mw_fmt_bytes(a, sizeof(a), k->rss_before),
			              mw_fmt_bytes(b, sizeof(b), k->rss_last),
			              mw_fmt_duration(d, sizeof(d),
			                              (uint64_t)(k->last_sample_ms - k->pt_ms[0]) *
			                                      1000000ull));
	}
	/* Rises no event explains and no recorded process matches still are kills. */
	if (rc == 0 && h->counter_total != MW_UNKNOWN && h->counter_total > (int64_t)h->n)
		rc = text_add(out,
		              "!vmstat oom_kill rose by %lld in the last %s: %lld victim(s) died"
		              " before memwatchd recorded them",
		              (long long)h->counter_total,
		              mw_fmt_duration(span, sizeof(span), TOP_OOM_LIST_MS * 1000000ull),
		              (long long)(h->counter_total - (int64_t)h->n));
	return rc;
}
