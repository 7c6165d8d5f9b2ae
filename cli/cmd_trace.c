/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch trace <pid>: the costly precise hooks on one process, for a bounded time. */
#include "config.h"
#include "cli.h"
#include "memwatch/base/format.h"
#include "memwatch/base/json.h"
#include "memwatch/collect/symbolize.h"
#include "memwatch/collect/proc.h"
#include "memwatch/store/store.h"
#include "memwatch/collect/trace.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>

struct trace_args {
	int64_t pid;
	uint64_t for_ns;
	const char *db_path;
	uint64_t sample_rate;
	bool db_given, json;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: memwatch trace <pid> [--for DURATION] [--db PATH] [--json]\n"
	        "\n"
	        "Counts one process's brk/mmap/munmap/mremap/madvise and IPC system calls and\n"
	        "its libc malloc/calloc/realloc/free calls for a bounded time, then detaches.\n"
	        "Syscall tracepoints slow every process's system calls while attached.\n"
	        "\n"
	        "  --for DURATION  how long (default 10s, at most 1h); Ctrl-C stops early\n"
	        "  --db PATH       also store the counts as a 'trace' event (default %s when\n"
	        "                  it exists and memwatchd is not holding it)\n"
	        "  --sample-rate N sample about N malloc calls per second with their stacks,\n"
	        "                  unwound to heap allocation sites (default 200; 0: off)\n"
	        "  --json          machine-readable summary\n",
	        MW_DEFAULT_DB);
}

