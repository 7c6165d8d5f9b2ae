/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Leaves orphaned SysV shared memory: creates --count segments of --size
 * bytes, attaches each, touches every page, detaches, and never removes
 * them (no IPC_RMID). Prints "shmid ID" per segment, then "ready PID",
 * stays alive --linger seconds (so a sampler sees its creator) and exits.
 * The segments outlive it: the test removes them.
 */
#include "common.h"

#include <sys/ipc.h>
#include <sys/shm.h>

int main(int argc, char **argv)
{
	int count = (int)wl_arg(argc, argv, "--count", 2);
	size_t size = (size_t)wl_arg(argc, argv, "--size", 4 << 20);
	double linger = wl_arg(argc, argv, "--linger", 3);

	for (int i = 0; i < count; i++) {
		int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
		void *p;

		if (id < 0) {
			perror("shm_orphan: shmget");
			return 1;
		}
		printf("shmid %d\n", id);
		fflush(stdout);
		p = shmat(id, NULL, 0);
		if (p == (void *)-1) {
			perror("shm_orphan: shmat");
			return 1;
		}
		wl_touch(p, size);
		shmdt(p);
	}
	wl_ready();
	wl_sleep_until(wl_now() + linger);
	return 0;
}
