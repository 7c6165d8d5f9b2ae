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

/*
 * X(name): the process's proportional and unique set sizes, in bytes, as
 * /proc/PID/smaps_rollup has them: Pss and its anon/file/shmem split,
 * USS = Private_Clean + Private_Dirty, Swap and SwapPss.
 */
#define MW_PSS_FIELDS(X)    X(pss) X(pss_anon) X(pss_file) X(pss_shmem) X(uss) X(swap) X(swap_pss)
#define MW_X_ENUM_PSS(name) MW_PSS_##name,
enum mw_pss_field { MW_PSS_FIELDS(MW_X_ENUM_PSS) MW_PSS_COUNT };

extern const char *const mw_pss_names[MW_PSS_COUNT];

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
	int64_t stacks;   /* thread stacks found (by SP or by size); compare with Threads - 1 */
	int64_t read_us;  /* what reading and classifying took (mw_region_read); not compared */
	/*
	 * Summed over the mappings (MW_UNKNOWN when the text had no Pss: an
	 * older row or kernel). Per-mapping smaps has no Pss_Anon/File/Shmem:
	 * a mapping's anonymous pages (Anonymous:, at most its Pss) count as
	 * anon, the rest of its Pss as shmem for shared memory, else file.
	 */
	int64_t pss[MW_PSS_COUNT];
	/* Threads whose stack pointer was known; not stored nor compared (running threads vary). */
	int64_t sp_threads;
};

/*
 * The most threads whose stack pointer mw_region_read reads per process:
 * two small reads per thread, so a process with tens of thousands of
 * threads would hold up the slow tier. Stacks of threads past the cap are
 * found by the size rule only.
 */
#define MW_REGION_MAX_SP 4096

/*
 * Classify a whole smaps text (as read from /proc/PID/smaps). stack_size
 * is the thread stack size to look for (RLIMIT_STACK of the target;
 * 0 = 8 MiB). Pure: tests feed it recorded texts.
 */
int mw_region_parse_smaps(const char *text, uint64_t stack_size, struct mw_regions *out);

/*
 * The same, knowing the stack pointers of the target's threads (sp sorted
 * ascending, nsp of them; -EINVAL when not sorted): the anon rw-p mapping
 * holding exactly one SP, and its guard, is a thread stack whatever its size.
 */
int mw_region_parse_smaps_sp(const char *text, uint64_t stack_size, const uint64_t *sp, size_t nsp,
                             struct mw_regions *out);

/*
 * A thread's user stack pointer from /proc/PID/task/TID/syscall ("nr a0..a5
 * sp pc", "-1 sp pc" when blocked outside a system call). -EAGAIN when it
 * says "running", -ENODATA for a zero SP, -EINVAL for anything else.
 */
int mw_region_parse_task_sp(const char *syscall_text, uint64_t *sp);

/* Field 29 (kstkesp) of /proc/PID/task/TID/stat; -ENODATA when 0 (the kernel hides it). */
int mw_region_parse_task_stat_sp(const char *stat_text, uint64_t *sp);

/*
 * Stack pointers of up to cap threads of pid under root, sorted, in sp[*n].
 * A thread that exited or runs is skipped; the first ptrace refusal ends
 * the walk. -errno only when the task directory cannot be read.
 */
int mw_region_task_sps(const char *root, pid_t pid, uint64_t *sp, size_t cap, size_t *n);

/*
 * Read and classify /proc/PID/smaps under root. On failure *out has
 * readable = false and err set, and the same -errno is returned
 * (-ESRCH when the process is gone, -EACCES when not permitted).
 */
int mw_region_read(const char *root, pid_t pid, struct mw_regions *out);

/* The soft RLIMIT_STACK of pid from /proc/PID/limits; 0 when unlimited or unreadable. */
uint64_t mw_region_stack_limit(const char *root, pid_t pid);

/*
 * The figures of a /proc/PID/smaps_rollup text (a field the kernel does
 * not write, e.g. Pss_Anon before 5.7, is MW_UNKNOWN). Pure. -EINVAL
 * when the text has no Pss line.
 */
int mw_pss_parse_rollup(const char *text, int64_t out[MW_PSS_COUNT]);

/* Read and parse /proc/PID/smaps_rollup under root (-ESRCH when gone). */
int mw_pss_read(const char *root, pid_t pid, int64_t out[MW_PSS_COUNT]);

/*
 * True when the two samples would be stored as the same row: every
 * region figure equal and the PSS figures within 1 % (at least 64 KiB),
 * so another process mapping or leaving a shared library does not store
 * a row of its own.
 */
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
