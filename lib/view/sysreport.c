/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/view/sysreport.h"
#include "memwatch/view/report.h"
#include "memwatch/view/syshyp.h"
#include "htmlstyle.h"
#include "memwatch/base/format.h"
#include "memwatch/base/json.h"
#include "memwatch/base/util.h"

#include <math.h>
#include <string.h>

static const char *source_kind(const struct mw_sysview *v)
{
	return v->source == MW_SYSVIEW_STORE ? "store" : "live";
}

static int64_t last_mem(const struct mw_sysview *v, int mi)
{
	return v->n ? v->sys[v->n - 1].mem[mi] : MW_UNKNOWN;
}

static const char *esc(const char *in, char *out, size_t cap, bool utf8)
{
	mw_escape_term(in, strlen(in), out, cap, utf8);
	return out;
}

static int64_t age_s(const struct mw_sysview *v, const struct mw_ipc_view *o)
{
	if (o->o.ctime != MW_UNKNOWN && o->o.ctime > 0 && v->to_ms / 1000 >= o->o.ctime)
		return v->to_ms / 1000 - o->o.ctime;
	return MW_UNKNOWN;
}

void mw_ipc_label(const struct mw_ipc_obj *o, char *buf, size_t cap)
{
	if (o->kind == MW_IPC_posix_shm)
		snprintf(buf, cap, "/dev/shm/%s", o->name);
	else if (o->kind == MW_IPC_mqueue)
		snprintf(buf, cap, "/dev/mqueue/%s", o->name);
	else
		snprintf(buf, cap, "id %lld key 0x%08llx", (long long)o->id,
		         (unsigned long long)(uint32_t)o->key);
}

void mw_ipc_creator_label(const struct mw_ipc_view *o, char *buf, size_t cap)
{
	if (o->o.kind == MW_IPC_msg) {
		if (o->o.lpid > 0 && o->writer_known)
			snprintf(buf, cap, "sender %s[%d]", o->writer_comm, (int)o->o.lpid);
		else if (o->o.lpid > 0)
			snprintf(buf, cap, "sender pid %d (unknown)", (int)o->o.lpid);
		else
			snprintf(buf, cap, "-");
	} else if (o->o.cpid <= 0) {
		if (o->nholders > 0)
			snprintf(buf, cap, "held by %s[%d]", o->holders[0].comm,
			         (int)o->holders[0].pid);
		else
			snprintf(buf, cap, "-");
	} else if (o->creator_known) {
		snprintf(buf, cap, "%s[%d]%s", o->creator_comm, (int)o->o.cpid,
		         o->creator_alive ? "" : " (exited)");
	} else {
		snprintf(buf, cap, "pid %d (unknown)", (int)o->o.cpid);
	}
}

const char *mw_ipc_size_label(const struct mw_ipc_obj *o, char *buf, size_t cap)
{
	/* A semaphore set's size is how many semaphores it has, not bytes. */
	if (o->kind == MW_IPC_sem && o->size != MW_UNKNOWN)
		snprintf(buf, cap, "%lld sem%s", (long long)o->size, o->size == 1 ? "" : "s");
	else
		mw_fmt_bytes(buf, cap, o->size);
	return buf;
}

const char *mw_ipc_attach_label(const struct mw_ipc_obj *o, char *buf, size_t cap)
{
	if (o->nattch == MW_UNKNOWN)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%lld", (long long)o->nattch);
	return buf;
}

/* ---- ipc ---- */

