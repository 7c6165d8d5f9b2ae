/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The always-on programs alone, against the floor, measured finely: a
 * child process runs each micro-workload of bpf_loops.h on one CPU, over many
 * short cycles, and within every cycle (in rotating order) once with
 * nothing attached, once with empty programs on the fault and new-mapping
 * hooks (what running any program there costs), and once with memwatch's
 * programs as memwatchd loads them (mw_bpfmon, call-site snapshots on at
 * the default budget). Both sets are loaded once and attached around the
 * timed parts, so only the workload is timed. Prints medians, the ns each adds per operation,
 * and ratios. bench/bpf_overhead runs it after its whole-daemon table.
 *
 * usage: bpf_toggle [CYCLES [CPU]]   (root)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf_floor.skel.h"
#include "bpf_loops.h"
#include "memwatch/collect/bpfmon.h"
#include "memwatch/collect/callsite.h"

enum { BASE, FLOOR, MEMWATCH, NMODES };

static const char *const mode_name[NMODES] = {"nothing", "empty programs", "memwatch programs"};

static const struct {
	const char *kind;
	long iter;
} work[] = {{"faults", 4}, {"mmap", 3000}, {"getppid", 300000}};

struct loaded {
	struct bpf_floor_bpf *floor;
	struct mw_bpfmon *mon;
};

/* Both sets loaded once (memwatch's as memwatchd loads it), then detached. */
static int load_all(struct loaded *l)
{
	struct mw_callsite_options co;
	char why[256] = "";
	int r;

	l->floor = bpf_floor_bpf__open_and_load();
	if (!l->floor)
		return errno ? -errno : -EINVAL;
	r = mw_bpfmon_open(NULL, &l->mon, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "bpf_toggle: memwatch programs: %s\n", why);
		return r;
	}
	mw_callsite_options_default(&co);
	r = mw_bpfmon_snaps(l->mon, co.stack_bytes, co.rate_per_s, co.burst);
	if (r < 0)
		return r;
	return mw_bpfmon_pause(l->mon, true);
}

static int attach_mode(const struct loaded *l, int mode, bool on)
{
	if (mode == FLOOR && on)
		return bpf_floor_bpf__attach(l->floor) < 0 ? -errno : 0;
	if (mode == FLOOR)
		bpf_floor_bpf__detach(l->floor);
	if (mode == MEMWATCH)
		return mw_bpfmon_pause(l->mon, !on);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The workload runs in a child forked before anything is loaded: the
 * loader's own mappings (rings, maps) in the timed process would change
 * where and how fast mmap finds room. One request per pipe write.
 */
struct worker {
	pid_t pid;
	int req, resp;
};

static void worker_loop(int req, int resp)
{
	size_t w;
	long iter;
	double ns;

	while (read(req, &w, sizeof(w)) == sizeof(w) &&
	       read(req, &iter, sizeof(iter)) == sizeof(iter)) {
		ns = bench_loop(work[w].kind, iter);
		if (write(resp, &ns, sizeof(ns)) != sizeof(ns))
			break;
	}
	_exit(0);
}

static int worker_start(struct worker *wk)
{
	int a[2], b[2];

	if (pipe(a) < 0 || pipe(b) < 0)
		return -errno;
	wk->pid = fork();
	if (wk->pid < 0)
		return -errno;
	if (wk->pid == 0) {
		close(a[1]);
		close(b[0]);
		worker_loop(a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	wk->req = a[1];
	wk->resp = b[0];
	return 0;
}

static double worker_run(const struct worker *wk, size_t w, long iter)
{
	double ns;

	if (write(wk->req, &w, sizeof(w)) != sizeof(w) ||
	    write(wk->req, &iter, sizeof(iter)) != sizeof(iter) ||
	    read(wk->resp, &ns, sizeof(ns)) != sizeof(ns))
		return -1;
	return ns;
}

static int run_one(const struct worker *wk, const struct loaded *l, size_t w, int cycles,
                   double *res[NMODES])
{
	int r;

	worker_run(wk, w, work[w].iter); /* warm-up */
	for (int c = 0; c < cycles; c++) {
		for (int k = 0; k < NMODES; k++) {
			int m = (c + k) % NMODES;

			r = attach_mode(l, m, true);
			if (r < 0)
				return r;
			/* Attaching leaves deferred work (RCU, kworkers): let it pass, warm up. */
			usleep(50000);
			worker_run(wk, w, work[w].iter / 4 ? work[w].iter / 4 : 1);
			res[m][c] = worker_run(wk, w, work[w].iter);
			attach_mode(l, m, false);
			if (res[m][c] < 0)
				return -EIO;
		}
	}
	return 0;
}

static void print_row(size_t w, int cycles, double *res[NMODES])
{
	double med[NMODES];

	for (int m = 0; m < NMODES; m++)
		med[m] = median(res[m], cycles);
	printf("%-8s %9.1f", work[w].kind, med[BASE]);
	for (int m = FLOOR; m < NMODES; m++)
		printf("  %9.1f %+7.1f %6.3f", med[m], med[m] - med[BASE], med[m] / med[BASE]);
	printf("  %+7.1f\n", med[MEMWATCH] - med[FLOOR]);
}

int main(int argc, char **argv)
{
	int cycles = argc > 1 ? atoi(argv[1]) : 40;
	int cpu = argc > 2 ? atoi(argv[2]) : (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	double *res[NMODES] = {0};
	struct worker wk = {.pid = -1};
	struct loaded l = {0};
	cpu_set_t set;
	int r = 0;

	if (cycles < 3 || cpu < 0) {
		fprintf(stderr, "usage: bpf_toggle [CYCLES>=3 [CPU]]\n");
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fprintf(stderr, "bpf_toggle: not pinned to CPU %d: %s\n", cpu, strerror(errno));
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	r = worker_start(&wk);
	if (r < 0)
		goto out;
	r = load_all(&l);
	if (r < 0) {
		fprintf(stderr, "bpf_toggle: loading: %s\n", strerror(-r));
		goto out;
	}
	for (int m = 0; m < NMODES; m++) {
		res[m] = calloc((size_t)cycles, sizeof(double));
		if (!res[m]) {
			r = -ENOMEM;
			goto out;
		}
	}
	printf("programs alone, attached and detached around a worker on CPU %d, %d cycles, "
	       "medians\n",
	       cpu, cycles);
	printf("%-8s %9s", "workload", mode_name[BASE]);
	for (int m = FLOOR; m < NMODES; m++)
		printf("  %-24s", mode_name[m]);
	printf("  above empty\n");
	printf("%-8s %9s", "", "ns/op");
	for (int m = FLOOR; m < NMODES; m++)
		printf("  %9s %7s %6s", "ns/op", "+ns", "ratio");
	printf("  %7s\n", "+ns");
	for (size_t w = 0; w < sizeof(work) / sizeof(work[0]); w++) {
		r = run_one(&wk, &l, w, cycles, res);
		if (r < 0) {
			fprintf(stderr, "bpf_toggle: %s: %s\n", work[w].kind, strerror(-r));
			goto out;
		}
		print_row(w, cycles, res);
		fflush(stdout);
	}
out:
	if (wk.pid > 0) {
		close(wk.req);
		close(wk.resp);
		waitpid(wk.pid, NULL, 0);
	}
	for (int m = 0; m < NMODES; m++)
		free(res[m]);
	bpf_floor_bpf__destroy(l.floor);
	mw_bpfmon_close(l.mon);
	return r < 0 ? 1 : 0;
}
