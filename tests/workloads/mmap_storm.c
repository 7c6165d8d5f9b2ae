/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmap + munmap in a tight loop for --for seconds (tens of thousands per
 * second): the call-site sampler must rate-limit it. Prints "ready PID",
 * then "maps N" at exit.
 */
#include "common.h"

#include <sys/mman.h>

int main(int argc, char **argv)
{
	double duration = wl_arg(argc, argv, "--for", 600);
	size_t size = (size_t)wl_arg(argc, argv, "--size", 64 * 1024);
	unsigned long n = 0;
	double t0;

	wl_ready();
	t0 = wl_now();
	while (wl_now() - t0 < duration) {
		for (int i = 0; i < 1000; i++, n++) {
			void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				return 1;
			munmap(p, size);
		}
	}
	printf("maps %lu\n", n);
	return 0;
}
