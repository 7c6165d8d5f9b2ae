/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The system view: memory meter, reclaim activity, PSI, swap, slab, time to exhaustion. */
#include "top_ui.h"

#include "memwatch/analyse/syshyp.h"
#include "memwatch/base/format.h"
#include "memwatch/base/util.h"

#include <math.h>
#include <string.h>

static const char *b(char *buf, size_t cap, int64_t v)
{
	return mw_fmt_bytes(buf, cap, v);
}

/* Per-second rate of a vmstat counter over the short interval; NAN when unknown. */
static double vm_rate(const struct top_sys *s, int k)
{
	int64_t a = s->prev.vm[k], c = s->now.vm[k];

	if (!s->have_prev || a == MW_UNKNOWN || c == MW_UNKNOWN || s->dt_s <= 0 || c < a)
		return NAN;
	return (double)(c - a) / s->dt_s;
}

static double allocstall_rate(const struct top_sys *s)
{
	int64_t a = mw_vmstat_allocstall(s->prev.vm), c = mw_vmstat_allocstall(s->now.vm);

	if (!s->have_prev || a == MW_UNKNOWN || c == MW_UNKNOWN || s->dt_s <= 0 || c < a)
		return NAN;
	return (double)(c - a) / s->dt_s;
}

static const char *rate_s(char *buf, size_t cap, double v)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.1f/s", v);
	return buf;
}

static int memory_lines(struct top_ui *u, int y)
{
	const int64_t *mi = u->m->sys.now.mem;
	char l[400], a[6][32];

	snprintf(l, sizeof(l), "  total %s   available %s   free %s   buffers %s   cached %s",
	         b(a[0], 32, mi[MW_MI_mem_total]), b(a[1], 32, mi[MW_MI_mem_available]),
	         b(a[2], 32, mi[MW_MI_mem_free]), b(a[3], 32, mi[MW_MI_buffers]),
	         b(a[4], 32, mi[MW_MI_cached]));
	top_put(y++, 0, COLS, l, 0);
	snprintf(l, sizeof(l), "  anon %s   shmem %s   slab %s (unreclaimable %s)   page tables %s",
	         b(a[0], 32, mi[MW_MI_anon_pages]), b(a[1], 32, mi[MW_MI_shmem]),
	         b(a[2], 32, mi[MW_MI_slab]), b(a[3], 32, mi[MW_MI_sunreclaim]),
	         b(a[4], 32, mi[MW_MI_page_tables]));
	top_put(y++, 0, COLS, l, 0);
	snprintf(l, sizeof(l), "  kernel stacks %s   committed %s of limit %s   dirty %s",
	         b(a[0], 32, mi[MW_MI_kernel_stack]), b(a[1], 32, mi[MW_MI_committed_as]),
	         b(a[2], 32, mi[MW_MI_commit_limit]), b(a[3], 32, mi[MW_MI_dirty]));
	top_put(y++, 0, COLS, l, 0);
	return y;
}

static int reclaim_lines(struct top_ui *u, int y)
{
	const struct top_sys *s = &u->m->sys;
	char l[400], a[6][32];
	double direct = vm_rate(s, MW_VM_pgscan_direct), stall = allocstall_rate(s);

	top_put(y++, 0, COLS, "Reclaim and paging (last ~10 s)", A_BOLD | A_UNDERLINE);
	snprintf(l, sizeof(l), "  pgscan kswapd %s   pgscan direct %s   allocstall %s",
	         rate_s(a[0], 32, vm_rate(s, MW_VM_pgscan_kswapd)), rate_s(a[1], 32, direct),
	         rate_s(a[2], 32, stall));
	top_put(y++, 0, COLS, l,
	        (!isnan(direct) && direct > 0) || (!isnan(stall) && stall > 0)
	                ? top_attr(u, CP_GROW, A_BOLD)
	                : 0);
	snprintf(l, sizeof(l), "  major faults %s   swap in %s   swap out %s   refaults %s",
	         rate_s(a[0], 32, vm_rate(s, MW_VM_pgmajfault)),
	         rate_s(a[1], 32, vm_rate(s, MW_VM_pswpin)),
	         rate_s(a[2], 32, vm_rate(s, MW_VM_pswpout)),
	         rate_s(a[3], 32, vm_rate(s, MW_VM_workingset_refault_file)));
	top_put(y++, 0, COLS, l, 0);
	return y + 1;
}

static void psi_fmt(char *buf, size_t cap, int64_t v)
{
	if (v == MW_UNKNOWN)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.2f%%", (double)v / 100.0);
}

