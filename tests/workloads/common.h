/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared bits for workload programs: argument parsing of "--name value"
 * pairs and a "ready" line on stdout so tests know when growth starts.
 * Workloads exit by themselves after --for seconds (default 600) so a
 * crashed test never leaves them running for long.
 */
#ifndef MEMWATCH_WORKLOADS_COMMON_H
#define MEMWATCH_WORKLOADS_COMMON_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline double wl_arg(int argc, char **argv, const char *name, double def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0) {
			char *end;
			double v = strtod(argv[i + 1], &end);
			if (*end || end == argv[i + 1]) {
				fprintf(stderr, "%s: %s '%s': expected a number\n", argv[0], name,
					argv[i + 1]);
				exit(2);
			}
			return v;
		}
	return def;
}

static inline double wl_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void wl_sleep_until(double t)
{
	for (;;) {
		double d = t - wl_now();
		struct timespec ts;
		if (d <= 0)
			return;
		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
		if (nanosleep(&ts, NULL) == 0)
			return;
	}
}

static inline void wl_ready(void)
{
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
}

/* Touch every page so the memory becomes resident (malloc alone only reserves). */
static inline void wl_touch(void *p, size_t len)
{
	volatile char *c = p;
	for (size_t i = 0; i < len; i += 4096)
		c[i] = (char)i;
	if (len)
		c[len - 1] = 1;
}

#endif
