/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Control groups: the one place that knows /proc/PID/cgroup text, systemd
 * unit names in it, and memory limits under v1 (memory.limit_in_bytes) and
 * v2 (memory.max). Everything else asks here.
 */
#ifndef MW_COLLECT_CGROUP_H
#define MW_COLLECT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The memory controller's path in a /proc/PID/cgroup text (lines or
 * comma-separated entries): v1's "N:...memory...:/path" when present, else
 * v2's "0::/path". False when neither is there or the path is not absolute
 * or climbs ("..").
 */
bool mw_cgroup_memory_path(const char *text, char *out, size_t cap, bool *v2);

/*
 * The systemd unit a cgroup text belongs to: the last path component ending
 * in ".service" or ".scope"; else the leaf component when leaf_fallback,
 * else "".
 */
void mw_cgroup_unit(const char *text, char *out, size_t cap, bool leaf_fallback);

/* What mw_cgroup_parse_bytes returns for "max": more than any limit. */
#define MW_CGROUP_NO_LIMIT (INT64_C(1) << 60)

/*
 * A cgroup memory file's first line (memory.max, memory.current,
 * memory.limit_in_bytes, ...): bytes, MW_CGROUP_NO_LIMIT for "max",
 * MW_UNKNOWN when it is not a number.
 */
int64_t mw_cgroup_parse_bytes(const char *text);

struct mw_cgroup_limit {
	int64_t limit;   /* bytes, MW_UNKNOWN when no ancestor has a limit */
	int64_t usage;   /* bytes charged to the cgroup holding that limit */
	char path[1024]; /* that cgroup's directory, e.g. /sys/fs/cgroup/a/b */
	bool v2;         /* the unified hierarchy (memory.max) rather than v1 */
};

/*
 * The memory limit that binds a cgroup: walking from its cgroup to the
 * root, the one with the least headroom (limit - usage). A nested cgroup
 * without its own limit is bound by its parent's. root prefixes every path
 * ("" for the live system). -ENOENT when the text names no memory cgroup.
 */
int mw_cgroup_memory_limit(const char *root, const char *text, struct mw_cgroup_limit *out);

/* Refresh cl->usage from the cgroup mw_cgroup_memory_limit found (one read). */
int mw_cgroup_memory_usage(const char *root, struct mw_cgroup_limit *cl);

#endif
