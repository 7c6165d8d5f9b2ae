/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Region breakdown of a process's address space (DOMAIN.md section 1),
 * from /proc/PID/smaps, and the kinds of its open descriptors.
 */
#ifndef MEMWATCH_REGION_H
#define MEMWATCH_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* X(name, "column/tag"): the region classes, in report order. */
#define MW_REGION_KINDS(X)                                                                         \
	X(heap, "heap")                                                                            \
	X(stack, "stack")                                                                          \
	X(thread_stacks, "thread_stacks")                                                          \
	X(anon, "anon")                                                                            \
	X(arena, "arena")                                                                          \
	X(file_exec, "file_exec")                                                                  \
	X(file_data, "file_data")                                                                  \
	X(shm_sysv, "shm_sysv")                                                                    \
	X(shm_posix, "shm_posix")                                                                  \
	X(shm_anon, "shm_anon")                                                                    \
	X(memfd, "memfd")                                                                          \
	X(special, "special")

#define MW_X_ENUM_REG(name, str) MW_REG_##name,
enum mw_region_kind { MW_REGION_KINDS(MW_X_ENUM_REG) MW_REG_COUNT };

extern const char *const mw_region_names[MW_REG_COUNT];

struct mw_region_stat {
	int64_t size;  /* bytes of address space */
	int64_t rss;   /* bytes resident */
	int64_t swap;  /* bytes swapped */
	int64_t count; /* mappings */
};

struct mw_regions {
	bool readable; /* false: smaps could not be read (EACCES, gone) -- not "0" */
	int err;       /* -errno when !readable */
	struct mw_region_stat r[MW_REG_COUNT];
	int64_t files;    /* distinct files mapped */
	int64_t so_files; /* distinct shared objects (*.so*) mapped */
	uint64_t so_hash; /* order-independent hash of the .so path set: changes when one appears */
	int64_t stacks;   /* thread stacks found (guard + stack pairs); compare with Threads - 1 */
	int64_t read_us;  /* what reading and classifying took (mw_region_read); not compared */
};

/*
 * Classify a whole smaps text (as read from /proc/PID/smaps). stack_size
 * is the thread stack size to look for (RLIMIT_STACK of the target;
 * 0 = 8 MiB). Pure: tests feed it recorded texts.
 */
int mw_region_parse_smaps(const char *text, uint64_t stack_size, struct mw_regions *out);

/*
 * Read and classify /proc/PID/smaps under root. On failure *out has
 * readable = false and err set, and the same -errno is returned
 * (-ESRCH when the process is gone, -EACCES when not permitted).
 */
int mw_region_read(const char *root, pid_t pid, struct mw_regions *out);

/* The soft RLIMIT_STACK of pid from /proc/PID/limits; 0 when unlimited or unreadable. */
uint64_t mw_region_stack_limit(const char *root, pid_t pid);

/* True when the two samples would be stored as the same row. */
bool mw_regions_equal(const struct mw_regions *a, const struct mw_regions *b);

/* X(name): descriptor kinds from the targets of /proc/PID/fd links. */
#define MW_FD_KINDS(X)     X(file) X(socket) X(pipe) X(eventfd) X(anon_other) X(other)
#define MW_X_ENUM_FD(name) MW_FD_##name,
enum mw_fd_kind { MW_FD_KINDS(MW_X_ENUM_FD) MW_FD_COUNT };

extern const char *const mw_fd_kind_names[MW_FD_COUNT];

struct mw_fd_kinds {
	bool readable;
	int err; /* -errno when !readable */
	int64_t n[MW_FD_COUNT];
};

/* Classify one readlink target of /proc/PID/fd/N. */
enum mw_fd_kind mw_fd_kind_of(const char *target);

/* Count the descriptors of pid by kind; on failure readable = false and -errno as above. */
int mw_fd_kinds_read(const char *root, pid_t pid, struct mw_fd_kinds *out);
bool mw_fd_kinds_equal(const struct mw_fd_kinds *a, const struct mw_fd_kinds *b);

#endif
