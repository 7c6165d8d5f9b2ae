/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Main-stack growth: recursion that deepens by --rate bytes per second
 * in frames of 4 KiB, each frame touched, until --max bytes (default
 * 6 MiB, under the usual 8 MiB limit); then it stays at that depth.
 */
#include "common.h"

#define FRAME 4096

struct dive {
	double t0, next, rate, duration;
	size_t max_frames;
	long printed;
};

static int surface(const struct dive *d)
{
	return wl_stopping || wl_now() - d->t0 >= d->duration;
}

/* Wait at the bottom until the clock allows one more frame (or time is up). */
static void pace(struct dive *d, size_t depth)
{
	while (!surface(d) && (depth >= d->max_frames ||
	                       (double)(depth + 1) * FRAME > d->rate * (wl_now() - d->t0))) {
		if ((long)(wl_now() - d->t0) != d->printed) {
			d->printed = (long)(wl_now() - d->t0);
			printf("depth %zu bytes %zu\n", depth, depth * FRAME);
			fflush(stdout);
		}
		d->next += 0.1;
		wl_sleep_until(d->next);
	}
}

static size_t descend(struct dive *d, size_t depth)
{
	volatile char frame[FRAME];
	size_t r;

	for (size_t i = 0; i < FRAME; i += 512)
		frame[i] = (char)depth;
	pace(d, depth);
	if (surface(d))
		return depth;
	r = descend(d, depth + 1);
	/* Using the frame after the call keeps it from becoming a tail call. */
	return r + (size_t)(frame[0] & 0);
}

int main(int argc, char **argv)
{
	struct dive d = {0};
	size_t reached;

	d.rate = wl_arg(argc, argv, "--rate", 64 * 1024);
	d.duration = wl_arg(argc, argv, "--for", 600);
	d.max_frames = (size_t)wl_arg(argc, argv, "--max", 6 << 20) / FRAME;
	d.printed = -1;
	if (d.rate <= 0 || d.max_frames == 0) {
		fprintf(stderr, "stack_grow: --rate must be > 0 and --max >= 4096\n");
		return 2;
	}
	wl_on_term();
	wl_ready();
	d.t0 = d.next = wl_now();
	reached = descend(&d, 1);
	printf("deepest %zu frames, %zu bytes\n", reached, reached * FRAME);
	return 0;
}
