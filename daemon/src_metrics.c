/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The metrics listener: GET /metrics in the Prometheus text format, or in
 * OpenMetrics when the scraper's Accept asks for it; off unless `listen` is
 * set. Its fd is an epoll set holding the listening socket, a timerfd for
 * connection deadlines and the open connections, so the main loop polls
 * one descriptor and nothing here ever blocks or does unbounded work per
 * wake-up: the tick must never wait for a client.
 *
 * Connections are HTTP/1.1 persistent, requests answered in order (the
 * next pipelined one is parsed once the previous response is out). The
 * body is rendered once per tick and shared by every response until the
 * next (refcounted), so a flood of scrapes costs copies, not renders.
 * A full table makes room by evicting an idle or half-sent request, never
 * one that is complete; with none to evict a newcomer gets a 503.
 */
#include "config.h"
#include "memwatch/collect/cgroup.h"
#include "memwatch/base/httpreq.h"
#include "memwatch/base/log.h"
#include "memwatch/base/openmetrics.h"
#include "memwatch/base/pidmap.h"
#include "memwatch/collect/sysmem.h"
#include "memwatch/base/util.h"
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>

#define MAX_CONNS       64
#define HEAD_TIMEOUT_NS (5ull * 1000000000ull)  /* a request head, from its first byte */
#define IDLE_TIMEOUT_NS (10ull * 1000000000ull) /* a keep-alive connection between requests */
#define SEND_TIMEOUT_NS (10ull * 1000000000ull) /* a response, to a client that reads slowly */
#define LINGER_NS       (1ull * 1000000000ull)  /* reading what follows a final response */
/* Work per wake-up, so a flood cannot hold the loop past a tick. */
#define MAX_ACCEPTS 64
#define MAX_SERVED  16 /* responses to one connection's pipelined requests */
#define LISTEN_ID   MAX_CONNS
#define TIMER_ID    (MAX_CONNS + 1)
/* Growth is measured against a baseline at most this old (then re-based). */
#define GROWTH_WINDOW_NS (600ull * 1000000000ull)

/* A rendered exposition, shared by the responses that send it. */
struct body {
	size_t refs;
	size_t len;
	char data[];
};

enum conn_state {
	C_FREE,
	C_READ,   /* waiting for (the rest of) a request */
	C_WRITE,  /* sending a response */
	C_LINGER, /* final response sent, write side shut: draining until the client closes */
};

struct conn {
	int fd;
	enum conn_state state;
	uint32_t gen;      /* tells a stale epoll event from one for the slot's new connection */
	uint32_t interest; /* epoll events registered */
	uint64_t since;    /* when the state began: eviction takes the oldest */
	uint64_t deadline;
	bool keep_alive; /* after the response being sent */
	bool ready;      /* a complete request is buffered (its turn had not come) */
	size_t in_len;
	char in[MW_HTTPREQ_MAX_HEAD];
	char head[512]; /* status line, header fields, and an error's short body */
	size_t head_len;
	struct body *body; /* NULL for HEAD and errors */
	size_t off;        /* of head + body, sent */
};

struct baseline {
	int64_t rss;
	uint64_t t_ns;
	double growth; /* bytes per second over the baseline window */
	uint64_t seen_tick;
};

struct metrics {
	int ep;
	int lfd;
	int tfd;
	char bound[128]; /* what lfd listens on, "" when off */
	struct conn conns[MAX_CONNS];
	struct body *cache[2]; /* text, OpenMetrics: rendered for cache_key */
	uint64_t cache_key[2];
	uint64_t evicted, refused, timed_out;
	struct mw_pidmap *base;
	uint64_t tick_seq;
};

static void body_put(struct body *b)
{
	if (b && --b->refs == 0)
		free(b);
}

