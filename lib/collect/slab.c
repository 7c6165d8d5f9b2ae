/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/slab.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mw_slab_set_release(struct mw_slab_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static struct mw_slab_cache *slab_push(struct mw_slab_set *s)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		struct mw_slab_cache *v = realloc(s->v, nc * sizeof(*v));
		if (!v)
			return NULL;
		s->v = v;
		s->cap = nc;
	}
	return &s->v[s->n++];
}

/* "name active num objsize objperslab pagesperslab : tunables a b c : slabdata as ns sa" */
static int parse_line(const char *line, long page_size, struct mw_slab_cache *c)
{
	char name[MW_SLAB_NAME_MAX + 1];
	long long a, n, sz, ops, pps, t1, t2, t3, as, ns, sa;
	int used = 0;

	if (sscanf(line,
	           "%64s %lld %lld %lld %lld %lld : tunables %lld %lld %lld : slabdata %lld %lld "
	           "%lld%n",
	           name, &a, &n, &sz, &ops, &pps, &t1, &t2, &t3, &as, &ns, &sa, &used) != 12)
		return -EINVAL;
	if (strlen(name) >= MW_SLAB_NAME_MAX || a < 0 || n < 0 || sz <= 0 || pps <= 0 || ns < 0 ||
	    as < 0 || a > n || n > INT64_MAX / sz || ns > INT64_MAX / pps / page_size)
		return -ERANGE;
	mw_strlcpy(c->name, name, sizeof(c->name));
	c->active_objs = a;
	c->num_objs = n;
	c->objsize = sz;
	c->objperslab = ops;
	c->pagesperslab = pps;
	c->active_slabs = as;
	c->num_slabs = ns;
	c->bytes = ns * pps * page_size;
	return 0;
}

int mw_slab_parse(const char *text, long page_size, struct mw_slab_set *out, size_t *skipped)
{
	const char *p = text;
	size_t bad = 0;
	bool header = false;

	out->n = 0;
	if (page_size <= 0)
		page_size = 4096;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[512];
		struct mw_slab_cache c;

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = eol ? eol + 1 : NULL;
		if (!header) {
			/* The first line names the format; only 2.x has these columns. */
			if (strncmp(line, "slabinfo - version: 2.", 22) != 0)
				return -EPROTO;
			header = true;
			continue;
		}
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (parse_line(line, page_size, &c) < 0) {
			bad++;
			continue;
		}
		struct mw_slab_cache *slot = slab_push(out);
		if (!slot)
			return -ENOMEM;
		*slot = c;
	}
	if (skipped)
		*skipped = bad;
	return header ? 0 : -EPROTO;
}

int mw_slab_read(const char *root, struct mw_slab_set *out)
{
	_cleanup_free_ char *text = NULL;
	char path[4096];
	int r;

	r = mw_path(path, sizeof(path), root, "/proc/slabinfo");
	if (r < 0)
		return r;
	r = mw_read_file_alloc(path, &text, NULL);
	if (r < 0)
		return r == -EPERM ? -EACCES : r;
	return mw_slab_parse(text, sysconf(_SC_PAGESIZE), out, NULL);
}

const struct mw_slab_cache *mw_slab_find(const struct mw_slab_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory a cache name resolves to: itself, or the target of its alias link. */
static void slab_target(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[4096];
	ssize_t k = -1;
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n >= 0 && (size_t)n < sizeof(path))
		k = readlink(path, buf, cap - 1);
	if (k < 0) {
		snprintf(buf, cap, "%s", name);
		return;
	}
	buf[k] = '\0';
}

int mw_slab_aliases(const char *root, const char *name, char *buf, size_t cap)
{
	char dir[4096], target[512], other[512];
	_cleanup_closedir_ DIR *d = NULL;
	char **names = NULL;
	size_t n = 0, ncap = 0, o = 0;
	struct dirent *e;
	int r = 0;

	buf[0] = '\0';
	r = mw_path(dir, sizeof(dir), root, "/sys/kernel/slab");
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d)
		return 0; /* no sysfs view: aliases unknown, not an error */
	slab_target(dir, name, target, sizeof(target));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_name[0] == ':' || strcmp(e->d_name, name) == 0)
			continue;
		slab_target(dir, e->d_name, other, sizeof(other));
		if (strcmp(other, target) != 0)
			continue;
		if (n == ncap) {
			size_t nc = ncap ? ncap * 2 : 8;
			char **v = realloc(names, nc * sizeof(*v));
			if (!v) {
				r = -ENOMEM;
				goto out;
			}
			names = v;
			ncap = nc;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	mw_qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? "," : "", names[i]);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}
