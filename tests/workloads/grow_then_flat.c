/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Control: grows the heap at --rate bytes per second (4000-byte mallocs,
 * touched, kept) for --grow-for seconds, then stays exactly as it is
 * until --for seconds have passed. A leak that stopped: old growth, no
 * current trend.
 */
#include "common.h"

struct grow {
	double t0, grow_for;
};

static int one(void *arg)
{
	const struct grow *g = arg;
	void *p;

	if (wl_now() - g->t0 >= g->grow_for)
		return 1;
	p = malloc(4000);
	if (!p)
		return -1;
	wl_touch(p, 4000);
	return 0;
}

int main(int argc, char **argv)
{
	struct grow g = {0, wl_arg(argc, argv, "--grow-for", 30)};
	double rate = wl_arg(argc, argv, "--rate", 1 << 20);
	double duration = wl_arg(argc, argv, "--for", 600);
	long n;

	if (rate < 4000 || g.grow_for < 0) {
		fprintf(stderr, "grow_then_flat: --rate >= 4000, --grow-for >= 0\n");
		return 2;
	}
	wl_on_term();
	wl_ready();
	g.t0 = wl_now();
	n = wl_paced(rate / 4000, duration, one, &g);
	printf("grew %ld bytes then stayed flat\n", n * 4000);
	return 0;
}
