/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Message queue backlog: --rate bytes per second in --msgsize byte
 * messages sent to a queue nobody reads, up to --max bytes (the queue's
 * capacity is raised to that when permitted). SysV (msgget) by default,
 * a POSIX queue (mq_open) with --posix 1. The queue is removed on exit.
 */
#include "common.h"

#include <fcntl.h>
#include <mqueue.h>
#include <stdbool.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>

struct q {
	bool posix;
	int id;
	mqd_t mq;
	size_t msgsize;
	char *buf;
};

static int one(void *arg)
{
	struct q *q = arg;

	if (q->posix)
		return mq_send(q->mq, q->buf, q->msgsize, 0);
	return msgsnd(q->id, q->buf, q->msgsize, IPC_NOWAIT);
}

static int open_sysv(struct q *q, size_t max)
{
	struct msqid_ds ds;

	q->id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q->id < 0)
		return -1;
	/* Root may raise a queue above msgmnb; others keep the default. */
	if (msgctl(q->id, IPC_STAT, &ds) == 0 && ds.msg_qbytes < max) {
		ds.msg_qbytes = max;
		msgctl(q->id, IPC_SET, &ds);
	}
	return 0;
}

static int open_posix(struct q *q, size_t max, char *name, size_t cap)
{
	struct mq_attr a = {0};
	struct rlimit rl = {max * 2 + (1 << 20), max * 2 + (1 << 20)};

	setrlimit(RLIMIT_MSGQUEUE, &rl);
	snprintf(name, cap, "/mw-mq-%d", (int)getpid());
	a.mq_msgsize = (long)q->msgsize;
	a.mq_maxmsg = (long)(max / q->msgsize);
	if (a.mq_maxmsg < 1)
		a.mq_maxmsg = 1;
	q->mq = mq_open(name, O_CREAT | O_EXCL | O_WRONLY | O_NONBLOCK, 0600, &a);
	if (q->mq == (mqd_t)-1) {
		/* Unprivileged: fall back to the system's limits. */
		q->mq = mq_open(name, O_CREAT | O_EXCL | O_WRONLY | O_NONBLOCK, 0600, NULL);
		if (q->mq == (mqd_t)-1)
			return -1;
		if (mq_getattr(q->mq, &a) == 0 && (size_t)a.mq_msgsize < q->msgsize)
			q->msgsize = (size_t)a.mq_msgsize;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct q q = {.posix = wl_arg(argc, argv, "--posix", 0) != 0};
	double rate = wl_arg(argc, argv, "--rate", 64 * 1024);
	double duration = wl_arg(argc, argv, "--for", 600);
	size_t max = (size_t)wl_arg(argc, argv, "--max", 16 << 20);
	char name[64] = "";
	long n;

	q.msgsize = (size_t)wl_arg(argc, argv, "--msgsize", 1024);
	if (rate <= 0 || q.msgsize == 0 || q.msgsize > 65536 || max < q.msgsize) {
		fprintf(stderr, "msgq_backlog: --rate > 0, --msgsize 1..65536, --max >= msgsize\n");
		return 2;
	}
	q.buf = calloc(1, q.msgsize + sizeof(long));
	if (!q.buf)
		return 1;
	*(long *)q.buf = 1; /* SysV message type */
	if ((q.posix ? open_posix(&q, max, name, sizeof(name)) : open_sysv(&q, max)) < 0) {
		perror(q.posix ? "mq_open" : "msgget");
		return 1;
	}
	wl_on_term();
	wl_ready();
	n = wl_paced(rate / (double)q.msgsize, duration, one, &q);
	printf("queued %ld messages of %zu bytes (%s)\n", n, q.msgsize, q.posix ? name : "sysv");
	if (q.posix) {
		mq_close(q.mq);
		mq_unlink(name);
	} else {
		msgctl(q.id, IPC_RMID, NULL);
	}
	free(q.buf);
	return 0;
}
