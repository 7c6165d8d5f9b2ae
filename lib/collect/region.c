/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Region breakdown from /proc/PID/smaps and descriptor kinds from
 * /proc/PID/fd. The rules (docs/schema-regions.md has the long form):
 *
 * - named pseudo-paths: [heap], [stack], other [..] are special, except
 *   [anon:NAME] (prctl-named anon memory) which is anon;
 * - /SYSV........ is SysV shm, /dev/shm/... POSIX shm, /memfd:... memfd;
 * - shared anonymous memory (mmap MAP_SHARED|MAP_ANONYMOUS, or of /dev/zero)
 *   is shm_anon: the kernel backs it with a deleted shmem file it names
 *   "/dev/zero (deleted)" ("/anon_hugepage (deleted)" with MAP_HUGETLB),
 *   or [anon_shmem:NAME] once named with prctl. The same names on a
 *   private (p) mapping are plain anon: private /dev/zero is anon memory;
 * - any other path is a file mapping, file_exec when executable;
 * - unnamed memory is anon, except
 *   . thread stacks by stack pointer: a rw-p mapping that holds exactly
 *     one thread's SP (/proc/PID/task/TID/syscall), with the ---p guard
 *     directly below it if any, whatever its size (the JVM's -Xss, musl,
 *     pthread_attr_setstacksize, stacks a runtime mmaps itself). A mapping
 *     holding several threads' SPs is a heap that stacks are carved from
 *     (Go's goroutine and g0 stacks live in its heap arenas), not one
 *     thread's stack: it stays anon;
 *   . thread stacks by size, for threads whose SP is unknown (running,
 *     not permitted) and stacks glibc cached from exited threads: a ---p
 *     guard (at most 1 MiB) directly followed by a rw-p mapping of exactly
 *     the thread stack size, or the two together of that size (glibc maps
 *     stack + guard and mprotects the lowest page(s) as the guard; before
 *     2.27 the guard came out of the stack size);
 *   . glibc arena heaps: a 64 MiB-aligned rw-p part directly followed by
 *     a ---p remainder, together 64 MiB (HEAP_MAX_SIZE on 64-bit: glibc
 *     reserves an aligned 64 MiB and opens it up as the arena grows),
 *     or a whole aligned 64 MiB that is all rw-p or all ---p;
 *   . bss: rw-p right after a file-backed rw-p mapping is that file's
 *     zero-filled data and counts as file_data.
 */
#include "memwatch/collect/region.h"
#include "memwatch/collect/limits.h"
#include "memwatch/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define X_NAME(name, str) str,
const char *const mw_region_names[MW_REG_COUNT] = {MW_REGION_KINDS(X_NAME)};
#undef X_NAME
#define X_NAME(name) #name,
const char *const mw_fd_kind_names[MW_FD_COUNT] = {MW_FD_KINDS(X_NAME)};
const char *const mw_pss_names[MW_PSS_COUNT] = {MW_PSS_FIELDS(X_NAME)};
#undef X_NAME

#define ARENA_SPAN    (64ull << 20)
#define DEFAULT_STACK (8ull << 20)
/* A guard larger than this is not a pthread guard (glibc default is one page). */
#define GUARD_MAX (1ull << 20)

enum pathkind { P_ANON, P_HEAP, P_STACK, P_SPECIAL, P_SYSV, P_POSIX, P_MEMFD, P_SHM_ANON, P_FILE };

enum { PERM_R = 1, PERM_W = 2, PERM_X = 4, PERM_S = 8 };

/* One mapping, reduced to what classification needs. */
struct vma {
	uint64_t start, end;
	int64_t rss, swap; /* bytes */
	int64_t pss, uss, anon, swap_pss;
	uint64_t path_hash;
	uint8_t perms;
	uint8_t pathkind;
	bool so;
};

struct vma_list {
	struct vma *v;
	size_t n, cap;
	bool any_line; /* a header or field was recognised */
	bool any_pss;  /* a Pss: line was seen (recorded texts may lack it) */
};

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* splitmix64 finaliser: a sum of mixed hashes is order-independent yet sensitive to each member. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(s, prefix, k) == 0;
}

