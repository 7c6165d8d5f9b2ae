/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/ipc.h"
#include "memwatch/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

#define MW_X_TAG_IPC(name, tag) tag,
const char *const mw_ipc_kind_names[MW_IPC_COUNT] = {MW_IPC_KINDS(MW_X_TAG_IPC)};

void mw_ipc_set_release(struct mw_ipc_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static struct mw_ipc_obj *ipc_push(struct mw_ipc_set *s, enum mw_ipc_kind kind)
{
	struct mw_ipc_obj *o;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 32;
		struct mw_ipc_obj *v = realloc(s->v, nc * sizeof(*v));
		if (!v)
			return NULL;
		s->v = v;
		s->cap = nc;
	}
	o = &s->v[s->n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->key = o->id = o->size = o->bytes = o->swap = o->nattch = o->qnum = MW_UNKNOWN;
	o->atime = o->dtime = o->ctime = o->mode = MW_UNKNOWN;
	return o;
}

/* Columns of /proc/sysvipc/{shm,msg,sem} that we use, found by header name. */
enum col {
	C_KEY,
	C_ID,
	C_PERMS,
	C_SIZE,
	C_CPID,
	C_LPID,
	C_NATTCH,
	C_UID,
	C_CUID,
	C_ATIME,
	C_DTIME,
	C_CTIME,
	C_RSS,
	C_SWAP,
	C_CBYTES,
	C_QNUM,
	C_LSPID,
	C_LRPID,
	C_STIME,
	C_RTIME,
	C_NSEMS,
	C_OTIME,
	C_COUNT
};

static const char *const col_names[C_COUNT] = {
        [C_KEY] = "key",     [C_ID] = "id",       [C_PERMS] = "perms",   [C_SIZE] = "size",
        [C_CPID] = "cpid",   [C_LPID] = "lpid",   [C_NATTCH] = "nattch", [C_UID] = "uid",
        [C_CUID] = "cuid",   [C_ATIME] = "atime", [C_DTIME] = "dtime",   [C_CTIME] = "ctime",
        [C_RSS] = "rss",     [C_SWAP] = "swap",   [C_CBYTES] = "cbytes", [C_QNUM] = "qnum",
        [C_LSPID] = "lspid", [C_LRPID] = "lrpid", [C_STIME] = "stime",   [C_RTIME] = "rtime",
        [C_NSEMS] = "nsems", [C_OTIME] = "otime",
};

#define MAX_COLS 24

static int col_of(const char *tok)
{
	/* shmid/msqid/semid are all "the id". */
	if (strcmp(tok, "shmid") == 0 || strcmp(tok, "msqid") == 0 || strcmp(tok, "semid") == 0)
		return C_ID;
	for (int i = 0; i < C_COUNT; i++)
		if (strcmp(tok, col_names[i]) == 0)
			return i;
	return -1;
}

static size_t split(char *line, char **tok, size_t cap)
{
	size_t n = 0;
	char *save = NULL, *t = strtok_r(line, " \t", &save);

	while (t && n < cap) {
		tok[n++] = t;
		t = strtok_r(NULL, " \t", &save);
	}
	return n;
}

static int64_t num(char **tok, const int *idx, int c, size_t ntok)
{
	int64_t v;

	if (idx[c] < 0 || (size_t)idx[c] >= ntok)
		return MW_UNKNOWN;
	return mw_parse_i64(tok[idx[c]], &v) == 0 ? v : MW_UNKNOWN;
}

static void fill_obj(struct mw_ipc_obj *o, char **tok, size_t ntok, const int *idx)
{
	int64_t v;

	o->key = num(tok, idx, C_KEY, ntok);
	o->id = num(tok, idx, C_ID, ntok);
	/* perms are printed in octal */
	if (idx[C_PERMS] >= 0 && (size_t)idx[C_PERMS] < ntok)
		o->mode = strtoll(tok[idx[C_PERMS]], NULL, 8);
	o->uid = (v = num(tok, idx, C_UID, ntok)) >= 0 ? (uint32_t)v : 0;
	o->cuid = (v = num(tok, idx, C_CUID, ntok)) >= 0 ? (uint32_t)v : 0;
	o->ctime = num(tok, idx, C_CTIME, ntok);
	switch (o->kind) {
	case MW_IPC_shm:
		o->size = num(tok, idx, C_SIZE, ntok);
		o->bytes = num(tok, idx, C_RSS, ntok);
		o->swap = num(tok, idx, C_SWAP, ntok);
		o->nattch = num(tok, idx, C_NATTCH, ntok);
		o->cpid = (v = num(tok, idx, C_CPID, ntok)) > 0 ? (pid_t)v : 0;
		o->lpid = (v = num(tok, idx, C_LPID, ntok)) > 0 ? (pid_t)v : 0;
		o->atime = num(tok, idx, C_ATIME, ntok);
		o->dtime = num(tok, idx, C_DTIME, ntok);
		break;
	case MW_IPC_msg:
		o->bytes = o->size = num(tok, idx, C_CBYTES, ntok);
		o->qnum = num(tok, idx, C_QNUM, ntok);
		o->lpid = (v = num(tok, idx, C_LSPID, ntok)) > 0 ? (pid_t)v : 0;
		o->lrpid = (v = num(tok, idx, C_LRPID, ntok)) > 0 ? (pid_t)v : 0;
		o->atime = num(tok, idx, C_STIME, ntok);
		o->dtime = num(tok, idx, C_RTIME, ntok);
		break;
	default:
		o->size = num(tok, idx, C_NSEMS, ntok);
		o->atime = num(tok, idx, C_OTIME, ntok);
		break;
	}
	snprintf(o->ident, sizeof(o->ident), "%s:%lld:%lld:%lld", mw_ipc_kind_names[o->kind],
	         (long long)o->key, (long long)o->id, (long long)o->ctime);
}

static int parse_sysv(const char *text, enum mw_ipc_kind kind, struct mw_ipc_set *out)
{
	const char *p = text;
	int idx[C_COUNT];
	bool header = false;

	for (int i = 0; i < C_COUNT; i++)
		idx[i] = -1;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[1024], *tok[MAX_COLS];
		size_t ntok;

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = eol ? eol + 1 : NULL;
		ntok = split(line, tok, MAX_COLS);
		if (ntok == 0)
			continue;
		if (!header) {
			for (size_t i = 0; i < ntok; i++) {
				int c = col_of(tok[i]);
				if (c >= 0)
					idx[c] = (int)i;
			}
			/* Without key and id nothing can be identified: not this file. */
			if (idx[C_KEY] < 0 || idx[C_ID] < 0)
				return -EPROTO;
			header = true;
			continue;
		}
		int64_t key = num(tok, idx, C_KEY, ntok), id = num(tok, idx, C_ID, ntok);
		if (key == MW_UNKNOWN || id == MW_UNKNOWN || id < 0)
			continue; /* malformed line: skip it, keep the rest */
		struct mw_ipc_obj *o = ipc_push(out, kind);
		if (!o)
			return -ENOMEM;
		fill_obj(o, tok, ntok, idx);
	}
	return header ? 0 : -EPROTO;
}

