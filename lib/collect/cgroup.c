/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/cgroup.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Both kernels print "no limit" as a number this large or "max". */
#define NO_LIMIT MW_CGROUP_NO_LIMIT

static bool lists_memory(const char *c1, const char *c2)
{
	for (const char *q = c1 + 1; q < c2;) {
		size_t l = strcspn(q, ",:");
		if (l == 6 && memcmp(q, "memory", 6) == 0)
			return true;
		q += l + 1;
	}
	return false;
}

static bool copy_path(const char *from, const char *end, char *out, size_t cap)
{
	size_t n = (size_t)(end - from);

	if (n >= cap)
		return false;
	memcpy(out, from, n);
	out[n] = '\0';
	return out[0] == '/' && !strstr(out, "/..") && !strstr(out, "../");
}

/*
 * The end of the entry at p. Entries are lines, or joined with commas (as
 * libproc2 joins them); a comma inside a v1 controller list ("4:cpu,cpuacct:/")
 * is not a separator, so only ",N:" starts a new entry.
 */
static const char *entry_end(const char *p)
{
	for (;; p++) {
		p += strcspn(p, ",\n");
		if (*p != ',')
			return p;
		const char *q = p + 1;
		while (*q >= '0' && *q <= '9')
			q++;
		if (q > p + 1 && *q == ':')
			return p;
	}
}

bool mw_cgroup_memory_path(const char *text, char *out, size_t cap, bool *v2)
{
	const char *v2from = NULL, *v2end = NULL;

	for (const char *p = text; p && *p;) {
		const char *end = entry_end(p);
		const char *c1 = memchr(p, ':', (size_t)(end - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;

		if (c2 && lists_memory(c1, c2)) {
			*v2 = false;
			return copy_path(c2 + 1, end, out, cap);
		}
		if (c2 && c2 == c1 + 1 && c1 - p == 1 && *p == '0') {
			v2from = c2 + 1;
			v2end = end;
		}
		p = *end ? end + 1 : NULL;
	}
	*v2 = true;
	return v2from && copy_path(v2from, v2end, out, cap);
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && memcmp(s + n - k, suffix, k) == 0;
}

void mw_cgroup_unit(const char *text, char *out, size_t cap, bool leaf_fallback)
{
	const char *best = NULL, *leaf = NULL;
	size_t best_len = 0, leaf_len = 0;

	if (!cap)
		return;
	out[0] = '\0';
	for (const char *p = text ? text : ""; *p;) {
		const char *e = p + strcspn(p, "/,:\n");
		size_t len = (size_t)(e - p);

		if (len) {
			leaf = p;
			leaf_len = len;
			if (ends_with(p, len, ".service") || ends_with(p, len, ".scope")) {
				best = p;
				best_len = len;
			}
		}
		p = *e ? e + 1 : e;
	}
	if (!best && leaf_fallback) {
		best = leaf;
		best_len = leaf_len;
	}
	if (best)
		snprintf(out, cap, "%.*s", (int)(best_len < cap ? best_len : cap - 1), best);
}

int64_t mw_cgroup_parse_bytes(const char *text)
{
	char buf[64];
	int64_t v;

	/* As read: the files hold one number (or "max") and a newline. */
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(text, "\n"), text);
	if (strcmp(buf, "max") == 0)
		return NO_LIMIT;
	return mw_parse_i64(buf, &v) == 0 ? v : MW_UNKNOWN;
}

static int64_t read_bytes(const char *root, const char *dir, const char *name)
{
	char rel[1200], path[4096], buf[64];

	snprintf(rel, sizeof(rel), "%s/%s", dir, name);
	if (mw_path(path, sizeof(path), root, rel) < 0 ||
	    mw_read_file(path, buf, sizeof(buf), NULL) < 0)
		return MW_UNKNOWN;
	return mw_cgroup_parse_bytes(buf);
}

/* Where the v2 hierarchy is mounted: the unified mount of a hybrid host, else the root. */
static const char *v2_base(const char *root)
{
	char path[4096];

	if (mw_path(path, sizeof(path), root, "/sys/fs/cgroup/unified/cgroup.controllers") == 0 &&
	    mw_read_file(path, (char[256]){0}, 256, NULL) == 0)
		return "/sys/fs/cgroup/unified";
	return "/sys/fs/cgroup";
}

int mw_cgroup_memory_limit(const char *root, const char *text, struct mw_cgroup_limit *out)
{
	char cg[512], dir[1024];
	int64_t best_room = INT64_MAX;
	bool v2 = false;
	const char *base;

	out->limit = out->usage = MW_UNKNOWN;
	out->path[0] = '\0';
	if (!text || !mw_cgroup_memory_path(text, cg, sizeof(cg), &v2))
		return -ENOENT;
	out->v2 = v2;
	base = v2 ? v2_base(root) : "/sys/fs/cgroup/memory";
	for (;;) {
		snprintf(dir, sizeof(dir), "%s%s", base, strcmp(cg, "/") == 0 ? "" : cg);
		int64_t lim = read_bytes(root, dir, v2 ? "memory.max" : "memory.limit_in_bytes");
		int64_t use =
		        read_bytes(root, dir, v2 ? "memory.current" : "memory.usage_in_bytes");

		if (lim != MW_UNKNOWN && use != MW_UNKNOWN && lim < NO_LIMIT &&
		    lim - use < best_room) {
			best_room = lim - use;
			out->limit = lim;
			out->usage = use;
			snprintf(out->path, sizeof(out->path), "%s", dir);
		}
		char *slash = strrchr(cg, '/');
		if (!slash || strcmp(cg, "/") == 0)
			break;
		if (slash == cg)
			cg[1] = '\0';
		else
			*slash = '\0';
	}
	return 0;
}

int mw_cgroup_memory_usage(const char *root, struct mw_cgroup_limit *cl)
{
	int64_t use;

	if (!cl->path[0])
		return -ENOENT;
	use = read_bytes(root, cl->path, cl->v2 ? "memory.current" : "memory.usage_in_bytes");
	if (use == MW_UNKNOWN)
		return -ENOENT;
	cl->usage = use;
	return 0;
}