/* A shared object: the basename holds ".so" followed by its end, a version dot, or " (deleted)". */
static bool is_shared_object(const char *path, size_t n)
{
	size_t base = 0;

	for (size_t i = 0; i < n; i++)
		if (path[i] == '/')
			base = i + 1;
	for (size_t i = base; i + 3 <= n; i++) {
		if (memcmp(path + i, ".so", 3) != 0)
			continue;
		if (i + 3 == n || path[i + 3] == '.' || path[i + 3] == ' ')
			return true;
	}
	return false;
}

static bool is_path(const char *s, size_t n, const char *path)
{
	return n == strlen(path) && memcmp(s, path, n) == 0;
}

/* The names the kernel gives anonymous memory that has a shmem file behind it, or a device's. */
static bool anon_backing(const char *p, size_t n)
{
	return is_path(p, n, "/dev/zero (deleted)") || is_path(p, n, "/dev/zero") ||
	       is_path(p, n, "/anon_hugepage (deleted)");
}

static enum pathkind path_kind(const char *p, size_t n, uint8_t perms)
{
	bool shared = perms & PERM_S;

	if (n == 0)
		return P_ANON;
	if (p[0] == '[') {
		if (n == 6 && memcmp(p, "[heap]", 6) == 0)
			return P_HEAP;
		if (n == 7 && memcmp(p, "[stack]", 7) == 0)
			return P_STACK;
		if (starts(p, n, "[anon_shmem:"))
			return P_SHM_ANON;
		if (starts(p, n, "[anon:"))
			return P_ANON;
		return P_SPECIAL;
	}
	if (starts(p, n, "/SYSV"))
		return P_SYSV;
	if (starts(p, n, "/dev/shm/"))
		return P_POSIX;
	if (starts(p, n, "/memfd:"))
		return P_MEMFD;
	if (anon_backing(p, n))
		return shared ? P_SHM_ANON : P_ANON;
	return P_FILE;
}

static int parse_hex(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int digits = 0;

	while (p < end && isxdigit((unsigned char)*p) && digits < 17) {
		int c = (unsigned char)*p;
		v = v * 16 + (uint64_t)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
		p++;
		digits++;
	}
	if (digits == 0 || digits > 16)
		return -EINVAL;
	*pp = p;
	*out = v;
	return 0;
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *skip_token(const char *p, const char *end)
{
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	return p;
}

/* "start-end perms offset dev inode [path]": false when the line is not a header. */
static bool parse_header(const char *p, const char *end, struct vma *v)
{
	const char *path, *pend;

	memset(v, 0, sizeof(*v));
	if (parse_hex(&p, end, &v->start) < 0 || p >= end || *p != '-')
		return false;
	p++;
	if (parse_hex(&p, end, &v->end) < 0 || p >= end || *p != ' ' || v->end < v->start)
		return false;
	p = skip_blanks(p, end);
	if (end - p < 4)
		return false;
	v->perms = (uint8_t)((p[0] == 'r' ? PERM_R : 0) | (p[1] == 'w' ? PERM_W : 0) |
	                     (p[2] == 'x' ? PERM_X : 0) | (p[3] == 's' ? PERM_S : 0));
	p = skip_token(p, end);
	/* offset, dev, inode */
	for (int i = 0; i < 3; i++) {
		p = skip_blanks(p, end);
		if (p >= end)
			return false;
		p = skip_token(p, end);
	}
	/* The path is the rest of the line: it may hold spaces. */
	path = skip_blanks(p, end);
	pend = end;
	while (pend > path && (pend[-1] == ' ' || pend[-1] == '\t' || pend[-1] == '\r'))
		pend--;
	v->pathkind = (uint8_t)path_kind(path, (size_t)(pend - path), v->perms);
	if (v->pathkind == P_FILE) {
		v->path_hash = fnv1a(path, (size_t)(pend - path));
		v->so = is_shared_object(path, (size_t)(pend - path));
	}
	return true;
}

/* "Key:   1234 kB": the value in bytes, or -1 when the line is not that key. */
static int64_t field_kb(const char *p, const char *end, const char *key)
{
	size_t k = strlen(key);
	int64_t v = 0;
	int digits = 0;

	if ((size_t)(end - p) <= k || memcmp(p, key, k) != 0 || p[k] != ':')
		return -1;
	p = skip_blanks(p + k + 1, end);
	while (p < end && isdigit((unsigned char)*p) && digits < 15) {
		v = v * 10 + (*p - '0');
		p++;
		digits++;
	}
	return digits ? v * 1024 : -1;
}

static int vma_push(struct vma_list *l, const struct vma *v)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		struct vma *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = *v;
	return 0;
}

