/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The system view's live parts: sampled whole for a window the store does
 * not cover, and the facts of the machine now that a store read lacks.
 * Only the CLI reads the machine itself (the daemon records it).
 */
#include "cli.h"
#include "memwatch/analyse/sysview.h"
#include "memwatch/collect/ipc.h"
#include "memwatch/collect/proc.h"
#include "memwatch/collect/slab.h"
#include "memwatch/collect/sysmem.h"
#include "memwatch/collect/vmtune.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* mw_sysview_series_push grows arrays in powers of two from 16: the capacity follows from n. */
static size_t pow2_cap(size_t n)
{
	size_t c = 16;

	if (n == 0)
		return 0;
	while (c < n)
		c *= 2;
	return c;
}

struct live_ctx {
	size_t capslab, capipc, capproc, capsys;
};

static struct mw_slab_view *slab_view(struct mw_sysview *v, struct live_ctx *lc,
                                      const struct mw_slab_cache *c, const char *root)
{
	for (size_t i = 0; i < v->nslab; i++)
		if (strcmp(v->slab[i].name, c->name) == 0)
			return &v->slab[i];
	if (mw_sysview_grow((void **)&v->slab, v->nslab, &lc->capslab, sizeof(*v->slab)) < 0)
		return NULL;
	struct mw_slab_view *s = &v->slab[v->nslab++];
	snprintf(s->name, sizeof(s->name), "%s", c->name);
	s->objsize = c->objsize;
	mw_slab_aliases(root, c->name, s->aliases, sizeof(s->aliases));
	return s;
}

static int live_slab(struct mw_sysview *v, struct live_ctx *lc, const char *root, int64_t t)
{
	struct mw_slab_set set = {0};
	int r = mw_slab_read(root, &set);

	if (r < 0) {
		v->slab_ok = false;
		snprintf(v->slab_why, sizeof(v->slab_why), "%s",
		         r == -EACCES ? "unavailable: needs root"
		                      : "unavailable: /proc/slabinfo unreadable");
		mw_slab_set_release(&set);
		return 0;
	}
	v->slab_ok = true;
	for (size_t i = 0; i < set.n && r == 0; i++) {
		struct mw_slab_view *s = slab_view(v, lc, &set.v[i], root);
		size_t cap;
		if (!s) {
			r = -ENOMEM;
			break;
		}
		cap = pow2_cap(s->n);
		r = mw_sysview_series_push(&s->n, &cap, &s->t_ms, &s->bytes, &s->objs, NULL, t,
		                           (double)set.v[i].bytes, (double)set.v[i].num_objs, 0);
		s->bytes_now = set.v[i].bytes;
		s->objs_now = set.v[i].num_objs;
	}
	mw_slab_set_release(&set);
	return r;
}

static int live_ipc(struct mw_sysview *v, struct live_ctx *lc, const char *root, int64_t t)
{
	struct mw_ipc_set set = {0};
	int r = mw_ipc_read(root, true, &set);

	v->ipc_ok = r == 0 && set.sysv_ok;
	if (set.note[0])
		snprintf(v->ipc_note, sizeof(v->ipc_note), "%s", set.note);
	for (size_t i = 0; i < set.n && r == 0; i++) {
		struct mw_ipc_view *o = NULL;
		for (size_t k = 0; k < v->nipc && !o; k++)
			if (strcmp(v->ipc[k].o.ident, set.v[i].ident) == 0)
				o = &v->ipc[k];
		if (!o) {
			r = mw_sysview_grow((void **)&v->ipc, v->nipc, &lc->capipc,
			                    sizeof(*v->ipc));
			if (r < 0)
				break;
			o = &v->ipc[v->nipc++];
			o->first_ms = t;
		}
		o->o = set.v[i];
		size_t cap = pow2_cap(o->n);
		r = mw_sysview_series_push(
		        &o->n, &cap, &o->t_ms, &o->bytes, NULL, NULL, t,
		        (double)(set.v[i].bytes == MW_UNKNOWN ? 0 : set.v[i].bytes), 0, 0);
	}
	mw_ipc_set_release(&set);
	return r;
}

