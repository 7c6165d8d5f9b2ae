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

struct daemon_ctx {
	const char *db_path;
	uint64_t interval_ns;
	bool foreground;
	int sigfd;
	int ready_fd; /* write end of the pipe a backgrounding parent waits on, or -1 */
	struct mw_store *store;
	struct mw_proc_collector *pc;
	struct mw_proc_set set;
	struct mw_sys_sample sys;
	uint64_t ticks;
	int last_err; /* so a failing tick is logged once, not every interval */
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: memwatchd [--db PATH] [--interval SECONDS] [--foreground]\n"
		   "\n"
		   "Records process and system memory into an SQLite database.\n"
		   "\n"
		   "  --db PATH            database file (default %s)\n"
		   "  --interval SECONDS   sampling interval, 0.1 to 3600 (default 5)\n"
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
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:i:fhV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg) {
				fprintf(stderr, "memwatchd: --db: expected a file path, got an empty string\n");
				return EXIT_USAGE;
			}
			ctx->db_path = optarg;
			break;
		case 'i':
			if (parse_interval(optarg, &ctx->interval_ns) < 0) {
				fprintf(stderr,
					"memwatchd: --interval '%s': expected seconds between 0.1 and 3600\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			ctx->foreground = true;
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
	uint64_t t0 = mw_mono_ns();
	struct mw_tick t = { 0 };
	int r;

	r = mw_proc_collect(ctx->pc, &ctx->set);
	if (r < 0)
		return r;
	r = mw_sys_sample_read("", &ctx->sys);
	if (r < 0)
		return r;
	t.t_ns = ctx->set.t_ns;
	t.procs = &ctx->set;
	t.sys = &ctx->sys;
	t.duration_ns = mw_mono_ns() - t0;
	r = mw_store_write_tick(ctx->store, &t);
	if (r < 0)
		return r;
	ctx->ticks++;
	mw_debug("tick %llu: %zu processes in %.1f ms", (unsigned long long)ctx->ticks,
		 ctx->set.n, (double)(mw_mono_ns() - t0) / 1e6);
	return 0;
}

static void run_tick(struct daemon_ctx *ctx)
{
	int r = tick(ctx);

	if (r < 0 && r != ctx->last_err)
		mw_err("tick failed: %s (%s); samples are dropped until it recovers", strerror(-r),
		       mw_store_errmsg(ctx->store));
	else if (r == 0 && ctx->last_err)
		mw_notice("recording again after: %s", strerror(-ctx->last_err));
	ctx->last_err = r;
	if (ctx->ready_fd >= 0) {
		/* Tell a waiting parent how the first tick went, then let it go. */
		int code = r < 0 ? 1 : 0;
		if (write(ctx->ready_fd, &code, sizeof(code)) < 0)
			mw_warn("could not signal readiness: %s", strerror(errno));
		close(ctx->ready_fd);
		ctx->ready_fd = -1;
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
	ctx->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return ctx->sigfd < 0 ? -errno : 0;
}

/* Returns true when asked to stop. */
static bool handle_signal(struct daemon_ctx *ctx)
{
	struct signalfd_siginfo si;

	while (read(ctx->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			mw_notice("signal %d: stopping after %llu ticks", (int)si.ssi_signo,
				  (unsigned long long)ctx->ticks);
			return true;
		}
		mw_info("SIGHUP: nothing to reload yet");
	}
	return false;
}

static void main_loop(struct daemon_ctx *ctx)
{
	uint64_t next = mw_mono_ns();

	for (;;) {
		struct pollfd pfd = { .fd = ctx->sigfd, .events = POLLIN };
		uint64_t now = mw_mono_ns();
		int timeout_ms;

		if (now >= next) {
			run_tick(ctx);
			/* Keep the phase; skip ticks missed while stalled rather than bursting. */
			next += ctx->interval_ns;
			now = mw_mono_ns();
			if (next <= now)
				next = now + ctx->interval_ns - (now - next) % ctx->interval_ns;
		}
		timeout_ms = (int)((next - now + 999999) / 1000000);
		if (poll(&pfd, 1, timeout_ms) > 0 && handle_signal(ctx))
			return;
	}
}

static void record_start(struct daemon_ctx *ctx)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	mw_store_meta_set(ctx->store, "writer_pid", buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)(mw_now_ns() / 1000000ull));
	mw_store_meta_set(ctx->store, "writer_started_ms", buf);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(ctx->interval_ns / 1000000ull));
	mw_store_meta_set(ctx->store, "interval_ms", buf);
	mw_store_meta_set(ctx->store, "writer_version", MW_VERSION);
	mw_store_meta_set(ctx->store, "bpf", "unavailable: not built with eBPF support");
	snprintf(buf, sizeof(buf), "{\"version\":\"%s\",\"interval_ms\":%llu,\"pid\":%d}",
		 MW_VERSION, (unsigned long long)(ctx->interval_ns / 1000000ull), (int)getpid());
	mw_store_add_event(ctx->store, mw_now_ns(), "daemon-start", 0, getpid(), buf);
}

