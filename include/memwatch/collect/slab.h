/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel slab caches from /proc/slabinfo (root only on most kernels).
 *
 * A small parser rather than libproc2's slabinfo API: libproc2 4.0 reads
 * the fixed path /proc/slabinfo, so it cannot be pointed at a recorded
 * tree under a root path (how every collector here is tested), and it
 * hides the "needs root" case behind a generic failure. The format is
 * stable ("slabinfo - version: 2.1") and eleven numbers a line.
 *
 * SLUB merges caches of the same size and flags: /proc/slabinfo shows
 * the merged cache under one name, so "signal_cache" may be holding
 * AF_UNIX sockets. /sys/kernel/slab names every alias (a symlink to the
 * shared directory); mw_slab_aliases reads them so a report can say so.
 */
#ifndef MEMWATCH_SLAB_H
#define MEMWATCH_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define MW_SLAB_NAME_MAX 64

struct mw_slab_cache {
	char name[MW_SLAB_NAME_MAX];
	int64_t active_objs, num_objs, objsize, objperslab, pagesperslab;
	int64_t active_slabs, num_slabs;
	int64_t bytes; /* num_slabs * pagesperslab * page size: memory the cache holds */
};

struct mw_slab_set {
	struct mw_slab_cache *v;
	size_t n, cap;
};

/*
 * Parse a whole slabinfo text. Lines that do not have the expected
 * numbers are skipped (counted in *skipped when not NULL). -EPROTO when
 * the header is not version 2.x; -ENOMEM.
 */
int mw_slab_parse(const char *text, long page_size, struct mw_slab_set *out, size_t *skipped);

/*
 * Read root/proc/slabinfo. -EACCES when not permitted (the caller says
 * "unavailable: needs root"), -ENOENT when the kernel has none.
 */
int mw_slab_read(const char *root, struct mw_slab_set *out);

void mw_slab_set_release(struct mw_slab_set *s);

/* The cache called name, or NULL. */
const struct mw_slab_cache *mw_slab_find(const struct mw_slab_set *s, const char *name);

/*
 * Other names sharing name's slab (from root/sys/kernel/slab), comma
 * separated, sorted, without name itself; "" when none or unknown.
 */
int mw_slab_aliases(const char *root, const char *name, char *buf, size_t cap);

#endif
