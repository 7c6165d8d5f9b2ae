/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Call sites of new mappings and brk growth (lib/collect/callsite.c):
 * per-cpu perf events drained when readable, reconciled against
 * /proc/PID/maps every MEMWATCH_CALLSITE_RECONCILE seconds, stored in the
 * tick transaction (lib/store/callsitestore.c).
 */
#include "memwatch/collect/bpfmon.h"
#include "memwatch/collect/callsite.h"
#include "memwatch/store/callsitestore.h"
#include "memwatch/base/log.h"
#include "memwatch/base/util.h"
#include "daemon.h"
#include "memwatch/base/caps.h"

#include <linux/capability.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * With eBPF, snapshots come from its programs (rate-limited before any
 * copy; heap growth included); without, from perf events on
 * vm_unmapped_area (mappings only). -1 for perf.
 */
static int snap_ring(struct mw_daemon *d, const struct mw_callsite_options *o)
{
	uint32_t bytes = o->stack_bytes < MW_SNAP_STACK_MAX ? o->stack_bytes : MW_SNAP_STACK_MAX;
	int fd;

	if (o->perf_only) {
		mw_info("callsite: perf events (MEMWATCH_CALLSITE_SOURCE=perf): no heap (brk) "
		        "growth"
		        " call sites");
		return -1;
	}
	if (!d->bpf) {
		mw_info("callsite: no eBPF: mapping snapshots through perf events, no heap (brk)"
		        " growth call sites");
		return -1;
	}
	fd = mw_bpfmon_snaps(d->bpf, bytes, o->rate_per_s, o->burst);
	if (fd < 0)
		mw_warn("callsite: eBPF snapshots unavailable (%s): perf events instead, no heap"
		        " (brk) growth call sites",
		        strerror(-fd));
	return fd < 0 ? -1 : fd;
}

static int cs_open(struct mw_daemon *d, void **state, char *why, size_t whylen)
{
	struct mw_callsite_options o;
	struct mw_callsite_tracker *t;
	int r, fd;

	mw_callsite_options_default(&o);
	r = mw_callsite_options_from_env(&o, why, whylen);
	if (r < 0)
		return r;
	fd = snap_ring(d, &o);
	r = mw_callsite_tracker_new(&o, fd, &t, why, whylen);
	if (r < 0) {
		if (fd >= 0)
			mw_bpfmon_snaps(d->bpf, 0, 0, 0);
		return r;
	}
	mw_info("callsite: %u-byte stack slices, %g snapshots/s per process (burst %g), depth %u,"
	        " from %s",
	        o.stack_bytes, o.rate_per_s, o.burst, o.depth, fd >= 0 ? "eBPF" : "perf events");
	*state = t;
	return 0;
}

static int cs_collect(void *state, struct mw_daemon *d)
{
	if (d->bpf) {
		struct mw_bpf_counters c;
		mw_bpfmon_counters(d->bpf, &c);
		mw_callsite_tracker_set_dropped(state, c.snaps_dropped);
	}
	mw_callsite_tracker_poll(state);
	return mw_callsite_tracker_reconcile(state, mw_mono_ns(), false) < 0 ? -EIO : 0;
}

static int cs_write(void *state, struct mw_daemon *d)
{
	struct mw_callsite_writer *w = NULL;
	int r = mw_callsite_writer_new(d->store, &w);

	if (r == 0)
		r = mw_callsite_tracker_write(state, mw_callsite_writer_sink(w), d->tick_id,
		                              d->t_ns);
	mw_callsite_writer_free(w);
	return r;
}

static int cs_fd(void *state)
{
	return mw_callsite_tracker_fd(state);
}

static void cs_on_ready(void *state, struct mw_daemon *d)
{
	(void)d;
	mw_callsite_tracker_poll(state);
}

static void cs_close(void *state)
{
	struct mw_callsite_counters c;

	mw_callsite_tracker_counters(state, &c);
	mw_info("callsite: %llu samples, %llu recorded, %llu skipped, %llu lost",
	        (unsigned long long)c.samples, (unsigned long long)c.recorded,
	        (unsigned long long)c.skipped, (unsigned long long)c.lost);
	mw_callsite_tracker_free(state);
}

const struct mw_source mw_source_callsite = {
        .name = "callsite",
        .open = cs_open,
        .collect = cs_collect,
        .write = cs_write,
        .fd = cs_fd,
        .on_ready = cs_on_ready,
        .close = cs_close,
        /* A storming process is muted by reopening the per-CPU perf events with a filter. */
        .keep_caps = MW_CAP(CAP_PERFMON),
};
