/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch report without recorded history: the command samples the
 * process itself for a short while, and the report is built from those
 * samples only. Here rather than in lib/ because only the CLI reads the
 * live machine for a report; the library works from the store.
 */
#ifndef MEMWATCH_CLI_REPORT_LIVE_H
#define MEMWATCH_CLI_REPORT_LIVE_H

#include <stdint.h>
#include <sys/types.h>

#include "memwatch/analyse/procreport.h"
#include "memwatch/collect/proc.h"

/*
 * Sample pid every interval_ns for duration_ns (at least two samples) and
 * fill the report from that. -ESRCH when the process is gone at the start.
 */
int mw_report_from_live(struct mw_proc_collector *c, pid_t pid, uint64_t duration_ns,
                        uint64_t interval_ns, struct mw_report *rep);

#endif
