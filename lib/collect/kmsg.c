/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/kmsg.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void mw_kmsg_parse_oom_kill(const char *msg, struct mw_kmsg_kills *kl)
{
	const char *k = strstr(msg, "Killed process ");
	struct mw_kmsg_kill x = {0};

	if (!k || sscanf(k,
	                 "Killed process %d (%63[^)]) total-vm:%lldkB, anon-rss:%lldkB, "
	                 "file-rss:%lldkB, shmem-rss:%lldkB, UID:%*u pgtables:%lldkB "
	                 "oom_score_adj:%lld",
	                 &x.pid, x.comm, &x.total_vm, &x.anon, &x.file, &x.shmem, &x.pgtables,
	                 &x.adj) != 8)
		return;
	if (kl->n == MW_ARRAY_SIZE(kl->v)) {
		memmove(kl->v, kl->v + 1, sizeof(kl->v) - sizeof(kl->v[0]));
		kl->n--;
	}
	kl->v[kl->n++] = x;
}

int mw_kmsg_oom_kills(struct mw_kmsg_kills *kl)
{
	_cleanup_close_ int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char rec[8192];

	kl->n = 0;
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t k = read(fd, rec, sizeof(rec) - 1);
		if (k < 0 && errno == EPIPE)
			continue; /* a record was overwritten while we read: go on */
		/* EAGAIN is the end of the log; another error keeps what was read. */
		if (k <= 0)
			return 0;
		rec[k] = '\0';
		const char *msg = strchr(rec, ';');
		if (msg)
			mw_kmsg_parse_oom_kill(msg + 1, kl);
	}
}
