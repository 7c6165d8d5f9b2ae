/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One micro-workload of bench/bpf_loops.h, timed; prints "ns_per_op N".
 * usage: bpf_loops faults|mmap|getppid ITER
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "bpf_loops.h"

int main(int argc, char **argv)
{
	double ns;

	if (argc < 2)
		return 2;
	/* Faults on 4 KiB pages, as most of them are; a huge page would hide the per-fault cost. */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	ns = bench_loop(argv[1], argc > 2 ? atol(argv[2]) : 100);
	if (ns < 0)
		return 1;
	printf("ns_per_op %.2f\n", ns);
	return 0;
}
