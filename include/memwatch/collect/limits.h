/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The resource limits of a process that memwatch measures usage against
 * (/proc/PID/limits): descriptors (RLIMIT_NOFILE, soft and hard), the
 * main stack (RLIMIT_STACK) and processes (RLIMIT_NPROC, per user).
 */
#ifndef MEMWATCH_LIMITS_H
#define MEMWATCH_LIMITS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Each value: the limit, or MW_UNKNOWN when unlimited or not read. */
struct mw_proc_limits {
	bool readable;
	int err; /* -errno when !readable; -ESRCH when the process is gone */
	int64_t nofile_soft, nofile_hard;
	int64_t stack_soft; /* bytes */
	int64_t nproc_soft;
};

/* Parse the text of /proc/PID/limits; lines it does not know are ignored. */
void mw_proc_limits_parse(const char *text, struct mw_proc_limits *out);

/* Read /proc/PID/limits under root ("" for the live system). */
int mw_proc_limits_read(const char *root, pid_t pid, struct mw_proc_limits *out);

bool mw_proc_limits_equal(const struct mw_proc_limits *a, const struct mw_proc_limits *b);

#endif
