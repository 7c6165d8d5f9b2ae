/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/syshyp.h"
#include "memwatch/analyse/tuneadvice.h"
#include "memwatch/base/util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int64_t mw_vmstat_allocstall(const int64_t vm[MW_VM_COUNT])
{
	const int idx[] = {MW_VM_allocstall_dma, MW_VM_allocstall_dma32, MW_VM_allocstall_normal,
	                   MW_VM_allocstall_movable, MW_VM_allocstall_device};
	int64_t sum = MW_UNKNOWN;

	for (size_t i = 0; i < MW_ARRAY_SIZE(idx); i++) {
		if (vm[idx[i]] == MW_UNKNOWN)
			continue;
		sum = (sum == MW_UNKNOWN ? 0 : sum) + vm[idx[i]];
	}
	return sum;
}

const struct mw_sysrule mw_sysrules[MW_SYSRULE_COUNT] = {
        [MW_SYSRULE_ORPHANED_SHM] = {"orphaned-shm", 6},
        [MW_SYSRULE_IPC_BACKLOG] = {"ipc-backlog", 8},
        [MW_SYSRULE_SLAB_GROWTH] = {"slab-growth", 9},
        [MW_SYSRULE_MEMORY_PRESSURE] = {"memory-pressure", 10},
        [MW_SYSRULE_OOM_RISK] = {"oom-risk", 11},
};

const char *const mw_sysfact_kind_names[MW_SF_COUNT] = {
        [MW_SF_SHM_ORPHANS] = "shm-orphans",
        [MW_SF_QUEUE_BACKLOG] = "queue-backlog",
        [MW_SF_CACHE_GROWTH] = "cache-growth",
        [MW_SF_SUNRECLAIM_GROWTH] = "sunreclaim-growth",
        [MW_SF_PRESSURE] = "pressure",
        [MW_SF_OOM_ETA] = "oom-eta",
        [MW_SF_SHM_SEGMENT] = "shm-segment",
        [MW_SF_POSIX_UNHELD] = "posix-shm-unheld",
        [MW_SF_QUEUE_BYTES] = "queue-bytes",
        [MW_SF_QUEUE_MESSAGES] = "queue-messages",
        [MW_SF_CACHE] = "cache",
        [MW_SF_CACHE_ALSO] = "cache-also-growing",
        [MW_SF_SUNRECLAIM_TOO] = "sunreclaim-too",
        [MW_SF_SUNRECLAIM] = "sunreclaim",
        [MW_SF_IN_STEP] = "in-step",
        [MW_SF_NONE_IN_STEP] = "none-in-step",
        [MW_SF_RECLAIM] = "reclaim",
        [MW_SF_PSI] = "psi",
        [MW_SF_ADVICE] = "advice",
        [MW_SF_MEM_AVAILABLE] = "mem-available",
        [MW_SF_NEXT_VICTIM] = "next-victim",
        [MW_SF_VICTIM_AT_OOM] = "victim-at-oom",
        [MW_SF_PROTECT] = "protect",
};

static struct mw_syshyp *hyp_new(struct mw_syshyp_set *set, enum mw_sysrule_id rule,
                                 enum mw_sysfact_kind head)
{
	struct mw_syshyp *h;

	if (set->n >= MW_SYSHYP_MAX)
		return NULL;
	h = &set->v[set->n++];
	memset(h, 0, sizeof(*h));
	h->rule = &mw_sysrules[rule];
	h->head.kind = head;
	h->seconds_to_exhaustion = NAN;
	return h;
}

/* The next evidence slot, zeroed; NULL when the hypothesis has as many as a report shows. */
static struct mw_sysfact *fact(struct mw_syshyp *h, enum mw_sysfact_kind kind)
{
	struct mw_sysfact *f;