void mw_ipc_print_text(FILE *f, const struct mw_sysview *v, bool orphans_only,
                       const char *source_note, bool utf8)
{
	char lbl[400], cr[200], e1[600], e2[400], a[32], b[32], d[32], g[32], h[32];
	size_t shown = 0;

	fprintf(f, "source: %s\n", source_note);
	if (v->ipc_note[0])
		fprintf(f, "note: %s\n", v->ipc_note);
	fprintf(f, "%-13s %-30s %6s %-26s %10s %10s %6s %9s %12s\n", "KIND", "OBJECT", "OWNER",
	        "CREATOR", "SIZE", "HELD", "ATTACH", "AGE", "GROWTH/h");
	for (size_t i = 0; i < v->nipc; i++) {
		const struct mw_ipc_view *o = &v->ipc[i];
		int64_t age = age_s(v, o);
		if (orphans_only && !o->orphan)
			continue;
		mw_ipc_label(&o->o, lbl, sizeof(lbl));
		mw_ipc_creator_label(o, cr, sizeof(cr));
		fprintf(f, "%-13s %-30s %6u %-26s %10s %10s %6s %9s %12s\n",
		        mw_ipc_kind_names[o->o.kind], esc(lbl, e1, sizeof(e1), utf8), o->o.uid,
		        esc(cr, e2, sizeof(e2), utf8), mw_ipc_size_label(&o->o, a, sizeof(a)),
		        mw_fmt_bytes(b, sizeof(b), o->o.bytes),
		        mw_ipc_attach_label(&o->o, g, sizeof(g)),
		        age == MW_UNKNOWN
		                ? "?"
		                : mw_fmt_duration(d, sizeof(d), (uint64_t)age * 1000000000ull),
		        isfinite(o->tr.slope) && o->n >= 2
		                ? mw_fmt_bytes_delta(h, sizeof(h), o->tr.slope * 3600)
		                : "-");
		shown++;
	}
	if (!shown)
		fprintf(f, "(none%s)\n", orphans_only ? ": no orphaned shared memory" : "");
}

static void ipc_obj_json(struct mw_json *j, const struct mw_sysview *v, const struct mw_ipc_view *o)
{
	mw_json_obj_open(j, NULL);
	mw_json_str(j, "kind", mw_ipc_kind_names[o->o.kind]);
	mw_json_str(j, "ident", o->o.ident);
	mw_json_int(j, "key", o->o.key);
	mw_json_int(j, "id", o->o.id);
	mw_json_str(j, "name", o->o.name);
	mw_json_int(j, "uid", o->o.uid);
	mw_json_int(j, "cuid", o->o.cuid);
	mw_json_int(j, "size", o->o.size);
	mw_json_int(j, "bytes", o->o.bytes);
	mw_json_int(j, "nattch", o->o.nattch);
	mw_json_int(j, "qnum", o->o.qnum);
	mw_json_int(j, "cpid", o->o.cpid ? o->o.cpid : MW_UNKNOWN);
	if (o->creator_known) {
		mw_json_str(j, "creator_comm", o->creator_comm);
		mw_json_bool(j, "creator_alive", o->creator_alive);
	} else {
		mw_json_null(j, "creator_comm");
		mw_json_null(j, "creator_alive");
	}
	mw_json_int(j, "lpid", o->o.lpid ? o->o.lpid : MW_UNKNOWN);
	mw_json_int(j, "lrpid", o->o.lrpid ? o->o.lrpid : MW_UNKNOWN);
	if (o->writer_known)
		mw_json_str(j, "writer_comm", o->writer_comm);
	else
		mw_json_null(j, "writer_comm");
	mw_json_arr_open(j, "holders");
	for (int k = 0; k < o->nholders; k++) {
		mw_json_obj_open(j, NULL);
		mw_json_int(j, "pid", o->holders[k].pid);
		mw_json_str(j, "comm", o->holders[k].comm);
		mw_json_bool(j, "writer", o->holders[k].writer);
		mw_json_obj_close(j);
	}
	mw_json_arr_close(j);
	mw_json_int(j, "ctime", o->o.ctime);
	mw_json_int(j, "atime", o->o.atime);
	mw_json_int(j, "dtime", o->o.dtime);
	mw_json_int(j, "age_s", age_s(v, o));
	mw_json_num(j, "bytes_per_s", o->n >= 2 ? o->tr.slope : NAN);
	mw_json_int(j, "samples", (int64_t)o->n);
	mw_json_bool(j, "orphan", o->orphan);
	mw_json_obj_close(j);
}

void mw_ipc_print_json(FILE *f, const struct mw_sysview *v, bool orphans_only,
                       const char *source_note)
{
	struct mw_json j;

	mw_json_init(&j, f, true);
	mw_json_obj_open(&j, NULL);
	mw_json_obj_open(&j, "source");
	mw_json_str(&j, "kind", source_kind(v));
	mw_json_str(&j, "note", source_note);
	mw_json_obj_close(&j);
	mw_json_str(&j, "note", v->ipc_note[0] ? v->ipc_note : NULL);
	mw_json_arr_open(&j, "objects");
	for (size_t i = 0; i < v->nipc; i++)
		if (!orphans_only || v->ipc[i].orphan)
			ipc_obj_json(&j, v, &v->ipc[i]);
	mw_json_arr_close(&j);
	mw_json_obj_close(&j);
	mw_json_end(&j);
}

