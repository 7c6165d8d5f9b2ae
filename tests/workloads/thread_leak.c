/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Thread leak: --rate threads per second with default attributes (so
 * each gets a stack of RLIMIT_STACK plus a guard page), never joined,
 * each sleeping until the process ends. With --malloc BYTES each thread
 * also mallocs (and keeps) that much, which makes glibc give it an arena.
 */
#include "common.h"

#include <pthread.h>

struct leak {
	size_t malloc_bytes;
};

static void *sleeper(void *arg)
{
	const struct leak *l = arg;

	if (l->malloc_bytes) {
		void *p = malloc(l->malloc_bytes);
		if (p)
			wl_touch(p, l->malloc_bytes);
	}
	for (;;)
		pause();
	return NULL;
}

static int one(void *arg)
{
	pthread_t t;

	return pthread_create(&t, NULL, sleeper, arg);
}

int main(int argc, char **argv)
{
	struct leak l = {(size_t)wl_arg(argc, argv, "--malloc", 0)};
	double rate = wl_arg(argc, argv, "--rate", 2);
	double duration = wl_arg(argc, argv, "--for", 600);
	long n;

	if (rate <= 0) {
		fprintf(stderr, "thread_leak: --rate must be > 0\n");
		return 2;
	}
	wl_on_term();
	wl_ready();
	n = wl_paced(rate, duration, one, &l);
	printf("threads %ld\n", n);
	return 0;
}
