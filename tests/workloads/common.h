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

/* A string argument "--name value", or def. */
static inline const char *wl_sarg(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return def;
}

/*
 * Set by SIGTERM/SIGINT when wl_on_term() was called: workloads that own
 * objects outliving them (SysV segments, /dev/shm files, queues) stop
 * growing and clean up instead of dying on the spot.
 */
static volatile sig_atomic_t wl_stopping;

static inline void wl_term_handler(int sig)
{
	(void)sig;
	wl_stopping = 1;
}

static inline void wl_on_term(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wl_term_handler;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
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
		if (d <= 0 || wl_stopping)
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

/*
 * Steady pacing: call unit() until rate * elapsed units are done, ten
 * times a second, for duration seconds or until a stop signal. unit()
 * returns 0, or non-zero to stop growing (and keep running, flat). Prints
 * "grown N" once a second so a reader sees the progress.
 */
static inline long wl_paced(double rate, double duration, int (*unit)(void *), void *arg)
{
	double t0 = wl_now(), next = t0;
	long done = 0, printed = -1;
	int growing = 1;

	while (!wl_stopping && wl_now() - t0 < duration) {
		double target = rate * (wl_now() - t0);
		while (growing && done < (long)target) {
			if (unit(arg) != 0) {
				growing = 0;
				printf("stopped growing at %ld\n", done);
				break;
			}
			done++;
		}
		if ((long)(wl_now() - t0) != printed) {
			printed = (long)(wl_now() - t0);
			printf("grown %ld\n", done);
			fflush(stdout);
		}
		next += 0.1;
		wl_sleep_until(next);
	}
	return done;
}

#endif
