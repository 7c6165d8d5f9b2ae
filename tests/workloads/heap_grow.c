/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Grows the heap (brk) at a steady rate: --rate bytes per second in
 * --chunk byte mallocs (below the mmap threshold, so they come from brk),
 * every allocation touched and kept. Prints "ready PID", then one line per
 * second: "grown BYTES".
 */
#include "common.h"

int main(int argc, char **argv)
{
	double rate = wl_arg(argc, argv, "--rate", 1 << 20);
	size_t chunk = (size_t)wl_arg(argc, argv, "--chunk", 4000);
	double duration = wl_arg(argc, argv, "--for", 600);
	double steps_per_s = 10, t0, next;
	size_t grown = 0, per_step;

	if (rate <= 0 || chunk == 0 || chunk >= 128 * 1024) {
		fprintf(stderr, "heap_grow: --rate must be > 0 and --chunk in 1..131071\n");
		return 2;
	}
	per_step = (size_t)(rate / steps_per_s);
	wl_ready();
	t0 = next = wl_now();
	for (int step = 1; wl_now() - t0 < duration; step++) {
		for (size_t done = 0; done < per_step; done += chunk) {
			void *p = malloc(chunk);
			if (!p)
				return 1;
			wl_touch(p, chunk);
			grown += chunk;
		}
		if (step % (int)steps_per_s == 0) {
			printf("grown %zu\n", grown);
			fflush(stdout);
		}
		next += 1.0 / steps_per_s;
		wl_sleep_until(next);
	}
	return 0;
}
