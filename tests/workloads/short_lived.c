/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lives far less than one tick: touches --size bytes of anonymous memory
 * and exits at once (after printing "ready PID"), so only an exit event
 * can say what it used.
 */
#include "common.h"

#include <sys/mman.h>

int main(int argc, char **argv)
{
	size_t size = (size_t)wl_arg(argc, argv, "--size", 16 << 20);
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 1;
	wl_touch(p, size);
	wl_ready();
	return 0;
}
