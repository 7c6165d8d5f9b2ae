/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Holds one of each shared memory kind, of known sizes, half touched:
 * a SysV segment (--sysv, default 2 MiB), a POSIX shm object (--posix,
 * 3 MiB) and a memfd (--memfd, 1 MiB). Used to record smaps test data.
 * Everything is removed on exit.
 */
#include "common.h"

#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>

static void *map_fd(int fd, size_t len)
{
	void *p;

	if (ftruncate(fd, (off_t)len) < 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

int main(int argc, char **argv)
{
	size_t sysv = (size_t)wl_arg(argc, argv, "--sysv", 2 << 20);
	size_t posix = (size_t)wl_arg(argc, argv, "--posix", 3 << 20);
	size_t memfd = (size_t)wl_arg(argc, argv, "--memfd", 1 << 20);
	double duration = wl_arg(argc, argv, "--for", 600);
	char name[64];
	void *a, *b, *c;
	int id;

	snprintf(name, sizeof(name), "/mw-shm-mix-%d", (int)getpid());
	id = shmget(IPC_PRIVATE, sysv, IPC_CREAT | 0600);
	a = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
	b = map_fd(shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600), posix);
	c = map_fd(memfd_create("mw-mix", MFD_CLOEXEC), memfd);
	if (a == (void *)-1 || !b || !c) {
		perror("shm_mix");
		goto out;
	}
	wl_touch(a, sysv / 2);
	wl_touch(b, posix / 2);
	wl_touch(c, memfd / 2);
	wl_on_term();
	wl_ready();
	wl_sleep_until(wl_now() + duration);
out:
	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
	shm_unlink(name);
	return 0;
}
