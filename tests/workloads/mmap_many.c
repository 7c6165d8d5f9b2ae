/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Maps --count anonymous regions of --size bytes each (kept mapped, not
 * touched). Prints "ready PID", waits for a line on stdin, maps, prints
 * "done count=N size=M", then waits for stdin to close (or --for seconds).
 */
#include "common.h"

#include <sys/mman.h>

static int wait_line(void)
{
	char buf[64];
	return fgets(buf, sizeof(buf), stdin) ? 0 : -1;
}

int main(int argc, char **argv)
{
	size_t count = (size_t)wl_arg(argc, argv, "--count", 100);
	size_t size = (size_t)wl_arg(argc, argv, "--size", 65536);
	double duration = wl_arg(argc, argv, "--for", 600);

	if (count == 0 || size == 0 || count > 100000) {
		fprintf(stderr, "mmap_many: --count 1..100000, --size > 0\n");
		return 2;
	}
	alarm((unsigned)duration);
	wl_ready();
	if (wait_line() < 0)
		return 0;
	for (size_t i = 0; i < count; i++)
		if (mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		    MAP_FAILED)
			return 1;
	printf("done count=%zu size=%zu\n", count, size);
	fflush(stdout);
	wait_line();
	return 0;
}
