/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runtimes told from a recorded name and command line: the JVM with and
 * without -Xmx (the last one counts, as for java), CPython by any
 * versioned name, Node with --max-old-space-size; native programs and
 * look-alikes are none.
 */
#include "check.h"
#include "memwatch/analyse/runtime.h"

#include <string.h>

static void expect(const char *comm, const char *cmdline, enum mw_runtime kind, int64_t heap_max)
{
	struct mw_runtime_info r;

	mw_runtime_detect(comm, cmdline, &r);
	CHECK_EQ_I64(r.kind, kind);
	CHECK_EQ_I64(r.heap_max, heap_max);
	CHECK(kind == MW_RUNTIME_NONE ? r.note[0] == '\0' : r.note[0] != '\0');
}

int main(void)
{
	const int64_t MiB = 1024 * 1024;

	expect("java", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java -Xmx256m -jar app.jar",
	       MW_RUNTIME_JVM, 256 * MiB);
	expect("java", "java -Xmx1g -Xmx2G Main", MW_RUNTIME_JVM, 2048 * MiB);
	expect("java", "java -Xms64m Main", MW_RUNTIME_JVM, -1);
	expect("java", "java -Xmxlots Main", MW_RUNTIME_JVM, -1);
	expect("python3", "/usr/bin/python3 -c import time", MW_RUNTIME_PYTHON, -1);
	expect("python3.11", "/usr/bin/python3.11 app.py", MW_RUNTIME_PYTHON, -1);
	/* A script's comm is its name; the interpreter is argv[0]. */
	expect("gunicorn", "/usr/bin/python3 /usr/bin/gunicorn app:app", MW_RUNTIME_PYTHON, -1);
	expect("node", "node --max-old-space-size=512 server.js", MW_RUNTIME_NODE, 512 * MiB);
	expect("node", "/usr/bin/node server.js", MW_RUNTIME_NODE, -1);
	expect("redis-server", "/usr/bin/redis-server *:6379", MW_RUNTIME_NONE, -1);
	expect("javac", "javac Main.java", MW_RUNTIME_NONE, -1);
	expect("", "", MW_RUNTIME_NONE, -1);
	expect(NULL, NULL, MW_RUNTIME_NONE, -1);
	{
		struct mw_runtime_info r;
		mw_runtime_detect("java", "java -Xmx256m Main", &r);
		CHECK(strstr(r.note, "-Xmx (256 MiB)") != NULL);
	}
	CHECK_EQ_I64(mw_runtime_parse_size("512k", 4), 512 * 1024);
	CHECK_EQ_I64(mw_runtime_parse_size("3", 1), 3);
	CHECK_EQ_I64(mw_runtime_parse_size("", 0), -1);
	CHECK_EQ_I64(mw_runtime_parse_size("12x", 3), -1);
	CHECK_EQ_I64(mw_runtime_parse_size("99999999999999999999", 20), -1);
	CHECK_EQ_I64(mw_runtime_parse_size("9999999999999t", 14), -1);
	return check_done();
}
