/* SPDX-License-Identifier: GPL-2.0-or-later */
/* zoneinfo, vm tunables, NUMA nodes and the tunable advice, on recorded trees and odd input. */
#include "check.h"
#include "memwatch/base/util.h"
#include "memwatch/analyse/tuneadvice.h"
#include "memwatch/collect/vmtune.h"

#include <string.h>

#ifndef SRCDIR
#define SRCDIR "."
#endif

static void test_recorded(void)
{
	struct mw_tunables t;
	struct mw_zone_set z;
	char root[4096];

	snprintf(root, sizeof(root), "%s/tests/data/root-6.18", SRCDIR);
	CHECK_EQ_I64(mw_tunables_read(root, &t), 0);
	CHECK(t.v[MW_TUN_swappiness] >= 0 && t.v[MW_TUN_swappiness] <= 200);
	CHECK(t.v[MW_TUN_min_free_kbytes] > 0);
	CHECK_EQ_I64(mw_zoneinfo_read(root, &z), 0);
	CHECK(z.n >= 3);
	CHECK_EQ_STR(z.v[0].name, "DMA");
	for (size_t i = 0; i < z.n; i++) {
		CHECK(z.v[i].min != MW_UNKNOWN && z.v[i].low >= z.v[i].min);
		CHECK(z.v[i].high >= z.v[i].low);
		CHECK(z.v[i].managed != MW_UNKNOWN && z.v[i].free != MW_UNKNOWN);
	}
	CHECK_EQ_I64(mw_numa_nodes(root), 1);
}

static void test_numa_advice(void)
{
	struct mw_tune_input in = {0};
	struct mw_tune_advice adv[4];
	char root[4096];
	size_t n;
	bool zr = false, mf = false;

	snprintf(root, sizeof(root), "%s/tests/data/root-numa", SRCDIR);
	CHECK_EQ_I64(mw_tunables_read(root, &in.tun), 0);
	CHECK_EQ_I64(mw_zoneinfo_read(root, &in.zones), 0);
	in.numa_nodes = mw_numa_nodes(root);
	CHECK_EQ_I64(in.numa_nodes, 2);
	CHECK_EQ_I64(in.zones.n, 4);
	/* The pageset "high:" lines must not overwrite the watermark. */
	CHECK_EQ_I64(in.zones.v[1].high, 576);
	CHECK_EQ_I64(in.zones.v[3].node, 1);
	in.mem_total = 24683656LL * 1024;
	in.page_size = 4096;
	n = mw_tune_advise(&in, adv, 4);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(adv[i].tunable, "zone_reclaim_mode") == 0) {
			zr = true;
			CHECK_EQ_I64(adv[i].current, 1);
			CHECK_EQ_I64(adv[i].suggested, 0);
		}
		if (strcmp(adv[i].tunable, "min_free_kbytes") == 0) {
			mf = true;
			CHECK_EQ_I64(adv[i].current, 4096);
			/* 4,000,000 managed pages = 16,000,000 kB: sqrt(16 * kB) = 16000, rounded
			 * up. */
			CHECK_EQ_I64(adv[i].suggested, 16384);
		}
	}
	CHECK(zr);
	CHECK(mf);

	/* Direct reclaim: at least twice the current value, or the burst it must absorb. */
	in.direct_reclaim = true;
	in.tun.v[MW_TUN_min_free_kbytes] = 65536;
	in.direct_scan_per_s = 50000; /* 50k pages/s = 195 MiB/s: 2 s = 400000 kB, x4 */
	n = mw_tune_advise(&in, adv, 4);
	CHECK(n >= 1);
	CHECK_EQ_STR(adv[0].tunable, "min_free_kbytes");
	CHECK_EQ_I64(adv[0].suggested, 1234944); /* capped at 5 % of 24683656 kB, rounded up */

	/* One node: zone_reclaim_mode is irrelevant; swap-ins make swappiness advice. */
	in.numa_nodes = 1;
	in.direct_reclaim = false;
	in.direct_scan_per_s = 0;
	in.tun.v[MW_TUN_min_free_kbytes] = 20000;
	in.swap_total = 1 << 30;
	in.swapin_per_s = 500;
	n = mw_tune_advise(&in, adv, 4);
	CHECK_EQ_I64(n, 1);
	CHECK_EQ_STR(adv[0].tunable, "swappiness");
	CHECK_EQ_I64(adv[0].suggested, 30);
}

static void test_odd(void)
{
	struct mw_zone_set z;

	mw_zoneinfo_parse("garbage\nmin 5\nNode x, zone Foo\n", &z);
	CHECK_EQ_I64(z.n, 0);
	mw_zoneinfo_parse("Node 0, zone   Normal\n  pages free  junk\n        min      -5\n"
	                  "        low 12\n",
	                  &z);
	CHECK_EQ_I64(z.n, 1);
	CHECK_EQ_I64(z.v[0].free, MW_UNKNOWN);
	CHECK_EQ_I64(z.v[0].min, MW_UNKNOWN);
	CHECK_EQ_I64(z.v[0].low, 12);
	CHECK_EQ_I64(mw_min_free_kbytes_default(0), 128);
	CHECK_EQ_I64(mw_min_free_kbytes_default(1LL << 40), 262144);
	CHECK_EQ_I64(mw_numa_nodes("/nonexistent-root"), 1);
	{
		struct mw_tunables t;
		CHECK_EQ_I64(mw_tunables_read("/nonexistent-root", &t), 0);
		CHECK_EQ_I64(t.v[MW_TUN_swappiness], MW_UNKNOWN);
	}
}

int main(void)
{
	test_recorded();
	test_numa_advice();
	test_odd();
	return check_done();
}