static int parse_args(int argc, char **argv, struct trace_args *a)
{
	static const struct option opts[] = {
	        {"for", required_argument, NULL, 'f'},
	        {"db", required_argument, NULL, 'd'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {"sample-rate", required_argument, NULL, 'S'},
	        {0},
	};
	int c;

	a->for_ns = 10ull * 1000000000ull;
	a->db_path = MW_DEFAULT_DB;
	a->sample_rate = 200;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:d:jhS:", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			if (mw_parse_u64(optarg, &a->sample_rate) < 0 || a->sample_rate > 10000) {
				fprintf(stderr,
				        "memwatch trace: --sample-rate '%s': expected 0 to 10000"
				        " samples per second\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			if (mw_parse_duration(optarg, &a->for_ns) < 0 ||
			    a->for_ns > 3600ull * 1000000000ull) {
				fprintf(stderr,
				        "memwatch trace: --for '%s': expected a duration up to"
				        " 1h (e.g. 10s)\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			a->db_path = optarg;
			a->db_given = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_bad_option("trace", c, argv, usage);
		}
	}
	if (cli_one_pid("trace", argc, argv, &a->pid, usage) != 0)
		return EXIT_USAGE;
	return -1;
}

static void print_cost(const struct mw_trace *t)
{
	size_t nsys = 0, nup = 0;

	for (size_t i = 0; i < t->nhooks; i++)
		t->hooks[i].uprobe ? nup++ : nsys++;
	fprintf(stderr,
	        "memwatch trace: pid %d, %zu thread(s): %zu syscall tracepoints, %zu libc uprobes\n"
	        "  cost while attached: syscall tracepoints put every process's system calls on\n"
	        "  the slow path (about +24%% per syscall, machine-wide); each traced malloc/free\n"
	        "  in pid %d traps to the kernel (a few microseconds per call); other processes'\n"
	        "  malloc is untouched.\n",
	        (int)t->pid, t->nthreads, nsys, nup, (int)t->pid);
	for (size_t i = 0; i < t->nhooks; i++)
		if (t->hooks[i].skipped)
			fprintf(stderr,
			        "  %s: probe placed %d bytes in, past instructions the kernel would"
			        " single-step\n",
			        t->hooks[i].name, t->hooks[i].skipped);
}

static void print_summary(const struct mw_trace *t, double secs, const char *why, bool json)
{
	if (json) {
		struct mw_json j;
		mw_json_init(&j, stdout, true);
		mw_json_obj_open(&j, NULL);
		mw_json_int(&j, "pid", t->pid);
		mw_json_num(&j, "seconds", secs);
		mw_json_str(&j, "ended", why);
		mw_json_str(&j, "libc", t->libc);
		mw_json_int(&j, "threads", (int64_t)t->nthreads);
		mw_json_obj_open(&j, "counts");
		for (size_t i = 0; i < t->nhooks; i++)
			mw_json_int(&j, t->hooks[i].name, (int64_t)t->hooks[i].count);
		mw_json_obj_close(&j);
		mw_json_int(&j, "malloc_samples", (int64_t)t->samples);
		mw_json_int(&j, "malloc_samples_lost", (int64_t)t->sample_lost);
		mw_json_arr_open(&j, "alloc_sites");
		for (size_t i = 0; i < t->nsites && i < 10; i++) {
			const char *p = t->sites[i].frames;
			mw_json_obj_open(&j, NULL);
			mw_json_int(&j, "calls", (int64_t)t->sites[i].calls);
			mw_json_int(&j, "bytes", (int64_t)t->sites[i].bytes);
			mw_json_arr_open(&j, "frames");
			while (*p) {
				size_t n = strcspn(p, "\n");
				char f[512];
				snprintf(f, sizeof(f), "%.*s", (int)n, p);
				mw_json_str(&j, NULL, f);
				p += n + (p[n] ? 1 : 0);
			}
			mw_json_arr_close(&j);
			mw_json_obj_close(&j);
		}
		mw_json_arr_close(&j);
		mw_json_obj_close(&j);
		mw_json_end(&j);
		return;
	}
	printf("pid %d traced for %.1f s (%s), %zu thread(s)\n", (int)t->pid, secs, why,
	       t->nthreads);
	for (size_t i = 0; i < t->nhooks; i++)
		if (t->hooks[i].count || t->hooks[i].uprobe)
			printf("  %-16s %12llu  %10.1f/s\n", t->hooks[i].name,
			       (unsigned long long)t->hooks[i].count,
			       secs > 0 ? (double)t->hooks[i].count / secs : 0.0);
	if (!t->nsites)
		return;
	printf("heap allocation sites (%llu malloc calls sampled with their stacks; estimated "
	       "totals):\n",
	       (unsigned long long)t->samples);
	for (size_t i = 0; i < t->nsites && i < 5; i++) {
		char b[32], esc[4 * MW_FRAME_MAX];
		const char *f = t->sites[i].frames;
		printf("  #%zu %s in ~%llu calls\n", i + 1,
		       mw_fmt_bytes(b, sizeof(b), (int64_t)t->sites[i].bytes),
		       (unsigned long long)t->sites[i].calls);
		while (*f) {
			size_t n = strcspn(f, "\n");
			mw_escape_term(f, n, esc, sizeof(esc), cli_utf8());
			printf("      %s\n", esc);
			f += n + (f[n] ? 1 : 0);
		}
	}
}

/* Store the counts as an event when a database is there and nobody else writes it. */
static void store_counts(const struct trace_args *a, const struct mw_trace *t, double secs)
{
	struct mw_store *st = NULL;
	char detail[2048], boot_id[64];
	struct mw_proc_info info = {0};
	int64_t proc_id = 0;
	size_t o;
	int r;

	if (!a->db_given && access(a->db_path, F_OK) != 0)
		return;
	r = mw_store_open_writer(a->db_path, NULL, &st, NULL);
	if (r < 0) {
		fprintf(stderr, "memwatch trace: %s: not stored (%s)\n", a->db_path,
		        r == -EBUSY ? "memwatchd is writing it" : strerror(-r));
		return;
	}
	if (mw_boot_id("", boot_id, sizeof(boot_id)) == 0 &&
	    mw_store_find_latest_proc(st, boot_id, t->pid, &info) == 0)
		proc_id = info.id;
	o = (size_t)snprintf(detail, sizeof(detail), "{\"seconds\":%.3f,\"counts\":{", secs);
	for (size_t i = 0; i < t->nhooks && o < sizeof(detail); i++)
		o += (size_t)snprintf(detail + o, sizeof(detail) - o, "%s\"%s\":%llu", i ? "," : "",
		                      t->hooks[i].name, (unsigned long long)t->hooks[i].count);
	if (o + 3 < sizeof(detail)) {
		snprintf(detail + o, sizeof(detail) - o, "}}");
		mw_store_add_event(st, mw_now_ns(), "trace", proc_id, t->pid, detail);
	}
	mw_proc_info_release(&info);
	mw_store_close(st);
}

static int setup_signals(int *sigfd, sigset_t *old)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, old) < 0)
		return -errno;
	*sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return *sigfd < 0 ? -errno : 0;
}