static void conn_close(struct metrics *m, struct conn *c)
{
	uint32_t gen = c->gen;

	if (c->state == C_FREE)
		return;
	epoll_ctl(m->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	body_put(c->body);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->gen = gen + 1;
}

static void drop_cache(struct metrics *m)
{
	for (int i = 0; i < 2; i++) {
		body_put(m->cache[i]);
		m->cache[i] = NULL;
	}
}

static void sweep(struct metrics *m)
{
	uint64_t now = mw_mono_ns();

	for (int i = 0; i < MAX_CONNS; i++)
		if (m->conns[i].state != C_FREE && now >= m->conns[i].deadline) {
			m->timed_out += m->conns[i].state != C_LINGER;
			conn_close(m, &m->conns[i]);
		}
}

/* Wake the loop at the earliest deadline, so they hold between ticks too. */
static void arm_timer(struct metrics *m)
{
	struct itimerspec its = {0};
	uint64_t first = UINT64_MAX;

	for (int i = 0; i < MAX_CONNS; i++)
		if (m->conns[i].state != C_FREE && m->conns[i].deadline < first)
			first = m->conns[i].deadline;
	if (first != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(first / 1000000000ull);
		its.it_value.tv_nsec = (long)(first % 1000000000ull);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1; /* zero would disarm */
	}
	timerfd_settime(m->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(spec, ':');
	uint64_t port;
	size_t hl;

	if (!colon || mw_parse_u64(colon + 1, &port) < 0 || port == 0 || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - spec);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		host[hl - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*len = sizeof(*a4);
	return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : -EINVAL;
}

static int listen_on(struct metrics *m, const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd, r;

	if (m->lfd >= 0) {
		epoll_ctl(m->ep, EPOLL_CTL_DEL, m->lfd, NULL);
		close(m->lfd);
		m->lfd = -1;
		m->bound[0] = '\0';
	}
	if (!*spec)
		return 0;
	r = parse_addr(spec, &ss, &len);
	if (r < 0)
		return r;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A backlog for bursts: a scraper waiting in it costs nothing until accepted. */
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = LISTEN_ID};
	if (epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	m->lfd = fd;
	snprintf(m->bound, sizeof(m->bound), "%s", spec);
	return 0;
}

static void metrics_free(struct metrics *m)
{
	for (int i = 0; i < MAX_CONNS; i++)
		conn_close(m, &m->conns[i]);
	for (int i = 0; i < 2; i++)
		body_put(m->cache[i]);
	if (m->lfd >= 0)
		close(m->lfd);
	if (m->tfd >= 0)
		close(m->tfd);
	if (m->ep >= 0)
		close(m->ep);
	mw_pidmap_free(m->base);
	free(m);
}

static int m_open(struct mw_daemon *d, void **state, char *why, size_t whylen)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->tfd = -1;
	m->lfd = -1;
	for (int i = 0; i < MAX_CONNS; i++)
		m->conns[i].fd = -1;
	m->ep = epoll_create1(EPOLL_CLOEXEC);
	m->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	r = m->ep < 0 || m->tfd < 0 ? -errno : mw_pidmap_new(sizeof(struct baseline), &m->base);
	if (r == 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TIMER_ID};
		r = epoll_ctl(m->ep, EPOLL_CTL_ADD, m->tfd, &ev) < 0 ? -errno : 0;
	}
	if (r == 0)
		r = listen_on(m, d->cfg ? d->cfg->listen : "");
	if (r < 0) {
		snprintf(why, whylen, "listen %s: %s", d->cfg ? d->cfg->listen : "", strerror(-r));
		metrics_free(m);
		return r;
	}
	if (m->lfd >= 0)
		mw_notice("metrics: serving /metrics on %s", m->bound);
	*state = m;
	return 0;
}

static void m_reload(void *state, struct mw_daemon *d)
{
	struct metrics *m = state;
	int r;

	drop_cache(m); /* metrics_top may have changed */
	if (!strcmp(m->bound, d->cfg->listen))
		return;
	r = listen_on(m, d->cfg->listen);
	if (r < 0)
		mw_err("metrics: listen %s: %s; listener off", d->cfg->listen, strerror(-r));
	else if (m->lfd >= 0)
		mw_notice("metrics: serving /metrics on %s", m->bound);
	else
		mw_notice("metrics: listener off");
}

/* Each tick: per-process RSS growth against a baseline at most GROWTH_WINDOW_NS old. */
static bool base_keep(void *value, void *ctx)
{
	return ((struct baseline *)value)->seen_tick == ((struct metrics *)ctx)->tick_seq;
}

static int m_collect(void *state, struct mw_daemon *d)
{
	struct metrics *m = state;
	struct baseline *b;

	sweep(m);
	arm_timer(m);
	if (m->lfd < 0)
		return 0; /* nobody can ask: keep no per-process state */
	m->tick_seq++;
	for (size_t i = 0; i < d->procs.n; i++) {
		const struct mw_proc_sample *p = &d->procs.v[i];
		bool created;
		int64_t rss = p->m[MW_PM_rss];

		b = mw_pidmap_put(m->base, p->pid, p->start_ticks, &created);
		if (!b)
			return -ENOMEM;
		b->seen_tick = m->tick_seq;
		if (created || rss == MW_UNKNOWN || b->rss == MW_UNKNOWN) {
			b->rss = rss;
			b->t_ns = d->t_ns;
			b->growth = 0;
			continue;
		}
		if (d->t_ns > b->t_ns)
			b->growth = (double)(rss - b->rss) / ((double)(d->t_ns - b->t_ns) / 1e9);
		if (d->t_ns - b->t_ns > GROWTH_WINDOW_NS) {
			b->rss = rss;
			b->t_ns = d->t_ns;
		}
	}
	/* Forget processes that are gone. */
	return mw_pidmap_prune(m->base, base_keep, m);
}

struct ranked {
	const struct mw_proc_sample *p;
	double key;
};

static int by_key_desc(const void *a, const void *b)
{
	double x = ((const struct ranked *)a)->key, y = ((const struct ranked *)b)->key;

	return x < y ? 1 : x > y ? -1 : 0;
}

static void proc_labels(const struct mw_proc_sample *p, char *pidbuf, char *svc, size_t svccap,
                        const char **l)
{
	snprintf(pidbuf, 16, "%d", (int)p->pid);
	mw_cgroup_unit(p->cgroup, svc, svccap, false);
	l[0] = "pid";
	l[1] = pidbuf;
	l[2] = "comm";
	l[3] = p->comm;
	l[4] = "service";
	l[5] = svc;
	l[6] = NULL;
}

static void emit_top(struct metrics *m, struct mw_daemon *d, FILE *out, struct ranked *rk,
                     bool growth)
{
	unsigned top = d->cfg ? d->cfg->metrics_top : 20;
	size_t n = 0;

	for (size_t i = 0; i < d->procs.n; i++) {
		const struct mw_proc_sample *p = &d->procs.v[i];
		struct baseline *b = mw_pidmap_get(m->base, p->pid, p->start_ticks);
		double key = growth ? (b ? b->growth : 0) : (double)p->m[MW_PM_rss];
		if (p->m[MW_PM_rss] == MW_UNKNOWN || (growth && key <= 0))
			continue;
		rk[n++] = (struct ranked){p, key};
	}
	mw_qsort(rk, n, sizeof(*rk), by_key_desc);
	if (n > top)
		n = top;
	if (!growth) {
		static const struct {
			int metric;
			const char *name, *help;
		} fams[] = {
		        {MW_PM_rss, "memwatch_process_rss_bytes",
		         "Resident set size of the top processes by RSS."},
		        {MW_PM_rss_anon, "memwatch_process_rss_anon_bytes",
		         "Anonymous resident memory of the top processes by RSS."},
		        {MW_PM_swap, "memwatch_process_swap_bytes",
		         "Swapped-out memory of the top processes by RSS."},
		};
		for (size_t f = 0; f < MW_ARRAY_SIZE(fams); f++) {
			mw_om_family(out, fams[f].name, "gauge", fams[f].help);
			for (size_t i = 0; i < n; i++) {
				char pid[16], svc[256];
				const char *l[8];
				if (rk[i].p->m[fams[f].metric] == MW_UNKNOWN)
					continue;
				proc_labels(rk[i].p, pid, svc, sizeof(svc), l);
				mw_om_sample_i64(out, fams[f].name, l, rk[i].p->m[fams[f].metric]);
			}
		}
		return;
	}
	mw_om_family(out, "memwatch_process_rss_growth_bytes_per_second", "gauge",
	             "RSS growth rate of the fastest-growing processes, over the last 10 minutes "
	             "at most.");
	for (size_t i = 0; i < n; i++) {
		char pid[16], svc[256];
		const char *l[8];
		proc_labels(rk[i].p, pid, svc, sizeof(svc), l);
		mw_om_sample(out, "memwatch_process_rss_growth_bytes_per_second", l, rk[i].key);
	}
}

static void emit_system(const struct mw_sys_sample *s, FILE *out)
{
	mw_om_family(
	        out, "memwatch_memory_bytes", "gauge",
	        "System memory from /proc/meminfo, by field (the column names of sys_samples).");
	for (int i = 0; i < MW_MI_COUNT; i++)
		if (s->mem[i] != MW_UNKNOWN)
			mw_om_sample_i64(out, "memwatch_memory_bytes",
			                 (const char *[]){"field", mw_meminfo_columns[i], NULL},
			                 s->mem[i]);
	mw_om_family(out, "memwatch_vmstat_total", "counter",
	             "Reclaim, fault and swap counters from /proc/vmstat (pages or events).");
	for (int i = 0; i < MW_VM_COUNT; i++)
		if (s->vm[i] != MW_UNKNOWN)
			mw_om_sample_i64(out, "memwatch_vmstat_total",
			                 (const char *[]){"counter", mw_vmstat_columns[i], NULL},
			                 s->vm[i]);
	mw_om_family(out, "memwatch_pressure_memory_ratio", "gauge",
	             "Memory pressure (PSI): share of time stalled, averaged over the window.");
	static const struct {
		int idx;
		const char *kind, *window;
	} avg[] = {
	        {MW_PSI_psi_some_avg10, "some", "10s"},   {MW_PSI_psi_some_avg60, "some", "60s"},
	        {MW_PSI_psi_some_avg300, "some", "300s"}, {MW_PSI_psi_full_avg10, "full", "10s"},
	        {MW_PSI_psi_full_avg60, "full", "60s"},   {MW_PSI_psi_full_avg300, "full", "300s"}};
	for (size_t i = 0; i < MW_ARRAY_SIZE(avg); i++)
		if (s->psi[avg[i].idx] != MW_UNKNOWN)
			mw_om_sample(out, "memwatch_pressure_memory_ratio",
			             (const char *[]){"kind", avg[i].kind, "window", avg[i].window,
			                              NULL},
			             (double)s->psi[avg[i].idx] / 10000.0);
	mw_om_family(out, "memwatch_pressure_memory_stall_seconds_total", "counter",
	             "Memory pressure (PSI): total time stalled.");
	if (s->psi[MW_PSI_psi_some_total] != MW_UNKNOWN)
		mw_om_sample(out, "memwatch_pressure_memory_stall_seconds_total",
		             (const char *[]){"kind", "some", NULL},
		             (double)s->psi[MW_PSI_psi_some_total] / 1e6);
	if (s->psi[MW_PSI_psi_full_total] != MW_UNKNOWN)
		mw_om_sample(out, "memwatch_pressure_memory_stall_seconds_total",
		             (const char *[]){"kind", "full", NULL},
		             (double)s->psi[MW_PSI_psi_full_total] / 1e6);
}

static void emit_daemon(struct mw_daemon *d, FILE *out)
{
	const struct mw_daemon_health *h = &d->health;

	mw_om_family(out, "memwatch_build_info", "gauge", "memwatchd version.");
	mw_om_sample_i64(out, "memwatch_build_info", (const char *[]){"version", MW_VERSION, NULL},
	                 1);
	mw_om_family(out, "memwatch_daemon_start_time_seconds", "gauge",
	             "When memwatchd started, in seconds since the epoch.");
	mw_om_sample(out, "memwatch_daemon_start_time_seconds", NULL, (double)h->started_ns / 1e9);
	mw_om_family(out, "memwatch_daemon_ticks_total", "counter", "Ticks stored.");
	mw_om_sample_i64(out, "memwatch_daemon_ticks_total", NULL, (int64_t)d->ticks);
	mw_om_family(out, "memwatch_daemon_dropped_ticks_total", "counter",
	             "Ticks that could not be stored (disk full, I/O errors).");
	mw_om_sample_i64(out, "memwatch_daemon_dropped_ticks_total", NULL,
	                 (int64_t)h->dropped_ticks);
	mw_om_family(out, "memwatch_daemon_skipped_ticks_total", "counter",
	             "Ticks never run because the previous one overran the interval.");
	mw_om_sample_i64(out, "memwatch_daemon_skipped_ticks_total", NULL,
	                 (int64_t)h->skipped_ticks);
	mw_om_family(out, "memwatch_daemon_store_errors_total", "counter",
	             "Failed database operations (ticks and retention).");
	mw_om_sample_i64(out, "memwatch_daemon_store_errors_total", NULL,
	                 (int64_t)h->store_errors);
	mw_om_family(out, "memwatch_daemon_tick_cpu_seconds", "gauge",
	             "CPU time of every memwatchd thread since start, over the ticks run.");
	mw_om_sample(out, "memwatch_daemon_tick_cpu_seconds", NULL,
	             h->attempted_ticks ? (double)h->cpu_ns / 1e9 / (double)h->attempted_ticks
	                                : 0.0);
	mw_om_family(out, "memwatch_daemon_tick_duration_seconds", "gauge",
	             "Wall time of the last tick (collect, store, retention).");
	mw_om_sample(out, "memwatch_daemon_tick_duration_seconds", NULL, (double)h->tick_ns / 1e9);
	mw_om_family(out, "memwatch_daemon_tick_duration_max_seconds", "gauge",
	             "Wall time of the slowest tick since start.");
	mw_om_sample(out, "memwatch_daemon_tick_duration_max_seconds", NULL,
	             (double)h->tick_max_ns / 1e9);
	mw_om_family(out, "memwatch_daemon_cpu_seconds_total", "counter",
	             "CPU time memwatchd used since start.");
	mw_om_sample(out, "memwatch_daemon_cpu_seconds_total", NULL, (double)h->cpu_ns / 1e9);
	mw_om_family(out, "memwatch_daemon_rss_bytes", "gauge", "memwatchd's own resident memory.");
	if (h->rss_bytes != MW_UNKNOWN)
		mw_om_sample_i64(out, "memwatch_daemon_rss_bytes", NULL, h->rss_bytes);
	mw_om_family(out, "memwatch_daemon_database_bytes", "gauge",
	             "Size of the database file and its WAL.");
	mw_om_sample_i64(out, "memwatch_daemon_database_bytes", NULL, h->db_bytes);
	mw_om_family(out, "memwatch_daemon_processes", "gauge",
	             "Processes sampled at the last tick.");
	mw_om_sample_i64(out, "memwatch_daemon_processes", NULL, (int64_t)d->procs.n);
	mw_om_family(out, "memwatch_daemon_recording", "gauge",
	             "1 when the last tick was stored, 0 when ticks are being dropped.");
	mw_om_sample_i64(out, "memwatch_daemon_recording", NULL, d->last_err ? 0 : 1);
}

/* The listener's own figures (as of the render, so up to a tick old). */
static void emit_listener(const struct metrics *m, FILE *out)
{
	static const char *const fams[][2] = {
	        {"memwatch_metrics_evicted_connections_total",
	         "Idle or incomplete listener connections closed to make room for new ones."},
	        {"memwatch_metrics_refused_connections_total",
	         "Listener connections answered 503 because every slot held a request."},
	        {"memwatch_metrics_timed_out_connections_total",
	         "Listener connections closed at a deadline (slow request, idle, slow reader)."},
	};
	const uint64_t v[] = {m->evicted, m->refused, m->timed_out};

	for (size_t i = 0; i < MW_ARRAY_SIZE(fams); i++) {
		mw_om_family(out, fams[i][0], "counter", fams[i][1]);
		mw_om_sample_i64(out, fams[i][0], NULL, (int64_t)v[i]);
	}
}

static int render(struct metrics *m, struct mw_daemon *d, char **buf, size_t *len)
{
	struct ranked *rk = calloc(d->procs.n + 1, sizeof(*rk));
	FILE *out;

	if (!rk)
		return -ENOMEM;
	out = open_memstream(buf, len);
	if (!out) {
		free(rk);
		return -ENOMEM;
	}
	emit_daemon(d, out);
	if (d->ticks) {
		emit_system(&d->sys, out);
		emit_top(m, d, out, rk, false);
		emit_top(m, d, out, rk, true);
	}
	if (d->emit_source_metrics)
		d->emit_source_metrics(d, out);
	emit_listener(m, out);
	free(rk);
	return fclose(out) == 0 ? 0 : -ENOMEM;
}

static struct body *body_new(const char *data, size_t len)
{
	struct body *b = malloc(sizeof(*b) + len);

	if (!b)
		return NULL;
	b->refs = 1;
	b->len = len;
	memcpy(b->data, data, len);
	return b;
}

/* Changes whenever a tick ran (stored or dropped): what the exposition depends on. */
static uint64_t cache_key(const struct metrics *m, const struct mw_daemon *d)
{
	return m->tick_seq + d->ticks + d->health.dropped_ticks;
}

/* This tick's exposition in the format asked for, rendered at most once; a new reference. */
static struct body *get_body(struct metrics *m, struct mw_daemon *d, bool om)
{
	uint64_t key = cache_key(m, d);
	char *text = NULL, *conv = NULL;
	size_t tlen = 0, clen = 0;
	int r;

	if (m->cache[om] && m->cache_key[om] == key)
		goto hit;
	if (!m->cache[0] || m->cache_key[0] != key) {
		body_put(m->cache[0]);
		m->cache[0] = NULL;
		r = render(m, d, &text, &tlen);
		if (r == 0 && !(m->cache[0] = body_new(text, tlen)))
			r = -ENOMEM;
		if (r < 0)
			goto out;
		m->cache_key[0] = key;
	}
	if (om) {
		body_put(m->cache[1]);
		m->cache[1] = NULL;
		r = mw_om_to_openmetrics(m->cache[0]->data, m->cache[0]->len, &conv, &clen);
		if (r == 0 && !(m->cache[1] = body_new(conv, clen)))
			r = -ENOMEM;
		if (r < 0)
			goto out;
		m->cache_key[1] = key;
	}
hit:
	m->cache[om]->refs++;
	free(text);
	free(conv);
	return m->cache[om];
out:
	free(text);
	free(conv);
	return NULL;
}

static void set_interest(struct metrics *m, struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events,
	                         .data.u64 = ((uint64_t)c->gen << 32) | (uint64_t)(c - m->conns)};

	if (c->interest == events)
		return;
	if (epoll_ctl(m->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->interest = events;
}

static void http_date(char *buf, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || !strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm))
		snprintf(buf, cap, "Thu, 01 Jan 1970 00:00:00 GMT");
}

