/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dropping capabilities once the daemon's sources are open, with raw
 * capget/capset/prctl (no libcap dependency).
 */
#ifndef MEMWATCH_CAPS_H
#define MEMWATCH_CAPS_H

#include <stddef.h>
#include <stdint.h>

#define MW_CAP(c) (1ull << (c))

/* The effective set now, as a mask of CAP_* bits. */
int mw_caps_get(uint64_t *effective, uint64_t *permitted);

/*
 * Keep only `keep` (permitted, effective; inheritable and ambient emptied)
 * and remove everything else from the bounding set, so nothing can come
 * back through exec. Sets no_new_privs. Returns 0 or -errno.
 */
int mw_caps_keep_only(uint64_t keep);

/* "cap_sys_ptrace,cap_dac_read_search" for logs; buf always terminated. */
void mw_caps_format(uint64_t mask, char *buf, size_t cap);

#endif
