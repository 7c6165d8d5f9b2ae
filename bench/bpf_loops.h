/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The micro-workloads of bench/bpf_overhead and bench/bpf_toggle: one kind
 * of kernel work in a loop, timed in CPU time of the calling thread (other
 * load on the machine counts less than it would in wall time).
 *   faults   map 16 MiB, touch every page, unmap (page-fault bound)
 *   mmap     map and unmap 64 KiB without touching (mmap/munmap bound)
 *   getppid  the cheapest syscall (syscall-entry bound)
 */
#ifndef MEMWATCH_BENCH_BPF_LOOPS_H
#define MEMWATCH_BENCH_BPF_LOOPS_H

#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline double bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline double bench_faults(long iter)
{
	const size_t len = 16 << 20;

	for (long i = 0; i < iter; i++) {
		volatile char *p =
		        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		for (size_t o = 0; o < len; o += 4096)
			p[o] = 1;
		munmap((void *)p, len);
	}
	return (double)iter * (double)(len / 4096);
}

static inline double bench_mmaps(long iter)
{
	for (long i = 0; i < iter; i++) {
		void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		               0);
		if (p == MAP_FAILED)
			return -1;
		munmap(p, 65536);
	}
	return (double)iter;
}

/* Nanoseconds of CPU per operation (a fault, a map+unmap, a call); < 0: bad kind or failure. */
static inline double bench_loop(const char *kind, long iter)
{
	double t0 = bench_cpu_ns(), ops;

	if (strcmp(kind, "faults") == 0) {
		ops = bench_faults(iter);
	} else if (strcmp(kind, "mmap") == 0) {
		ops = bench_mmaps(iter);
	} else if (strcmp(kind, "getppid") == 0) {
		for (long i = 0; i < iter; i++)
			syscall(SYS_getppid);
		ops = (double)iter;
	} else {
		return -1;
	}
	return ops > 0 ? (bench_cpu_ns() - t0) / ops : -1;
}

#endif