/* One line of smaps text (no newline). */
static int feed_line(struct vma_list *l, const char *p, const char *end)
{
	struct vma v;
	int64_t x;

	if (p < end && isxdigit((unsigned char)*p) && parse_header(p, end, &v)) {
		l->any_line = true;
		return vma_push(l, &v);
	}
	if (p >= end || !isupper((unsigned char)*p) || !memchr(p, ':', (size_t)(end - p)))
		return 0;
	l->any_line = true;
	if (l->n == 0)
		return 0;
	struct vma *cur = &l->v[l->n - 1];
	if ((x = field_kb(p, end, "Rss")) >= 0)
		cur->rss = x;
	else if ((x = field_kb(p, end, "Swap")) >= 0)
		cur->swap = x;
	else if ((x = field_kb(p, end, "Pss")) >= 0) {
		cur->pss = x;
		l->any_pss = true;
	} else if ((x = field_kb(p, end, "Private_Clean")) >= 0 ||
	           (x = field_kb(p, end, "Private_Dirty")) >= 0)
		cur->uss = mw_add_sat(cur->uss, x);
	else if ((x = field_kb(p, end, "Anonymous")) >= 0)
		cur->anon = x;
	else if ((x = field_kb(p, end, "SwapPss")) >= 0)
		cur->swap_pss = x;
	return 0;
}

static bool anon_perms(const struct vma *v, uint8_t perms)
{
	return v->pathkind == P_ANON && v->perms == perms;
}

static uint64_t vsize(const struct vma *v)
{
	return v->end - v->start;
}

static void add(struct mw_regions *out, enum mw_region_kind k, const struct vma *v)
{
	out->r[k].size = mw_add_sat(out->r[k].size, (int64_t)vsize(v));
	out->r[k].rss = mw_add_sat(out->r[k].rss, v->rss);
	out->r[k].swap = mw_add_sat(out->r[k].swap, v->swap);
	out->r[k].count++;
}

/* Arena heap (see the top of the file): returns how many mappings from i it covers, or 0. */
static size_t arena_at(const struct vma *v, size_t n, size_t i)
{
	const struct vma *a = &v[i];

	if (a->pathkind != P_ANON || a->start % ARENA_SPAN != 0)
		return 0;
	if ((a->perms == (PERM_R | PERM_W) || a->perms == 0) && vsize(a) == ARENA_SPAN)
		return 1;
	if (a->perms == (PERM_R | PERM_W) && vsize(a) < ARENA_SPAN && i + 1 < n &&
	    anon_perms(&v[i + 1], 0) && v[i + 1].start == a->end &&
	    v[i + 1].end - a->start == ARENA_SPAN)
		return 2;
	return 0;
}

/*
 * Thread stack: guard at i, stack at i + 1. glibc 2.27+ maps the stack
 * size plus the guard; older ones (and musl-like layouts) carve the guard
 * out of the stack size: either total is accepted.
 */