	if (h->nfacts >= MW_HYP_EVIDENCE)
		return NULL;
	f = &h->facts[h->nfacts++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	return f;
}

static void proc_ref(struct mw_sysfact_proc *p, pid_t pid, bool known, const char *comm)
{
	p->pid = pid;
	p->known = known;
	snprintf(p->comm, sizeof(p->comm), "%s", known ? comm : "");
}

static void name_proc(struct mw_syshyp *h, pid_t pid, const char *comm)
{
	h->pid = pid;
	snprintf(h->comm, sizeof(h->comm), "%s", comm);
}

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Significantly rising: Theil–Sen up, Mann–Kendall below the threshold, last above first. */
static bool rising(const struct mw_trend *tr, size_t n)
{
	return n >= 3 && tr->slope > 0 && tr->mk_s > 0 && tr->mk_p < MW_HYP_TREND_P &&
	       tr->last > tr->first;
}

static int64_t age_s(int64_t now_ms, int64_t ctime_s)
{
	if (ctime_s == MW_UNKNOWN || ctime_s <= 0 || now_ms / 1000 < ctime_s)
		return MW_UNKNOWN;
	return now_ms / 1000 - ctime_s;
}

static void ipc_ref(struct mw_sysfact_ipc *q, const struct mw_ipc_obj *o)
{
	q->kind = o->kind;
	q->key = o->key;
	q->id = o->id;
	snprintf(q->name, sizeof(q->name), "%s", o->name);
}

/* Item 6, system side: SysV segments nobody has attached, /dev/shm files nobody holds. */
static void rule_orphaned_shm(const struct mw_sysview *v, const struct mw_oom_forecast *f,
                              struct mw_syshyp_set *set)
{
	struct mw_syshyp *h = NULL;
	int64_t total = 0, posix_total = 0;
	size_t nseg = 0, nposix = 0;

