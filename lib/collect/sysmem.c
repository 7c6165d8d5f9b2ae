/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/sysmem.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MW_X_NAME_MEM(col, key)        #col,
#define MW_X_NAME_VM(col, key)         #col,
#define MW_X_NAME_PSI(col, line, name) #col,
const char *const mw_meminfo_columns[MW_MI_COUNT] = {MW_MEMINFO_FIELDS(MW_X_NAME_MEM)};
const char *const mw_vmstat_columns[MW_VM_COUNT] = {MW_VMSTAT_FIELDS(MW_X_NAME_VM)};
const char *const mw_psi_columns[MW_PSI_COUNT] = {MW_PSI_FIELDS(MW_X_NAME_PSI)};

#define MW_X_KEY_MEM(col, key) key,
#define MW_X_KEY_VM(col, key)  key,
static const char *const meminfo_keys[MW_MI_COUNT] = {MW_MEMINFO_FIELDS(MW_X_KEY_MEM)};
static const char *const vmstat_keys[MW_VM_COUNT] = {MW_VMSTAT_FIELDS(MW_X_KEY_VM)};

static void fill_unknown(int64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = MW_UNKNOWN;
}

static int key_index(const char *const *keys, size_t n, const char *key, size_t klen)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(keys[i]) == klen && memcmp(keys[i], key, klen) == 0)
			return (int)i;
	return -1;
}

/*
 * Both files are "key<sep>value[ kB]" per line. Unknown keys are ignored
 * (the kernel adds fields over time); a line without a number is skipped.
 */
static void parse_kv(const char *text, const char *const *keys, size_t nkeys, int64_t *out,
                     char sep, int64_t kb_scale)
{
	const char *p = text;

	fill_unknown(out, nkeys);
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		const char *s = memchr(p, sep, eol ? (size_t)(eol - p) : strlen(p));
		int idx;

		if (s && (idx = key_index(keys, nkeys, p, (size_t)(s - p))) >= 0) {
			char *end;
			long long v;

			errno = 0;
			v = strtoll(s + 1, &end, 10);
			if (errno == 0 && end != s + 1 && v >= 0) {
				while (*end == ' ')
					end++;
				if (kb_scale > 1 && strncmp(end, "kB", 2) == 0)
					v = mw_mul_or_unknown(v, kb_scale);
				out[idx] = v;
			}
		}
		p = eol ? eol + 1 : NULL;
	}
}

void mw_meminfo_parse(const char *text, int64_t mem[MW_MI_COUNT])
{
	parse_kv(text, meminfo_keys, MW_MI_COUNT, mem, ':', 1024);
}

void mw_vmstat_parse(const char *text, int64_t vm[MW_VM_COUNT])
{
	parse_kv(text, vmstat_keys, MW_VM_COUNT, vm, ' ', 1);
}

/* "avg10=1.25" -> 125 (hundredths); "total=123" -> 123. */
static int psi_value(const char *tok, const char *name, int64_t *out)
{
	size_t n = strlen(name);
	char *end;

	if (strncmp(tok, name, n) != 0 || tok[n] != '=')
		return -EINVAL;
	tok += n + 1;
	if (strcmp(name, "total") == 0) {
		long long v;
		errno = 0;
		v = strtoll(tok, &end, 10);
		if (errno || end == tok || v < 0)
			return -EINVAL;
		*out = v;
	} else {
		double v;
		errno = 0;
		v = strtod(tok, &end);
		if (errno || end == tok || v < 0 || v > 100.0)
			return -EINVAL;
		*out = (int64_t)(v * 100.0 + 0.5);
	}
	return 0;
}

void mw_psi_parse(const char *text, int64_t psi[MW_PSI_COUNT])
{
#define MW_X_PSI_LINE(col, line, name) line,
#define MW_X_PSI_NAME(col, line, name) name,
	static const char *const lines[MW_PSI_COUNT] = {MW_PSI_FIELDS(MW_X_PSI_LINE)};
	static const char *const names[MW_PSI_COUNT] = {MW_PSI_FIELDS(MW_X_PSI_NAME)};
	const char *p = text;

	fill_unknown(psi, MW_PSI_COUNT);
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[256];
		char *save = NULL, *tok, *kind;

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		kind = strtok_r(line, " ", &save);
		while (kind && (tok = strtok_r(NULL, " ", &save))) {
			for (int i = 0; i < MW_PSI_COUNT; i++)
				if (strcmp(lines[i], kind) == 0)
					psi_value(tok, names[i], &psi[i]);
		}
		p = eol ? eol + 1 : NULL;
	}
}

int mw_sys_sample_read(const char *root, struct mw_sys_sample *s)
{
	char path[4096];
	char buf[16384];
	int r;

	r = mw_path(path, sizeof(path), root, "/proc/meminfo");
	if (r < 0)
		return r;
	r = mw_read_file(path, buf, sizeof(buf), NULL);
	if (r < 0 && r != -EFBIG)
		return r;
	mw_meminfo_parse(buf, s->mem);

	/* vmstat is ~8 KiB on 6.x kernels and grows; read it whole. */
	{
		_cleanup_free_ char *vm = NULL;
		r = mw_path(path, sizeof(path), root, "/proc/vmstat");
		if (r < 0)
			return r;
		if (mw_read_file_alloc(path, &vm, NULL) == 0)
			mw_vmstat_parse(vm, s->vm);
		else
			fill_unknown(s->vm, MW_VM_COUNT);
	}

	r = mw_path(path, sizeof(path), root, "/proc/pressure/memory");
	if (r < 0)
		return r;
	if (mw_read_file(path, buf, sizeof(buf), NULL) == 0)
		mw_psi_parse(buf, s->psi);
	else
		fill_unknown(s->psi, MW_PSI_COUNT);
	return 0;
}
