/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Message queue backlog: --rate bytes per second in --msgsize byte
 * messages sent to queues nobody reads. SysV (msgget) by default, POSIX
 * (mq_open) with --posix 1. Each queue is first asked to hold --max bytes;
 * without CAP_SYS_RESOURCE the system limits (kernel.msgmnb, fs.mqueue.*)
 * apply instead, and when a queue is full the next one is opened, so the
 * backlog keeps growing at the rate until --queues queues are full. Every
 * queue is removed on exit (time up or SIGTERM).
 */
#include "common.h"

#include <fcntl.h>
#include <mqueue.h>
#include <stdbool.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>

#define MAX_QUEUES 4096

struct q {
	bool posix;
	size_t msgsize, max;
	long nq, maxq;
	int ids[MAX_QUEUES];
	mqd_t mqs[MAX_QUEUES];
	char *buf;
};

static long sysctl_long(const char *path, long def)
{
	FILE *f = fopen(path, "r");
	long v = def;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = def;
		fclose(f);
	}
	return v;
}

static void mq_name(char *buf, size_t cap, long i)
{
	snprintf(buf, cap, "/mw-mq-%d-%ld", (int)getpid(), i);
}

static int open_sysv(struct q *q)
{
	struct msqid_ds ds;
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);

	if (id < 0)
		return -1;
	/* Allowed with CAP_SYS_RESOURCE only; otherwise kernel.msgmnb stays. */
	if (msgctl(id, IPC_STAT, &ds) == 0 && ds.msg_qbytes < q->max) {
		ds.msg_qbytes = q->max;
		msgctl(id, IPC_SET, &ds);
	}
	q->ids[q->nq++] = id;
	return 0;
}

static int open_posix(struct q *q)
{
	struct mq_attr a = {0};
	char name[64];
	mqd_t m;

	mq_name(name, sizeof(name), q->nq);
	a.mq_msgsize = (long)q->msgsize;
	a.mq_maxmsg = (long)(q->max / q->msgsize);
	if (a.mq_maxmsg < 1)
		a.mq_maxmsg = 1;
	m = mq_open(name, O_CREAT | O_EXCL | O_WRONLY | O_NONBLOCK, 0600, &a);
	if (m == (mqd_t)-1 && errno == EINVAL) {
		/* Above fs.mqueue.msg_max without privilege: take what is allowed. */
		a.mq_maxmsg = sysctl_long("/proc/sys/fs/mqueue/msg_max", 10);
		m = mq_open(name, O_CREAT | O_EXCL | O_WRONLY | O_NONBLOCK, 0600, &a);
	}
	if (m == (mqd_t)-1)
		return -1;
	q->mqs[q->nq++] = m;
	return 0;
}

static int send_last(struct q *q)
{
	if (q->posix)
		return mq_send(q->mqs[q->nq - 1], q->buf + sizeof(long), q->msgsize, 0);
	return msgsnd(q->ids[q->nq - 1], q->buf, q->msgsize, IPC_NOWAIT);
}

static int one(void *arg)
{
	struct q *q = arg;

	if (send_last(q) == 0)
		return 0;
	if (errno != EAGAIN || q->nq >= q->maxq)
		return -1;
	if ((q->posix ? open_posix(q) : open_sysv(q)) < 0)
		return -1;
	printf("queue %ld full, opened another\n", q->nq - 1);
	return send_last(q);
}

static void remove_all(struct q *q)
{
	char name[64];

	for (long i = 0; i < q->nq; i++) {
		if (q->posix) {
			mq_close(q->mqs[i]);
			mq_name(name, sizeof(name), i);
			mq_unlink(name);
		} else {
			msgctl(q->ids[i], IPC_RMID, NULL);
		}
	}
}

int main(int argc, char **argv)
{
	static struct q q;
	double rate = wl_arg(argc, argv, "--rate", 16 * 1024);
	double duration = wl_arg(argc, argv, "--for", 600);
	long n;

	q.posix = wl_arg(argc, argv, "--posix", 0) != 0;
	q.msgsize = (size_t)wl_arg(argc, argv, "--msgsize", 1024);
	q.max = (size_t)wl_arg(argc, argv, "--max", 16 << 20);
	q.maxq = (long)wl_arg(argc, argv, "--queues", 64);
	if (rate <= 0 || q.msgsize == 0 || q.msgsize > 8192 || q.max < q.msgsize || q.maxq < 1 ||
	    q.maxq > MAX_QUEUES) {
		fprintf(stderr, "msgq_backlog: --rate > 0, --msgsize 1..8192, --max >= msgsize,"
		                " --queues 1..4096\n");
		return 2;
	}
	q.buf = calloc(1, q.msgsize + sizeof(long));
	if (!q.buf)
		return 1;
	*(long *)q.buf = 1; /* SysV message type */
	if ((q.posix ? open_posix(&q) : open_sysv(&q)) < 0) {
		perror(q.posix ? "mq_open" : "msgget");
		return 1;
	}
	wl_on_term();
	wl_ready();
	n = wl_paced(rate / (double)q.msgsize, duration, one, &q);
	printf("queued %ld messages of %zu bytes in %ld %s queue(s)\n", n, q.msgsize, q.nq,
	       q.posix ? "POSIX" : "SysV");
	remove_all(&q);
	free(q.buf);
	return 0;
}
