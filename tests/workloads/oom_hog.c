/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Allocates and touches memory in --chunk byte steps until killed (meant
 * for a memory-limited cgroup, where the OOM killer ends it), or up to
 * --max bytes. Prints "ready PID" first.
 */
#include "common.h"

#include <sys/mman.h>

int main(int argc, char **argv)
{
	size_t chunk = (size_t)wl_arg(argc, argv, "--chunk", 1 << 20);
	size_t max = (size_t)wl_arg(argc, argv, "--max", 1ul << 30);

	wl_ready();
	for (size_t done = 0; done < max; done += chunk) {
		char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		               0);
		if (p == MAP_FAILED)
			return 1;
		wl_touch(p, chunk);
	}
	return 0;
}
