/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatchd: samples processes and system memory every interval and
 * records them into the store. Thin: the work is in libmemwatch.
 */
#include "config.h"
#include "memwatch/log.h"
#include "memwatch/proc.h"
#include "memwatch/store.h"
#include "memwatch/sysmem.h"
#include "memwatch/util.h"
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#define EXIT_USAGE 2

/* A source that opened, with its state. */
struct active_source {
	const struct mw_source *src;
	void *state;
};

struct daemon_ctx {
	struct mw_daemon d;
	struct active_source active[16];
	size_t nactive;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: memwatchd [--db PATH] [--interval SECONDS] [--slow-interval SECONDS]\n"
		   "                 [--foreground]\n"
		   "\n"
		   "Records process and system memory into an SQLite database.\n"
		   "\n"
		   "  --db PATH            database file (default %s)\n"
		   "  --interval SECONDS   sampling interval, 0.1 to 3600 (default 5)\n"
		   "  --slow-interval SECONDS  region breakdown (smaps) pass, 0.1 to 3600 (default 60)\n"
		   "  --foreground         do not detach (for systemd and tests)\n"
		   "  --help, --version\n",
		   MW_DEFAULT_DB);
}

static int parse_interval(const char *arg, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0.1 && v <= 3600))
		return -EINVAL;
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, struct daemon_ctx *ctx)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "slow-interval", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:i:s:fhV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg) {
				fprintf(stderr, "memwatchd: --db: expected a file path, got an empty string\n");
				return EXIT_USAGE;
			}
			ctx->d.db_path = optarg;
			break;
		case 'i':
			if (parse_interval(optarg, &ctx->d.interval_ns) < 0) {
				fprintf(stderr,
					"memwatchd: --interval '%s': expected seconds between 0.1 and 3600\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			if (parse_interval(optarg, &ctx->d.slow_interval_ns) < 0) {
				fprintf(stderr,
					"memwatchd: --slow-interval '%s': expected seconds between 0.1 and 3600\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			ctx->d.foreground = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("memwatchd %s\n", MW_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "memwatchd: option '%s' needs an argument\n", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "memwatchd: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "memwatchd: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

static int tick(struct daemon_ctx *ctx)
{
	struct mw_daemon *d = &ctx->d;
	uint64_t t0 = mw_mono_ns();
	struct mw_tick t = { 0 };
	int r;

	r = mw_proc_collect(d->pc, &d->procs);
	if (r < 0)
		return r;
	r = mw_sys_sample_read(d->root, &d->sys);
	if (r < 0)
		return r;
	d->t_ns = d->procs.t_ns;
	for (size_t i = 0; i < ctx->nactive; i++) {
		const struct active_source *a = &ctx->active[i];
		if (a->src->collect && (r = a->src->collect(a->state, d)) < 0)
			mw_debug("%s: collect: %s", a->src->name, strerror(-r));
	}
	t.t_ns = d->t_ns;
	t.procs = &d->procs;
	t.sys = &d->sys;
	t.duration_ns = mw_mono_ns() - t0;
	r = mw_store_tick_begin(d->store, &t, &d->tick_id);
	if (r < 0)
		return r;
	r = mw_store_tick_write_procs(d->store, d->tick_id, &t);
	for (size_t i = 0; i < ctx->nactive && r == 0; i++) {
		const struct active_source *a = &ctx->active[i];
		if (a->src->write)
			r = a->src->write(a->state, d);
	}
	if (r < 0) {
		mw_store_tick_rollback(d->store);
		return r;
	}
	r = mw_store_tick_commit(d->store);
	if (r < 0)
		return r;
	d->ticks++;
	mw_debug("tick %llu: %zu processes in %.1f ms", (unsigned long long)d->ticks, d->procs.n,
		 (double)(mw_mono_ns() - t0) / 1e6);
	return 0;
}

static void run_tick(struct daemon_ctx *ctx)
{
	struct mw_daemon *d = &ctx->d;
	int r = tick(ctx);

	if (r < 0 && r != d->last_err)
		mw_err("tick failed: %s (%s); samples are dropped until it recovers", strerror(-r),
		       mw_store_errmsg(d->store));
	else if (r == 0 && d->last_err)
		mw_notice("recording again after: %s", strerror(-d->last_err));
	d->last_err = r;
	if (d->ready_fd >= 0) {
		/* Tell a waiting parent how the first tick went, then let it go. */
		int code = r < 0 ? 1 : 0;
		if (write(d->ready_fd, &code, sizeof(code)) < 0)
			mw_warn("could not signal readiness: %s", strerror(errno));
		close(d->ready_fd);
		d->ready_fd = -1;
	}
}

static int setup_signals(struct daemon_ctx *ctx)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	ctx->d.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return ctx->d.sigfd < 0 ? -errno : 0;
}

/* Returns true when asked to stop. */
static bool handle_signal(struct daemon_ctx *ctx)
{
	struct signalfd_siginfo si;

	while (read(ctx->d.sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			mw_notice("signal %d: stopping after %llu ticks", (int)si.ssi_signo,
				  (unsigned long long)ctx->d.ticks);
			return true;
		}
		mw_info("SIGHUP: nothing to reload yet");
	}
	return false;
}

static void main_loop(struct daemon_ctx *ctx)
{
	struct mw_daemon *d = &ctx->d;
	uint64_t next = mw_mono_ns();

	for (;;) {
		struct pollfd pfd[1 + MW_ARRAY_SIZE(ctx->active)];
		size_t owner[MW_ARRAY_SIZE(pfd)];
		nfds_t n = 0;
		uint64_t now = mw_mono_ns();
		int timeout_ms;

		if (now >= next) {
			run_tick(ctx);
			/* Keep the phase; skip ticks missed while stalled rather than bursting. */
			next += d->interval_ns;
			now = mw_mono_ns();
			if (next <= now)
				next = now + d->interval_ns - (now - next) % d->interval_ns;
		}
		pfd[n++] = (struct pollfd){ .fd = d->sigfd, .events = POLLIN };
		for (size_t i = 0; i < ctx->nactive; i++) {
			const struct active_source *a = &ctx->active[i];
			int fd = a->src->fd ? a->src->fd(a->state) : -1;
			if (fd < 0)
				continue;
			owner[n] = i;
			pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		}
		timeout_ms = (int)((next - now + 999999) / 1000000);
		if (poll(pfd, n, timeout_ms) <= 0)
			continue;
		if ((pfd[0].revents & POLLIN) && handle_signal(ctx))
			return;
		for (nfds_t k = 1; k < n; k++) {
			const struct active_source *a = &ctx->active[owner[k]];
			if (pfd[k].revents && a->src->on_ready)
				a->src->on_ready(a->state, d);
		}
	}
}

static void open_sources(struct daemon_ctx *ctx)
{
	for (size_t i = 0; i < mw_nsources; i++) {
		const struct mw_source *src = mw_sources[i];
		char why[512] = "";
		void *state = NULL;
		int r;

		if (!src)
			continue;
		if (ctx->nactive == MW_ARRAY_SIZE(ctx->active)) {
			mw_err("%s: too many sources", src->name);
			continue;
		}
		r = src->open ? src->open(&ctx->d, &state, why, sizeof(why)) : 0;
		if (r < 0) {
			mw_warn("%s: off: %s", src->name, why[0] ? why : strerror(-r));
			continue;
		}
		ctx->active[ctx->nactive++] = (struct active_source){ src, state };
	}
}

static void close_sources(struct daemon_ctx *ctx)
{
	for (size_t i = ctx->nactive; i-- > 0;)
		if (ctx->active[i].src->close)
			ctx->active[i].src->close(ctx->active[i].state);
	ctx->nactive = 0;
}

static void record_start(struct daemon_ctx *ctx)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	mw_store_meta_set(ctx->d.store, "writer_pid", buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)(mw_now_ns() / 1000000ull));
	mw_store_meta_set(ctx->d.store, "writer_started_ms", buf);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(ctx->d.interval_ns / 1000000ull));
	mw_store_meta_set(ctx->d.store, "interval_ms", buf);
	mw_store_meta_set(ctx->d.store, "writer_version", MW_VERSION);
	if (!MW_HAVE_BPF)
		mw_store_meta_set(ctx->d.store, "bpf", "off: not built with eBPF support");
	snprintf(buf, sizeof(buf), "{\"version\":\"%s\",\"interval_ms\":%llu,\"pid\":%d}",
		 MW_VERSION, (unsigned long long)(ctx->d.interval_ns / 1000000ull), (int)getpid());
	mw_store_add_event(ctx->d.store, mw_now_ns(), "daemon-start", 0, getpid(), buf);
}