/*
 * Queue the response to one request: code 200 sends the exposition (only
 * its length for HEAD), others a one-line reason. The connection then
 * writes until the response is out.
 */
static void respond(struct metrics *m, struct mw_daemon *d, struct conn *c, int code,
                    bool head_only, bool om)
{
	struct body *b = code == 200 ? get_body(m, d, om) : NULL;
	const char *reason, *type = "text/plain; charset=utf-8";
	char date[64];
	size_t blen;
	int n;

	if (code == 200 && !b)
		code = 500;
	reason = mw_http_reason(code);
	if (code == 200)
		type = om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
		          : "text/plain; version=0.0.4; charset=utf-8";
	blen = b ? b->len : strlen(reason) + 1;
	http_date(date, sizeof(date));
	n = snprintf(c->head, sizeof(c->head),
	             "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	             "Connection: %s\r\n%s\r\n%s%s",
	             code, reason, date, type, blen, c->keep_alive ? "keep-alive" : "close",
	             code == 405 ? "Allow: GET, HEAD\r\n" : "", b || head_only ? "" : reason,
	             b || head_only ? "" : "\n");
	c->head_len = n < 0 ? 0 : (size_t)n < sizeof(c->head) ? (size_t)n : sizeof(c->head) - 1;
	if (head_only)
		body_put(b);
	else
		c->body = b;
	c->off = 0;
	c->state = C_WRITE;
	c->since = mw_mono_ns();
	c->deadline = c->since + SEND_TIMEOUT_NS;
}