int mw_ipc_parse_shm(const char *text, struct mw_ipc_set *out)
{
	return parse_sysv(text, MW_IPC_shm, out);
}

int mw_ipc_parse_msg(const char *text, struct mw_ipc_set *out)
{
	return parse_sysv(text, MW_IPC_msg, out);
}

int mw_ipc_parse_sem(const char *text, struct mw_ipc_set *out)
{
	return parse_sysv(text, MW_IPC_sem, out);
}

int mw_ipc_parse_mq_status(const char *text, int64_t *qsize)
{
	const char *q = strstr(text, "QSIZE:");
	char numbuf[32];
	size_t k = 0;

	if (!q || q != text)
		return -EINVAL;
	q += 6;
	while (k < sizeof(numbuf) - 1 && isdigit((unsigned char)q[k])) {
		numbuf[k] = q[k];
		k++;
	}
	numbuf[k] = '\0';
	return mw_parse_i64(numbuf, qsize);
}

static int read_sysv(const char *root, const char *file, enum mw_ipc_kind kind,
                     struct mw_ipc_set *out)
{
	_cleanup_free_ char *text = NULL;
	char rel[64], path[4096];
	int r;

	snprintf(rel, sizeof(rel), "/proc/sysvipc/%s", file);
	r = mw_path(path, sizeof(path), root, rel);
	if (r < 0)
		return r;
	r = mw_read_file_alloc(path, &text, NULL);
	if (r < 0)
		return r;
	return parse_sysv(text, kind, out);
}

static int read_posix_dir(const char *root, const char *rel, enum mw_ipc_kind kind,
                          struct mw_ipc_set *out)
{
	char dir[4096];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int r;

	r = mw_path(dir, sizeof(dir), root, rel);
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct stat st;
		struct mw_ipc_obj *o;

