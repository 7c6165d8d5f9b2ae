/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Counts its own allocator calls: for each "run N" line on stdin it calls
 * malloc N times and free N times, then prints "done mallocs M frees F"
 * with the totals so far. Prints "ready PID" first; exits on EOF.
 */
#include "common.h"

static void *volatile sink;

int main(void)
{
	unsigned long mallocs = 0, frees = 0;
	char line[64];

	setvbuf(stdin, NULL, _IOLBF, 0);
	wl_ready();
	while (fgets(line, sizeof(line), stdin)) {
		long n = 0;
		if (sscanf(line, "run %ld", &n) != 1 || n < 0)
			continue;
		for (long i = 0; i < n; i++) {
			void *p = malloc(64 + (size_t)(i & 255));
			if (!p)
				return 1;
			sink = p;
			mallocs++;
			free(p);
			frees++;
		}
		printf("done mallocs %lu frees %lu\n", mallocs, frees);
		fflush(stdout);
	}
	return 0;
}
