/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/vmtune.h"
#include "memwatch/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MW_X_NAME_TUN(name) #name,
const char *const mw_tunable_names[MW_TUN_COUNT] = {MW_TUNABLES(MW_X_NAME_TUN)};

int mw_tunables_read(const char *root, struct mw_tunables *t)
{
	char path[4096], rel[128], buf[64];

	for (int i = 0; i < MW_TUN_COUNT; i++) {
		int64_t v;
		int r;

		t->v[i] = MW_UNKNOWN;
		snprintf(rel, sizeof(rel), "/proc/sys/vm/%s", mw_tunable_names[i]);
		r = mw_path(path, sizeof(path), root, rel);
		if (r < 0)
			return r;
		if (mw_read_file(path, buf, sizeof(buf), NULL) < 0)
			continue;
		buf[strcspn(buf, " \t\n")] = '\0';
		if (mw_parse_i64(buf, &v) == 0)
			t->v[i] = v;
	}
	return 0;
}

static int64_t field_value(const char *line, const char *key)
{
	size_t n = strlen(key);
	int64_t v;
	char num[32];
	size_t k = 0;

	while (*line == ' ')
		line++;
	if (strncmp(line, key, n) != 0 || line[n] != ' ')
		return MW_UNKNOWN;
	line += n;
	while (*line == ' ')
		line++;
	while (k < sizeof(num) - 1 && isdigit((unsigned char)line[k])) {
		num[k] = line[k];
		k++;
	}
	num[k] = '\0';
	return mw_parse_i64(num, &v) == 0 ? v : MW_UNKNOWN;
}

/* Zone headers are "Node N, zone NAME"; the fields follow until the next header. */
void mw_zoneinfo_parse(const char *text, struct mw_zone_set *out)
{
	static const char *const keys[] = {"pages free", "min",     "low",    "high",
	                                   "spanned",    "present", "managed"};
	struct mw_zone *z = NULL;
	const char *p = text;

	out->n = 0;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[256], zname[16];
		int node;

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = eol ? eol + 1 : NULL;
		if (sscanf(line, "Node %d, zone %15s", &node, zname) == 2) {
			z = out->n < MW_ZONE_MAX ? &out->v[out->n++] : NULL;
			if (z) {
				memset(z, 0, sizeof(*z));
				z->node = node;
				snprintf(z->name, sizeof(z->name), "%s", zname);
				z->free = z->min = z->low = z->high = MW_UNKNOWN;
				z->spanned = z->present = z->managed = MW_UNKNOWN;
			}
			continue;
		}
		if (!z)
			continue;
		int64_t *dst[] = {&z->free,    &z->min,     &z->low,    &z->high,
		                  &z->spanned, &z->present, &z->managed};
		for (size_t k = 0; k < MW_ARRAY_SIZE(keys); k++) {
			int64_t v = field_value(line, keys[k]);
			/* The first occurrence wins: "high" also appears in later pageset lines. */
			if (v != MW_UNKNOWN && *dst[k] == MW_UNKNOWN) {
				*dst[k] = v;
				break;
			}
		}
	}
}

int mw_zoneinfo_read(const char *root, struct mw_zone_set *out)
{
	_cleanup_free_ char *text = NULL;
	char path[4096];
	int r;

	out->n = 0;
	r = mw_path(path, sizeof(path), root, "/proc/zoneinfo");
	if (r < 0)
		return r;
	r = mw_read_file_alloc(path, &text, NULL);
	if (r < 0)
		return r;
	mw_zoneinfo_parse(text, out);
	return 0;
}

int mw_numa_nodes(const char *root)
{
	char path[4096];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int n = 0;

	if (mw_path(path, sizeof(path), root, "/sys/devices/system/node") < 0)
		return 1;
	d = opendir(path);
	if (!d)
		return 1;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "node", 4) == 0 && isdigit((unsigned char)e->d_name[4]))
			n++;
	return n ? n : 1;
}