static int psi_swap_lines(struct top_ui *u, int y)
{
	const int64_t *p = u->m->sys.now.psi, *mi = u->m->sys.now.mem;
	char l[400], a[6][32];

	psi_fmt(a[0], 32, p[MW_PSI_psi_some_avg10]);
	psi_fmt(a[1], 32, p[MW_PSI_psi_some_avg60]);
	psi_fmt(a[2], 32, p[MW_PSI_psi_some_avg300]);
	psi_fmt(a[3], 32, p[MW_PSI_psi_full_avg10]);
	psi_fmt(a[4], 32, p[MW_PSI_psi_full_avg60]);
	psi_fmt(a[5], 32, p[MW_PSI_psi_full_avg300]);
	top_put(y++, 0, COLS, "Pressure (PSI memory, avg10 / avg60 / avg300)",
	        A_BOLD | A_UNDERLINE);
	snprintf(l, sizeof(l), "  some %s / %s / %s    full %s / %s / %s", a[0], a[1], a[2], a[3],
	         a[4], a[5]);
	top_put(y++, 0, COLS, l, 0);
	snprintf(l, sizeof(l), "  swap total %s   free %s   cached %s",
	         b(a[0], 32, mi[MW_MI_swap_total]), b(a[1], 32, mi[MW_MI_swap_free]),
	         b(a[2], 32, mi[MW_MI_swap_cached]));
	top_put(y++, 0, COLS, l, 0);
	return y + 1;
}

/* At the window's rate of MemAvailable: when does it reach zero? */
static int exhaustion_lines(struct top_ui *u, int y)
{
	const struct top_sys *s = &u->m->sys;
	int64_t a0 = s->base.mem[MW_MI_mem_available], a1 = s->now.mem[MW_MI_mem_available];
	int64_t u0 = s->base.mem[MW_MI_sunreclaim], u1 = s->now.mem[MW_MI_sunreclaim];
	char l[400], r1[32], r2[32], t[32];

	top_put(y++, 0, COLS, "Trend over the growth window", A_BOLD | A_UNDERLINE);
	if (!s->have_base || s->base_dt_s <= 0 || a0 == MW_UNKNOWN || a1 == MW_UNKNOWN) {
		top_put(y++, 0, COLS, "  -   not enough history yet", top_attr(u, CP_DIM, 0));
		return y + 1;
	}
	mw_fmt_bytes_delta(r1, sizeof(r1), (double)(a1 - a0) * 60.0 / s->base_dt_s);
	if (u0 != MW_UNKNOWN && u1 != MW_UNKNOWN)
		mw_fmt_bytes_delta(r2, sizeof(r2), (double)(u1 - u0) * 60.0 / s->base_dt_s);
	else
		snprintf(r2, sizeof(r2), "-");
	if (a1 < a0)
		mw_fmt_duration(t, sizeof(t),
		                (uint64_t)((double)a1 / ((double)(a0 - a1) / s->base_dt_s) * 1e9));
	else
		snprintf(t, sizeof(t), "not falling");
	snprintf(l, sizeof(l), "  MemAvailable %s/min   SUnreclaim %s/min   time to exhaustion: %s",
	         r1, r2, t);
	top_put(y++, 0, COLS, l, a1 < a0 ? top_attr(u, CP_WARM, A_BOLD) : 0);
	return y + 1;
}

void top_system_draw(struct top_ui *u, int y0)
{
	struct top_sys *s = &u->m->sys;
	const int64_t *mi = s->now.mem;
	struct top_text t = {0};
	char why[128];
	int y = y0, rc;

	if (!s->valid) {
		top_put(y0, 0, COLS, "  -   no system sample", top_attr(u, CP_DIM, 0));
		return;
	}
	{
		int64_t total = mi[MW_MI_mem_total];
		int64_t cache = mi[MW_MI_cached] + mi[MW_MI_buffers] - mi[MW_MI_shmem];
		int64_t used = total - mi[MW_MI_mem_free] - mi[MW_MI_cached] - mi[MW_MI_buffers] -
		               mi[MW_MI_slab];
		int64_t parts[4] = {used, mi[MW_MI_shmem], mi[MW_MI_slab], cache};
		enum top_pair pairs[4] = {CP_USED, CP_SHM, CP_SLAB, CP_CACHE};
		char l[64], a[32], c[32];

		snprintf(l, sizeof(l), "used %s of %s", b(a, 32, total - mi[MW_MI_mem_available]),
		         b(c, 32, total));
		top_put(y++, 0, COLS, "Memory: used | shmem | slab | cache, free is blank",
		        A_BOLD | A_UNDERLINE);
		top_meter(u, y++, 0, COLS, "Mem", parts, pairs, 4, total, l);
	}
	y = memory_lines(u, y);
	y++;
	y = reclaim_lines(u, y);
	y = psi_swap_lines(u, y);
	y = exhaustion_lines(u, y);
	rc = top_src_slab(u->m, &t);
	top_text_block(u, y, "Top growing slab caches", rc, &t,
	               top_why(rc, "slab caches need a database recorded by memwatchd",
	                       "no slab sample in the window", "slab caches", why, sizeof(why)));
	top_text_free(&t);
}
