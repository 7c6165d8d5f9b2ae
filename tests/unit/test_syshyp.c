/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System rules over built views: a steady machine (flat memory, a slab
 * cache that fills and is reclaimed) raises nothing; each rule fires on
 * its own evidence and names what it should.
 */
#include "check.h"
#include "memwatch/analyse/syshyp.h"
#include "memwatch/base/util.h"

#include <math.h>
#include <string.h>

#define N 12

static int64_t *times(void)
{
	int64_t *t = calloc(N, sizeof(*t));
	for (int i = 0; i < N; i++)
		t[i] = 1700000000000LL + i * 10000;
	return t;
}

static double *series(double a, double step, bool saw)
{
	double *v = calloc(N, sizeof(*v));
	for (int i = 0; i < N; i++)
		v[i] = saw ? a + (double)(i % 4) * step : a + (double)i * step;
	return v;
}

static void base_view(struct mw_sysview *v)
{
	memset(v, 0, sizeof(*v));
	v->n = N;
	v->t_ms = times();
	v->sys = calloc(N, sizeof(*v->sys));
	for (int i = 0; i < N; i++) {
		for (int k = 0; k < MW_MI_COUNT; k++)
			v->sys[i].mem[k] = 1 << 30;
		for (int k = 0; k < MW_VM_COUNT; k++)
			v->sys[i].vm[k] = 100;
		for (int k = 0; k < MW_PSI_COUNT; k++)
			v->sys[i].psi[k] = 0;
		v->sys[i].mem[MW_MI_mem_total] = 16LL << 30;
	}
	v->from_ms = v->t_ms[0];
	v->to_ms = v->t_ms[N - 1];
	v->slab_ok = true;
	v->numa_nodes = 1;
	for (int k = 0; k < MW_TUN_COUNT; k++)
		v->tun.v[k] = 0;
	v->tun.v[MW_TUN_min_free_kbytes] = 65536;
	v->tun.v[MW_TUN_swappiness] = 60;
}

static void add_slab(struct mw_sysview *v, const char *name, double step, bool saw)
{
	struct mw_slab_view *s;

	v->slab = realloc(v->slab, (v->nslab + 1) * sizeof(*v->slab));
	s = &v->slab[v->nslab++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->n = N;
	s->t_ms = times();
	s->bytes = series(8 << 20, step, saw);
	s->objs = series(1000, 10, saw);
	s->bytes_now = (int64_t)s->bytes[N - 1];
	{
		double t[N];
		for (int i = 0; i < N; i++)
			t[i] = (double)(s->t_ms[i] - s->t_ms[0]) / 1000.0;
		mw_trend_compute(t, s->bytes, N, &s->tr);
	}
	s->growing = s->tr.slope > 0 && s->tr.mk_p < 0.05 && !(s->tr.floor_slope < 0) &&
	             s->tr.last - s->tr.first >= MW_SLAB_MIN_GROWTH;
}

static struct mw_ipc_view *add_ipc(struct mw_sysview *v, enum mw_ipc_kind kind, double step)
{
	struct mw_ipc_view *o;
	double t[N];

	v->ipc = realloc(v->ipc, (v->nipc + 1) * sizeof(*v->ipc));
	o = &v->ipc[v->nipc++];
	memset(o, 0, sizeof(*o));
	o->o.kind = kind;
	o->o.key = 0x1234;
	o->o.id = 42;
	o->n = N;
	o->t_ms = times();
	o->bytes = series(0, step, false);
	o->o.bytes = (int64_t)o->bytes[N - 1];
	for (int i = 0; i < N; i++)
		t[i] = (double)(o->t_ms[i] - o->t_ms[0]) / 1000.0;
	mw_trend_compute(t, o->bytes, N, &o->tr);
	return o;
}

static const struct mw_syshyp *find(const struct mw_syshyp_set *s, const char *rule)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].rule, rule) == 0)
			return &s->v[i];
	return NULL;
}

static void test_steady(void)
{
	struct mw_sysview v;
	struct mw_syshyp_set hs;
	struct mw_ipc_view *q;

	base_view(&v);
	add_slab(&v, "dentry", 1 << 20, true); /* fills and is reclaimed */
	add_slab(&v, "filp", 0, false);
	q = add_ipc(&v, MW_IPC_msg, 0); /* a queue that is read as fast as written */
	q->o.bytes = 100;
	mw_syshyp_eval(&v, NULL, &hs);
	for (size_t i = 0; i < hs.n; i++)
		fprintf(stderr, "unexpected: %s\n", hs.v[i].title);
	CHECK_EQ_I64(hs.n, 0);
	mw_sysview_release(&v);
}

static void test_each_rule(void)
{
	struct mw_sysview v;
	struct mw_syshyp_set hs;
	const struct mw_syshyp *h;
	struct mw_ipc_view *o;

	base_view(&v);
	add_slab(&v, "signal_cache", 1 << 20, false);
	snprintf(v.slab[0].aliases, sizeof(v.slab[0].aliases), "UNIX");
	/* A process whose fd count rises in step with the cache. */
	v.procs = calloc(1, sizeof(*v.procs));
	v.nproc = 1;
	v.procs[0].pid = 4321;
	snprintf(v.procs[0].comm, sizeof(v.procs[0].comm), "sockhog");
	v.procs[0].n = N;
	v.procs[0].t_ms = times();
	v.procs[0].fds = series(10, 100, false);
	v.procs[0].threads = series(1, 0, false);
	v.procs[0].rss = series(1 << 20, 0, false);
	v.procs[0].cgroup = strdup("");

	o = add_ipc(&v, MW_IPC_msg, 4096);
	o->o.lpid = 777;
	o->writer_known = true;
	snprintf(o->writer_comm, sizeof(o->writer_comm), "producer");
	o = add_ipc(&v, MW_IPC_shm, 0);
	o->o.size = 2LL << 30;
	o->o.nattch = 0;
	o->o.cpid = 1234;
	o->o.id = 99;
	o->creator_known = true;
	snprintf(o->creator_comm, sizeof(o->creator_comm), "nginx");
	o->orphan = true;
	for (int i = 0; i < N; i++)
		v.sys[i].vm[MW_VM_allocstall_normal] = 100 + i * 5;

	mw_syshyp_eval(&v, NULL, &hs);
	h = find(&hs, "slab-growth");
	CHECK(h != NULL);
	if (h) {
		CHECK_EQ_STR(h->subject, "signal_cache");
		CHECK_EQ_I64(h->pid, 4321);
		CHECK(strstr(h->title, "UNIX") != NULL);
	}
	h = find(&hs, "ipc-backlog");
	CHECK(h != NULL);
	if (h) {
		CHECK_EQ_I64(h->pid, 777);
		CHECK(strstr(h->title, "producer[777]") != NULL);
		CHECK(strstr(h->subject, "id 42") != NULL);
	}
	h = find(&hs, "orphaned-shm");
	CHECK(h != NULL);
	if (h) {
		CHECK_EQ_I64(h->pid, 1234);
		CHECK(strstr(h->evidence[0], "created by nginx[1234] (exited)") != NULL);
		CHECK(strstr(h->evidence[0], "2.0 GiB") != NULL);
	}
	h = find(&hs, "memory-pressure");
	CHECK(h != NULL);
	if (h)
		CHECK(h->nadvice >= 1);
	CHECK(find(&hs, "oom-risk") == NULL); /* no forecast given */
	mw_sysview_release(&v);
}

int main(void)
{
	test_steady();
	test_each_rule();
	return check_done();
}
