/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fsecure.h"
#include "memwatch/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static gid_t memwatch_gid(void)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrnam_r(MW_DB_GROUP, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return (gid_t)-1;
	return gr.gr_gid;
}

static const char *user_name(uid_t uid, char *buf, size_t cap)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, cap, "%s", pw.pw_name);
	else
		snprintf(buf, cap, "uid %u", (unsigned)uid);
	return buf;
}

static int refuse_link(const char *path, int dirfd_or_at)
{
	char target[4096];
	ssize_t n = readlinkat(dirfd_or_at, path, target, sizeof(target) - 1);

	target[n > 0 ? n : 0] = '\0';
	mw_err("refusing %s: it is a symbolic link (to %s); memwatchd never follows one at the"
	       " database path. Remove it, or point --db at a real file",
	       path, n > 0 ? target : "?");
	return -ELOOP;
}

/* Existing file: regular, ours, not writable by group or others. */
static int check_existing(const char *path, const struct stat *sb)
{
	char owner[64], me[64];

	if (S_ISLNK(sb->st_mode))
		return refuse_link(path, AT_FDCWD);
	if (!S_ISREG(sb->st_mode)) {
		mw_err("refusing %s: not a regular file (mode %06o)", path, (unsigned)sb->st_mode);
		return -EINVAL;
	}
	if (sb->st_uid != geteuid()) {
		mw_err("refusing %s: owned by %s (uid %u), mode %04o, not by memwatchd's user %s;"
		       " someone else created it: remove it, or check who did",
		       path, user_name(sb->st_uid, owner, sizeof(owner)), (unsigned)sb->st_uid,
		       (unsigned)(sb->st_mode & 07777), user_name(geteuid(), me, sizeof(me)));
		return -EPERM;
	}
	if (sb->st_mode & (S_IWGRP | S_IWOTH)) {
		mw_err("refusing %s: owned by %s, mode %04o: writable by group or others, so its"
		       " contents cannot be trusted; chmod 0640 it or remove it",
		       path, user_name(sb->st_uid, owner, sizeof(owner)),
		       (unsigned)(sb->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Readers in group memwatch may read; nothing wider. */
static int tighten(int fd, const char *path, const struct stat *sb, bool created)
{
	gid_t gid = memwatch_gid();
	mode_t mode = sb->st_mode & 07777;

	if (gid != (gid_t)-1 && sb->st_gid != gid && fchown(fd, (uid_t)-1, gid) < 0)
		mw_warn("%s: cannot give it to group %s: %s", path, MW_DB_GROUP, strerror(errno));
	if (!(mode & ~(mode_t)MW_DB_FILE_MODE) && !created)
		return 0;
	if (fchmod(fd, created ? MW_DB_FILE_MODE : mode & MW_DB_FILE_MODE) < 0)
		return -errno;
	if (!created)
		mw_notice("%s: mode %04o was wider than %04o; tightened it", path, (unsigned)mode,
		          (unsigned)(mode & MW_DB_FILE_MODE));
	return 0;
}

static int open_existing(const char *path, bool create, int *out)
{
	struct stat sb, sb2;
	int pfd, fd = -1, r;

	/* O_PATH: look at what is there (a link, a fifo) without opening it for real. */
	pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return errno == ENOENT && !create ? 0 : -errno;
	r = fstat(pfd, &sb) < 0 ? -errno : check_existing(path, &sb);
	close(pfd);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb2) < 0 || sb2.st_ino != sb.st_ino || sb2.st_dev != sb.st_dev) {
		mw_err("refusing %s: it was replaced while being checked", path);
		close(fd);
		return -EAGAIN;
	}
	r = tighten(fd, path, &sb2, false);
	if (r < 0) {
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

int mw_fs_secure_open(const char *path, bool create, int *out)
{
	struct stat sb;
	int fd, r;

	*out = -1;
	if (create) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		          MW_DB_FILE_MODE);
		if (fd >= 0) {
			r = fstat(fd, &sb) < 0 ? -errno : tighten(fd, path, &sb, true);
			if (r < 0) {
				close(fd);
				return r;
			}
			*out = fd;
			return 0;
		}
		/* EEXIST covers a dangling link too: O_EXCL never follows it. */
		if (errno != EEXIST)
			return -errno;
	}
	return open_existing(path, create, out);
}

/* mkdir -p; the directories made here are 0750, group memwatch. */
static int make_dirs(char *dir)
{
	gid_t gid = memwatch_gid();

	for (char *p = dir + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, MW_DB_DIR_MODE) == 0) {
			if (gid != (gid_t)-1 && chown(dir, (uid_t)-1, gid) < 0)
				mw_warn("%s: cannot give it to group %s: %s", dir, MW_DB_GROUP,
				        strerror(errno));
		} else if (errno != EEXIST) {
			int r = -errno;
			mw_err("cannot create directory %s: %s", dir, strerror(errno));
			*p = c;
			return r;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

int mw_fs_secure_dir(const char *file)
{
	char tmp[4096], dir[4096], owner[64];
	struct stat sb;
	int r;

	snprintf(tmp, sizeof(tmp), "%s", file);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	r = make_dirs(dir);
	if (r < 0)
		return r;
	if (lstat(dir, &sb) < 0)
		return -errno;
	if (S_ISLNK(sb.st_mode))
		return refuse_link(dir, AT_FDCWD);
	if (!S_ISDIR(sb.st_mode)) {
		mw_err("refusing %s: not a directory", dir);
		return -ENOTDIR;
	}
	/* root's directories are trusted: /tmp and the like, sticky. */
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		mw_err("refusing directory %s: owned by %s (uid %u), mode %04o: its owner could"
		       " swap the database for another file",
		       dir, user_name(sb.st_uid, owner, sizeof(owner)), (unsigned)sb.st_uid,
		       (unsigned)(sb.st_mode & 07777));
		return -EPERM;
	}
	if ((sb.st_mode & S_IWOTH) && !(sb.st_mode & S_ISVTX)) {
		mw_err("refusing directory %s: mode %04o, writable by everyone without the sticky"
		       " bit: anyone could swap the database for another file",
		       dir, (unsigned)(sb.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}