static bool stack_at(const struct vma *v, size_t n, size_t i, uint64_t stack_size)
{
	if (i + 1 >= n || !anon_perms(&v[i], 0) || vsize(&v[i]) > GUARD_MAX ||
	    !anon_perms(&v[i + 1], PERM_R | PERM_W) || v[i + 1].start != v[i].end)
		return false;
	return vsize(&v[i + 1]) == stack_size || v[i + 1].end - v[i].start == stack_size;
}

/* Sorted stack pointers of the target's threads; classify looks mappings up in them. */
struct sps {
	const uint64_t *sp;
	size_t n;
};

/* How many SPs fall in [start, end). */
static size_t sps_in(const struct sps *s, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = s->n, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->sp[mid] < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k < s->n && s->sp[k] < end; k++)
		;
	return k - lo;
}

/* One thread's own stack: an anon rw-p mapping with exactly one SP in it. */
static bool own_stack(const struct vma *v, const struct sps *s)
{
	return anon_perms(v, PERM_R | PERM_W) && sps_in(s, v->start, v->end) == 1;
}

/*
 * Thread stack by SP at i: how many mappings from i it covers (a guard
 * directly below the stack counts with it), or 0.
 */
static size_t sp_stack_at(const struct vma *v, size_t n, size_t i, const struct sps *s)
{
	if (s->n == 0)
		return 0;
	if (i + 1 < n && anon_perms(&v[i], 0) && vsize(&v[i]) <= GUARD_MAX &&
	    v[i + 1].start == v[i].end && own_stack(&v[i + 1], s))
		return 2;
	return own_stack(&v[i], s) ? 1 : 0;
}

static bool is_bss(const struct vma *v, size_t i)
{
	return i > 0 && anon_perms(&v[i], PERM_R | PERM_W) && v[i - 1].pathkind == P_FILE &&
	       (v[i - 1].perms & PERM_W) && v[i - 1].end == v[i].start;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Distinct files and shared objects, by path hash. */
static int count_files(const struct vma_list *l, struct mw_regions *out)
{
	uint64_t *h = malloc((l->n ? l->n : 1) * sizeof(*h) * 2), *so;
	size_t nh = 0, nso = 0;

	if (!h)
		return -ENOMEM;
	so = h + (l->n ? l->n : 1);
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].pathkind != P_FILE)
			continue;
		h[nh++] = l->v[i].path_hash;
		if (l->v[i].so)
			so[nso++] = l->v[i].path_hash;
	}
	mw_qsort(h, nh, sizeof(*h), cmp_u64);
	mw_qsort(so, nso, sizeof(*so), cmp_u64);
	for (size_t i = 0; i < nh; i++)
		out->files += i == 0 || h[i] != h[i - 1];
	for (size_t i = 0; i < nso; i++)
		if (i == 0 || so[i] != so[i - 1]) {
			out->so_files++;
			out->so_hash += mix(so[i]);
		}
	free(h);
	return 0;
}

static void classify(const struct vma_list *l, uint64_t stack_size, const struct sps *sps,
                     struct mw_regions *out)
{
	const struct vma *v = l->v;
	static const enum mw_region_kind by_path[] = {
	        [P_HEAP] = MW_REG_heap,         [P_STACK] = MW_REG_stack,
	        [P_SPECIAL] = MW_REG_special,   [P_SYSV] = MW_REG_shm_sysv,
	        [P_POSIX] = MW_REG_shm_posix,   [P_MEMFD] = MW_REG_memfd,
	        [P_SHM_ANON] = MW_REG_shm_anon,
	};

	for (size_t i = 0; i < l->n; i++) {
		size_t k;

		if (v[i].pathkind == P_FILE) {
			add(out, v[i].perms & PERM_X ? MW_REG_file_exec : MW_REG_file_data, &v[i]);
		} else if (v[i].pathkind != P_ANON) {
			add(out, by_path[v[i].pathkind], &v[i]);
		} else if ((k = arena_at(v, l->n, i)) > 0) {
			for (size_t j = 0; j < k; j++)
				add(out, MW_REG_arena, &v[i + j]);
			i += k - 1;
		} else if (!is_bss(v, i) && (k = sp_stack_at(v, l->n, i, sps)) > 0) {
			for (size_t j = 0; j < k; j++)
				add(out, MW_REG_thread_stacks, &v[i + j]);
			out->stacks++;
			i += k - 1;
		} else if (stack_at(v, l->n, i, stack_size)) {
			add(out, MW_REG_thread_stacks, &v[i]);
			add(out, MW_REG_thread_stacks, &v[i + 1]);
			out->stacks++;
			i++;
		} else if (is_bss(v, i)) {
			add(out, MW_REG_file_data, &v[i]);
		} else {
			add(out, MW_REG_anon, &v[i]);
		}
	}
}

