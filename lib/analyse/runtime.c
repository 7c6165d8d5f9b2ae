/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/runtime.h"

#include <stdio.h>
#include <string.h>

#define MiB (1024.0 * 1024.0)

int64_t mw_runtime_parse_size(const char *s, size_t len)
{
	int64_t v = 0, mult = 1;
	size_t i = 0;

	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0)
		return -1;
	if (i + 1 == len) {
		switch (s[i] | 0x20) {
		case 'k':
			mult = 1024;
			break;
		case 'm':
			mult = 1024 * 1024;
			break;
		case 'g':
			mult = 1024 * 1024 * 1024;
			break;
		case 't':
			mult = 1024ll * 1024 * 1024 * 1024;
			break;
		default:
			return -1;
		}
	} else if (i != len) {
		return -1;
	}
	return v > INT64_MAX / mult ? -1 : v * mult;
}

/* The last argument starting with prefix (the JVM and node take the last); NULL if none. */
static const char *last_arg(const char *cmdline, const char *prefix, size_t *len)
{
	const char *p = cmdline, *found = NULL;
	size_t pl = strlen(prefix);

	while (p && *p) {
		size_t n = strcspn(p, " ");
		if (n >= pl && strncmp(p, prefix, pl) == 0) {
			found = p + pl;
			*len = n - pl;
		}
		p += n;
		p += strspn(p, " ");
	}
	return found;
}

/* The program's base name: the first argument's last path component. */
static void base_name(const char *cmdline, char *out, size_t cap)
{
	size_t n = strcspn(cmdline, " ");
	const char *slash = memrchr(cmdline, '/', n);
	const char *b = slash ? slash + 1 : cmdline;

	snprintf(out, cap, "%.*s", (int)(cmdline + n - b), b);
}

static enum mw_runtime kind_of(const char *comm, const char *exe)
{
	if (strcmp(comm, "java") == 0 || strcmp(exe, "java") == 0)
		return MW_RUNTIME_JVM;
	if (strncmp(exe, "python", 6) == 0 || strncmp(comm, "python", 6) == 0)
		return MW_RUNTIME_PYTHON;
	if (strcmp(exe, "node") == 0 || strcmp(exe, "nodejs") == 0 || strcmp(comm, "node") == 0)
		return MW_RUNTIME_NODE;
	return MW_RUNTIME_NONE;
}

static void jvm_note(const char *cmdline, struct mw_runtime_info *out)
{
	size_t len = 0;
	const char *x = last_arg(cmdline, "-Xmx", &len);

	out->heap_max = x ? mw_runtime_parse_size(x, len) : -1;
	if (out->heap_max > 0)
		snprintf(
		        out->note, sizeof(out->note),
		        "JVM: the Java heap is one anonymous reservation capped by -Xmx (%.0f MiB);"
		        " RSS growth within it is the heap filling (the GC bounds it), growth past "
		        "it"
		        " is native: thread stacks, metaspace, direct buffers, JNI",
		        (double)out->heap_max / MiB);
	else
		snprintf(
		        out->note, sizeof(out->note),
		        "JVM without -Xmx: the heap may grow to a quarter of physical memory (or of"
		        " the cgroup limit) before the GC bounds it; growth past that is native:"
		        " thread stacks, metaspace, direct buffers, JNI");
}

static void node_note(const char *cmdline, struct mw_runtime_info *out)
{
	size_t len = 0;
	const char *v = last_arg(cmdline, "--max-old-space-size=", &len);

	out->heap_max = v ? mw_runtime_parse_size(v, len) : -1;
	if (out->heap_max > 0 && out->heap_max <= INT64_MAX / (1024 * 1024))
		out->heap_max *= 1024 * 1024; /* the flag counts MiB */
	else
		out->heap_max = -1;
	snprintf(out->note, sizeof(out->note),
	         "Node.js: V8's heap is anonymous mappings capped by --max-old-space-size%s;"
	         " Buffers and native addons allocate outside it",
	         out->heap_max > 0 ? "" : " (not given: V8's default of a few GiB)");
}

void mw_runtime_detect(const char *comm, const char *cmdline, struct mw_runtime_info *out)
{
	char exe[64];

	memset(out, 0, sizeof(*out));
	out->heap_max = -1;
	comm = comm ? comm : "";
	cmdline = cmdline ? cmdline : "";
	base_name(cmdline, exe, sizeof(exe));
	out->kind = kind_of(comm, exe);
	switch (out->kind) {
	case MW_RUNTIME_JVM:
		jvm_note(cmdline, out);
		break;
	case MW_RUNTIME_PYTHON:
		snprintf(out->note, sizeof(out->note),
		         "CPython: small objects live in 1 MiB obmalloc arenas (anonymous "
		         "mappings, not"
		         " [heap]), so a leak of Python objects grows anonymous mappings; an arena "
		         "goes"
		         " back only when wholly empty");
		break;
	case MW_RUNTIME_NODE:
		node_note(cmdline, out);
		break;
	default:
		break;
	}
}
