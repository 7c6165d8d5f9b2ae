/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control: allocates --size bytes once, touches them, then sleeps
 * without changing anything for --for seconds. Prints "ready PID".
 */
#include "common.h"

int main(int argc, char **argv)
{
	size_t size = (size_t)wl_arg(argc, argv, "--size", 4 << 20);
	double duration = wl_arg(argc, argv, "--for", 600);
	void *p = malloc(size);

	if (!p)
		return 1;
	wl_touch(p, size);
	wl_ready();
	wl_sleep_until(wl_now() + duration);
	free(p);
	return 0;
}
