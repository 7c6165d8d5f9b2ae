/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A hash map keyed by process identity (pid, start time), with a fixed-size
 * value stored inline. Used wherever per-process state is carried from one
 * tick to the next (store writer, top's embedded history, BPF drains).
 */
#ifndef MEMWATCH_PIDMAP_H
#define MEMWATCH_PIDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mw_pidmap;

int mw_pidmap_new(size_t value_size, struct mw_pidmap **out);
void mw_pidmap_free(struct mw_pidmap *m);

/* The value for (pid, start), or NULL. */
void *mw_pidmap_get(struct mw_pidmap *m, pid_t pid, uint64_t start);

/* Find or insert (zero-filled, *created = true). NULL on allocation failure. */
void *mw_pidmap_put(struct mw_pidmap *m, pid_t pid, uint64_t start, bool *created);

/* Remove; returns true when it was present. */
bool mw_pidmap_del(struct mw_pidmap *m, pid_t pid, uint64_t start);

size_t mw_pidmap_size(const struct mw_pidmap *m);

/*
 * Iterate: *pos starts at 0; returns the next value (with its key) or NULL
 * at the end. Do not insert or delete while iterating: collect the keys
 * first (deletion shifts entries, which could be visited twice or not at all).
 */
void *mw_pidmap_next(struct mw_pidmap *m, size_t *pos, pid_t *pid, uint64_t *start);

/*
 * Remove every entry for which keep(value, ctx) returns false (keep may
 * release what the value owns before saying so). 0 or -ENOMEM, in which
 * case nothing is removed.
 */
typedef bool (*mw_pidmap_keep_fn)(void *value, void *ctx);
int mw_pidmap_prune(struct mw_pidmap *m, mw_pidmap_keep_fn keep, void *ctx);

#endif
