/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Micro-workloads for bench/bpf_overhead: one kind of kernel work in a
 * loop, timed; prints "ns_per_op N".
 *   faults ITER   map 16 MiB, touch every page, unmap (page-fault bound)
 *   mmap ITER     map and unmap 64 KiB without touching (mmap/munmap bound)
 *   getppid ITER  the cheapest syscall (syscall-entry bound)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	/* CPU time, not wall time: other load on the machine does not count. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long iter = argc > 2 ? atol(argv[2]) : 100;
	double t0, ops = 0;

	if (argc < 2)
		return 2;
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	t0 = now();
	if (strcmp(argv[1], "faults") == 0) {
		const size_t len = 16 << 20;
		for (long i = 0; i < iter; i++) {
			volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				return 1;
			for (size_t o = 0; o < len; o += 4096)
				p[o] = 1;
			munmap((void *)p, len);
			ops += (double)(len / 4096);
		}
	} else if (strcmp(argv[1], "mmap") == 0) {
		for (long i = 0; i < iter; i++) {
			void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
			               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				return 1;
			munmap(p, 65536);
		}
		ops = (double)iter;
	} else if (strcmp(argv[1], "getppid") == 0) {
		for (long i = 0; i < iter; i++)
			syscall(SYS_getppid);
		ops = (double)iter;
	} else {
		return 2;
	}
	printf("ns_per_op %.2f\n", (now() - t0) / ops);
	return 0;
}
