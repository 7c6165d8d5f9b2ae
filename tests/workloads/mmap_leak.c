/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Anonymous mmap leak: --rate mappings per second of --chunk bytes each,
 * touched and never unmapped. Each mapping is kept apart from the last
 * by a one-page hole so the kernel cannot merge them: the anon mapping
 * count rises with the size.
 */
#include "common.h"

#include <sys/mman.h>

struct leak {
	size_t chunk;
};

static int one(void *arg)
{
	const struct leak *l = arg;
	size_t page = 4096;
	char *p = mmap(NULL, l->chunk + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	               -1, 0);

	if (p == MAP_FAILED)
		return -1;
	munmap(p + l->chunk, page);
	wl_touch(p, l->chunk);
	return 0;
}

int main(int argc, char **argv)
{
	struct leak l = {(size_t)wl_arg(argc, argv, "--chunk", 256 * 1024)};
	double rate = wl_arg(argc, argv, "--rate", 4);
	double duration = wl_arg(argc, argv, "--for", 600);
	long n;

	if (rate <= 0 || l.chunk < 4096 || l.chunk % 4096) {
		fprintf(stderr, "mmap_leak: --rate must be > 0, --chunk a multiple of 4096\n");
		return 2;
	}
	wl_on_term();
	wl_ready();
	n = wl_paced(rate, duration, one, &l);
	printf("mapped %ld x %zu bytes\n", n, l.chunk);
	return 0;
}
