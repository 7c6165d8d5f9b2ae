/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Descriptor leak: --rate descriptors per second of one --kind (socket,
 * pipe, eventfd, file), never closed. A pipe makes two descriptors, so
 * pipes are made at half the rate. The soft RLIMIT_NOFILE is raised to
 * the hard limit first.
 */
#include "common.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

enum kind { K_SOCKET, K_PIPE, K_EVENTFD, K_FILE };

static int one(void *arg)
{
	enum kind k = *(enum kind *)arg;
	int fds[2];

	switch (k) {
	case K_SOCKET:
		return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) < 0 ? -1 : 0;
	case K_PIPE:
		return pipe2(fds, O_CLOEXEC);
	case K_EVENTFD:
		return eventfd(0, EFD_CLOEXEC) < 0 ? -1 : 0;
	case K_FILE:
		return open("/dev/null", O_RDONLY | O_CLOEXEC) < 0 ? -1 : 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {"socket", "pipe", "eventfd", "file"};
	const char *kname = wl_sarg(argc, argv, "--kind", "socket");
	double rate = wl_arg(argc, argv, "--rate", 10);
	double duration = wl_arg(argc, argv, "--for", 600);
	enum kind k = (enum kind) - 1;
	struct rlimit rl;
	long n;

	for (int i = 0; i < 4; i++)
		if (strcmp(kname, names[i]) == 0)
			k = (enum kind)i;
	if ((int)k < 0 || rate <= 0) {
		fprintf(stderr, "fd_leak: --kind socket|pipe|eventfd|file, --rate > 0\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	wl_on_term();
	wl_ready();
	n = wl_paced(k == K_PIPE ? rate / 2 : rate, duration, one, &k);
	printf("leaked %ld %s%s\n", k == K_PIPE ? 2 * n : n, names[k],
	       k == K_PIPE ? " descriptors" : "s");
	return 0;
}
