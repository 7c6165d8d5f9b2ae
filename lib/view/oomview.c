/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/view/oomview.h"
#include "memwatch/base/format.h"
#include "memwatch/base/json.h"
#include "memwatch/base/util.h"

#include <math.h>
#include <string.h>

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
