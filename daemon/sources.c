/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's optional sources, in the order they run each tick. One line per source. */
#include "daemon.h"

#include <stddef.h>

extern const struct mw_source mw_source_bpf;
extern const struct mw_source mw_source_regions;
extern const struct mw_source mw_source_system;
extern const struct mw_source mw_source_cgroup;
extern const struct mw_source mw_source_callsite;
extern const struct mw_source mw_source_metrics;

const struct mw_source *const mw_sources[] = {
        &mw_source_bpf,    &mw_source_regions,  &mw_source_system,
        &mw_source_cgroup, &mw_source_callsite, &mw_source_metrics,
};

const size_t mw_nsources = sizeof(mw_sources) / sizeof(mw_sources[0]);
