/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Leaks anonymous mappings from one function and maps-then-unmaps from
 * another, --rate times per second each, --size bytes per mapping. Built
 * -O2 -fomit-frame-pointer: call sites must come from DWARF CFI.
 * Prints "ready PID", then "leaked BYTES" once a second.
 */
#include "common.h"

#include <sys/mman.h>

static void *volatile sink;

__attribute__((noinline)) static void *leak_mapping(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	wl_touch(p, size);
	return p;
}

__attribute__((noinline)) static void grow_cache(size_t size)
{
	sink = leak_mapping(size);
}

__attribute__((noinline)) static void scratch_mapping(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	wl_touch(p, size);
	munmap(p, size);
}

int main(int argc, char **argv)
{
	double rate = wl_arg(argc, argv, "--rate", 5);
	size_t size = (size_t)wl_arg(argc, argv, "--size", 256 * 1024);
	double duration = wl_arg(argc, argv, "--for", 600);
	int scratch_first = (int)wl_arg(argc, argv, "--scratch-first", 0);
	double t0, next;
	size_t leaked = 0;

	wl_ready();
	t0 = next = wl_now();
	for (long step = 1; wl_now() - t0 < duration; step++) {
		/* --scratch-first 1: each leaked mapping takes the address just unmapped. */
		if (scratch_first)
			scratch_mapping(size);
		grow_cache(size);
		if (!scratch_first)
			scratch_mapping(size);
		leaked += size;
		if (step % (long)(rate > 1 ? rate : 1) == 0) {
			printf("leaked %zu\n", leaked);
			fflush(stdout);
		}
		next += 1.0 / rate;
		wl_sleep_until(next);
	}
	return 0;
}