/*
 * smaps_rollup's figures from the mappings. The kernel splits Pss by page
 * (anon, shmem, other); a mapping only says how much of it is anonymous
 * (Anonymous:, whole pages), so that much of its Pss, at most, is anon,
 * and the rest is shmem for shared memory and file otherwise (an exact
 * split unless a private page is shared with a fork).
 */
static void sum_pss(const struct vma_list *l, struct mw_regions *out)
{
	int64_t *s = out->pss;

	for (int k = 0; k < MW_PSS_COUNT; k++)
		s[k] = l->any_pss ? 0 : MW_UNKNOWN;
	if (!l->any_pss)
		return;
	for (size_t i = 0; i < l->n; i++) {
		const struct vma *v = &l->v[i];
		int64_t anon = v->anon < v->pss ? v->anon : v->pss;
		bool shmem = v->pathkind == P_SYSV || v->pathkind == P_POSIX ||
		             v->pathkind == P_MEMFD || v->pathkind == P_SHM_ANON;

		s[MW_PSS_pss] = mw_add_sat(s[MW_PSS_pss], v->pss);
		s[MW_PSS_pss_anon] = mw_add_sat(s[MW_PSS_pss_anon], anon);
		s[shmem ? MW_PSS_pss_shmem : MW_PSS_pss_file] =
		        mw_add_sat(s[shmem ? MW_PSS_pss_shmem : MW_PSS_pss_file], v->pss - anon);
		s[MW_PSS_uss] = mw_add_sat(s[MW_PSS_uss], v->uss);
		s[MW_PSS_swap] = mw_add_sat(s[MW_PSS_swap], v->swap);
		s[MW_PSS_swap_pss] = mw_add_sat(s[MW_PSS_swap_pss], v->swap_pss);
	}
}

int mw_region_parse_smaps(const char *text, uint64_t stack_size, struct mw_regions *out)
{
	return mw_region_parse_smaps_sp(text, stack_size, NULL, 0, out);
}

int mw_region_parse_smaps_sp(const char *text, uint64_t stack_size, const uint64_t *sp, size_t nsp,
                             struct mw_regions *out)
{
	struct vma_list l = {0};
	struct sps sps = {sp, nsp};
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!text || (nsp && !sp))
		return -EINVAL;
	for (size_t i = 1; i < nsp; i++)
		if (sp[i] < sp[i - 1])
			return -EINVAL;
	if (stack_size == 0)
		stack_size = DEFAULT_STACK;
	for (const char *p = text; *p && r == 0;) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);
		r = feed_line(&l, p, end);
		p = nl ? nl + 1 : end;
	}
	if (r == 0 && !l.any_line && text[strspn(text, " \t\r\n")] != '\0')
		r = -EINVAL;
	if (r == 0)
		r = count_files(&l, out);
	if (r == 0) {
		classify(&l, stack_size, &sps, out);
		sum_pss(&l, out);
		out->sp_threads = (int64_t)nsp;
		out->readable = true;
	}
	free(l.v);
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

/* /proc/PID is gone: ESRCH, whatever the step that found out. */
static int gone_as_esrch(int r)
{
	return r == -ENOENT ? -ESRCH : r;
}

