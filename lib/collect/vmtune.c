/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/vmtune.h"
#include "memwatch/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MW_X_NAME_TUN(name) #name,
const char *const mw_tunable_names[MW_TUN_COUNT] = {MW_TUNABLES(MW_X_NAME_TUN)};

int mw_tunables_read(const char *root, struct mw_tunables *t)
{
	char path[4096], rel[128], buf[64];

	for (int i = 0; i < MW_TUN_COUNT; i++) {
		int64_t v;
		int r;

		t->v[i] = MW_UNKNOWN;
		snprintf(rel, sizeof(rel), "/proc/sys/vm/%s", mw_tunable_names[i]);
		r = mw_path(path, sizeof(path), root, rel);
		if (r < 0)
			return r;
		if (mw_read_file(path, buf, sizeof(buf), NULL) < 0)
			continue;
		buf[strcspn(buf, " \t\n")] = '\0';
		if (mw_parse_i64(buf, &v) == 0)
			t->v[i] = v;
	}
	return 0;
}

static int64_t field_value(const char *line, const char *key)
{
	size_t n = strlen(key);
	int64_t v;
	char num[32];
	size_t k = 0;

	while (*line == ' ')
		line++;
	if (strncmp(line, key, n) != 0 || line[n] != ' ')
		return MW_UNKNOWN;
	line += n;
	while (*line == ' ')
		line++;
	while (k < sizeof(num) - 1 && isdigit((unsigned char)line[k])) {
		num[k] = line[k];
		k++;
	}
	num[k] = '\0';
	return mw_parse_i64(num, &v) == 0 ? v : MW_UNKNOWN;
}

/* Zone headers are "Node N, zone NAME"; the fields follow until the next header. */
void mw_zoneinfo_parse(const char *text, struct mw_zone_set *out)
{
	static const char *const keys[] = {"pages free", "min",     "low",    "high",
	                                   "spanned",    "present", "managed"};
	struct mw_zone *z = NULL;
	const char *p = text;

	out->n = 0;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[256], zname[16];
		int node;

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = eol ? eol + 1 : NULL;
		if (sscanf(line, "Node %d, zone %15s", &node, zname) == 2) {
			z = out->n < MW_ZONE_MAX ? &out->v[out->n++] : NULL;
			if (z) {
				memset(z, 0, sizeof(*z));
				z->node = node;
				snprintf(z->name, sizeof(z->name), "%s", zname);
				z->free = z->min = z->low = z->high = MW_UNKNOWN;
				z->spanned = z->present = z->managed = MW_UNKNOWN;
			}
			continue;
		}
		if (!z)
			continue;
		int64_t *dst[] = {&z->free,    &z->min,     &z->low,    &z->high,
		                  &z->spanned, &z->present, &z->managed};
		for (size_t k = 0; k < MW_ARRAY_SIZE(keys); k++) {
			int64_t v = field_value(line, keys[k]);
			/* The first occurrence wins: "high" also appears in later pageset lines. */
			if (v != MW_UNKNOWN && *dst[k] == MW_UNKNOWN) {
				*dst[k] = v;
				break;
			}
		}
	}
}

int mw_zoneinfo_read(const char *root, struct mw_zone_set *out)
{
	_cleanup_free_ char *text = NULL;
	char path[4096];
	int r;

	out->n = 0;
	r = mw_path(path, sizeof(path), root, "/proc/zoneinfo");
	if (r < 0)
		return r;
	r = mw_read_file_alloc(path, &text, NULL);
	if (r < 0)
		return r;
	mw_zoneinfo_parse(text, out);
	return 0;
}

int mw_numa_nodes(const char *root)
{
	char path[4096];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int n = 0;

	if (mw_path(path, sizeof(path), root, "/sys/devices/system/node") < 0)
		return 1;
	d = opendir(path);
	if (!d)
		return 1;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "node", 4) == 0 && isdigit((unsigned char)e->d_name[4]))
			n++;
	return n ? n : 1;
}

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
