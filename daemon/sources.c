/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's optional sources, in the order they run each tick. One line per source. */
#include "daemon.h"

#include <stddef.h>

extern const struct mw_source mw_source_metrics;

const struct mw_source *const mw_sources[] = {
	NULL, /* keeps the array non-empty; skipped by the loop */
	&mw_source_metrics,
};

const size_t mw_nsources = sizeof(mw_sources) / sizeof(mw_sources[0]);