/* Up to max blank-separated tokens of the text; how many there were (max + 1: too many). */
static size_t tokens(const char *p, const char **tok, size_t *len, size_t max)
{
	size_t n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p || n > max)
			return n;
		if (n < max) {
			tok[n] = p;
			len[n] = strcspn(p, " \t\n");
		}
		n++;
		p += strcspn(p, " \t\n");
	}
}

/* "0x7f12..." and nothing else. */
static int parse_0x(const char *t, size_t n, uint64_t *out)
{
	const char *p = t + 2;

	if (n < 3 || t[0] != '0' || t[1] != 'x' || parse_hex(&p, t + n, out) < 0 || p != t + n)
		return -EINVAL;
	return 0;
}

int mw_region_parse_task_sp(const char *text, uint64_t *sp)
{
	const char *tok[9];
	size_t len[9], n;
	char *end;
	long nr;

	*sp = 0;
	if (!text)
		return -EINVAL;
	n = tokens(text, tok, len, 9);
	if (n == 1 && len[0] == 7 && memcmp(tok[0], "running", 7) == 0)
		return -EAGAIN;
	if (n != 3 && n != 9)
		return -EINVAL;
	errno = 0;
	nr = strtol(tok[0], &end, 10);
	if (errno || end != tok[0] + len[0] || end == tok[0])
		return -EINVAL;
	/* Blocked outside a system call (nr -1): "nr sp pc"; in one: "nr a0..a5 sp pc". */
	if ((nr < 0) != (n == 3))
		return -EINVAL;
	for (size_t i = 1; i < n; i++) {
		uint64_t x;
		if (parse_0x(tok[i], len[i], &x) < 0)
			return -EINVAL;
		if (i == n - 2)
			*sp = x;
	}
	return *sp ? 0 : -ENODATA;
}

int mw_region_parse_task_stat_sp(const char *text, uint64_t *sp)
{
	/* kstkesp is field 29; fields from 3 (state) follow the last ')' of the comm. */
	const char *tok[27], *p;
	size_t len[27];
	char *end;
	unsigned long long x;

	*sp = 0;
	if (!text || !(p = strrchr(text, ')')))
		return -EINVAL;
	if (tokens(p + 1, tok, len, 27) < 27 || !isdigit((unsigned char)tok[26][0]))
		return -EINVAL;
	errno = 0;
	x = strtoull(tok[26], &end, 10);
	if (errno || end != tok[26] + len[26])
		return -EINVAL;
	/* Modern kernels show it only for a task dumping core: 0 is unknown, not an address. */
	*sp = (uint64_t)x;
	return x ? 0 : -ENODATA;
}

/* One thread's SP: its syscall file, else (running) the kstkesp of its stat. */
static int task_sp(int taskfd, const char *tid, uint64_t *sp)
{
	char name[sizeof(((struct dirent *)0)->d_name) + 16], buf[512];
	int r;

	snprintf(name, sizeof(name), "%s/syscall", tid);
	r = mw_read_fileat(taskfd, name, buf, sizeof(buf), NULL);
	if (r == 0)
		r = mw_region_parse_task_sp(buf, sp);
	if (r != -EAGAIN)
		return r;
	snprintf(name, sizeof(name), "%s/stat", tid);
	r = mw_read_fileat(taskfd, name, buf, sizeof(buf), NULL);
	return r == 0 ? mw_region_parse_task_stat_sp(buf, sp) : r;
}

int mw_region_task_sps(const char *root, pid_t pid, uint64_t *sp, size_t cap, size_t *n)
{
	char rel[64], path[4200];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int r;

	*n = 0;
	snprintf(rel, sizeof(rel), "/proc/%d/task", (int)pid);
	r = mw_path(path, sizeof(path), root, rel);
	if (r < 0)
		return r;
	d = opendir(path);
	if (!d)
		return gone_as_esrch(-errno);
	while (*n < cap && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		r = task_sp(dirfd(d), e->d_name, &sp[*n]);
		if (r == 0)
			(*n)++;
		/*
		 * syscall needs ptrace attach access: one refusal means all
		 * (not root, Yama scope 3). A thread that exited since readdir
		 * (ENOENT, ESRCH) or is running costs only its own SP.
		 */
		else if (r == -EACCES || r == -EPERM)
			break;
	}
	mw_qsort(sp, *n, sizeof(*sp), cmp_u64);
	return 0;
}

