/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/tuneadvice.h"
#include "memwatch/base/util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int64_t mw_min_free_kbytes_default(int64_t lowmem_kb)
{
	int64_t v = (int64_t)sqrt((double)lowmem_kb * 16.0);

	if (v < 128)
		v = 128;
	if (v > 262144)
		v = 262144;
	return v;
}

static int64_t managed_kb(const struct mw_tune_input *in)
{
	int64_t pages = 0;

	for (size_t i = 0; i < in->zones.n; i++)
		if (in->zones.v[i].managed > 0)
			pages += in->zones.v[i].managed;
	return pages * (in->page_size > 0 ? in->page_size : 4096) / 1024;
}

static int64_t round_up(int64_t v, int64_t step)
{
	return (v + step - 1) / step * step;
}

/* min_free_kbytes: kswapd must wake early enough that allocations do not stall. */
static bool advise_min_free(const struct mw_tune_input *in, struct mw_tune_advice *a)
{
	int64_t cur = in->tun.v[MW_TUN_min_free_kbytes];
	int64_t mkb = managed_kb(in), def, want, cap;
	double burst_kb;

	/* Without zoneinfo, MemTotal is the closest stand-in for managed memory. */
	if (mkb <= 0 && in->mem_total > 0)
		mkb = in->mem_total / 1024;
	if (cur == MW_UNKNOWN || mkb <= 0)
		return false;
	def = mw_min_free_kbytes_default(mkb);
	if (!in->direct_reclaim && cur >= def)
		return false;
	/* Allocations that forced direct reclaim for ~2 s must fit in the new low..min gap. */
	burst_kb = in->direct_scan_per_s * 2.0 *
	           (double)(in->page_size > 0 ? in->page_size : 4096) / 1024.0;
	want = def;
	if (in->direct_reclaim && 2 * cur > want)
		want = 2 * cur;
	if ((int64_t)burst_kb * 4 > want)
		want = (int64_t)burst_kb * 4;
	cap = in->mem_total > 0 ? in->mem_total / 1024 / 20 : want;
	if (want > cap)
		want = cap;
	want = round_up(want, 1024);
	if (want <= cur)
		return false;
	snprintf(a->tunable, sizeof(a->tunable), "min_free_kbytes");
	a->current = cur;
	a->suggested = want;
	snprintf(a->why, sizeof(a->why),
	         "%s; kswapd wakes when a zone falls below low = min * 5/4 and direct reclaim"
	         " starts below min: at %lld kB the zones' min watermarks rise about %.1fx,"
	         " so kswapd starts earlier and allocations stall less (the kernel's own default"
	         " for %lld MiB of managed memory is %lld kB; capped at 5%% of RAM). Cost: about"
	         " %lld kB more kept free. Alternative: raise watermark_scale_factor to widen"
	         " low..high without reserving more at min.",
	         in->direct_reclaim ? "direct reclaim happened in the window"
	                            : "min_free_kbytes is below the kernel default for this RAM",
	         (long long)want, (double)want / (double)(cur > 0 ? cur : 1),
	         (long long)(mkb / 1024), (long long)def, (long long)(want - cur));
	return true;
}

/* zone_reclaim_mode != 0 reclaims a node's own pages while other nodes have free memory. */
static bool advise_zone_reclaim(const struct mw_tune_input *in, struct mw_tune_advice *a)
{
	int64_t cur = in->tun.v[MW_TUN_zone_reclaim_mode];

	if (cur == MW_UNKNOWN || cur == 0 || in->numa_nodes < 2)
		return false;
	snprintf(a->tunable, sizeof(a->tunable), "zone_reclaim_mode");
	a->current = cur;
	a->suggested = 0;
	snprintf(a->why, sizeof(a->why),
	         "%d NUMA nodes and zone_reclaim_mode=%lld: a node reclaims (and stalls on) its"
	         " own memory before allocating from another node's free memory, so direct"
	         " reclaim runs while much of the machine is free; 0 lets allocations fall back"
	         " to remote nodes (slightly slower access, no stalls)",
	         in->numa_nodes, (long long)cur);
	return true;
}

/* swappiness only matters with swap; lower it when swap-ins show the working set thrashing. */
static bool advise_swappiness(const struct mw_tune_input *in, struct mw_tune_advice *a)
{
	int64_t cur = in->tun.v[MW_TUN_swappiness];

	if (cur == MW_UNKNOWN || in->swap_total <= 0 || in->swapin_per_s < 10.0 || cur <= 30)
		return false;
	snprintf(a->tunable, sizeof(a->tunable), "swappiness");
	a->current = cur;
	a->suggested = 30;
	snprintf(a->why, sizeof(a->why),
	         "%.0f pages/s swapped back in: anonymous memory is being swapped out and needed"
	         " again; swappiness %lld -> 30 makes reclaim prefer dropping page cache",
	         in->swapin_per_s, (long long)cur);
	return true;
}

size_t mw_tune_advise(const struct mw_tune_input *in, struct mw_tune_advice *out, size_t cap)
{
	bool (*const rules[])(const struct mw_tune_input *, struct mw_tune_advice *) = {
	        advise_min_free,
	        advise_zone_reclaim,
	        advise_swappiness,
	};
	size_t n = 0;

	for (size_t i = 0; i < MW_ARRAY_SIZE(rules) && n < cap; i++) {
		memset(&out[n], 0, sizeof(out[n]));
		if (rules[i](in, &out[n]))
			n++;
	}
	return n;
}