		if (e->d_name[0] == '.' &&
		    (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		o = ipc_push(out, kind);
		if (!o)
			return -ENOMEM;
		snprintf(o->name, sizeof(o->name), "%s", e->d_name);
		o->uid = o->cuid = st.st_uid;
		o->mode = st.st_mode & 07777;
		o->dev = st.st_dev;
		o->ino = st.st_ino;
		o->atime = st.st_mtime;
		o->dtime = st.st_atime;
		o->ctime = st.st_ctime;
		if (kind == MW_IPC_posix_shm) {
			o->size = st.st_size;
			o->bytes = (int64_t)st.st_blocks * 512;
		} else {
			char buf[256];
			int64_t q;
			if (mw_read_fileat(dirfd(d), e->d_name, buf, sizeof(buf), NULL) == 0 &&
			    mw_ipc_parse_mq_status(buf, &q) == 0)
				o->size = o->bytes = q;
		}
		snprintf(o->ident, sizeof(o->ident), "%s:%s:%llu", mw_ipc_kind_names[kind],
		         e->d_name, (unsigned long long)st.st_ino);
	}
	return 0;
}

/* Mount an mqueue file system on root/dev/mqueue when there is none (live system only). */
static bool mqueue_ready(const char *root, bool mount_it, char *note, size_t cap)
{
	char path[4096];
	struct statfs sf;

	if (mw_path(path, sizeof(path), root, "/dev/mqueue") < 0)
		return false;
	if (statfs(path, &sf) == 0 && (unsigned long)sf.f_type == MQUEUE_MAGIC)
		return true;
	/* A recorded tree holds plain files: read them as they are. */
	if (root && *root)
		return access(path, R_OK) == 0;
	if (!mount_it) {
		snprintf(note, cap, "/dev/mqueue is not mounted: POSIX message queues not listed");
		return false;
	}
	if ((mkdir(path, 01777) < 0 && errno != EEXIST) ||
	    mount("mqueue", path, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		snprintf(note, cap,
		         "/dev/mqueue is not mounted and mounting it failed (%s):"
		         " POSIX message queues not listed",
		         strerror(errno));
		return false;
	}
	snprintf(note, cap, "mounted mqueue on /dev/mqueue (it was missing)");
	return true;
}

int mw_ipc_read(const char *root, bool mount_mqueue, struct mw_ipc_set *out)
{
	static const struct {
		const char *file;
		enum mw_ipc_kind kind;
	} sysv[] = {{"shm", MW_IPC_shm}, {"msg", MW_IPC_msg}, {"sem", MW_IPC_sem}};
	int r;

	out->n = 0;
	out->note[0] = '\0';
	out->sysv_ok = true;
	for (size_t i = 0; i < MW_ARRAY_SIZE(sysv); i++) {
		r = read_sysv(root, sysv[i].file, sysv[i].kind, out);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			out->sysv_ok = false;
	}
	r = read_posix_dir(root, "/dev/shm", MW_IPC_posix_shm, out);
	if (r == -ENOMEM)
		return r;
	out->mqueue_mounted = mqueue_ready(root, mount_mqueue, out->note, sizeof(out->note));
	if (out->mqueue_mounted) {
		r = read_posix_dir(root, "/dev/mqueue", MW_IPC_mqueue, out);
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

const struct mw_ipc_obj *mw_ipc_find(const struct mw_ipc_set *s, const char *ident)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].ident, ident) == 0)
			return &s->v[i];
	return NULL;
}

static bool fd_is_writer(int piddir, const char *fd)
{
	char rel[300], buf[512];
	const char *f;
	unsigned long flags;

	snprintf(rel, sizeof(rel), "fdinfo/%s", fd);
	if (mw_read_fileat(piddir, rel, buf, sizeof(buf), NULL) < 0)
		return false;
	f = strstr(buf, "flags:");
	if (!f || sscanf(f + 6, "%lo", &flags) != 1)
		return false;
	return (flags & O_ACCMODE) != O_RDONLY;
}

static int maps_hold(int piddir, const struct mw_ipc_obj *o)
{
	_cleanup_close_ int fd = openat(piddir, "maps", O_RDONLY | O_CLOEXEC);
	_cleanup_fclose_ FILE *f = NULL;
	char line[4096];

	if (fd < 0)
		return 0;
	f = fdopen(fd, "r");
	if (!f)
		return 0;
	fd = -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		unsigned long long ino;
		if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3 &&
		    ino == o->ino && maj == major(o->dev) && min == minor(o->dev))
			return 1;
	}
	return 0;
}

/* Check one process's fds (and mappings) for the object; returns 1 when it holds it. */
static int scan_pid(int procfd, const char *pidname, const struct mw_ipc_obj *o,
                    struct mw_ipc_holder *h)
{
	_cleanup_close_ int piddir = openat(procfd, pidname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *fds = NULL;
	struct dirent *e;
	int fdd, found = 0;

	if (piddir < 0)
		return 0;
	fdd = openat(piddir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fdd < 0)
		return 0;
	fds = fdopendir(fdd);
	if (!fds) {
		close(fdd);
		return 0;
	}
	while ((e = readdir(fds))) {
		struct stat st;
		if (e->d_name[0] == '.' || fstatat(fdd, e->d_name, &st, 0) < 0)
			continue;
		if (st.st_dev != o->dev || st.st_ino != o->ino)
			continue;
		found = 1;
		if (fd_is_writer(piddir, e->d_name))
			h->writer = true;
	}
	/* A POSIX shm file mapped and its fd closed is held by the mapping alone. */
	if (!found)
		found = maps_hold(piddir, o);
	if (found) {
		h->pid = (pid_t)atoi(pidname);
		if (mw_read_fileat(piddir, "comm", h->comm, sizeof(h->comm), NULL) == 0)
			h->comm[strcspn(h->comm, "\n")] = '\0';
	}
	return found;
}

int mw_ipc_holders(const char *root, const struct mw_ipc_obj *o, struct mw_ipc_holder *out,
                   size_t cap)
{
	char path[4096];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int n = 0;

	if (o->kind != MW_IPC_posix_shm && o->kind != MW_IPC_mqueue)
		return 0;
	if (mw_path(path, sizeof(path), root, "/proc") < 0)
		return -EINVAL;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)) && (size_t)n < cap) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		n += scan_pid(dirfd(d), e->d_name, o, &out[n]);
	}
	return n;
}