/* ---- report --system: text ---- */

static void print_hyps_text(FILE *f, const struct mw_sysreport *r, bool utf8)
{
	char e[2048], line[MW_SYSHYP_TITLE_MAX];

	fprintf(f, "\nHypotheses:\n");
	if (r->hyps.n == 0)
		fprintf(f, "  none: no system-side growth, backlog, pressure or OOM risk found\n");
	for (size_t i = 0; i < r->hyps.n; i++) {
		const struct mw_syshyp *h = &r->hyps.v[i];
		mw_syshyp_title(h, line, sizeof(line));
		fprintf(f, "  [%s, item %d, confidence %.2f] %s\n", h->rule->id,
		        h->rule->domain_item, h->score, esc(line, e, sizeof(e), utf8));
		for (size_t k = 0; k < h->nfacts; k++) {
			mw_sysfact_text(&h->facts[k], line, MW_SYSFACT_TEXT_MAX);
			fprintf(f, "      - %s\n", esc(line, e, sizeof(e), utf8));
		}
		for (size_t k = 0; k < h->nadvice; k++)
			fprintf(f, "      advice: vm.%s = %lld (now %lld): %s\n",
			        h->advice[k].tunable, (long long)h->advice[k].suggested,
			        (long long)h->advice[k].current, h->advice[k].why);
		mw_syshyp_next_step(h, line, MW_SYSHYP_NEXT_MAX);
		fprintf(f, "      next: %s\n", esc(line, e, sizeof(e), utf8));
	}
}

static void print_slab_text(FILE *f, const struct mw_sysview *v)
{
	char a[32], b[32];
	size_t shown = 0;

	fprintf(f, "\nSlab caches:");
	if (!v->slab_ok) {
		fprintf(f, " %s\n", v->slab_why);
		return;
	}
	fprintf(f, " growing (by Theil-Sen slope, significant and not a sawtooth):\n");
	for (size_t i = 0; i < v->nslab && v->slab[i].growing && shown < 10; i++, shown++) {
		const struct mw_slab_view *s = &v->slab[i];
		fprintf(f, "  %2zu. %-24s %10s  %s/s  p=%.3g%s%s%s\n", shown + 1, s->name,
		        mw_fmt_bytes(a, sizeof(a), s->bytes_now),
		        mw_fmt_bytes_delta(b, sizeof(b), s->tr.slope), s->tr.mk_p,
		        s->aliases[0] ? "  (shares slab with " : "", s->aliases,
		        s->aliases[0] ? ")" : "");
	}
	if (!shown)
		fprintf(f, "  none\n");
}

