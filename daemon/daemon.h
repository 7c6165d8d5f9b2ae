/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatchd internals. The daemon is a loop over "sources": the /proc
 * process and system collectors are built in; every other concern (eBPF,
 * regions, slab, IPC, the metrics listener) is one source in its own file,
 * listed once in sources.c. Each tick: every source collects (no database),
 * then one transaction holds the tick, the processes, and every source's
 * rows. A source that fails to open stays off and says why.
 */
#ifndef MEMWATCHD_DAEMON_H
#define MEMWATCHD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "memwatch/base/config.h"

struct mw_bpfmon;

#include "memwatch/collect/proc.h"
#include "memwatch/store/store.h"
#include "memwatch/collect/sysmem.h"

#define MW_DEFAULT_SLOW_INTERVAL_NS (60ull * 1000000000ull)

struct mw_daemon {
	/* configuration */
	const char *db_path;
	const char *root; /* "" for the live system */
	uint64_t interval_ns;
	uint64_t slow_interval_ns; /* slow tier (regions): 0 = MW_DEFAULT_SLOW_INTERVAL_NS */
	bool foreground;

	/* the current tick: filled by the built-in collectors before sources run */
	struct mw_store *store;
	struct mw_proc_collector *pc;
	struct mw_proc_set procs;
	struct mw_sys_sample sys;
	uint64_t t_ns;
	int64_t tick_id;
	uint64_t ticks; /* completed */

	int sigfd;
	int ready_fd; /* write end of the pipe a backgrounding parent waits on, or -1 */
	int last_err; /* so a failing tick is logged once, not every interval */

	/* The configuration in force; replaced whole (never half) on SIGHUP. */
	const struct mw_config *cfg;
	/* How the daemon itself is doing, for the store's meta, status and /metrics. */
	struct mw_daemon_health {
		uint64_t tick_ns, tick_max_ns; /* wall time of the last / slowest tick */
		uint64_t tick_cpu_ns;          /* CPU (user+system) of the last tick */
		uint64_t cpu_ns;               /* CPU of every thread since start */
		uint64_t attempted_ticks;      /* run, stored or not */
		uint64_t skipped_ticks;        /* not run: the previous tick overran */
		uint64_t store_errors;         /* failed ticks and retention steps */
		int64_t rss_bytes;             /* our own RSS after the last tick */
		int64_t db_bytes;              /* database + WAL */
		uint64_t dropped_ticks;        /* ticks that could not be stored */
		uint64_t retention_ns;         /* time of the last retention step */
		uint64_t started_ns;           /* CLOCK_REALTIME at start */
		uint64_t filtered_procs;       /* processes left out by include/exclude */
	} health;
	/* The loaded eBPF programs (the bpf source's), or NULL: other sources may use their maps.
	 */
	struct mw_bpfmon *bpf;
	/* Every open source's metric families, for the metrics listener (set by the daemon). */
	void (*emit_source_metrics)(struct mw_daemon *d, FILE *out);
};

struct mw_source {
	const char *name;
	/* Once at start. Return -EOPNOTSUPP (or any error) to stay off; *why says why. */
	int (*open)(struct mw_daemon *d, void **state, char *why, size_t whylen);
	/* Each tick, before the transaction: gather data, touch no database. */
	int (*collect)(void *state, struct mw_daemon *d);
	/* Each tick, inside the transaction: write rows for d->tick_id. */
	int (*write)(void *state, struct mw_daemon *d);
	/* Optional: a descriptor to poll between ticks, and what to do when it is readable. */
	int (*fd)(void *state);
	void (*on_ready)(void *state, struct mw_daemon *d);
	void (*close)(void *state);
	/* Optional: a new d->cfg is in force (SIGHUP). */
	void (*reload)(void *state, struct mw_daemon *d);
	/* Capabilities (MW_CAP(CAP_...) from memwatch/caps.h) still needed after open. */
	uint64_t keep_caps;
	/* Optional: this source's metric families in Prometheus text format, for /metrics. */
	void (*metrics)(void *state, struct mw_daemon *d, FILE *out);
};

/* The sources, in the order they run (sources.c). */
extern const struct mw_source *const mw_sources[];
extern const size_t mw_nsources;

#endif
