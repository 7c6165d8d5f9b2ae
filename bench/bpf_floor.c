/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Attach bench/bpf_floor.bpf.c's empty programs, print "attached", wait for a signal. */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "bpf_floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	struct bpf_floor_bpf *skel = bpf_floor_bpf__open_and_load();

	if (!skel || bpf_floor_bpf__attach(skel) < 0) {
		perror("bpf_floor");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached\n");
	fflush(stdout);
	while (!stop)
		pause();
	bpf_floor_bpf__destroy(skel);
	return 0;
}
