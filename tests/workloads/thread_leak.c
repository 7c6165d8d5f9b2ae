/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Thread leak: --rate threads per second with default attributes (so
 * each gets a stack of RLIMIT_STACK plus a guard page), never joined,
 * each sleeping until the process ends. With --malloc BYTES each thread
 * also mallocs (and keeps) that much, which makes glibc give it an arena.
 *
 * Stacks the RLIMIT_STACK size rule cannot find, as runtimes size their
 * own: --stack KIB gives threads a stack of that size
 * (pthread_attr_setstacksize), --own-stack KIB one this program mmaps
 * itself (with a guard page below it, as a runtime would) and hands over
 * with pthread_attr_setstack. With both, threads alternate between the
 * two. --threads N stops after N threads (the process stays, flat).
 */
#include "common.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>

struct leak {
	size_t malloc_bytes;
	size_t stack, own_stack; /* bytes; 0 = not asked */
	long max, made;
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

/* The attributes of the next thread: default, a sized stack, or our own mapping. */
static int next_attr(struct leak *l, pthread_attr_t *a)
{
	const size_t page = 4096;
	bool own = l->own_stack && (!l->stack || l->made % 2 == 1);
	char *m;

	if (!own)
		return l->stack ? pthread_attr_setstacksize(a, l->stack) : 0;
	m = mmap(NULL, l->own_stack + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	         0);
	if (m == MAP_FAILED)
		return errno;
	if (mprotect(m, page, PROT_NONE) < 0) {
		int e = errno;
		munmap(m, l->own_stack + page);
		return e;
	}
	/* Never unmapped: the thread, like the leak, lives until the process ends. */
	return pthread_attr_setstack(a, m + page, l->own_stack);
}

static int one(void *arg)
{
	struct leak *l = arg;
	pthread_attr_t a;
	pthread_t t;
	int r;

	if (l->max > 0 && l->made >= l->max)
		return 1;
	pthread_attr_init(&a);
	r = next_attr(l, &a);
	if (r == 0)
		r = pthread_create(&t, &a, sleeper, arg);
	pthread_attr_destroy(&a);
	if (r != 0) {
		fprintf(stderr, "thread_leak: thread %ld: %s\n", l->made, strerror(r));
		return 1;
	}
	l->made++;
	return 0;
}

int main(int argc, char **argv)
{
	struct leak l = {
	        .malloc_bytes = (size_t)wl_arg(argc, argv, "--malloc", 0),
	        .stack = (size_t)wl_arg(argc, argv, "--stack", 0) * 1024,
	        .own_stack = (size_t)wl_arg(argc, argv, "--own-stack", 0) * 1024,
	        .max = (long)wl_arg(argc, argv, "--threads", 0),
	};
	double rate = wl_arg(argc, argv, "--rate", 2);
	double duration = wl_arg(argc, argv, "--for", 600);
	long n;

	if (rate <= 0) {
		fprintf(stderr, "thread_leak: --rate must be > 0\n");
		return 2;
	}
	if ((l.stack && l.stack < 16384) ||
	    (l.own_stack && (l.own_stack < 16384 || l.own_stack % 4096))) {
		fprintf(stderr,
		        "thread_leak: --stack and --own-stack take >= 16 KiB, whole pages\n");
		return 2;
	}
	wl_on_term();
	wl_ready();
	n = wl_paced(rate, duration, one, &l);
	printf("threads %ld\n", n);
	return 0;
}
