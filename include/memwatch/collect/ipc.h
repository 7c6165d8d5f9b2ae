/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IPC objects that hold memory outside any process (DOMAIN.md section 5):
 * SysV shared memory, message queues and semaphores from /proc/sysvipc,
 * POSIX shared memory (files in /dev/shm) and POSIX message queues
 * (/dev/mqueue). All readers take a root path.
 *
 * Identity across samples: kind, key, id and ctime for SysV objects (the
 * kernel reuses ids only with a new sequence number, and ctime is set at
 * creation); kind, name and inode for POSIX objects.
 */
#ifndef MEMWATCH_IPC_H
#define MEMWATCH_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* X(name, "tag") */
#define MW_IPC_KINDS(X)                                                                            \
	X(shm, "sysv-shm")                                                                         \
	X(msg, "sysv-msg")                                                                         \
	X(sem, "sysv-sem")                                                                         \
	X(posix_shm, "posix-shm")                                                                  \
	X(mqueue, "posix-mqueue")

#define MW_X_ENUM_IPC(name, tag) MW_IPC_##name,
enum mw_ipc_kind { MW_IPC_KINDS(MW_X_ENUM_IPC) MW_IPC_COUNT };

extern const char *const mw_ipc_kind_names[MW_IPC_COUNT];

#define MW_IPC_NAME_MAX 256

struct mw_ipc_obj {
	enum mw_ipc_kind kind;
	char ident[MW_IPC_NAME_MAX + 64]; /* stable identity string (see above) */
	char name[MW_IPC_NAME_MAX];       /* POSIX name; "" for SysV */
	int64_t key, id;                  /* SysV; MW_UNKNOWN for POSIX */
	uint32_t uid, cuid;
	int64_t mode;
	int64_t size;  /* shm: segment size; sem: nsems; posix shm: file size; mqueue: QSIZE */
	int64_t bytes; /* memory held: shm rss (resident), msg cbytes, posix shm blocks, mq QSIZE */
	int64_t swap;  /* shm swap; MW_UNKNOWN elsewhere */
	int64_t nattch; /* shm attachments; MW_UNKNOWN elsewhere */
	int64_t qnum;   /* msg: messages queued */
	pid_t cpid;     /* shm creator; 0 when the kernel does not say */
	pid_t lpid;     /* shm: last attach/detach; msg: last sender (lspid); mqueue: 0 */
	pid_t lrpid;    /* msg: last receiver */
	int64_t atime, dtime,
	        ctime;     /* seconds; msg: stime, rtime, ctime; POSIX: mtime, atime, ctime */
	uint64_t dev, ino; /* POSIX objects: the file in /dev/shm or /dev/mqueue */
};

struct mw_ipc_set {
	struct mw_ipc_obj *v;
	size_t n, cap;
	bool sysv_ok;        /* /proc/sysvipc was readable */
	bool mqueue_mounted; /* /dev/mqueue is an mqueue file system */
	char note[256];      /* what could not be read, for reports */
};

/* Parsers over recorded text (the header line is required and checked). */
int mw_ipc_parse_shm(const char *text, struct mw_ipc_set *out);
int mw_ipc_parse_msg(const char *text, struct mw_ipc_set *out);
int mw_ipc_parse_sem(const char *text, struct mw_ipc_set *out);

/* "QSIZE:129 NOTIFY:0 SIGNO:0 NOTIFY_PID:0" -> QSIZE; -EINVAL otherwise. */
int mw_ipc_parse_mq_status(const char *text, int64_t *qsize);

/*
 * Everything under root; previous contents are released. With
 * mount_mqueue and root "", an absent /dev/mqueue is mounted (mqueue
 * queues are invisible otherwise) and note says so.
 */
int mw_ipc_read(const char *root, bool mount_mqueue, struct mw_ipc_set *out);

void mw_ipc_set_release(struct mw_ipc_set *s);

const struct mw_ipc_obj *mw_ipc_find(const struct mw_ipc_set *s, const char *ident);

/* A process holding a POSIX queue or shm file open, from /proc/PID/fd. */
struct mw_ipc_holder {
	pid_t pid;
	bool writer; /* opened O_WRONLY or O_RDWR */
	char comm[64];
};

/*
 * Processes with the object (device + inode of the file in /dev/shm or
 * /dev/mqueue) open. Returns how many were written to out (up to cap).
 */
int mw_ipc_holders(const char *root, const struct mw_ipc_obj *o, struct mw_ipc_holder *out,
                   size_t cap);

#endif
