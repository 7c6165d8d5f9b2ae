/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Control: a cache that fills and is evicted. Holds --base bytes for
 * good, then fills a cache at --rate bytes per second in 256 KiB mapped
 * blocks up to --cap bytes, evicts all of it (munmap: the memory really
 * goes back), and starts over. RSS returns to the base after each tooth.
 */
#include "common.h"

#include <sys/mman.h>

#define BLOCK      (256 * 1024)
#define MAX_BLOCKS 65536

struct cache {
	void *blocks[MAX_BLOCKS];
	size_t n, cap_blocks;
	long evictions;
};

static void evict(struct cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		munmap(c->blocks[i], BLOCK);
	c->n = 0;
	c->evictions++;
	printf("evicted (%ld)\n", c->evictions);
}

static int one(void *arg)
{
	struct cache *c = arg;
	void *p;

	if (c->n == c->cap_blocks)
		evict(c);
	p = mmap(NULL, BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	wl_touch(p, BLOCK);
	c->blocks[c->n++] = p;
	return 0;
}

int main(int argc, char **argv)
{
	static struct cache c;
	size_t base = (size_t)wl_arg(argc, argv, "--base", 8 << 20);
	size_t cap = (size_t)wl_arg(argc, argv, "--cap", 16 << 20);
	double rate = wl_arg(argc, argv, "--rate", 4 << 20);
	double duration = wl_arg(argc, argv, "--for", 600);
	void *b;

	c.cap_blocks = cap / BLOCK;
	if (rate < BLOCK / 10.0 || c.cap_blocks == 0 || c.cap_blocks > MAX_BLOCKS) {
		fprintf(stderr, "sawtooth: --rate >= 26215, --cap 256 KiB .. 16 GiB\n");
		return 2;
	}
	b = malloc(base ? base : 1);
	if (!b)
		return 1;
	wl_touch(b, base);
	wl_on_term();
	wl_ready();
	wl_paced(rate / BLOCK, duration, one, &c);
	printf("teeth %ld\n", c.evictions);
	free(b);
	return 0;
}
