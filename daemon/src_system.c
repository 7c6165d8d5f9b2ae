/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine's side: vm tunables every tick (cheap, stored only on
 * change), and in the slow tier slab caches, zone watermarks and IPC
 * objects. The slow interval is the daemon's (slow_interval in
 * memwatchd.conf, --slow-interval; default 60 s).
 */
#include "daemon.h"
#include "memwatch/collect/ipc.h"
#include "memwatch/base/log.h"
#include "memwatch/collect/slab.h"
#include "memwatch/store/sysstore.h"
#include "memwatch/base/util.h"
#include "memwatch/collect/vmtune.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SLOW_DEFAULT_NS (60ull * 1000000000ull)

struct system_state {
	struct mw_sysw *w;
	uint64_t slow_ns, next_slow;
	bool slab_ok;
	/* this tick's data */
	struct mw_tunables tun;
	bool slow_due;
	struct mw_slab_set slab;
	bool have_slab;
	struct mw_zone_set zones;
	struct mw_ipc_set ipc;
	bool have_ipc;
};

static int slab_aliases(void *ctx, const char *cache, char *buf, size_t cap)
{
	const struct mw_daemon *d = ctx;

	return mw_slab_aliases(d->root, cache, buf, cap);
}

static int ipc_holders(void *ctx, const struct mw_ipc_obj *o, struct mw_ipc_holder *out, size_t cap)
{
	const struct mw_daemon *d = ctx;

	return mw_ipc_holders(d->root, o, out, cap);
}

static int system_open(struct mw_daemon *d, void **state, char *why, size_t whylen)
{
	struct system_state *s = calloc(1, sizeof(*s));
	struct mw_slab_set probe = {0};
	int r;

	if (!s)
		return -ENOMEM;
	r = mw_sysw_new(d->store,
	                &(struct mw_sysw_lookup){
	                        .slab_aliases = slab_aliases, .ipc_holders = ipc_holders, .ctx = d},
	                &s->w);
	if (r < 0) {
		snprintf(why, whylen, "cannot prepare system tables: %s", strerror(-r));
		free(s);
		return r;
	}
	s->slow_ns = d->slow_interval_ns ? d->slow_interval_ns : SLOW_DEFAULT_NS;
	r = mw_slab_read(d->root, &probe);
	mw_slab_set_release(&probe);
	s->slab_ok = r == 0;
	if (r == -EACCES) {
		mw_warn("slab: unavailable: needs root (/proc/slabinfo is root-only)");
		mw_store_meta_set(d->store, "slab", "unavailable: needs root");
	} else if (r < 0) {
		mw_warn("slab: unavailable: /proc/slabinfo: %s", strerror(-r));
		mw_store_meta_set(d->store, "slab", "unavailable: /proc/slabinfo unreadable");
	} else {
		mw_store_meta_set(d->store, "slab", "on");
	}
	{
		char buf[32];
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(s->slow_ns / 1000000ull));
		mw_store_meta_set(d->store, "slow_interval_ms", buf);
	}
	*state = s;
	return 0;
}

static int system_collect(void *state, struct mw_daemon *d)
{
	struct system_state *s = state;
	uint64_t now = mw_mono_ns();
	int r;

	r = mw_tunables_read(d->root, &s->tun);
	if (r < 0)
		return r;
	s->slow_due = now >= s->next_slow;
	if (!s->slow_due)
		return 0;
	/* Ticks jitter by a few ms: a slow interval equal to the tick must not skip ticks. */
	s->next_slow = now + s->slow_ns - s->slow_ns / 10;
	s->have_slab = s->slab_ok && mw_slab_read(d->root, &s->slab) == 0;
	if (mw_zoneinfo_read(d->root, &s->zones) < 0)
		s->zones.n = 0;
	r = mw_ipc_read(d->root, true, &s->ipc);
	s->have_ipc = r == 0;
	if (s->ipc.note[0] && strncmp(s->ipc.note, "mounted", 7) == 0) {
		mw_notice("ipc: %s", s->ipc.note);
		s->ipc.note[0] = '\0';
	}
	return r;
}

static int system_write(void *state, struct mw_daemon *d)
{
	struct system_state *s = state;
	int r;

	r = mw_sysw_tunables(s->w, d->tick_id, d->t_ns, &s->tun);
	if (r == 0 && s->slow_due)
		r = mw_sysw_slow(s->w, d->tick_id, d->t_ns, s->have_slab ? &s->slab : NULL,
		                 &s->zones, s->have_ipc ? &s->ipc : NULL);
	return r;
}

static void system_close(void *state)
{
	struct system_state *s = state;

	mw_sysw_free(s->w);
	mw_slab_set_release(&s->slab);
	mw_ipc_set_release(&s->ipc);
	free(s);
}

const struct mw_source mw_source_system = {
        .name = "system",
        .open = system_open,
        .collect = system_collect,
        .write = system_write,
        .close = system_close,
};