/* Answer the request at the start of c->in, or its error; consumes it. */
static void serve_request(struct metrics *m, struct mw_daemon *d, struct conn *c)
{
	struct mw_httpreq req = {0};
	int r = mw_httpreq_parse(c->in, c->in_len, &req);
	bool metrics_path;

	if (r == -EAGAIN)
		return;
	if (r < 0) {
		c->keep_alive = false;
		c->in_len = 0; /* what follows a malformed request cannot be trusted */
		respond(m, d, c, req.status, false, false);
		return;
	}
	c->keep_alive = req.keep_alive;
	c->in_len -= req.consumed;
	memmove(c->in, c->in + req.consumed, c->in_len);
	metrics_path = !strcmp(req.target, "/metrics") || !strncmp(req.target, "/metrics?", 9);
	respond(m, d, c,
	        req.method == MW_HTTP_OTHER ? 405
	        : metrics_path              ? 200
	                                    : 404,
	        req.method == MW_HTTP_HEAD, req.openmetrics);
}

/* 1 when the response is out, 0 when the socket is full, or a negative errno. */
static int send_some(struct conn *c)
{
	while (c->off < c->head_len + (c->body ? c->body->len : 0)) {
		struct iovec iov[2];
		struct msghdr msg = {.msg_iov = iov};
		ssize_t w;
		if (c->off < c->head_len)
			iov[msg.msg_iovlen++] =
			        (struct iovec){c->head + c->off, c->head_len - c->off};
		if (c->body) {
			size_t boff = c->off > c->head_len ? c->off - c->head_len : 0;
			iov[msg.msg_iovlen++] =
			        (struct iovec){c->body->data + boff, c->body->len - boff};
		}
		w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (w > 0)
			c->off += (size_t)w;
	}
	return 1;
}

