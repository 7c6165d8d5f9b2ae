/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine's side in the store (docs/schema-system.md): slab caches
 * and their samples, zone watermarks, vm tunables, IPC objects and their
 * samples. The writer keeps the last stored values so it stores only what
 * changed; it runs inside the daemon's tick transaction.
 */
#ifndef MEMWATCH_SYSSTORE_H
#define MEMWATCH_SYSSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "memwatch/collect/ipc.h"
#include "memwatch/collect/slab.h"
#include "memwatch/store/store.h"
#include "memwatch/collect/vmtune.h"

struct mw_sysw;

/*
 * What the writer asks of the live machine, and only for an object it has
 * not seen before (a new slab cache's aliases, a new queue's writer): the
 * collector provides it, so the store never reads /proc or /sys itself.
 * Either function may be NULL (then nothing is asked).
 */
struct mw_sysw_lookup {
	int (*slab_aliases)(void *ctx, const char *cache, char *buf, size_t cap);
	int (*ipc_holders)(void *ctx, const struct mw_ipc_obj *o, struct mw_ipc_holder *out,
	                   size_t cap);
	void *ctx;
};

int mw_sysw_new(struct mw_store *s, const struct mw_sysw_lookup *lookup, struct mw_sysw **out);
void mw_sysw_free(struct mw_sysw *w);

/* Tunables at the first call and whenever one changes (event "tunable-change"). */
int mw_sysw_tunables(struct mw_sysw *w, int64_t tick, uint64_t t_ns, const struct mw_tunables *t);

/* A slow-tier sample: which parts were read (slab NULL = unavailable). */
int mw_sysw_slow(struct mw_sysw *w, int64_t tick, uint64_t t_ns, const struct mw_slab_set *slab,
                 const struct mw_zone_set *zones, const struct mw_ipc_set *ipc);

#endif