	(void)f;
	for (size_t i = 0; i < v->nipc; i++) {
		const struct mw_ipc_view *o = &v->ipc[i];
		if (o->orphan && o->o.kind == MW_IPC_shm && o->o.size >= MW_HYP_SHM_MIN_BYTES) {
			total += o->o.size;
			nseg++;
		} else if (o->orphan && o->o.kind == MW_IPC_posix_shm) {
			posix_total += o->o.bytes > 0 ? o->o.bytes : 0;
			nposix++;
		}
	}
	if (nseg == 0 && posix_total < MW_HYP_POSIX_MIN_BYTES)
		return;
	h = hyp_new(set, MW_SYSRULE_ORPHANED_SHM, MW_SF_SHM_ORPHANS);
	if (!h)
		return;
	h->head.shm_orphans.segments = nseg;
	h->head.shm_orphans.segment_bytes = total;
	h->head.shm_orphans.posix_files = nposix;
	h->head.shm_orphans.posix_bytes = posix_total;
	h->head.shm_orphans.posix_reported = posix_total >= MW_HYP_POSIX_MIN_BYTES;
	h->score = clamp01(0.5 + 0.1 * log10((double)(total + posix_total) / (64 << 10) + 1));
	for (size_t i = 0; i < v->nipc; i++) {
		const struct mw_ipc_view *o = &v->ipc[i];
		struct mw_sysfact *e;

		if (!o->orphan || o->o.kind != MW_IPC_shm || o->o.size < MW_HYP_SHM_MIN_BYTES)
			continue;
		if (!h->pid)
			name_proc(h, o->o.cpid, o->creator_comm);
		if (h->head.shm_orphans.nids < MW_SYSHYP_IDS)
			h->head.shm_orphans.ids[h->head.shm_orphans.nids++] = o->o.id;
		e = fact(h, MW_SF_SHM_SEGMENT);
		if (!e)
			continue;
		e->shm_segment.key = o->o.key;
		e->shm_segment.id = o->o.id;
		e->shm_segment.size = o->o.size;
		e->shm_segment.resident = o->o.bytes;
		e->shm_segment.age_s = age_s(v->to_ms, o->o.ctime);
		proc_ref(&e->shm_segment.creator, o->o.cpid, o->creator_known, o->creator_comm);
		e->shm_segment.creator.alive = o->creator_known && o->creator_alive;
	}
	if (posix_total >= MW_HYP_POSIX_MIN_BYTES) {
		struct mw_sysfact *e = fact(h, MW_SF_POSIX_UNHELD);
		if (e) {
			e->posix_unheld.files = nposix;
			e->posix_unheld.bytes = posix_total;
		}
	}
}

/* Item 8: a queue whose bytes keep rising because nobody reads it. */
static void rule_ipc_backlog(const struct mw_sysview *v, const struct mw_oom_forecast *f,
                             struct mw_syshyp_set *set)
{
	(void)f;
	for (size_t i = 0; i < v->nipc; i++) {
		const struct mw_ipc_view *o = &v->ipc[i];
		struct mw_syshyp *h;
		struct mw_sysfact *e;

		if (o->o.kind != MW_IPC_msg && o->o.kind != MW_IPC_mqueue)
			continue;
		if (!rising(&o->tr, o->n))
			continue;
		h = hyp_new(set, MW_SYSRULE_IPC_BACKLOG, MW_SF_QUEUE_BACKLOG);
		if (!h)
			return;
		ipc_ref(&h->head.queue_backlog.queue, &o->o);
		if (o->o.kind == MW_IPC_msg && o->o.lpid) {
			h->head.queue_backlog.writer = MW_SF_WRITER_SENDER;
			proc_ref(&h->head.queue_backlog.proc, o->o.lpid, o->writer_known,
			         o->writer_comm);
			name_proc(h, o->o.lpid, o->writer_known ? o->writer_comm : "");
		} else {
			for (int k = 0; k < o->nholders; k++)
				if (o->holders[k].writer && !h->pid) {
					h->head.queue_backlog.writer = MW_SF_WRITER_HOLDER;
					proc_ref(&h->head.queue_backlog.proc, o->holders[k].pid,
					         true, o->holders[k].comm);
					name_proc(h, o->holders[k].pid, o->holders[k].comm);
				}
		}
		h->score = clamp01(0.6 + (o->tr.mk_p < 0.01 ? 0.2 : 0) +
		                   (o->o.kind == MW_IPC_msg && o->o.lrpid == 0 ? 0.1 : 0));
		e = fact(h, MW_SF_QUEUE_BYTES);
		e->queue_bytes.first = o->tr.first;
		e->queue_bytes.last = o->tr.last;
		e->queue_bytes.bytes_per_s = o->tr.slope;
		e->queue_bytes.mk_p = o->tr.mk_p;
		e->queue_bytes.duration_ms = o->t_ms[o->n - 1] - o->t_ms[0];
		e->queue_bytes.samples = o->n;
		if (o->o.kind == MW_IPC_msg) {
			e = fact(h, MW_SF_QUEUE_MESSAGES);
			e->queue_messages.messages = o->o.qnum;
			e->queue_messages.last_sender = o->o.lpid;
			e->queue_messages.last_receiver = o->o.lrpid;
		}
	}
}

/* Processes whose fd or thread count rises in step with the cache. */
static void correlate(const struct mw_sysview *v, const struct mw_slab_view *c, struct mw_syshyp *h)
{
	double best = 0;
	double x[512], y[512];
	size_t n = c->n < 512 ? c->n : 512;

	for (size_t i = 0; i < v->nproc; i++) {
		const struct mw_proc_view *p = &v->procs[i];
		const double *series[2] = {p->fds, p->threads};
		const enum mw_sysfact_series what[2] = {MW_SF_SERIES_FDS, MW_SF_SERIES_THREADS};

		if (p->n < 2)
			continue;
		for (int s = 0; s < 2; s++) {
			double first = NAN, last = NAN, r;
			struct mw_sysfact *e;
			size_t m = 0;
			for (size_t k = 0; k < n; k++) {
				double val = mw_step_at(p->t_ms, series[s], p->n, c->t_ms[k]);
				if (isnan(val))
					continue;
				if (isnan(first))
					first = val;
				last = val;
				x[m] = c->bytes[k];
				y[m++] = val;
			}
			/*
			 * A magnitude as well as a rank: a cache growing by megabytes is
			 * not explained by a process that opened one more descriptor.
			 */
			if (m < 3 || !(last - first >= fmax(MW_HYP_CORR_MIN_RISE, 0.2 * first)))
				continue;
			r = mw_rank_correlation(x, y, m);
			if (!(r >= MW_HYP_CORR_MIN))
				continue;
			e = fact(h, MW_SF_IN_STEP);
			if (e) {
				proc_ref(&e->in_step.proc, p->pid, true, p->comm);
				e->in_step.series = what[s];
				e->in_step.first = first;
				e->in_step.last = last;
				e->in_step.correlation = r;
			}
			if (r * (last - first) > best) {
				best = r * (last - first);
				name_proc(h, p->pid, p->comm);
			}
		}
	}
}

static bool series_rise(const struct mw_sysview *v, int mi, struct mw_trend *tr)
{
	double t[4096], y[4096];
	size_t n = 0;

	for (size_t i = 0; i < v->n && n < 4096; i++) {
		if (v->sys[i].mem[mi] == MW_UNKNOWN)
			continue;
		t[n] = (double)(v->t_ms[i] - v->t_ms[0]) / 1000.0;
		y[n++] = (double)v->sys[i].mem[mi];
	}
	if (n < 3 || mw_trend_compute(t, y, n, tr) < 0)
		return false;
	return rising(tr, n);
}

static void sunreclaim_fact(struct mw_syshyp *h, enum mw_sysfact_kind kind,
                            const struct mw_trend *su)
{
	struct mw_sysfact *e = fact(h, kind);

	if (!e)
		return;
	e->sunreclaim.first = su->first;
	e->sunreclaim.last = su->last;
	e->sunreclaim.mk_p = su->mk_p;
}

/* Item 9: one cache (or SUnreclaim) growing without bound. */
static void rule_slab_growth(const struct mw_sysview *v, const struct mw_oom_forecast *f,
                             struct mw_syshyp_set *set)
{
	struct mw_trend su;
	bool su_rising = series_rise(v, MW_MI_sunreclaim, &su);
	struct mw_syshyp *h;
	struct mw_sysfact *e;