uint64_t mw_region_stack_limit(const char *root, pid_t pid)
{
	struct mw_proc_limits lim;

	/* "unlimited" or unread: glibc then uses its 8 MiB default, as does our 0. */
	if (mw_proc_limits_read(root, pid, &lim) < 0 || lim.stack_soft == MW_UNKNOWN)
		return 0;
	/* glibc rounds the stack to whole pages. */
	return ((uint64_t)lim.stack_soft + 4095) & ~4095ull;
}

/*
 * Streamed, since the smaps of a process with many mappings runs to tens
 * of MB: only the compact per-mapping records are kept.
 */
int mw_region_read(const char *root, pid_t pid, struct mw_regions *out)
{
	char rel[64], path[4200];
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ uint64_t *sp = NULL;
	struct vma_list l = {0};
	struct sps sps = {NULL, 0};
	uint64_t t0 = mw_mono_ns();
	size_t cap = 0, nsp = 0;
	ssize_t n;
	int r = 0;

	memset(out, 0, sizeof(*out));
	/*
	 * SPs before smaps: a stack is mapped before its thread runs, so a
	 * thread seen here has its stack in the smaps read after. Without
	 * them (not permitted, or no memory) the size rule alone applies.
	 */
	sp = malloc(MW_REGION_MAX_SP * sizeof(*sp));
	if (sp && mw_region_task_sps(root, pid, sp, MW_REGION_MAX_SP, &nsp) == 0)
		sps = (struct sps){sp, nsp};
	snprintf(rel, sizeof(rel), "/proc/%d/smaps", (int)pid);
	r = mw_path(path, sizeof(path), root, rel);
	if (r == 0) {
		f = fopen(path, "re");
		if (!f)
			r = gone_as_esrch(-errno);
	}
	if (r == 0) {
		errno = 0;
		while (r == 0 && (n = getline(&line, &cap, f)) > 0) {
			const char *end = line + n;
			if (end[-1] == '\n')
				end--;
			r = feed_line(&l, line, end);
		}
		if (r == 0 && ferror(f))
			r = gone_as_esrch(errno ? -errno : -EIO);
	}
	if (r == 0)
		r = count_files(&l, out);
	/* Every user-space process has mappings: none means it exited (a zombie). */
	if (r == 0 && l.n == 0)
		r = -ESRCH;
	if (r == 0) {
		classify(&l, mw_region_stack_limit(root, pid) ?: DEFAULT_STACK, &sps, out);
		sum_pss(&l, out);
		out->sp_threads = (int64_t)sps.n;
		out->readable = true;
		out->read_us = (int64_t)((mw_mono_ns() - t0) / 1000);
	}
	free(l.v);
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		out->err = r;
	}
	return r;
}

/* Within 1 % of the larger, or 64 KiB, whichever is more; unknown only equals unknown. */
static bool pss_close(int64_t a, int64_t b)
{
	int64_t big, d;

	if (a == MW_UNKNOWN || b == MW_UNKNOWN)
		return a == b;
	big = a > b ? a : b;
	d = a > b ? a - b : b - a;
	return d <= (big / 100 > (64 << 10) ? big / 100 : (64 << 10));
}

bool mw_regions_equal(const struct mw_regions *a, const struct mw_regions *b)
{
	if (a->readable != b->readable)
		return false;
	if (!a->readable)
		return a->err == b->err;
	for (int k = 0; k < MW_PSS_COUNT; k++)
		if (!pss_close(a->pss[k], b->pss[k]))
			return false;
	return memcmp(a->r, b->r, sizeof(a->r)) == 0 && a->files == b->files &&
	       a->so_files == b->so_files && a->so_hash == b->so_hash && a->stacks == b->stacks;
}