static int open_store(struct daemon_ctx *ctx)
{
	pid_t holder = 0;
	int r = mw_store_open_writer(ctx->db_path, NULL, &ctx->store, &holder);

	if (r == -EBUSY) {
		if (holder)
			mw_err("%s: another memwatchd (pid %d) is already recording into this database",
			       ctx->db_path, (int)holder);
		else
			mw_err("%s: another memwatchd is already recording into this database",
			       ctx->db_path);
	} else if (r == -EPROTONOSUPPORT) {
		mw_err("%s: written by a newer memwatch (schema newer than %d); refusing to touch it",
		       ctx->db_path, MW_STORE_SCHEMA_VERSION);
	} else if (r == -ENOTRECOVERABLE) {
		mw_err("%s: not a memwatch database (foreign or corrupt file)", ctx->db_path);
	} else if (r < 0) {
		mw_err("%s: cannot open database: %s", ctx->db_path, strerror(-r));
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
	ctx->ready_fd = fds[1];
	if (!freopen("/dev/null", "r", stdin))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon_ctx ctx = { .db_path = MW_DEFAULT_DB,
				  .interval_ns = 5000000000ull,
				  .sigfd = -1,
				  .ready_fd = -1 };
	int r, code;

	code = parse_args(argc, argv, &ctx);
	if (code >= 0)
		return code;
	r = setup_signals(&ctx);
	if (r < 0) {
		mw_err("signals: %s", strerror(-r));
		return 1;
	}
	if (!ctx.foreground && (r = daemonize(&ctx)) < 0) {
		mw_err("cannot detach: %s", strerror(-r));
		return 1;
	}
	code = 1;
	r = mw_proc_collector_new("", &ctx.pc);
	if (r < 0) {
		mw_err("libproc2: %s", strerror(-r));
		goto out;
	}
	if (open_store(&ctx) < 0)
		goto out;
	record_start(&ctx);
	mw_notice("recording into %s every %.1f s (eBPF: not built in; /proc only)", ctx.db_path,
		  (double)ctx.interval_ns / 1e9);
	main_loop(&ctx);
	mw_store_add_event(ctx.store, mw_now_ns(), "daemon-stop", 0, getpid(), NULL);
	code = 0;
out:
	if (ctx.ready_fd >= 0) {
		if (write(ctx.ready_fd, &code, sizeof(code)) < 0)
			code = 1;
		close(ctx.ready_fd);
	}
	mw_store_close(ctx.store);
	mw_proc_set_clear(&ctx.set);
	free(ctx.set.v);
	mw_proc_collector_free(ctx.pc);
	if (ctx.sigfd >= 0)
		close(ctx.sigfd);
	return code;
}