	(void)f;
	if (v->slab_ok && v->nslab && v->slab[0].growing) {
		const struct mw_slab_view *s = &v->slab[0];
		h = hyp_new(set, MW_SYSRULE_SLAB_GROWTH, MW_SF_CACHE_GROWTH);
		if (!h)
			return;
		snprintf(h->head.cache_growth.name, sizeof(h->head.cache_growth.name), "%s",
		         s->name);
		snprintf(h->head.cache_growth.aliases, sizeof(h->head.cache_growth.aliases), "%s",
		         s->aliases);
		h->head.cache_growth.bytes_per_s = s->tr.slope;
		h->score = clamp01(0.5 + (s->tr.mk_p < 0.01 ? 0.2 : 0) + (su_rising ? 0.1 : 0));
		e = fact(h, MW_SF_CACHE);
		snprintf(e->cache.name, sizeof(e->cache.name), "%s", s->name);
		e->cache.first = s->tr.first;
		e->cache.last = s->tr.last;
		e->cache.objects = s->objs_now;
		e->cache.objsize = s->objsize;
		e->cache.duration_ms = s->t_ms[s->n - 1] - s->t_ms[0];
		e->cache.mk_p = s->tr.mk_p;
		for (size_t i = 1; i < v->nslab && i < 3 && v->slab[i].growing; i++) {
			e = fact(h, MW_SF_CACHE_ALSO);
			snprintf(e->cache_also.name, sizeof(e->cache_also.name), "%s",
			         v->slab[i].name);
			e->cache_also.bytes_per_s = v->slab[i].tr.slope;
		}
		if (su_rising)
			sunreclaim_fact(h, MW_SF_SUNRECLAIM_TOO, &su);
		correlate(v, s, h);
		if (!h->pid)
			fact(h, MW_SF_NONE_IN_STEP);
		return;
	}
	if (!su_rising || su.last - su.first < MW_SLAB_MIN_GROWTH)
		return;
	h = hyp_new(set, MW_SYSRULE_SLAB_GROWTH, MW_SF_SUNRECLAIM_GROWTH);
	if (!h)
		return;
	h->head.sunreclaim_growth.bytes_per_s = su.slope;
	h->head.sunreclaim_growth.per_cache = v->slab_ok;
	h->score = 0.5;
	sunreclaim_fact(h, MW_SF_SUNRECLAIM, &su);
}

static int64_t counter_delta(const struct mw_sysview *v,
                             int64_t (*get)(const struct mw_sys_sample *))
{
	int64_t a = MW_UNKNOWN, b = MW_UNKNOWN;

	for (size_t i = 0; i < v->n; i++) {
		int64_t x = get(&v->sys[i]);
		if (x == MW_UNKNOWN)
			continue;
		if (a == MW_UNKNOWN)
			a = x;
		b = x;
	}
	return a == MW_UNKNOWN || b < a ? 0 : b - a;
}

static int64_t get_allocstall(const struct mw_sys_sample *s)
{
	return mw_vmstat_allocstall(s->vm);
}

static int64_t get_pgscan_direct(const struct mw_sys_sample *s)
{
	return s->vm[MW_VM_pgscan_direct];
}

static int64_t get_majflt(const struct mw_sys_sample *s)
{
	return s->vm[MW_VM_pgmajfault];
}

static int64_t get_pswpin(const struct mw_sys_sample *s)
{
	return s->vm[MW_VM_pswpin];
}

static double window_s(const struct mw_sysview *v)
{
	return v->n >= 2 ? (double)(v->t_ms[v->n - 1] - v->t_ms[0]) / 1000.0 : 0;
}

void mw_syshyp_tune_input(const struct mw_sysview *v, struct mw_tune_input *in)
{
	double secs = window_s(v);
	const struct mw_sys_sample *last = v->n ? &v->sys[v->n - 1] : NULL;

	memset(in, 0, sizeof(*in));
	in->tun = v->tun;
	in->zones = v->zones;
	in->numa_nodes = v->numa_nodes;
	in->page_size = sysconf(_SC_PAGESIZE);
	in->mem_total = last ? last->mem[MW_MI_mem_total] : 0;
	in->swap_total = last && last->mem[MW_MI_swap_total] > 0 ? last->mem[MW_MI_swap_total] : 0;
	in->direct_reclaim =
	        counter_delta(v, get_allocstall) > 0 || counter_delta(v, get_pgscan_direct) > 0;
	in->direct_scan_per_s = secs > 0 ? (double)counter_delta(v, get_pgscan_direct) / secs : 0;
	in->swapin_per_s = secs > 0 ? (double)counter_delta(v, get_pswpin) / secs : 0;
}

/* Item 10: pressure, not a leak. */
static void rule_pressure(const struct mw_sysview *v, const struct mw_oom_forecast *f,
                          struct mw_syshyp_set *set)
{
	int64_t stalls = counter_delta(v, get_allocstall),
	        scan = counter_delta(v, get_pgscan_direct);
	double secs = window_s(v),
	       majps = secs > 0 ? (double)counter_delta(v, get_majflt) / secs : 0;
	int64_t psi = v->n ? v->sys[v->n - 1].psi[MW_PSI_psi_some_avg60] : MW_UNKNOWN;
	bool psi_high = psi != MW_UNKNOWN && psi >= MW_HYP_PSI_SOME_AVG60;
	struct mw_tune_input in;
	struct mw_syshyp *h;
	struct mw_sysfact *e;