void mw_sysreport_print_text(FILE *f, const struct mw_sysreport *r, bool utf8)
{
	const struct mw_sysview *v = &r->v;
	char a[32], b[32], c[32], d[32], t1[32], t2[32];
	size_t orphans = 0;

	fprintf(f, "System memory report\n");
	mw_report_host_text(f, r->host, utf8);
	fprintf(f, "  source   %s\n", r->source_note);
	fprintf(f, "  window   %s .. %s (%s, %zu samples)\n",
	        mw_fmt_time(t1, sizeof(t1), (uint64_t)v->from_ms * 1000000ull),
	        mw_fmt_time(t2, sizeof(t2), (uint64_t)v->to_ms * 1000000ull),
	        mw_fmt_duration(d, sizeof(d), (uint64_t)(v->to_ms - v->from_ms) * 1000000ull),
	        v->n);
	fprintf(f, "  memory   total %s, available %s, slab %s (unreclaimable %s)\n",
	        mw_fmt_bytes(a, sizeof(a), last_mem(v, MW_MI_mem_total)),
	        mw_fmt_bytes(b, sizeof(b), last_mem(v, MW_MI_mem_available)),
	        mw_fmt_bytes(c, sizeof(c), last_mem(v, MW_MI_slab)),
	        mw_fmt_bytes(d, sizeof(d), last_mem(v, MW_MI_sunreclaim)));
	print_hyps_text(f, r, utf8);
	print_slab_text(f, v);
	for (size_t i = 0; i < v->nipc; i++)
		orphans += v->ipc[i].orphan;
	fprintf(f, "\nIPC: %zu objects, %zu orphan candidate(s) (memwatch ipc --orphans)%s%s\n",
	        v->nipc, orphans, v->ipc_note[0] ? "; " : "", v->ipc_note);
	fprintf(f, "\nReclaim: %d NUMA node(s)", v->numa_nodes);
	for (int i = 0; i < MW_TUN_COUNT; i++)
		fprintf(f, "%s %s=%lld", i ? "," : ";", mw_tunable_names[i],
		        (long long)v->tun.v[i]);
	fprintf(f, "\n");
	for (size_t i = 0; i < v->zones.n; i++) {
		const struct mw_zone *z = &v->zones.v[i];
		if (z->managed <= 0)
			continue;
		fprintf(f,
		        "  node %d %-8s free %lld pages, min %lld, low %lld, high %lld, managed "
		        "%lld\n",
		        z->node, z->name, (long long)z->free, (long long)z->min, (long long)z->low,
		        (long long)z->high, (long long)z->managed);
	}
	for (size_t i = 0; i < r->nadvice; i++)
		fprintf(f, "  advice: vm.%s = %lld (now %lld): %s\n", r->advice[i].tunable,
		        (long long)r->advice[i].suggested, (long long)r->advice[i].current,
		        r->advice[i].why);
	if (r->have_forecast && r->forecast.n) {
		const struct mw_oom_forecast *fc = &r->forecast;
		char e[256];
		fprintf(f, "\nOOM: next victim %s[%d] (score %lld)",
		        esc(fc->v[0].comm, e, sizeof(e), utf8), (int)fc->v[0].pid,
		        (long long)fc->v[0].score);
		if (isfinite(fc->seconds_to_oom))
			fprintf(f, "; MemAvailable reaches 0 in %s",
			        mw_fmt_duration(a, sizeof(a),
			                        (uint64_t)(fc->seconds_to_oom * 1e9)));
		fprintf(f, " (memwatch oom for details)\n");
	}
}

/* ---- JSON ---- */

static void hyps_json(struct mw_json *j, const struct mw_syshyp_set *hs)
{
	char line[MW_SYSHYP_TITLE_MAX];

	mw_json_arr_open(j, "hypotheses");
	for (size_t i = 0; i < hs->n; i++) {
		const struct mw_syshyp *h = &hs->v[i];
		mw_json_obj_open(j, NULL);
		mw_json_str(j, "rule", h->rule->id);
		mw_json_int(j, "item", h->rule->domain_item);
		mw_json_str(j, "title", mw_syshyp_title(h, line, sizeof(line)));
		mw_json_num(j, "score", h->score);
		mw_json_str(j, "subject", mw_syshyp_subject(h, line, MW_SYSHYP_SUBJECT_MAX));
		mw_json_int(j, "pid", h->pid ? h->pid : MW_UNKNOWN);
		mw_json_str(j, "comm", h->comm[0] ? h->comm : NULL);
		mw_json_arr_open(j, "evidence");
		for (size_t k = 0; k < h->nfacts; k++)
			mw_json_str(j, NULL,
			            mw_sysfact_text(&h->facts[k], line, MW_SYSFACT_TEXT_MAX));
		mw_json_arr_close(j);
		mw_json_arr_open(j, "advice");
		for (size_t k = 0; k < h->nadvice; k++) {
			mw_json_obj_open(j, NULL);
			mw_json_str(j, "tunable", h->advice[k].tunable);
			mw_json_int(j, "current", h->advice[k].current);
			mw_json_int(j, "suggested", h->advice[k].suggested);
			mw_json_str(j, "why", h->advice[k].why);
			mw_json_obj_close(j);
		}
		mw_json_arr_close(j);
		mw_json_num(j, "seconds_to_exhaustion", h->seconds_to_exhaustion);
		mw_json_str(j, "next_step", mw_syshyp_next_step(h, line, MW_SYSHYP_NEXT_MAX));
		/* The same findings as numbers: facts[k] is what evidence[k] says. */
		mw_sysfact_json(j, "headline", &h->head);
		mw_json_arr_open(j, "facts");
		for (size_t k = 0; k < h->nfacts; k++)
			mw_sysfact_json(j, NULL, &h->facts[k]);
		mw_json_arr_close(j);
		mw_json_obj_close(j);
	}
	mw_json_arr_close(j);
}