/*
 * After a final response: no more writes, and read what the client still
 * sends until it closes, so close() does not reset the connection and
 * destroy the response before the client has read it.
 */
static void linger(struct metrics *m, struct conn *c)
{
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	c->in_len = 0;
	c->since = mw_mono_ns();
	c->deadline = c->since + LINGER_NS;
	set_interest(m, c, EPOLLIN);
}

/* The response is out: the next request (maybe already buffered), or the end. */
static void response_done(struct metrics *m, struct conn *c)
{
	body_put(c->body);
	c->body = NULL;
	if (!c->keep_alive) {
		linger(m, c);
		return;
	}
	c->state = C_READ;
	c->since = mw_mono_ns();
	c->deadline = c->since + (c->in_len ? HEAD_TIMEOUT_NS : IDLE_TIMEOUT_NS);
}

/* Read what is there; 1 when bytes came, 0 when none yet, negative when the peer is gone. */
static int read_some(struct conn *c)
{
	char sink[4096];
	char *dst = c->state == C_LINGER ? sink : c->in + c->in_len;
	size_t cap = c->state == C_LINGER ? sizeof(sink) : sizeof(c->in) - c->in_len;
	ssize_t n = recv(c->fd, dst, cap, MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	if (c->state == C_READ) {
		if (c->in_len == 0) { /* a request begins: it has HEAD_TIMEOUT_NS from here */
			c->since = mw_mono_ns();
			c->deadline = c->since + HEAD_TIMEOUT_NS;
		}
		c->in_len += (size_t)n;
	}
	return 1;
}

/*
 * Move one connection on as far as it goes without blocking: send, read,
 * parse, answer, in a loop bounded by MAX_SERVED responses.
 */
static void service(struct metrics *m, struct mw_daemon *d, struct conn *c)
{
	int served = 0, drained = 0, r;

	c->ready = false;
	while (c->state != C_FREE) {
		bool writing;
		if (c->state == C_READ && c->in_len) {
			if (served == MAX_SERVED) {
				/* Its turn comes again at once: a writable socket wakes us. */
				c->ready = true;
				set_interest(m, c, EPOLLIN | EPOLLOUT);
				return;
			}
			serve_request(m, d, c);
			served += c->state == C_WRITE;
		}
		if (c->state == C_LINGER && ++drained > 16)
			return; /* a client still sending waits for the next wake-up */
		writing = c->state == C_WRITE;
		r = writing ? send_some(c) : read_some(c);
		if (r == 0) {
			set_interest(m, c, writing ? EPOLLOUT : EPOLLIN);
			return;
		}
		if (r < 0)
			break;
		if (writing)
			response_done(m, c);
	}
	conn_close(m, c);
}

/* A connection that may go to make room: nothing complete is waiting for an answer. */
static bool evictable(const struct conn *c)
{
	return c->state == C_LINGER || (c->state == C_READ && !c->ready);
}

static struct conn *oldest_evictable(struct metrics *m)
{
	struct conn *best = NULL;

	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &m->conns[i];
		if (c->state == C_FREE)
			return c;
		if (evictable(c) && (!best || (c->state == C_LINGER) > (best->state == C_LINGER) ||
		                     ((c->state == C_LINGER) == (best->state == C_LINGER) &&
		                      c->since < best->since)))
			best = c;
	}
	return best;
}

