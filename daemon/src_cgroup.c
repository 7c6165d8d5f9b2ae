/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Memory-cgroup limits, recorded so the analysis never reads them from
 * the host it runs on. Per distinct /proc/PID/cgroup text: which ancestor
 * binds (walked again every RESOLVE_NS, limits rarely change), and each
 * tick that one cgroup's usage (one read). Stored only for cgroups with a
 * limit, and only when the usage moved by 1 % of the limit (at least
 * 1 MiB) or a minute passed: the forecast needs the headroom, not noise.
 */
#include "daemon.h"
#include "memwatch/base/log.h"
#include "memwatch/base/util.h"
#include "memwatch/collect/cgroup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RESOLVE_NS   (30ull * 1000000000ull)
#define REWRITE_NS   (60ull * 1000000000ull)
#define FORGET_TICKS 60
#define MAX_GROUPS   4096 /* distinct cgroup texts; beyond this, new ones are not tracked */

struct group {
	char *text; /* NULL: free slot */
	uint64_t hash;
	struct mw_cgroup_limit cl;
	uint64_t resolved_ns, written_ns;
	int64_t written_limit, written_usage;
	uint64_t seen_tick;
	bool due; /* write this tick */
};

struct cgroup_state {
	struct group *v; /* open addressing, cap a power of two */
	size_t n, cap;
	uint64_t tick;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static struct group *slot(struct group *v, size_t cap, const char *text, uint64_t h)
{
	for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!v[i].text || (v[i].hash == h && strcmp(v[i].text, text) == 0))
			return &v[i];
}

/* Rebuild at twice the size (or the same, to drop forgotten groups). */
static int rehash(struct cgroup_state *s, size_t cap)
{
	struct group *nv = calloc(cap, sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	s->n = 0;
	for (size_t i = 0; i < s->cap; i++) {
		struct group *g = &s->v[i];
		if (!g->text)
			continue;
		if (s->tick - g->seen_tick > FORGET_TICKS) {
			free(g->text);
			continue;
		}
		*slot(nv, cap, g->text, g->hash) = *g;
		s->n++;
	}
	free(s->v);
	s->v = nv;
	s->cap = cap;
	return 0;
}

static struct group *find_or_add(struct cgroup_state *s, const char *text)
{
	uint64_t h = fnv1a(text);
	struct group *g;

	if ((s->n + 1) * 2 > s->cap && (s->n >= MAX_GROUPS || rehash(s, s->cap * 2) < 0))
		return NULL;
	g = slot(s->v, s->cap, text, h);
	if (!g->text) {
		g->text = strdup(text);
		if (!g->text)
			return NULL;
		g->hash = h;
		g->written_limit = MW_UNKNOWN;
		s->n++;
	}
	return g;
}

static void refresh(struct group *g, const struct mw_daemon *d)
{
	bool resolve = d->t_ns - g->resolved_ns >= RESOLVE_NS;

	if (resolve) {
		mw_cgroup_memory_limit(d->root, g->text, &g->cl);
		g->resolved_ns = d->t_ns;
	} else if (g->cl.limit != MW_UNKNOWN) {
		mw_cgroup_memory_usage(d->root, &g->cl);
	}
	if (g->cl.limit == MW_UNKNOWN)
		return;
	int64_t step = g->cl.limit / 100 > (1 << 20) ? g->cl.limit / 100 : (1 << 20);
	int64_t moved = g->cl.usage - g->written_usage;
	g->due = g->cl.limit != g->written_limit || moved >= step || moved <= -step ||
	         d->t_ns - g->written_ns >= REWRITE_NS;
}

static int cgroup_collect(void *state, struct mw_daemon *d)
{
	struct cgroup_state *s = state;

	s->tick++;
	for (size_t i = 0; i < d->procs.n; i++) {
		const char *text = d->procs.v[i].cgroup;
		struct group *g;

		if (!text || !*text)
			continue;
		g = find_or_add(s, text);
		if (!g || g->seen_tick == s->tick)
			continue;
		g->seen_tick = s->tick;
		refresh(g, d);
	}
	/* Forget groups no process has used for a while (tick counts, not time). */
	if (s->tick % FORGET_TICKS == 0)
		return rehash(s, s->cap);
	return 0;
}

static int cgroup_write(void *state, struct mw_daemon *d)
{
	struct cgroup_state *s = state;

	for (size_t i = 0; i < s->cap; i++) {
		struct group *g = &s->v[i];
		int r;

		if (!g->text || !g->due || g->seen_tick != s->tick)
			continue;
		r = mw_store_write_memcg(d->store, d->tick_id, g->text, &g->cl);
		if (r < 0)
			return r;
		g->due = false;
		g->written_ns = d->t_ns;
		g->written_limit = g->cl.limit;
		g->written_usage = g->cl.usage;
	}
	return 0;
}

static void cgroup_close(void *state)
{
	struct cgroup_state *s = state;

	for (size_t i = 0; i < s->cap; i++)
		free(s->v[i].text);
	free(s->v);
	free(s);
}

static int cgroup_open(struct mw_daemon *d MW_UNUSED, void **state, char *why MW_UNUSED,
                       size_t whylen MW_UNUSED)
{
	struct cgroup_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->cap = 64;
	s->v = calloc(s->cap, sizeof(*s->v));
	if (!s->v) {
		free(s);
		return -ENOMEM;
	}
	*state = s;
	return 0;
}

const struct mw_source mw_source_cgroup = {
        .name = "cgroup",
        .open = cgroup_open,
        .collect = cgroup_collect,
        .write = cgroup_write,
        .close = cgroup_close,
};