static void slab_json(struct mw_json *j, const struct mw_sysview *v)
{
	mw_json_obj_open(j, "slab");
	mw_json_bool(j, "available", v->slab_ok);
	mw_json_str(j, "why", v->slab_ok ? NULL : v->slab_why);
	mw_json_arr_open(j, "growing");
	for (size_t i = 0; i < v->nslab && v->slab[i].growing; i++) {
		const struct mw_slab_view *s = &v->slab[i];
		mw_json_obj_open(j, NULL);
		mw_json_str(j, "name", s->name);
		mw_json_str(j, "aliases", s->aliases);
		mw_json_int(j, "bytes", s->bytes_now);
		mw_json_int(j, "objects", s->objs_now);
		mw_json_int(j, "objsize", s->objsize);
		mw_json_num(j, "bytes_per_s", s->tr.slope);
		mw_json_num(j, "growth", s->tr.last - s->tr.first);
		mw_json_num(j, "mk_p", s->tr.mk_p);
		mw_json_int(j, "samples", (int64_t)s->n);
		mw_json_obj_close(j);
	}
	mw_json_arr_close(j);
	mw_json_int(j, "caches", (int64_t)v->nslab);
	mw_json_obj_close(j);
}

static void reclaim_json(struct mw_json *j, const struct mw_sysreport *r)
{
	const struct mw_sysview *v = &r->v;

	mw_json_obj_open(j, "reclaim");
	mw_json_int(j, "numa_nodes", v->numa_nodes);
	mw_json_obj_open(j, "tunables");
	for (int i = 0; i < MW_TUN_COUNT; i++)
		mw_json_int(j, mw_tunable_names[i], v->tun.v[i]);
	mw_json_obj_close(j);
	mw_json_arr_open(j, "zones");
	for (size_t i = 0; i < v->zones.n; i++) {
		const struct mw_zone *z = &v->zones.v[i];
		mw_json_obj_open(j, NULL);
		mw_json_int(j, "node", z->node);
		mw_json_str(j, "zone", z->name);
		mw_json_int(j, "free_pages", z->free);
		mw_json_int(j, "min_pages", z->min);
		mw_json_int(j, "low_pages", z->low);
		mw_json_int(j, "high_pages", z->high);
		mw_json_int(j, "managed_pages", z->managed);
		mw_json_obj_close(j);
	}
	mw_json_arr_close(j);
	mw_json_arr_open(j, "advice");
	for (size_t i = 0; i < r->nadvice; i++) {
		mw_json_obj_open(j, NULL);
		mw_json_str(j, "tunable", r->advice[i].tunable);
		mw_json_int(j, "current", r->advice[i].current);
		mw_json_int(j, "suggested", r->advice[i].suggested);
		mw_json_str(j, "why", r->advice[i].why);
		mw_json_obj_close(j);
	}
	mw_json_arr_close(j);
	mw_json_obj_close(j);
}

void mw_sysreport_print_json(FILE *f, const struct mw_sysreport *r)
{
	const struct mw_sysview *v = &r->v;
	struct mw_json j;

	mw_json_init(&j, f, true);
	mw_json_obj_open(&j, NULL);
	mw_json_str(&j, "hostname", r->host[0] ? r->host : NULL);
	mw_json_obj_open(&j, "source");
	mw_json_str(&j, "kind", source_kind(v));
	mw_json_str(&j, "note", r->source_note);
	mw_json_obj_close(&j);
	mw_json_obj_open(&j, "window");
	mw_json_int(&j, "from_ms", v->from_ms);
	mw_json_int(&j, "to_ms", v->to_ms);
	mw_json_num(&j, "seconds", (double)(v->to_ms - v->from_ms) / 1000.0);
	mw_json_int(&j, "samples", (int64_t)v->n);
	mw_json_obj_close(&j);
	mw_json_obj_open(&j, "memory");
	for (int i = 0; i < MW_MI_COUNT; i++)
		mw_json_int(&j, mw_meminfo_columns[i], last_mem(v, i));
	mw_json_obj_close(&j);
	hyps_json(&j, &r->hyps);
	slab_json(&j, v);
	mw_json_obj_open(&j, "ipc");
	mw_json_int(&j, "objects", (int64_t)v->nipc);
	mw_json_str(&j, "note", v->ipc_note[0] ? v->ipc_note : NULL);
	mw_json_arr_open(&j, "orphans");
	for (size_t i = 0; i < v->nipc; i++)
		if (v->ipc[i].orphan)
			ipc_obj_json(&j, v, &v->ipc[i]);
	mw_json_arr_close(&j);
	mw_json_obj_close(&j);
	reclaim_json(&j, r);
	mw_json_obj_open(&j, "oom");
	if (r->have_forecast && r->forecast.n) {
		mw_json_int(&j, "next_victim_pid", r->forecast.v[0].pid);
		mw_json_str(&j, "next_victim_comm", r->forecast.v[0].comm);
		mw_json_num(&j, "seconds_to_oom", r->forecast.seconds_to_oom);
	} else {
		mw_json_null(&j, "next_victim_pid");
	}
	mw_json_obj_close(&j);
	mw_json_obj_close(&j);
	mw_json_end(&j);
}

