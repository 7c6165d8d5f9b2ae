/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main() for a fuzz target in every build: run LLVMFuzzerTestOneInput over
 * each file named (directories: every file in them, not recursively, dot
 * files left out), so the seeds and the crash inputs kept under
 * tests/fuzz/regress/<target>/ are regression tests under gcc and ASan.
 * A directory that does not exist is skipped (a target without
 * regressions yet); no input at all is a failure.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;
	int r = -1;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)len + 1)) && fread(buf, 1, (size_t)len, f) == (size_t)len) {
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		r = 0;
	} else {
		fprintf(stderr, "replay: %s: could not read\n", path);
	}
	free(buf);
	fclose(f);
	return r;
}

/* Files run, or -1 on an unreadable one. */
static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while (n >= 0 && (e = readdir(d))) {
		char path[4096];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		n = replay_file(path) < 0 ? -1 : n + 1;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int total = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		int n;
		if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode))
			n = replay_file(argv[i]) < 0 ? -1 : 1;
		else
			n = replay_dir(argv[i]);
		if (n < 0)
			return 1;
		total += n;
	}
	printf("%d inputs replayed\n", total);
	if (total == 0) {
		fprintf(stderr, "replay: no inputs: the seed paths are wrong\n");
		return 1;
	}
	return 0;
}
