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

/* root: where slab aliases are read ("" live). */
int mw_sysw_new(struct mw_store *s, const char *root, struct mw_sysw **out);
void mw_sysw_free(struct mw_sysw *w);

/* Tunables at the first call and whenever one changes (event "tunable-change"). */
int mw_sysw_tunables(struct mw_sysw *w, int64_t tick, uint64_t t_ns, const struct mw_tunables *t);

/* A slow-tier sample: which parts were read (slab NULL = unavailable). */
int mw_sysw_slow(struct mw_sysw *w, int64_t tick, uint64_t t_ns, const struct mw_slab_set *slab,
                 const struct mw_zone_set *zones, const struct mw_ipc_set *ipc);

#endif
