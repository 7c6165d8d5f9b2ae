/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Touches --pages fresh pages in each of three regions: the heap (sbrk),
 * the main stack (one deep frame) and an anonymous mmap. Prints
 * "ready PID", waits for a line on stdin, does the touching, prints
 * "done heap=P stack=P mmap=P", then waits for stdin to close (or --for
 * seconds). THP is disabled so each page is one fault.
 */
#include "common.h"

#include <alloca.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#define PAGE 4096

static int wait_line(void)
{
	char buf[64];
	return fgets(buf, sizeof(buf), stdin) ? 0 : -1;
}

/* noinline: the frame (and the pages it spans) must be fresh. */
static __attribute__((noinline)) void touch_stack(size_t pages)
{
	volatile char *buf = alloca(pages * PAGE);

	/* Top down, the way a stack grows. */
	for (size_t i = pages; i-- > 0;)
		buf[i * PAGE] = 1;
	__asm__ volatile("" : : "r"(buf) : "memory");
}

int main(int argc, char **argv)
{
	size_t pages = (size_t)wl_arg(argc, argv, "--pages", 1000);
	double duration = wl_arg(argc, argv, "--for", 600);
	char *heap, *map;

	if (pages == 0 || pages > 1500) {
		fprintf(stderr,
		        "fault_regions: --pages must be 1..1500 (the stack limit is 8 MiB)\n");
		return 2;
	}
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	alarm((unsigned)duration);
	wl_ready();
	if (wait_line() < 0)
		return 0;
	heap = sbrk((intptr_t)(pages * PAGE));
	if (heap == (void *)-1)
		return 1;
	wl_touch(heap, pages * PAGE - 1);
	touch_stack(pages);
	map = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return 1;
	wl_touch(map, pages * PAGE - 1);
	printf("done heap=%zu stack=%zu mmap=%zu\n", pages, pages, pages);
	fflush(stdout);
	wait_line();
	return 0;
}