/* ---- HTML ---- */

/* Terminal-safe first (no control bytes, valid UTF-8), then HTML's five specials. */
void mw_sysreport_print_html(FILE *f, const struct mw_sysreport *r)
{
	const struct mw_sysview *v = &r->v;
	char a[32], b[32], line[MW_SYSHYP_TITLE_MAX];

	mw_html_head(f, MW_HTML_SYSTEM, "memwatch: system report");
	fputs("<h1>System memory report</h1>\n<p>host <span class=\"host\">", f);
	mw_html_escape(f, r->host[0] ? r->host : "(not recorded)");
	fputs("</span></p>\n<p>", f);
	mw_html_escape(f, r->source_note);
	fputs("</p>\n<h2>Hypotheses</h2>\n", f);
	if (r->hyps.n == 0)
		fputs("<p>None.</p>\n", f);
	for (size_t i = 0; i < r->hyps.n; i++) {
		const struct mw_syshyp *h = &r->hyps.v[i];
		fprintf(f, "<div class=\"h\" id=\"%s\"><b>", h->rule->id);
		mw_html_escape(f, mw_syshyp_title(h, line, sizeof(line)));
		fprintf(f, "</b> (item %d, confidence %.2f)<ul>", h->rule->domain_item, h->score);
		for (size_t k = 0; k < h->nfacts; k++) {
			fputs("<li>", f);
			mw_html_escape(f, mw_sysfact_text(&h->facts[k], line, MW_SYSFACT_TEXT_MAX));
			fputs("</li>", f);
		}
		for (size_t k = 0; k < h->nadvice; k++) {
			fprintf(f, "<li>advice: vm.%s = %lld (now %lld): ", h->advice[k].tunable,
			        (long long)h->advice[k].suggested, (long long)h->advice[k].current);
			mw_html_escape(f, h->advice[k].why);
			fputs("</li>", f);
		}
		fputs("</ul>Next: ", f);
		mw_html_escape(f, mw_syshyp_next_step(h, line, MW_SYSHYP_NEXT_MAX));
		fputs("</div>\n", f);
	}
	fputs("<h2>Slab caches growing</h2>\n", f);
	if (!v->slab_ok) {
		fputs("<p>", f);
		mw_html_escape(f, v->slab_why);
		fputs("</p>\n", f);
	} else {
		fputs("<table><tr><th>cache</th><th>size</th><th>per second</th><th>p</th></tr>\n",
		      f);
		for (size_t i = 0; i < v->nslab && v->slab[i].growing; i++) {
			fputs("<tr><td>", f);
			mw_html_escape(f, v->slab[i].name);
			fprintf(f, "</td><td>%s</td><td>%s</td><td>%.3g</td></tr>\n",
			        mw_fmt_bytes(a, sizeof(a), v->slab[i].bytes_now),
			        mw_fmt_bytes_delta(b, sizeof(b), v->slab[i].tr.slope),
			        v->slab[i].tr.mk_p);
		}
		fputs("</table>\n", f);
	}
	fputs("<h2>Tunable advice</h2>\n<ul>", f);
	for (size_t i = 0; i < r->nadvice; i++) {
		fprintf(f, "<li>vm.%s = %lld (now %lld): ", r->advice[i].tunable,
		        (long long)r->advice[i].suggested, (long long)r->advice[i].current);
		mw_html_escape(f, r->advice[i].why);
		fputs("</li>", f);
	}
	fputs("</ul>\n</body></html>\n", f);
}