	(void)f;
	if (stalls <= 0 && scan <= 0 && !psi_high && majps < MW_HYP_MAJFLT_PER_S)
		return;
	h = hyp_new(set, MW_SYSRULE_MEMORY_PRESSURE, MW_SF_PRESSURE);
	if (!h)
		return;
	h->head.pressure.cause = stalls > 0 || scan > 0 ? MW_SF_CAUSE_DIRECT_RECLAIM
	                         : psi_high             ? MW_SF_CAUSE_PSI
	                                                : MW_SF_CAUSE_MAJOR_FAULTS;
	h->score =
	        clamp01(0.4 + (stalls > 0 ? 0.2 : 0) + (scan > 0 ? 0.1 : 0) + (psi_high ? 0.2 : 0));
	e = fact(h, MW_SF_RECLAIM);
	e->reclaim.window_s = secs;
	e->reclaim.allocstall = stalls;
	e->reclaim.pgscan_direct = scan;
	e->reclaim.majflt_per_s = majps;
	if (psi != MW_UNKNOWN) {
		e = fact(h, MW_SF_PSI);
		e->psi.some_avg60_pct = (double)psi / 100.0;
	}
	mw_syshyp_tune_input(v, &in);
	h->nadvice = mw_tune_advise(&in, h->advice, MW_HYP_ADVICE);
	for (size_t i = 0; i < h->nadvice; i++) {
		e = fact(h, MW_SF_ADVICE);
		if (!e)
			break;
		snprintf(e->advice.tunable, sizeof(e->advice.tunable), "%s", h->advice[i].tunable);
		e->advice.current = h->advice[i].current;
		e->advice.suggested = h->advice[i].suggested;
	}
}

/* Item 11 for the machine: when MemAvailable reaches 0, who dies, who should not. */
static void rule_oom_risk(const struct mw_sysview *v, const struct mw_oom_forecast *f,
                          struct mw_syshyp_set *set)
{
	struct mw_syshyp *h;
	struct mw_sysfact *e;

