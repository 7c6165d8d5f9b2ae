/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The live half of memwatch oom: the kernel log that names the kills the
 * counter inferred, and, for the forecast of live processes, the memory
 * cgroup limits as they are now (a replayed moment reads them recorded).
 */
#include "cli.h"
#include "memwatch/analyse/oom.h"
#include "memwatch/collect/cgroup.h"
#include "memwatch/collect/kmsg.h"
#include "memwatch/store/procread.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The binding memory-cgroup limit of a process's cgroup text: as recorded
 * at at_ms when reading a store (a replayed moment), else as it is now.
 */
static int memcg_read(struct mw_store *st, int64_t at_ms, const char *text, int64_t *limit,
                      int64_t *usage)
{
	struct mw_cgroup_limit cl;
	int r = st ? mw_store_memcg_at(st, text, at_ms, &cl)
	           : mw_cgroup_memory_limit("", text, &cl);

	*limit = *usage = MW_UNKNOWN;
	if (r < 0 || cl.limit == MW_UNKNOWN)
		return -ENOENT;
	*limit = cl.limit;
	*usage = cl.usage;
	return 0;
}

int cli_oom_history(struct mw_store *st, int64_t since_ms, int64_t until_ms,
                    struct mw_oom_history *h)
{
	/* Heap, not stack: 64 records of the log. */
	struct mw_kmsg_kills *kl = calloc(1, sizeof(*kl));
	int r;

	memset(h, 0, sizeof(*h));
	if (!kl)
		return -ENOMEM;
	/* Without root the log is unreadable and kl stays empty: the counter alone decides. */
	mw_kmsg_oom_kills(kl);
	r = mw_store_oom_history(st, since_ms, until_ms, kl, h);
	free(kl);
	if (r < 0)
		return r;
	mw_oom_history_growth(st, h);
	return 0;
}

static const struct mw_proc_sample *proc_of(const struct mw_proc_set *procs, pid_t pid)
{
	for (size_t i = 0; i < procs->n; i++)
		if (procs->v[i].pid == pid)
			return &procs->v[i];
	return NULL;
}

int cli_oom_forecast(struct mw_store *st, int64_t at_ms, const struct mw_proc_set *procs,
                     const struct mw_sys_sample *now, const struct mw_sysview *view,
                     struct mw_oom_forecast *f)
{
	int r = mw_oom_forecast(procs, now, view, f);

	if (r < 0)
		return r;
	for (size_t i = 0; i < f->n; i++) {
		struct mw_oom_candidate *c = &f->v[i];
		const struct mw_proc_sample *p = proc_of(procs, c->pid);

		if (!p)
			continue;
		/* A memory cgroup limit is reached long before the machine runs out. */
		if (memcg_read(st, at_ms, p->cgroup, &c->cgroup_limit, &c->cgroup_usage) == 0 &&
		    c->cgroup_usage != MW_UNKNOWN && isfinite(c->rss_slope) && c->rss_slope > 0)
			c->seconds_to_limit = (double)(c->cgroup_limit > c->cgroup_usage
			                                       ? c->cgroup_limit - c->cgroup_usage
			                                       : 0) /
			                      c->rss_slope;
	}
	return 0;
}
