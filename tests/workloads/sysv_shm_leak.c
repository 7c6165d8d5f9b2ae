/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SysV shared memory leak: --rate segments per second of --chunk bytes,
 * created, attached, touched, never detached or removed while running.
 * On exit (time up or SIGTERM) every segment is IPC_RMID'ed, unless
 * --leave 1 asks to leave them behind (they then outlive the process).
 */
#include "common.h"

#include <sys/ipc.h>
#include <sys/shm.h>

#define MAX_SEGS 4096

struct leak {
	size_t chunk;
	int ids[MAX_SEGS];
	long n;
};

static int one(void *arg)
{
	struct leak *l = arg;
	int id;
	void *p;

	if (l->n == MAX_SEGS)
		return -1;
	id = shmget(IPC_PRIVATE, l->chunk, IPC_CREAT | 0600);
	if (id < 0) {
		perror("shmget");
		return -1;
	}
	l->ids[l->n++] = id;
	p = shmat(id, NULL, 0);
	if (p == (void *)-1) {
		perror("shmat");
		return -1;
	}
	wl_touch(p, l->chunk);
	return 0;
}

int main(int argc, char **argv)
{
	static struct leak l;
	double rate = wl_arg(argc, argv, "--rate", 2);
	double duration = wl_arg(argc, argv, "--for", 600);
	int leave = wl_arg(argc, argv, "--leave", 0) != 0;

	l.chunk = (size_t)wl_arg(argc, argv, "--chunk", 1 << 20);
	if (rate <= 0 || l.chunk == 0) {
		fprintf(stderr, "sysv_shm_leak: --rate and --chunk must be > 0\n");
		return 2;
	}
	wl_on_term();
	wl_ready();
	wl_paced(rate, duration, one, &l);
	for (long i = 0; i < l.n && !leave; i++)
		shmctl(l.ids[i], IPC_RMID, NULL);
	printf("segments %ld of %zu bytes, %s\n", l.n, l.chunk, leave ? "left behind" : "removed");
	return 0;
}
