/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OOM kills the kernel log still holds: "Killed process PID (comm)
 * total-vm:...kB, anon-rss:...kB, file-rss:...kB, shmem-rss:...kB, UID:...
 * pgtables:...kB oom_score_adj:..." lines from /dev/kmsg. The vmstat
 * oom_kill counter says how many were killed; the log says who.
 */
#ifndef MEMWATCH_KMSG_H
#define MEMWATCH_KMSG_H

#include <stddef.h>
#include <sys/types.h>

#include "memwatch/collect/proc.h"

#define MW_KMSG_KILLS_MAX 64

struct mw_kmsg_kill {
	pid_t pid;
	char comm[MW_COMM_MAX];
	long long total_vm, anon, file, shmem, pgtables, adj; /* kB, adj as is */
};

struct mw_kmsg_kills {
	size_t n;
	struct mw_kmsg_kill v[MW_KMSG_KILLS_MAX]; /* the most recent ones, oldest first */
};

/*
 * Add the kill one log message (the text after the record's ';') reports to
 * kl, dropping the oldest when full; any other message is ignored.
 */
void mw_kmsg_parse_oom_kill(const char *msg, struct mw_kmsg_kills *kl);

/*
 * Read /dev/kmsg from its start without blocking into kl. Only root may
 * read it: -errno from open then, with kl empty.
 */
int mw_kmsg_oom_kills(struct mw_kmsg_kills *kl);

#endif
