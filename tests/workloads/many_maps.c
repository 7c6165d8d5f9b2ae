/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A process with a huge number of mappings (--maps, default 60000): one
 * page each, touched, with alternating protections so none merge. Its
 * /proc/PID/smaps is tens of MB, slow to read: the slow-target case for
 * the daemon's region tier. Flat otherwise.
 */
#include "common.h"

#include <sys/mman.h>

int main(int argc, char **argv)
{
	size_t maps = (size_t)wl_arg(argc, argv, "--maps", 60000);
	double duration = wl_arg(argc, argv, "--for", 600);
	size_t page = 4096;
	char *p;

	p = mmap(NULL, maps * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	wl_touch(p, maps * page);
	for (size_t i = 1; i < maps; i += 2)
		if (mprotect(p + i * page, page, PROT_READ) < 0) {
			perror("mprotect (vm.max_map_count too low?)");
			return 1;
		}
	wl_on_term();
	wl_ready();
	printf("mappings %zu\n", maps);
	fflush(stdout);
	wl_sleep_until(wl_now() + duration);
	return 0;
}
