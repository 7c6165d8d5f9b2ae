/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POSIX shared memory leak: --rate objects per second of --chunk bytes,
 * shm_open'ed (files in /dev/shm), sized, mapped shared, touched, never
 * unmapped or unlinked while running. On exit they are shm_unlink'ed,
 * unless --leave 1.
 */
#include "common.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

struct leak {
	size_t chunk;
	long n;
};

static void name_of(char *buf, size_t cap, long i)
{
	snprintf(buf, cap, "/mw-posix-shm-%d-%ld", (int)getpid(), i);
}

static int one(void *arg)
{
	struct leak *l = arg;
	char name[64];
	void *p;
	int fd;

	name_of(name, sizeof(name), l->n);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		perror(name);
		return -1;
	}
	l->n++;
	if (ftruncate(fd, (off_t)l->chunk) < 0) {
		close(fd);
		return -1;
	}
	p = mmap(NULL, l->chunk, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	wl_touch(p, l->chunk);
	return 0;
}

int main(int argc, char **argv)
{
	struct leak l = {(size_t)wl_arg(argc, argv, "--chunk", 1 << 20), 0};
	double rate = wl_arg(argc, argv, "--rate", 2);
	double duration = wl_arg(argc, argv, "--for", 600);
	int leave = wl_arg(argc, argv, "--leave", 0) != 0;
	char name[64];

	if (rate <= 0 || l.chunk == 0) {
		fprintf(stderr, "posix_shm_leak: --rate and --chunk must be > 0\n");
		return 2;
	}
	wl_on_term();
	wl_ready();
	wl_paced(rate, duration, one, &l);
	for (long i = 0; i < l.n && !leave; i++) {
		name_of(name, sizeof(name), i);
		shm_unlink(name);
	}
	printf("objects %ld of %zu bytes, %s\n", l.n, l.chunk, leave ? "left behind" : "unlinked");
	return 0;
}
