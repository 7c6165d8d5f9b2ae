/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The metrics listener: GET /metrics in the Prometheus text format, off
 * unless `listen` is set. Its fd is an epoll set holding the listening
 * socket and the open connections, so the main loop polls one descriptor
 * and nothing here ever blocks: requests are capped in size, connections
 * in number and in lifetime, and a response that does not fit the socket
 * buffer is finished when the socket becomes writable again.
 */
#include "config.h"
#include "memwatch/collect/cgroup.h"
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

#define MAX_CONNS       16
#define MAX_REQUEST     2048
#define CONN_TIMEOUT_NS (5ull * 1000000000ull)
/* Growth is measured against a baseline at most this old (then re-based). */
#define GROWTH_WINDOW_NS (600ull * 1000000000ull)

struct conn {
	int fd;
	uint64_t deadline;
	size_t in_len;
	char in[MAX_REQUEST + 1];
	char *out;
	size_t out_len, out_off;
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
	char bound[128]; /* what lfd listens on, "" when off */
	struct conn conns[MAX_CONNS];
	struct mw_pidmap *base;
	uint64_t tick_seq;
};

static void conn_close(struct metrics *m, struct conn *c)
{
	char sink[4096];

	if (c->fd < 0)
		return;
	/* Unread request bytes would turn close() into a reset that eats our response. */
	shutdown(c->fd, SHUT_WR);
	for (int i = 0; i < 16 && recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	epoll_ctl(m->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
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
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
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
	if (m->lfd >= 0)
		close(m->lfd);
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
	m->lfd = -1;
	for (int i = 0; i < MAX_CONNS; i++)
		m->conns[i].fd = -1;
	m->ep = epoll_create1(EPOLL_CLOEXEC);
	r = m->ep < 0 ? -errno : mw_pidmap_new(sizeof(struct baseline), &m->base);
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

static void sweep(struct metrics *m)
{
	uint64_t now = mw_mono_ns();

	for (int i = 0; i < MAX_CONNS; i++)
		if (m->conns[i].fd >= 0 && now > m->conns[i].deadline)
			conn_close(m, &m->conns[i]);
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
	free(rk);
	return fclose(out) == 0 ? 0 : -ENOMEM;
}

static void respond(struct metrics *m, struct mw_daemon *d, struct conn *c, int code,
                    const char *reason)
{
	char *body = NULL, *resp = NULL;
	size_t blen = 0;
	int n;

	if (code == 200 && render(m, d, &body, &blen) < 0) {
		code = 500;
		reason = "Internal Server Error";
	}
	if (code != 200) {
		free(body);
		body = NULL;
		blen = 0;
	}
	n = asprintf(&resp,
	             "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	             "Connection: close\r\n\r\n%s",
	             code, reason,
	             code == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain",
	             code == 200 ? blen : strlen(reason) + 1, code == 200 ? "" : reason);
	if (n < 0) {
		free(body);
		conn_close(m, c);
		return;
	}
	if (code == 200) {
		char *all = realloc(resp, (size_t)n + blen + 1);
		if (!all) {
			free(resp);
			free(body);
			conn_close(m, c);
			return;
		}
		memcpy(all + n, body, blen);
		resp = all;
		c->out_len = (size_t)n + blen;
	} else {
		char *all = realloc(resp, (size_t)n + 2);
		if (!all) {
			free(resp);
			conn_close(m, c);
			return;
		}
		resp = all;
		resp[n] = '\n';
		c->out_len = (size_t)n + 1;
	}
	free(body);
	c->out = resp;
	c->out_off = 0;
}

/* Try to finish sending; close when done, wait for EPOLLOUT when the buffer is full. */
static void flush(struct metrics *m, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct epoll_event ev = {.events = EPOLLOUT, .data.fd = c->fd};
				epoll_ctl(m->ep, EPOLL_CTL_MOD, c->fd, &ev);
				return;
			}
			if (errno == EINTR)
				continue;
			break;
		}
		c->out_off += (size_t)w;
	}
	conn_close(m, c);
}

static void on_request(struct metrics *m, struct mw_daemon *d, struct conn *c)
{
	/* Empty until parsed: a request sscanf cannot read must not look like the last HEAD. */
	char method[8] = "", path[64] = "", version[16] = "";
	bool parsed = sscanf(c->in, "%7s %63s %15s", method, path, version) == 3 &&
	              strncmp(version, "HTTP/1.", 7) == 0;

	if (!parsed)
		respond(m, d, c, 400, "Bad Request");
	else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		respond(m, d, c, 405, "Method Not Allowed");
	else if (strcmp(path, "/metrics") != 0 && strncmp(path, "/metrics?", 9) != 0)
		respond(m, d, c, 404, "Not Found");
	else
		respond(m, d, c, 200, "OK");
	if (c->out && parsed && !strcmp(method, "HEAD")) {
		char *end = strstr(c->out, "\r\n\r\n");
		if (end)
			c->out_len = (size_t)(end + 4 - c->out);
	}
	if (c->fd >= 0)
		flush(m, c);
}

static void on_readable(struct metrics *m, struct mw_daemon *d, struct conn *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, MAX_REQUEST - c->in_len, MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(m, c);
		return;
	}
	if (n < 0)
		return;
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	/* By length: a NUL byte in the request must not hide its end (it gets a 400). */
	if (memmem(c->in, c->in_len, "\r\n\r\n", 4) || memmem(c->in, c->in_len, "\n\n", 2))
		on_request(m, d, c);
	else if (c->in_len >= MAX_REQUEST) {
		respond(m, d, c, 431, "Request Header Fields Too Large");
		if (c->fd >= 0)
			flush(m, c);
	}
}

static void accept_all(struct metrics *m)
{
	for (;;) {
		int fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *slot = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < MAX_CONNS && !slot; i++)
			if (m->conns[i].fd < 0)
				slot = &m->conns[i];
		if (!slot) {
			/* Full: the oldest connection goes, a scraper retries. */
			slot = &m->conns[0];
			for (int i = 1; i < MAX_CONNS; i++)
				if (m->conns[i].deadline < slot->deadline)
					slot = &m->conns[i];
			conn_close(m, slot);
		}
		slot->fd = fd;
		slot->deadline = mw_mono_ns() + CONN_TIMEOUT_NS;
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		if (epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			conn_close(m, slot);
	}
}

static struct conn *find_conn(struct metrics *m, int fd)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (m->conns[i].fd == fd)
			return &m->conns[i];
	return NULL;
}

static void m_on_ready(void *state, struct mw_daemon *d)
{
	struct metrics *m = state;
	struct epoll_event ev[MAX_CONNS + 1];
	int n = epoll_wait(m->ep, ev, MW_ARRAY_SIZE(ev), 0);

	sweep(m);
	for (int i = 0; i < n; i++) {
		struct conn *c;
		if (ev[i].data.fd == m->lfd) {
			accept_all(m);
			continue;
		}
		c = find_conn(m, ev[i].data.fd);
		if (!c)
			continue;
		if (c->out)
			flush(m, c);
		else
			on_readable(m, d, c);
	}
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
