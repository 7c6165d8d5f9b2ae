/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Advice on the reclaim tunables (DOMAIN.md section 4): a pure function
 * of what was read (tunables, zones, NUMA nodes; collect/vmtune.h) and
 * of the reclaim activity over a window, so a live read and a stored
 * history get the same advice.
 */
#ifndef MEMWATCH_TUNEADVICE_H
#define MEMWATCH_TUNEADVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memwatch/collect/vmtune.h"

/* Kernel default min_free_kbytes for this much low memory: sqrt(16 * kB), 128..262144. */
int64_t mw_min_free_kbytes_default(int64_t lowmem_kb);

/* What the tunable advice looks at. */
struct mw_tune_input {
	struct mw_tunables tun;
	struct mw_zone_set zones;
	int numa_nodes;
	int64_t mem_total;        /* bytes */
	int64_t swap_total;       /* bytes */
	bool direct_reclaim;      /* allocstall or pgscan_direct rose in the window */
	double direct_scan_per_s; /* pgscan_direct pages per second (0 when none) */
	double swapin_per_s;      /* pswpin pages per second */
	int64_t page_size;
};

struct mw_tune_advice {
	char tunable[32];
	int64_t current, suggested;
	char why[640];
};

/*
 * Advice for the tunables that matter here; returns how many entries were
 * written (at most cap). Nothing is advised for a knob already right.
 */
size_t mw_tune_advise(const struct mw_tune_input *in, struct mw_tune_advice *out, size_t cap);

#endif