static int open_store(struct mw_daemon *d)
{
	pid_t holder = 0;
	int r = mw_store_open_writer(d->db_path, NULL, &d->store, &holder);

	if (r == -EBUSY) {
		if (holder)
			mw_err("%s: another memwatchd (pid %d) is already recording into this database",
			       d->db_path, (int)holder);
		else
			mw_err("%s: another memwatchd is already recording into this database",
			       d->db_path);
	} else if (r == -EPROTONOSUPPORT) {
		mw_err("%s: written by a newer memwatch (schema newer than %d); refusing to touch it",
		       d->db_path, MW_STORE_SCHEMA_VERSION);
	} else if (r == -ENOTRECOVERABLE) {
		mw_err("%s: not a memwatch database (foreign or corrupt file)", d->db_path);
	} else if (r < 0) {
		mw_err("%s: cannot open database: %s", d->db_path, strerror(-r));
	}
	return r;
}

/*
 * Without --foreground: detach, but only let the shell go once the first
 * tick is stored, so "memwatchd && memwatch status" sees a recording daemon.
 */
static int daemonize(struct daemon_ctx *ctx)
{
	int fds[2], code = 1;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &code, sizeof(code)) != sizeof(code))
			code = 1;
		_exit(code);
	}
	close(fds[0]);
	setsid();
	ctx->d.ready_fd = fds[1];
	if (!freopen("/dev/null", "r", stdin))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon_ctx ctx = { .d = { .db_path = MW_DEFAULT_DB,
					 .root = "",
					 .interval_ns = 5000000000ull,
					 .slow_interval_ns = MW_DEFAULT_SLOW_INTERVAL_NS,
					 .sigfd = -1,
					 .ready_fd = -1 } };
	struct mw_daemon *d = &ctx.d;
	int r, code;

	code = parse_args(argc, argv, &ctx);
	if (code >= 0)
		return code;
	r = setup_signals(&ctx);
	if (r < 0) {
		mw_err("signals: %s", strerror(-r));
		return 1;
	}
	if (!d->foreground && (r = daemonize(&ctx)) < 0) {
		mw_err("cannot detach: %s", strerror(-r));
		return 1;
	}
	code = 1;
	r = mw_proc_collector_new(d->root, &d->pc);
	if (r < 0) {
		mw_err("libproc2: %s", strerror(-r));
		goto out;
	}
	if (open_store(d) < 0)
		goto out;
	record_start(&ctx);
	open_sources(&ctx);
	mw_notice("recording into %s every %.1f s", d->db_path, (double)d->interval_ns / 1e9);
	main_loop(&ctx);
	mw_store_add_event(d->store, mw_now_ns(), "daemon-stop", 0, getpid(), NULL);
	code = 0;
out:
	if (d->ready_fd >= 0) {
		if (write(d->ready_fd, &code, sizeof(code)) < 0)
			code = 1;
		close(d->ready_fd);
	}
	close_sources(&ctx);
	mw_store_close(d->store);
	mw_proc_set_clear(&d->procs);
	free(d->procs.v);
	mw_proc_collector_free(d->pc);
	if (d->sigfd >= 0)
		close(d->sigfd);
	return code;
}
