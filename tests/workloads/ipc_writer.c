/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An IPC backlog: writes to a SysV message queue and a POSIX message
 * queue that nobody reads, one message to each every --interval seconds
 * (--msgsize bytes), without blocking when a queue is full. Prints
 * "msqid ID" and "mq /NAME", then "ready PID". --mq NAME names the POSIX
 * queue (default /mw-writer-PID). Neither queue is removed on exit.
 */
#include "common.h"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct msg {
	long mtype;
	char text[8192];
};

int main(int argc, char **argv)
{
	double interval = wl_arg(argc, argv, "--interval", 0.5);
	size_t msgsize = (size_t)wl_arg(argc, argv, "--msgsize", 1024);
	double duration = wl_arg(argc, argv, "--for", 600);
	struct mq_attr attr = {.mq_maxmsg = 10, .mq_msgsize = 8192};
	static struct msg m;
	char name[64];
	double next;
	int q;
	mqd_t mq;

	if (msgsize == 0 || msgsize > sizeof(m.text)) {
		fprintf(stderr, "ipc_writer: --msgsize must be 1..8192\n");
		return 2;
	}
	snprintf(name, sizeof(name), "/mw-writer-%d", (int)getpid());
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--mq") == 0)
			snprintf(name, sizeof(name), "%s", argv[i + 1]);
	q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q < 0) {
		perror("ipc_writer: msgget");
		return 1;
	}
	mq = mq_open(name, O_WRONLY | O_CREAT | O_NONBLOCK, 0600, &attr);
	if (mq == (mqd_t)-1) {
		perror("ipc_writer: mq_open");
		return 1;
	}
	printf("msqid %d\nmq %s\n", q, name);
	wl_ready();
	memset(m.text, 'x', sizeof(m.text));
	m.mtype = 1;
	next = wl_now();
	for (double t0 = next; wl_now() - t0 < duration;) {
		msgsnd(q, &m, msgsize, IPC_NOWAIT);
		mq_send(mq, m.text, msgsize, 0);
		next += interval;
		wl_sleep_until(next);
	}
	return 0;
}
