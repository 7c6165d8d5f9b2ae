/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reclaim state and its knobs: per-zone watermarks from /proc/zoneinfo,
 * the /proc/sys/vm tunables that shape reclaim and overcommit, the NUMA
 * node count from /sys/devices/system/node. Every reader takes a root
 * path so tests point it at recorded trees. The advice on the tunables
 * is analysis: memwatch/analyse/tuneadvice.h.
 */
#ifndef MEMWATCH_VMTUNE_H
#define MEMWATCH_VMTUNE_H

#include <stddef.h>
#include <stdint.h>

/* X(name): files under /proc/sys/vm/, recorded at start and on change. */
#define MW_TUNABLES(X)                                                                             \
	X(swappiness)                                                                              \
	X(min_free_kbytes)                                                                         \
	X(zone_reclaim_mode)                                                                       \
	X(overcommit_memory)                                                                       \
	X(overcommit_ratio)                                                                        \
	X(watermark_scale_factor)

#define MW_X_ENUM_TUN(name) MW_TUN_##name,
enum { MW_TUNABLES(MW_X_ENUM_TUN) MW_TUN_COUNT };

extern const char *const mw_tunable_names[MW_TUN_COUNT];

struct mw_tunables {
	int64_t v[MW_TUN_COUNT]; /* MW_UNKNOWN when the file is missing or not a number */
};

/* Read every tunable; a missing file is MW_UNKNOWN, not an error. */
int mw_tunables_read(const char *root, struct mw_tunables *t);

#define MW_ZONE_MAX 64

/* One zone of /proc/zoneinfo; counts in pages. */
struct mw_zone {
	int node;
	char name[16];
	int64_t free, min, low, high, spanned, present, managed;
};

struct mw_zone_set {
	size_t n;
	struct mw_zone v[MW_ZONE_MAX];
};

/* Parse a zoneinfo text; zones past MW_ZONE_MAX are ignored. */
void mw_zoneinfo_parse(const char *text, struct mw_zone_set *out);
int mw_zoneinfo_read(const char *root, struct mw_zone_set *out);

/* NUMA nodes (node<N> directories); 1 when the directory is missing. */
int mw_numa_nodes(const char *root);

#endif
