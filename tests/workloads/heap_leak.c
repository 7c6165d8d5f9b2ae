/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Leaks heap from one function through malloc: a --big block (above the
 * mmap threshold: an mmap) and --small blocks (below it: brk growth)
 * --rate times per second; another function mallocs and frees the same
 * sizes. M_MMAP_THRESHOLD is pinned at 128 KiB so big blocks stay mmaps.
 * Built -O2 -fomit-frame-pointer. Prints "ready PID".
 */
#include "common.h"

#include <malloc.h>

static void *volatile sink;

__attribute__((noinline)) static void leak_records(size_t big, size_t small, int nsmall)
{
	void *p = malloc(big);

	if (!p)
		exit(1);
	wl_touch(p, big);
	sink = p;
	for (int i = 0; i < nsmall; i++) {
		p = malloc(small);
		if (!p)
			exit(1);
		wl_touch(p, small);
		sink = p;
	}
}

__attribute__((noinline)) static void handle_request(size_t big, size_t small, int nsmall)
{
	leak_records(big, small, nsmall);
	__asm__ volatile("" ::: "memory"); /* no tail call: keep this frame on the stack */
}

__attribute__((noinline)) static void scratch_buffers(size_t big, size_t small)
{
	void *p = malloc(big), *q = malloc(small);

	if (!p || !q)
		exit(1);
	wl_touch(p, big);
	wl_touch(q, small);
	sink = p;
	free(p);
	free(q);
}

int main(int argc, char **argv)
{
	double rate = wl_arg(argc, argv, "--rate", 5);
	size_t big = (size_t)wl_arg(argc, argv, "--big", 512 * 1024);
	size_t small = (size_t)wl_arg(argc, argv, "--small", 4000);
	int nsmall = (int)wl_arg(argc, argv, "--nsmall", 64);
	double duration = wl_arg(argc, argv, "--for", 600);
	double t0, next;

	/* A fixed threshold: glibc would otherwise raise it after the first free of a big block. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	wl_ready();
	t0 = next = wl_now();
	while (wl_now() - t0 < duration) {
		handle_request(big, small, nsmall);
		scratch_buffers(big, small);
		next += 1.0 / rate;
		wl_sleep_until(next);
	}
	return 0;
}