static int live_procs(struct mw_sysview *v, struct live_ctx *lc, struct mw_proc_collector *pc,
                      int64_t t)
{
	struct mw_proc_set set = {0};
	int r = mw_proc_collect(pc, &set);

	for (size_t i = 0; i < set.n && r == 0; i++) {
		const struct mw_proc_sample *p = &set.v[i];
		struct mw_proc_view *pv = NULL;
		for (size_t k = 0; k < v->nproc && !pv; k++)
			if (v->procs[k].pid == p->pid && v->procs[k].start_ticks == p->start_ticks)
				pv = &v->procs[k];
		if (!pv) {
			r = mw_sysview_grow((void **)&v->procs, v->nproc, &lc->capproc,
			                    sizeof(*v->procs));
			if (r < 0)
				break;
			pv = &v->procs[v->nproc++];
			pv->pid = p->pid;
			pv->start_ticks = p->start_ticks;
			memcpy(pv->comm, p->comm, sizeof(pv->comm));
			pv->cgroup = strdup(p->cgroup ? p->cgroup : "");
			if (!pv->cgroup) {
				r = -ENOMEM;
				break;
			}
		}
		memcpy(pv->now, p->m, sizeof(pv->now));
		size_t cap = pow2_cap(pv->n);
		r = mw_sysview_series_push(&pv->n, &cap, &pv->t_ms, &pv->fds, &pv->threads,
		                           &pv->rss, t, (double)p->m[MW_PM_fds],
		                           (double)p->m[MW_PM_threads], (double)p->m[MW_PM_rss]);
	}
	mw_proc_set_clear(&set);
	free(set.v);
	return r;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
	                      .tv_nsec = (long)(ns % 1000000000ull)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Creator/writer names for live objects: only processes alive now can be named. */
static void live_names(struct mw_sysview *v, const char *root)
{
	for (size_t i = 0; i < v->nipc; i++) {
		struct mw_ipc_view *o = &v->ipc[i];
		for (size_t k = 0; k < v->nproc; k++) {
			const struct mw_proc_view *p = &v->procs[k];
			if (o->o.cpid && p->pid == o->o.cpid) {
				o->creator_known = o->creator_alive = true;
				memcpy(o->creator_comm, p->comm, sizeof(o->creator_comm));
			}
			if (o->o.lpid && p->pid == o->o.lpid && o->o.kind == MW_IPC_msg) {
				o->writer_known = true;
				memcpy(o->writer_comm, p->comm, sizeof(o->writer_comm));
			}
		}
		if (o->o.kind == MW_IPC_mqueue || o->o.kind == MW_IPC_posix_shm) {
			int n = mw_ipc_holders(root, &o->o, o->holders, MW_ARRAY_SIZE(o->holders));
			o->nholders = n > 0 ? n : 0;
		}
	}
}

int cli_sysview_live(const char *root, uint64_t duration_ns, uint64_t interval_ns, int parts,
                     struct mw_sysview *v)
{
	struct mw_proc_collector *pc = NULL;
	struct live_ctx lc = {0};
	uint64_t start = mw_mono_ns();
	int r = 0;

	memset(v, 0, sizeof(*v));
	v->source = MW_SYSVIEW_LIVE;
	if (parts & MW_SV_PROCS) {
		r = mw_proc_collector_new(root, &pc);
		if (r < 0)
			return r;
	}
	for (int k = 0; r == 0; k++) {
		int64_t t = (int64_t)(mw_now_ns() / 1000000ull);
		struct mw_sys_sample s;

		r = mw_sys_sample_read(root, &s);
		if (r == 0)
			r = mw_sysview_sys_push(v, &lc.capsys, t, &s);
		if (r == 0 && (parts & MW_SV_SLAB))
			r = live_slab(v, &lc, root, t);
		if (r == 0 && (parts & MW_SV_IPC))
			r = live_ipc(v, &lc, root, t);
		if (r == 0 && pc)
			r = live_procs(v, &lc, pc, t);
		if (r < 0 || (k >= 1 && mw_mono_ns() - start + interval_ns / 2 > duration_ns))
			break;
		sleep_ns(interval_ns);
	}
	mw_proc_collector_free(pc);
	if (r < 0) {
		mw_sysview_release(v);
		return r;
	}
	mw_tunables_read(root, &v->tun);
	mw_zoneinfo_read(root, &v->zones);
	v->numa_nodes = mw_numa_nodes(root);
	v->from_ms = v->t_ms[0];
	v->to_ms = v->t_ms[v->n - 1];
	live_names(v, root);
	mw_sysview_finish(v);
	snprintf(v->note, sizeof(v->note),
	         "live: no recorded history; %zu samples over %.1f s taken by this command", v->n,
	         (double)(v->to_ms - v->from_ms) / 1000.0);
	return 0;
}

/* Holders are a live fact: look them up now, by the file's identity. */
static void store_holders(const char *root, struct mw_sysview *v)
{
	for (size_t i = 0; i < v->nipc; i++) {
		struct mw_ipc_view *o = &v->ipc[i];
		struct stat sb;
		char path[4096];

		if (o->o.kind != MW_IPC_mqueue && o->o.kind != MW_IPC_posix_shm)
			continue;
		snprintf(path, sizeof(path), "%s%s/%s", root ? root : "",
		         o->o.kind == MW_IPC_mqueue ? "/dev/mqueue" : "/dev/shm", o->o.name);
		if (stat(path, &sb) == 0) {
			o->o.dev = sb.st_dev;
			o->o.ino = sb.st_ino;
			int n = mw_ipc_holders(root, &o->o, o->holders, MW_ARRAY_SIZE(o->holders));
			o->nholders = n > 0 ? n : 0;
		}
	}
}

int cli_sysview_from_store(struct mw_store *st, const char *root, int64_t since_ms,
                           int64_t until_ms, int parts, struct mw_sysview *v)
{
	int r = mw_store_sysview(st, since_ms, until_ms, parts, v);

	if (r < 0)
		return r;
	/* TODO(store ipc holders): recorded by the daemon, a copied database would replay them. */
	store_holders(root, v);
	/* The node count is a fact of this machine, not of the window. */
	v->numa_nodes = mw_numa_nodes(root);
	mw_sysview_finish(v);
	return 0;
}
