/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/limits.h"
#include "memwatch/base/util.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A limit column: a number, or MW_UNKNOWN for "unlimited" (or anything else). */
static int64_t limit_of(const char *word)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)word[0]))
		return MW_UNKNOWN;
	errno = 0;
	v = strtoull(word, &end, 10);
	return errno || *end || v > (unsigned long long)INT64_MAX ? MW_UNKNOWN : (int64_t)v;
}

void mw_proc_limits_parse(const char *text, struct mw_proc_limits *out)
{
	static const struct {
		const char *name;
		size_t soft, hard; /* offsetof the fields, hard 0 when not kept */
	} keys[] = {
	        {"Max open files", offsetof(struct mw_proc_limits, nofile_soft),
	         offsetof(struct mw_proc_limits, nofile_hard)},
	        {"Max stack size", offsetof(struct mw_proc_limits, stack_soft), 0},
	        {"Max processes", offsetof(struct mw_proc_limits, nproc_soft), 0},
	};

	memset(out, 0, sizeof(*out));
	out->readable = true;
	out->nofile_soft = out->nofile_hard = out->stack_soft = out->nproc_soft = MW_UNKNOWN;
	for (const char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		for (size_t k = 0; k < MW_ARRAY_SIZE(keys); k++) {
			size_t l = strlen(keys[k].name);
			char soft[32] = "", hard[32] = "";
			if (strncmp(line, keys[k].name, l) != 0 || line[l] != ' ')
				continue;
			if (sscanf(line + l, " %31s %31s", soft, hard) < 1)
				continue;
			*(int64_t *)((char *)out + keys[k].soft) = limit_of(soft);
			if (keys[k].hard)
				*(int64_t *)((char *)out + keys[k].hard) = limit_of(hard);
		}
	}
}

int mw_proc_limits_read(const char *root, pid_t pid, struct mw_proc_limits *out)
{
	char rel[64], path[4200], buf[4096];
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(rel, sizeof(rel), "/proc/%d/limits", (int)pid);
	r = mw_path(path, sizeof(path), root, rel);
	if (r == 0)
		r = mw_read_file(path, buf, sizeof(buf), NULL);
	if (r < 0 && r != -EFBIG) {
		out->err = r == -ENOENT ? -ESRCH : r;
		return out->err;
	}
	mw_proc_limits_parse(buf, out);
	return 0;
}

bool mw_proc_limits_equal(const struct mw_proc_limits *a, const struct mw_proc_limits *b)
{
	return a->readable == b->readable && a->nofile_soft == b->nofile_soft &&
	       a->nofile_hard == b->nofile_hard && a->stack_soft == b->stack_soft &&
	       a->nproc_soft == b->nproc_soft;
}
