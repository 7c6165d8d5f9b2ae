/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup: memory-controller paths in /proc/PID/cgroup text, systemd unit
 * names, and the binding memory limit under v1 and v2, on recorded /sys
 * trees (tests/data) and on ones written here.
 */
#include "check.h"
#include "memwatch/collect/cgroup.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[] = "/tmp/mw-test-cgroup-XXXXXX";

static void write_file(const char *rel, const char *text)
{
	char p[512], cmd[600];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	if (system(cmd) != 0)
		return;
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_paths(void)
{
	char out[256], unit[64];
	bool v2 = false;

	CHECK(mw_cgroup_memory_path("5:devices:/,4:memory:/app,0::/", out, sizeof(out), &v2));
	CHECK_EQ_STR(out, "/app");
	CHECK(!v2);
	CHECK(mw_cgroup_memory_path("7:cpu,memory:/a/b\n", out, sizeof(out), &v2));
	CHECK_EQ_STR(out, "/a/b");
	CHECK(mw_cgroup_memory_path("4:cpu,cpuacct:/,3:memory:/m,0::/", out, sizeof(out), &v2));
	CHECK_EQ_STR(out, "/m");
	CHECK(mw_cgroup_memory_path("0::/system.slice/x.service\n", out, sizeof(out), &v2));
	CHECK_EQ_STR(out, "/system.slice/x.service");
	CHECK(v2);
	CHECK(!mw_cgroup_memory_path("3:cpu:/x", out, sizeof(out), &v2));
	CHECK(!mw_cgroup_memory_path("0::/a/../../etc", out, sizeof(out), &v2));
	CHECK(!mw_cgroup_memory_path("garbage", out, sizeof(out), &v2));
	CHECK(!mw_cgroup_memory_path("", out, sizeof(out), &v2));
	/* Units: .service and .scope alike, the last one wins; the leaf only when asked. */
	mw_cgroup_unit("0::/system.slice/nginx.service\n", unit, sizeof(unit), false);
	CHECK_EQ_STR(unit, "nginx.service");
	mw_cgroup_unit("0::/user.slice/user-0.slice/session-3.scope", unit, sizeof(unit), false);
	CHECK_EQ_STR(unit, "session-3.scope");
	mw_cgroup_unit("12:memory:/system.slice/a.service/sub,0::/", unit, sizeof(unit), false);
	CHECK_EQ_STR(unit, "a.service");
	mw_cgroup_unit("0::/docker/abc", unit, sizeof(unit), false);
	CHECK_EQ_STR(unit, "");
	mw_cgroup_unit("0::/docker/abc", unit, sizeof(unit), true);
	CHECK_EQ_STR(unit, "abc");
	mw_cgroup_unit(NULL, unit, sizeof(unit), true);
	CHECK_EQ_STR(unit, "");
	/* A name longer than the buffer is cut, not overrun. */
	mw_cgroup_unit("0::/a-very-long-unit-name.service", unit, 8, false);
	CHECK_EQ_STR(unit, "a-very-");
}

/* The recorded trees: v1 in root-6.18, v2 in root-numa. */
static void test_recorded(void)
{
	char v1[4096], v2[4096];
	struct mw_cgroup_limit cl;

	snprintf(v1, sizeof(v1), "%s/tests/data/root-6.18", SRCDIR);
	snprintf(v2, sizeof(v2), "%s/tests/data/root-numa", SRCDIR);
	CHECK_EQ_I64(mw_cgroup_memory_limit(v1, "5:devices:/,4:memory:/app,0::/", &cl), 0);
	CHECK_EQ_I64(cl.limit, 268435456);
	CHECK_EQ_I64(cl.usage, 1048576);
	CHECK_EQ_STR(cl.path, "/sys/fs/cgroup/memory/app");
	CHECK_EQ_I64(mw_cgroup_memory_limit(v1, "9:name=systemd:/\n4:memory:/app\n0::/\n", &cl), 0);
	CHECK_EQ_I64(cl.limit, 268435456);
	CHECK_EQ_I64(mw_cgroup_memory_limit(v1, "4:memory:/unlimited", &cl), 0);
	CHECK_EQ_I64(cl.limit, MW_UNKNOWN);
	CHECK_EQ_I64(mw_cgroup_memory_limit(v1, "4:memory:/missing", &cl), 0);
	CHECK_EQ_I64(cl.limit, MW_UNKNOWN);
	CHECK_EQ_I64(mw_cgroup_memory_limit(v1, "4:memory:/../../etc", &cl), -ENOENT);
	CHECK_EQ_I64(mw_cgroup_memory_limit(v2, "0::/svc", &cl), 0);
	CHECK_EQ_I64(cl.limit, 536870912);
	CHECK_EQ_I64(cl.usage, 4096);
	CHECK_EQ_I64(mw_cgroup_memory_limit(v2, "0::/free", &cl), 0);
	CHECK_EQ_I64(cl.limit, MW_UNKNOWN);
	CHECK_EQ_I64(mw_cgroup_memory_limit(v2, "", &cl), -ENOENT);
	CHECK_EQ_I64(mw_cgroup_memory_limit(v2, "garbage", &cl), -ENOENT);
	CHECK_EQ_I64(mw_cgroup_memory_limit(v2, NULL, &cl), -ENOENT);
}

/* Nested cgroups: a child without a limit is bound by its parent's. */
static void test_nested(void)
{
	struct mw_cgroup_limit cl;

	write_file("sys/fs/cgroup/memory/svc/memory.limit_in_bytes", "1073741824\n");
	write_file("sys/fs/cgroup/memory/svc/memory.usage_in_bytes", "629145600\n");
	write_file("sys/fs/cgroup/memory/svc/job/memory.limit_in_bytes", "9223372036854771712\n");
	write_file("sys/fs/cgroup/memory/svc/job/memory.usage_in_bytes", "1000\n");
	CHECK_EQ_I64(mw_cgroup_memory_limit(dir, "4:memory:/svc/job,0::/", &cl), 0);
	CHECK_EQ_I64(cl.limit, 1073741824);
	CHECK_EQ_I64(cl.usage, 629145600);
	CHECK_EQ_STR(cl.path, "/sys/fs/cgroup/memory/svc");
	/* v2: "max" is no limit; a number in a parent binds the child. */
	write_file("sys/fs/cgroup/app/memory.max", "max\n");
	write_file("sys/fs/cgroup/app/memory.current", "5\n");
	write_file("sys/fs/cgroup/app/w/memory.max", "max\n");
	write_file("sys/fs/cgroup/app/w/memory.current", "3\n");
	CHECK_EQ_I64(mw_cgroup_memory_limit(dir, "0::/app/w\n", &cl), 0);
	CHECK_EQ_I64(cl.limit, MW_UNKNOWN);
	write_file("sys/fs/cgroup/app/memory.max", "536870912\n");
	CHECK_EQ_I64(mw_cgroup_memory_limit(dir, "0::/app/w\n", &cl), 0);
	CHECK_EQ_I64(cl.limit, 536870912);
	CHECK_EQ_I64(cl.usage, 5);
	CHECK_EQ_STR(cl.path, "/sys/fs/cgroup/app");
	/* The child's own, tighter limit wins over the parent's. */
	write_file("sys/fs/cgroup/app/w/memory.max", "4096\n");
	CHECK_EQ_I64(mw_cgroup_memory_limit(dir, "0::/app/w\n", &cl), 0);
	CHECK_EQ_I64(cl.limit, 4096);
	CHECK_EQ_STR(cl.path, "/sys/fs/cgroup/app/w");
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_paths();
	test_recorded();
	test_nested();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_I64(system(cmd), 0);
	return check_done();
}
