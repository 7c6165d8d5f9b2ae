/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Grows kernel slab steadily: creates AF_UNIX socket pairs at --rate
 * pairs per second, up to --count (bounded by the fd limit, which it
 * raises to the hard limit), and keeps them open. Each pair costs two
 * socket inodes, two AF_UNIX sock objects, dentries and files in slab,
 * and nothing in the process's RSS. Prints "ready PID", then "pairs N"
 * each second.
 */
#include "common.h"

#include <sys/resource.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	double rate = wl_arg(argc, argv, "--rate", 500);
	long count = (long)wl_arg(argc, argv, "--count", 9000);
	double duration = wl_arg(argc, argv, "--for", 600);
	struct rlimit rl;
	double t0, next;
	long made = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if ((rlim_t)count * 2 + 32 > rl.rlim_cur)
			count = (long)(rl.rlim_cur - 32) / 2;
	}
	wl_ready();
	t0 = next = wl_now();
	for (int step = 1; wl_now() - t0 < duration; step++) {
		long want = (long)((wl_now() - t0) * rate);
		for (; made < want && made < count; made++) {
			int sv[2];
			if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
				perror("sock_hog: socketpair");
				count = made;
				break;
			}
		}
		if (step % 10 == 0) {
			printf("pairs %ld\n", made);
			fflush(stdout);
		}
		next += 0.1;
		wl_sleep_until(next);
	}
	return 0;
}