	(void)v;
	if (!f || !isfinite(f->seconds_to_oom) || f->seconds_to_oom > MW_HYP_OOM_HORIZON_S)
		return;
	h = hyp_new(set, MW_SYSRULE_OOM_RISK, MW_SF_OOM_ETA);
	if (!h)
		return;
	h->seconds_to_exhaustion = f->seconds_to_oom;
	h->head.oom_eta.seconds = f->seconds_to_oom;
	h->head.oom_eta.nprotect = f->nprotect;
	h->score = clamp01(1.0 - f->seconds_to_oom / MW_HYP_OOM_HORIZON_S);
	e = fact(h, MW_SF_MEM_AVAILABLE);
	e->mem_available.bytes = f->mem_available;
	e->mem_available.falling_per_s = -f->avail_slope;
	e->mem_available.mk_p = f->avail_p;
	if (f->n) {
		e = fact(h, MW_SF_NEXT_VICTIM);
		if (e) {
			proc_ref(&e->next_victim.proc, f->v[0].pid, true, f->v[0].comm);
			e->next_victim.oom_score = f->v[0].score;
		}
		name_proc(h, f->v[0].pid, f->v[0].comm);
	}
	if (f->victim_at_oom >= 0 && (e = fact(h, MW_SF_VICTIM_AT_OOM)))
		proc_ref(&e->victim_at_oom.proc, f->v[f->victim_at_oom].pid, true,
		         f->v[f->victim_at_oom].comm);
	for (size_t i = 0; i < f->nprotect && (e = fact(h, MW_SF_PROTECT)); i++) {
		proc_ref(&e->protect.proc, f->protect[i].pid, true, f->protect[i].comm);
		e->protect.adj = f->protect[i].adj;
	}
}

/* Indexed by enum mw_sysrule_id: the order is the report's. */
static void (*const rule_eval[MW_SYSRULE_COUNT])(const struct mw_sysview *,
                                                 const struct mw_oom_forecast *,
                                                 struct mw_syshyp_set *) = {
        [MW_SYSRULE_ORPHANED_SHM] = rule_orphaned_shm, [MW_SYSRULE_IPC_BACKLOG] = rule_ipc_backlog,
        [MW_SYSRULE_SLAB_GROWTH] = rule_slab_growth,   [MW_SYSRULE_MEMORY_PRESSURE] = rule_pressure,
        [MW_SYSRULE_OOM_RISK] = rule_oom_risk,
};

void mw_syshyp_eval(const struct mw_sysview *v, const struct mw_oom_forecast *forecast,
                    struct mw_syshyp_set *out)
{
	out->n = 0;
	for (size_t i = 0; i < MW_SYSRULE_COUNT; i++)
		rule_eval[i](v, forecast, out);
}