/* smaps_rollup's keys for each figure; USS is the sum of its two. */
static const struct {
	const char *key;
	int field;
} rollup_keys[] = {
        {"Pss", MW_PSS_pss},           {"Pss_Anon", MW_PSS_pss_anon},
        {"Pss_File", MW_PSS_pss_file}, {"Pss_Shmem", MW_PSS_pss_shmem},
        {"Private_Clean", MW_PSS_uss}, {"Private_Dirty", MW_PSS_uss},
        {"Swap", MW_PSS_swap},         {"SwapPss", MW_PSS_swap_pss},
};

int mw_pss_parse_rollup(const char *text, int64_t out[MW_PSS_COUNT])
{
	for (int k = 0; k < MW_PSS_COUNT; k++)
		out[k] = MW_UNKNOWN;
	if (!text)
		return -EINVAL;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);

		for (size_t i = 0; i < MW_ARRAY_SIZE(rollup_keys); i++) {
			int64_t x = field_kb(p, end, rollup_keys[i].key);
			int64_t *o = &out[rollup_keys[i].field];
			if (x < 0)
				continue;
			*o = *o == MW_UNKNOWN ? x : mw_add_sat(*o, x);
			break;
		}
		p = nl ? nl + 1 : end;
	}
	return out[MW_PSS_pss] == MW_UNKNOWN ? -EINVAL : 0;
}

int mw_pss_read(const char *root, pid_t pid, int64_t out[MW_PSS_COUNT])
{
	char rel[64], path[4200], buf[4096];
	int r;

	for (int k = 0; k < MW_PSS_COUNT; k++)
		out[k] = MW_UNKNOWN;
	snprintf(rel, sizeof(rel), "/proc/%d/smaps_rollup", (int)pid);
	r = mw_path(path, sizeof(path), root, rel);
	if (r == 0)
		r = gone_as_esrch(mw_read_file(path, buf, sizeof(buf), NULL));
	/* A zombie's rollup is empty: it has no memory to share any more. */
	if (r == 0)
		r = buf[0] ? mw_pss_parse_rollup(buf, out) : -ESRCH;
	return r;
}

bool mw_fd_kinds_equal(const struct mw_fd_kinds *a, const struct mw_fd_kinds *b)
{
	if (a->readable != b->readable)
		return false;
	if (!a->readable)
		return a->err == b->err;
	return memcmp(a->n, b->n, sizeof(a->n)) == 0;
}

enum mw_fd_kind mw_fd_kind_of(const char *t)
{
	if (strncmp(t, "socket:[", 8) == 0)
		return MW_FD_socket;
	if (strncmp(t, "pipe:[", 6) == 0)
		return MW_FD_pipe;
	if (strcmp(t, "anon_inode:[eventfd]") == 0)
		return MW_FD_eventfd;
	if (strncmp(t, "anon_inode:", 11) == 0)
		return MW_FD_anon_other;
	if (t[0] == '/')
		return MW_FD_file;
	return MW_FD_other;
}

int mw_fd_kinds_read(const char *root, pid_t pid, struct mw_fd_kinds *out)
{
	char rel[64], path[4200], target[4200];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int r = 0;

	memset(out, 0, sizeof(*out));
	snprintf(rel, sizeof(rel), "/proc/%d/fd", (int)pid);
	r = mw_path(path, sizeof(path), root, rel);
	if (r == 0) {
		d = opendir(path);
		if (!d)
			r = gone_as_esrch(-errno);
	}
	while (r == 0 && (errno = 0, e = readdir(d))) {
		ssize_t k;
		if (e->d_name[0] == '.')
			continue;
		k = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
		if (k < 0) {
			/* Closed since readdir: not a descriptor any more. */
			if (errno == ENOENT)
				continue;
			r = -errno;
			break;
		}
		target[k] = '\0';
		out->n[mw_fd_kind_of(target)]++;
	}
	if (r == 0 && errno)
		r = gone_as_esrch(-errno);
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		out->err = r;
		return r;
	}
	out->readable = true;
	return 0;
}