/*
 * A slot for a new connection: a free one, else the oldest evictable one
 * (lingering first). A candidate is serviced first, since its complete
 * request may be sitting unread in the socket; a served one is young
 * again and the next candidate is tried. NULL when every slot holds a
 * request being answered.
 */
static struct conn *make_room(struct metrics *m, struct mw_daemon *d)
{
	for (int tries = 0; tries < MAX_CONNS; tries++) {
		struct conn *c = oldest_evictable(m);
		uint64_t since;
		if (!c || c->state == C_FREE)
			return c;
		since = c->since;
		if (c->state == C_READ)
			service(m, d, c);
		if (c->state == C_FREE)
			return c;
		if (evictable(c) && c->since == since) {
			m->evicted++;
			conn_close(m, c);
			return c;
		}
	}
	return NULL;
}

static void refuse(int fd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; "
	                           "charset=utf-8\r\nContent-Length: 20\r\nConnection: close\r\n"
	                           "Retry-After: 1\r\n\r\nService Unavailable\n";
	char sink[4096];

	if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		mw_debug("metrics: 503: %s", strerror(errno));
	shutdown(fd, SHUT_WR);
	/* What the client already sent, read, so close() sends FIN rather than reset. */
	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

static void accept_some(struct metrics *m, struct mw_daemon *d)
{
	for (int i = 0; i < MAX_ACCEPTS; i++) {
		int fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		struct epoll_event ev = {.events = EPOLLIN};

		if (fd < 0)
			return;
		c = make_room(m, d);
		if (!c) {
			m->refused++;
			refuse(fd);
			continue;
		}
		c->fd = fd;
		c->state = C_READ;
		c->since = mw_mono_ns();
		c->deadline = c->since + HEAD_TIMEOUT_NS;
		c->interest = EPOLLIN;
		ev.data.u64 = ((uint64_t)c->gen << 32) | (uint64_t)(c - m->conns);
		if (epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			c->state = C_FREE;
			c->fd = -1;
			continue;
		}
		/* The request usually came with the connection. */
		service(m, d, c);
	}
}

static void m_on_ready(void *state, struct mw_daemon *d)
{
	struct metrics *m = state;
	struct epoll_event ev[MAX_CONNS + 2];
	int n = epoll_wait(m->ep, ev, MW_ARRAY_SIZE(ev), 0);

	for (int i = 0; i < n; i++) {
		uint32_t id = (uint32_t)ev[i].data.u64, gen = (uint32_t)(ev[i].data.u64 >> 32);
		if (id == LISTEN_ID) {
			if (m->lfd >= 0)
				accept_some(m, d);
		} else if (id == TIMER_ID) {
			uint64_t expirations;
			if (read(m->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				mw_debug("metrics: timerfd: %s", strerror(errno));
		} else if (id < MAX_CONNS && m->conns[id].state != C_FREE &&
		           m->conns[id].gen == gen) {
			service(m, d, &m->conns[id]);
		}
	}
	sweep(m);
	arm_timer(m);
}

static int m_fd(void *state)
{
	return ((struct metrics *)state)->ep;
}

static void m_close(void *state)
{
	metrics_free(state);
}

const struct mw_source mw_source_metrics = {
        .name = "metrics",
        .open = m_open,
        .collect = m_collect,
        .fd = m_fd,
        .on_ready = m_on_ready,
        .close = m_close,
        .reload = m_reload,
};