/* Wait for the end: time, a signal, or the target's exit. Returns why it ended. */
static const char *wait_end(const struct trace_args *a, struct mw_trace *t, int sigfd, int pidfd)
{
	uint64_t t0 = mw_mono_ns(), end = t0 + a->for_ns, next_print = t0 + 1000000000ull;
	char why[256];

	for (;;) {
		struct pollfd pfd[2] = {{.fd = sigfd, .events = POLLIN},
		                        {.fd = pidfd, .events = POLLIN}};
		uint64_t now = mw_mono_ns();
		int ms;

		if (now >= end)
			return "time is up";
		ms = (int)((end - now) / 1000000ull);
		if (ms > 200)
			ms = 200; /* new threads are attached at this pace */
		if (poll(pfd, pidfd >= 0 ? 2 : 1, ms + 1) > 0) {
			if (pfd[0].revents)
				return "interrupted";
			if (pfd[1].revents)
				return "the process exited";
		}
		if (pidfd < 0 && kill(t->pid, 0) < 0 && errno == ESRCH)
			return "the process exited";
		mw_trace_rescan(t, why, sizeof(why));
		if (mw_mono_ns() < next_print)
			continue;
		next_print += 1000000000ull;
		mw_trace_read(t);
		fprintf(stderr, "  %5.1f s:", (double)(mw_mono_ns() - t0) / 1e9);
		for (size_t i = 0; i < t->nhooks; i++)
			if (t->hooks[i].count)
				fprintf(stderr, " %s %llu", t->hooks[i].name,
				        (unsigned long long)t->hooks[i].count);
		fprintf(stderr, "\n");
	}
}

int cmd_trace(int argc, char **argv)
{
	struct trace_args a = {0};
	struct mw_trace t;
	char why[512] = "";
	_cleanup_close_ int sigfd = -1, pidfd = -1;
	const char *ended;
	sigset_t old;
	uint64_t t0;
	double secs;
	int code, r;

	code = parse_args(argc, argv, &a);
	if (code >= 0)
		return code;
	r = mw_trace_plan((pid_t)a.pid, a.sample_rate, &t, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "memwatch trace: %s\n", why);
		return EXIT_RUNTIME;
	}
	print_cost(&t);
	if (setup_signals(&sigfd, &old) < 0) {
		fprintf(stderr, "memwatch trace: signals: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)a.pid, 0);
	r = mw_trace_attach(&t, why, sizeof(why));
	if (r < 0) {
		mw_trace_release(&t);
		fprintf(stderr, "memwatch trace: %s%s\n", why,
		        r == -EACCES || r == -EPERM ? " (needs root or CAP_PERFMON)" : "");
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "memwatch trace: attached %zu hooks on %zu thread(s) for %.1f s\n",
	        t.nhooks, t.nthreads, (double)a.for_ns / 1e9);
	t0 = mw_mono_ns();
	ended = wait_end(&a, &t, sigfd, pidfd);
	mw_trace_read(&t);
	secs = (double)(mw_mono_ns() - t0) / 1e9;
	mw_trace_detach(&t);
	fprintf(stderr, "memwatch trace: detached\n");
	print_summary(&t, secs, ended, a.json);
	store_counts(&a, &t, secs);
	mw_trace_release(&t);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}
