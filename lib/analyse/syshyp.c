/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/syshyp.h"
#include "memwatch/analyse/tuneadvice.h"
#include "memwatch/base/format.h"
#include "memwatch/base/util.h"

#include <math.h>
#include <stdarg.h>
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

static struct mw_syshyp *hyp_new(struct mw_syshyp_set *set, const char *rule, int item)
{
	struct mw_syshyp *h;

	if (set->n >= MW_SYSHYP_MAX)
		return NULL;
	h = &set->v[set->n++];
	memset(h, 0, sizeof(*h));
	h->rule = rule;
	h->domain_item = item;
	h->seconds_to_exhaustion = NAN;
	return h;
}

__attribute__((format(printf, 2, 3))) static void evidence(struct mw_syshyp *h, const char *fmt,
                                                           ...)
{
	va_list ap;

	if (h->nevidence >= MW_HYP_EVIDENCE)
		return;
	va_start(ap, fmt);
	vsnprintf(h->evidence[h->nevidence++], sizeof(h->evidence[0]), fmt, ap);
	va_end(ap);
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

static const char *age(char *buf, size_t cap, int64_t now_ms, int64_t ctime_s)
{
	if (ctime_s == MW_UNKNOWN || ctime_s <= 0 || now_ms / 1000 < ctime_s)
		return "?";
	return mw_fmt_duration(buf, cap, (uint64_t)(now_ms / 1000 - ctime_s) * 1000000000ull);
}

/* Item 6, system side: SysV segments nobody has attached, /dev/shm files nobody holds. */
static void rule_orphaned_shm(const struct mw_sysview *v, const struct mw_oom_forecast *f,
                              struct mw_syshyp_set *set)
{
	struct mw_syshyp *h = NULL;
	int64_t total = 0, posix_total = 0;
	size_t nseg = 0, nposix = 0;
	char a[32], b[32], c[32];

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
	h = hyp_new(set, "orphaned-shm", 6);
	if (!h)
		return;
	snprintf(h->title, sizeof(h->title),
	         "Orphaned shared memory: %zu SysV segment(s) with no attachments (%s)%s%s", nseg,
	         mw_fmt_bytes(a, sizeof(a), total),
	         posix_total >= MW_HYP_POSIX_MIN_BYTES ? ", and /dev/shm files nobody holds: " : "",
	         posix_total >= MW_HYP_POSIX_MIN_BYTES ? mw_fmt_bytes(b, sizeof(b), posix_total)
	                                               : "");
	h->score = clamp01(0.5 + 0.1 * log10((double)(total + posix_total) / (64 << 10) + 1));
	for (size_t i = 0; i < v->nipc; i++) {
		const struct mw_ipc_view *o = &v->ipc[i];
		if (!o->orphan || o->o.kind != MW_IPC_shm || o->o.size < MW_HYP_SHM_MIN_BYTES)
			continue;
		char who[128];
		if (o->creator_known)
			snprintf(who, sizeof(who), "created by %s[%d] (%s)", o->creator_comm,
			         (int)o->o.cpid, o->creator_alive ? "alive, detached" : "exited");
		else
			snprintf(who, sizeof(who), "created by pid %d (not in the process table)",
			         (int)o->o.cpid);
		if (!h->pid) {
			h->pid = o->o.cpid;
			snprintf(h->comm, sizeof(h->comm), "%s", o->creator_comm);
		}
		size_t len = strlen(h->subject);
		snprintf(h->subject + len, sizeof(h->subject) - len, "%sshm id %lld",
		         len ? ", " : "", (long long)o->o.id);
		evidence(
		        h,
		        "SysV shm key 0x%08llx id %lld: %s, %s resident, %s, 0 attachments, age %s",
		        (unsigned long long)(uint32_t)o->o.key, (long long)o->o.id,
		        mw_fmt_bytes(a, sizeof(a), o->o.size),
		        mw_fmt_bytes(b, sizeof(b), o->o.bytes), who,
		        age(c, sizeof(c), v->to_ms, o->o.ctime));
	}
	if (posix_total >= MW_HYP_POSIX_MIN_BYTES)
		evidence(h, "%zu file(s) in /dev/shm open by no process, %s in total", nposix,
		         mw_fmt_bytes(a, sizeof(a), posix_total));
	snprintf(h->next_step, sizeof(h->next_step),
	         "ipcs -m -p to confirm; if no process will attach again: ipcrm -m <id> (and"
	         " rm /dev/shm/<name> for POSIX files); fix the creator to call shmctl(IPC_RMID)"
	         " once every user has attached");
}

/* Item 8: a queue whose bytes keep rising because nobody reads it. */
static void rule_ipc_backlog(const struct mw_sysview *v, const struct mw_oom_forecast *f,
                             struct mw_syshyp_set *set)
{
	char a[32], b[32], c[32], d[32];

	(void)f;
	for (size_t i = 0; i < v->nipc; i++) {
		const struct mw_ipc_view *o = &v->ipc[i];
		struct mw_syshyp *h;
		char qname[300], writer[160] = "unknown";

		if (o->o.kind != MW_IPC_msg && o->o.kind != MW_IPC_mqueue)
			continue;
		if (!rising(&o->tr, o->n))
			continue;
		h = hyp_new(set, "ipc-backlog", 8);
		if (!h)
			return;
		if (o->o.kind == MW_IPC_msg)
			snprintf(qname, sizeof(qname), "SysV message queue key 0x%08llx id %lld",
			         (unsigned long long)(uint32_t)o->o.key, (long long)o->o.id);
		else
			snprintf(qname, sizeof(qname), "POSIX message queue /%s", o->o.name);
		if (o->o.kind == MW_IPC_msg && o->o.lpid) {
			snprintf(writer, sizeof(writer), "%s[%d]",
			         o->writer_known ? o->writer_comm : "?", (int)o->o.lpid);
			h->pid = o->o.lpid;
			snprintf(h->comm, sizeof(h->comm), "%s",
			         o->writer_known ? o->writer_comm : "");
		} else {
			for (int k = 0; k < o->nholders; k++)
				if (o->holders[k].writer && !h->pid) {
					snprintf(writer, sizeof(writer),
					         "%s[%d] (holds it open for"
					         " writing)",
					         o->holders[k].comm, (int)o->holders[k].pid);
					h->pid = o->holders[k].pid;
					snprintf(h->comm, sizeof(h->comm), "%s",
					         o->holders[k].comm);
				}
		}
		snprintf(h->subject, sizeof(h->subject), "%s", qname);
		snprintf(h->title, sizeof(h->title),
		         "IPC backlog: %s grows, written by %s, not read", qname, writer);
		h->score = clamp01(0.6 + (o->tr.mk_p < 0.01 ? 0.2 : 0) +
		                   (o->o.kind == MW_IPC_msg && o->o.lrpid == 0 ? 0.1 : 0));
		evidence(h,
		         "bytes queued %s -> %s over %s (%s/s, Mann-Kendall p=%.3g, %zu samples)",
		         mw_fmt_bytes(a, sizeof(a), (int64_t)o->tr.first),
		         mw_fmt_bytes(b, sizeof(b), (int64_t)o->tr.last),
		         mw_fmt_duration(c, sizeof(c),
		                         (uint64_t)(o->t_ms[o->n - 1] - o->t_ms[0]) * 1000000ull),
		         mw_fmt_bytes_delta(d, sizeof(d), o->tr.slope), o->tr.mk_p, o->n);
		if (o->o.kind == MW_IPC_msg)
			evidence(h, "%lld messages queued; last sender pid %d, last receiver %s",
			         (long long)o->o.qnum, (int)o->o.lpid,
			         o->o.lrpid ? "a process that stopped reading" : "none ever");
		snprintf(h->next_step, sizeof(h->next_step),
		         "%s; find or restart the reader; if the messages are not needed: %s",
		         o->o.kind == MW_IPC_msg ? "ipcs -q -i <id>" : "cat /dev/mqueue/<name>",
		         o->o.kind == MW_IPC_msg ? "ipcrm -q <id>"
		                                 : "mq_unlink (rm /dev/mqueue/<name>)");
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
		const char *what[2] = {"fd count", "thread count"};

		if (p->n < 2)
			continue;
		for (int s = 0; s < 2; s++) {
			double first = NAN, last = NAN, r;
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
			if (m < 3 || !(last > first))
				continue;
			r = mw_rank_correlation(x, y, m);
			if (!(r >= MW_HYP_CORR_MIN))
				continue;
			evidence(h,
			         "%s[%d]: %s %.0f -> %.0f in step with the cache (rank"
			         " correlation %.2f)",
			         p->comm, (int)p->pid, what[s], first, last, r);
			if (r * (last - first) > best) {
				best = r * (last - first);
				h->pid = p->pid;
				snprintf(h->comm, sizeof(h->comm), "%s", p->comm);
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

/* Item 9: one cache (or SUnreclaim) growing without bound. */
static void rule_slab_growth(const struct mw_sysview *v, const struct mw_oom_forecast *f,
                             struct mw_syshyp_set *set)
{
	struct mw_trend su;
	bool su_rising = series_rise(v, MW_MI_sunreclaim, &su);
	char a[32], b[32], c[32];
	struct mw_syshyp *h;

	(void)f;
	if (v->slab_ok && v->nslab && v->slab[0].growing) {
		const struct mw_slab_view *s = &v->slab[0];
		h = hyp_new(set, "slab-growth", 9);
		if (!h)
			return;
		snprintf(h->subject, sizeof(h->subject), "%s", s->name);
		snprintf(
		        h->title, sizeof(h->title), "Kernel slab growth: cache %s%s%s%s grows %s/s",
		        s->name, s->aliases[0] ? " (shares its slab with " : "", s->aliases,
		        s->aliases[0] ? ")" : "", mw_fmt_bytes(a, sizeof(a), (int64_t)s->tr.slope));
		h->score = clamp01(0.5 + (s->tr.mk_p < 0.01 ? 0.2 : 0) + (su_rising ? 0.1 : 0));
		evidence(h, "%s: %s -> %s (%lld objects of %lld B) over %s, Mann-Kendall p=%.3g",
		         s->name, mw_fmt_bytes(a, sizeof(a), (int64_t)s->tr.first),
		         mw_fmt_bytes(b, sizeof(b), (int64_t)s->tr.last), (long long)s->objs_now,
		         (long long)s->objsize,
		         mw_fmt_duration(c, sizeof(c),
		                         (uint64_t)(s->t_ms[s->n - 1] - s->t_ms[0]) * 1000000ull),
		         s->tr.mk_p);
		for (size_t i = 1; i < v->nslab && i < 3 && v->slab[i].growing; i++)
			evidence(h, "also growing: %s at %s/s", v->slab[i].name,
			         mw_fmt_bytes(a, sizeof(a), (int64_t)v->slab[i].tr.slope));
		if (su_rising)
			evidence(h, "SUnreclaim %s -> %s",
			         mw_fmt_bytes(a, sizeof(a), (int64_t)su.first),
			         mw_fmt_bytes(b, sizeof(b), (int64_t)su.last));
		correlate(v, s, h);
		if (!h->pid)
			evidence(h, "no process's fd or thread count rises in step: a driver or a"
			            " kernel-internal user is more likely");
		snprintf(h->next_step, sizeof(h->next_step),
		         "slabtop -s c; for socket/dentry/inode caches check the named process's"
		         " open fds (ls -l /proc/%d/fd | wc -l, lsof -p %d)",
		         (int)h->pid, (int)h->pid);
		return;
	}
	if (!su_rising || su.last - su.first < MW_SLAB_MIN_GROWTH)
		return;
	h = hyp_new(set, "slab-growth", 9);
	if (!h)
		return;
	snprintf(h->subject, sizeof(h->subject), "SUnreclaim");
	snprintf(h->title, sizeof(h->title), "Kernel slab growth: SUnreclaim grows %s/s%s",
	         mw_fmt_bytes(a, sizeof(a), (int64_t)su.slope),
	         v->slab_ok ? "" : " (which cache: /proc/slabinfo needs root)");
	h->score = 0.5;
	evidence(h, "SUnreclaim %s -> %s, Mann-Kendall p=%.3g",
	         mw_fmt_bytes(a, sizeof(a), (int64_t)su.first),
	         mw_fmt_bytes(b, sizeof(b), (int64_t)su.last), su.mk_p);
	snprintf(h->next_step, sizeof(h->next_step),
	         "as root: slabtop -s c, or memwatch report"
	         " --system as root to rank caches");
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
	struct mw_tune_input in;
	struct mw_syshyp *h;

	(void)f;
	if (stalls <= 0 && scan <= 0 && !(psi != MW_UNKNOWN && psi >= MW_HYP_PSI_SOME_AVG60) &&
	    majps < MW_HYP_MAJFLT_PER_S)
		return;
	h = hyp_new(set, "memory-pressure", 10);
	if (!h)
		return;
	snprintf(h->title, sizeof(h->title), "Memory pressure, not a leak: %s",
	         stalls > 0 || scan > 0 ? "allocations stall in direct reclaim"
	         : psi != MW_UNKNOWN && psi >= MW_HYP_PSI_SOME_AVG60 ? "tasks stall on memory (PSI)"
	                                                             : "major faults (paging)");
	snprintf(h->subject, sizeof(h->subject), "reclaim");
	h->score = clamp01(0.4 + (stalls > 0 ? 0.2 : 0) + (scan > 0 ? 0.1 : 0) +
	                   (psi != MW_UNKNOWN && psi >= MW_HYP_PSI_SOME_AVG60 ? 0.2 : 0));
	evidence(h, "over %.0f s: allocstall +%lld, pgscan_direct +%lld pages, %.1f major faults/s",
	         secs, (long long)stalls, (long long)scan, majps);
	if (psi != MW_UNKNOWN)
		evidence(h, "PSI memory some avg60 %.2f%%", (double)psi / 100.0);
	mw_syshyp_tune_input(v, &in);
	h->nadvice = mw_tune_advise(&in, h->advice, MW_HYP_ADVICE);
	for (size_t i = 0; i < h->nadvice; i++)
		evidence(h, "advice: vm.%s %lld -> %lld", h->advice[i].tunable,
		         (long long)h->advice[i].current, (long long)h->advice[i].suggested);
	snprintf(h->next_step, sizeof(h->next_step),
	         "vmstat 1 and sar -B 1 (pgscand/s) to watch direct reclaim; apply the advice with"
	         " sysctl -w vm.<name>=<value> and persist it in /etc/sysctl.d/");
}

/* Item 11 for the machine: when MemAvailable reaches 0, who dies, who should not. */
static void rule_oom_risk(const struct mw_sysview *v, const struct mw_oom_forecast *f,
                          struct mw_syshyp_set *set)
{
	char a[32], b[32];
	struct mw_syshyp *h;

	(void)v;
	if (!f || !isfinite(f->seconds_to_oom) || f->seconds_to_oom > MW_HYP_OOM_HORIZON_S)
		return;
	h = hyp_new(set, "oom-risk", 11);
	if (!h)
		return;
	h->seconds_to_exhaustion = f->seconds_to_oom;
	snprintf(h->title, sizeof(h->title),
	         "OOM risk: MemAvailable reaches 0 in %s at the current"
	         " trend",
	         mw_fmt_duration(a, sizeof(a), (uint64_t)(f->seconds_to_oom * 1e9)));
	snprintf(h->subject, sizeof(h->subject), "MemAvailable");
	h->score = clamp01(1.0 - f->seconds_to_oom / MW_HYP_OOM_HORIZON_S);
	evidence(h, "MemAvailable %s, falling %s/s (Mann-Kendall p=%.3g)",
	         mw_fmt_bytes(a, sizeof(a), f->mem_available),
	         mw_fmt_bytes(b, sizeof(b), (int64_t)-f->avail_slope), f->avail_p);
	if (f->n) {
		evidence(h, "next OOM victim now: %s[%d] (score %lld)", f->v[0].comm,
		         (int)f->v[0].pid, (long long)f->v[0].score);
		h->pid = f->v[0].pid;
		snprintf(h->comm, sizeof(h->comm), "%s", f->v[0].comm);
	}
	if (f->victim_at_oom >= 0)
		evidence(h, "victim when it runs out, projecting growth: %s[%d]",
		         f->v[f->victim_at_oom].comm, (int)f->v[f->victim_at_oom].pid);
	for (size_t i = 0; i < f->nprotect; i++)
		evidence(h, "protect: %s[%d] has oom_score_adj %lld, should be -1000",
		         f->protect[i].comm, (int)f->protect[i].pid, (long long)f->protect[i].adj);
	snprintf(h->next_step, sizeof(h->next_step),
	         "memwatch oom; memwatch report <pid> for the"
	         " fastest growing process%s",
	         f->nprotect ? "; set oom_score_adj -1000 on the services listed" : "");
}

static const struct {
	const char *id;
	void (*eval)(const struct mw_sysview *, const struct mw_oom_forecast *,
	             struct mw_syshyp_set *);
} rules[] = {
        {"orphaned-shm", rule_orphaned_shm}, {"ipc-backlog", rule_ipc_backlog},
        {"slab-growth", rule_slab_growth},   {"memory-pressure", rule_pressure},
        {"oom-risk", rule_oom_risk},
};

void mw_syshyp_eval(const struct mw_sysview *v, const struct mw_oom_forecast *forecast,
                    struct mw_syshyp_set *out)
{
	out->n = 0;
	for (size_t i = 0; i < MW_ARRAY_SIZE(rules); i++)
		rules[i].eval(v, forecast, out);
}
