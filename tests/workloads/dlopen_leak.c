/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Library leak: --rate loads per second of a small shared object (built
 * by meson next to this program), each time copied to a new file in a
 * private temporary directory first, so every dlopen maps a new, distinct
 * .so and none is ever dlclosed. The copies are removed on exit.
 */
#include "common.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#ifndef MW_PAYLOAD
#define MW_PAYLOAD "libmw_payload.so"
#endif

struct leak {
	char dir[64];
	const char *src;
	long n;
};

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out, r = 0;
	ssize_t k;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((k = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)k) != k) {
			r = -1;
			break;
		}
	if (k < 0)
		r = -1;
	close(in);
	close(out);
	return r;
}

static int one(void *arg)
{
	struct leak *l = arg;
	char path[PATH_MAX];
	int (*fn)(int);
	void *h;

	snprintf(path, sizeof(path), "%s/payload-%ld.so", l->dir, l->n);
	if (copy_file(l->src, path) < 0) {
		perror(path);
		return -1;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlopen_leak: %s\n", dlerror());
		return -1;
	}
	fn = (int (*)(int))dlsym(h, "mw_payload_value");
	if (!fn || fn(1) != 4)
		return -1;
	l->n++;
	return 0;
}

static void cleanup(struct leak *l)
{
	char path[PATH_MAX];

	for (long i = 0; i < l->n + 1; i++) {
		snprintf(path, sizeof(path), "%s/payload-%ld.so", l->dir, i);
		unlink(path);
	}
	rmdir(l->dir);
}

int main(int argc, char **argv)
{
	struct leak l = {.src = wl_sarg(argc, argv, "--lib", MW_PAYLOAD)};
	double rate = wl_arg(argc, argv, "--rate", 2);
	double duration = wl_arg(argc, argv, "--for", 600);

	if (rate <= 0) {
		fprintf(stderr, "dlopen_leak: --rate must be > 0\n");
		return 2;
	}
	snprintf(l.dir, sizeof(l.dir), "/tmp/mw-dlopen-XXXXXX");
	if (!mkdtemp(l.dir)) {
		perror("mkdtemp");
		return 1;
	}
	wl_on_term();
	wl_ready();
	wl_paced(rate, duration, one, &l);
	printf("loaded %ld distinct copies\n", l.n);
	cleanup(&l);
	return 0;
}
