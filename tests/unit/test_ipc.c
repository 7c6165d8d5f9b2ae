/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/sysvipc, /dev/shm and /dev/mqueue readers: recorded tree, a real segment, odd input. */
#include "check.h"
#include "memwatch/collect/ipc.h"
#include "memwatch/view/sysreport.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#ifndef SRCDIR
#define SRCDIR "."
#endif

static const struct mw_ipc_obj *find_kind(const struct mw_ipc_set *s, enum mw_ipc_kind k)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].kind == k)
			return &s->v[i];
	return NULL;
}

static void test_recorded(void)
{
	struct mw_ipc_set s = {0};
	const struct mw_ipc_obj *o;
	char root[4096];

	snprintf(root, sizeof(root), "%s/tests/data/root-6.18", SRCDIR);
	CHECK_EQ_I64(mw_ipc_read(root, false, &s), 0);
	CHECK(s.sysv_ok);
	CHECK(s.mqueue_mounted);
	o = find_kind(&s, MW_IPC_shm);
	CHECK(o != NULL);
	if (o) {
		CHECK_EQ_I64(o->size, 1048576);
		CHECK_EQ_I64(o->nattch, 0);
		CHECK_EQ_I64(o->cpid, 2979);
		CHECK_EQ_I64(o->mode, 0600);
		CHECK_EQ_I64(o->bytes, 0);
		CHECK(strncmp(o->ident, "sysv-shm:419415350:32806:", 25) == 0);
	}
	o = find_kind(&s, MW_IPC_msg);
	CHECK(o != NULL);
	if (o) {
		CHECK_EQ_I64(o->bytes, 4096);
		CHECK_EQ_I64(o->qnum, 4);
		CHECK_EQ_I64(o->lpid, 1234);
		CHECK_EQ_I64(o->lrpid, 0);
	}
	o = find_kind(&s, MW_IPC_sem);
	CHECK(o != NULL && o->size == 3);
	o = find_kind(&s, MW_IPC_mqueue);
	CHECK(o != NULL);
	if (o) {
		CHECK_EQ_STR(o->name, "jobs");
		CHECK_EQ_I64(o->bytes, 129);
	}
	o = find_kind(&s, MW_IPC_posix_shm);
	CHECK(o != NULL);
	if (o) {
		CHECK_EQ_STR(o->name, "cache.seg");
		CHECK_EQ_I64(o->size, 8192);
	}
	mw_ipc_set_release(&s);
}

/* A real segment: the identity stays the same across reads and the creator is us. */
static void test_live_segment(void)
{
	struct mw_ipc_set a = {0}, b = {0};
	const struct mw_ipc_obj *x = NULL, *y = NULL;
	int id = shmget(IPC_PRIVATE, 256 << 10, IPC_CREAT | 0600);

	if (id < 0)
		mw_skip("shmget not permitted here");
	CHECK_EQ_I64(mw_ipc_read("", false, &a), 0);
	CHECK_EQ_I64(mw_ipc_read("", false, &b), 0);
	for (size_t i = 0; i < a.n; i++)
		if (a.v[i].kind == MW_IPC_shm && a.v[i].id == id)
			x = &a.v[i];
	CHECK(x != NULL);
	if (x) {
		y = mw_ipc_find(&b, x->ident);
		CHECK(y != NULL);
		CHECK_EQ_I64(x->cpid, getpid());
		CHECK_EQ_I64(x->size, 256 << 10);
		CHECK_EQ_I64(x->nattch, 0);
	}
	shmctl(id, IPC_RMID, NULL);
	mw_ipc_set_release(&a);
	mw_ipc_set_release(&b);
}

static void test_odd(void)
{
	struct mw_ipc_set s = {0};
	int64_t q;

	CHECK_EQ_I64(mw_ipc_parse_shm("", &s), -EPROTO);
	CHECK_EQ_I64(mw_ipc_parse_shm("no header here\n1 2 3\n", &s), -EPROTO);
	/* Columns are found by name: a reordered header still parses; bad lines are skipped. */
	CHECK_EQ_I64(mw_ipc_parse_shm("shmid key nattch size cpid\n"
	                              "7 99 2 4096 55\n"
	                              "x y z\n"
	                              "8\n"
	                              "-1 5 0 0 0\n",
	                              &s),
	             0);
	CHECK_EQ_I64(s.n, 1);
	CHECK_EQ_I64(s.v[0].id, 7);
	CHECK_EQ_I64(s.v[0].key, 99);
	CHECK_EQ_I64(s.v[0].nattch, 2);
	CHECK_EQ_I64(s.v[0].cpid, 55);
	CHECK_EQ_I64(s.v[0].swap, MW_UNKNOWN);
	mw_ipc_set_release(&s);
	CHECK_EQ_I64(mw_ipc_parse_mq_status("QSIZE:42 NOTIFY:0", &q), 0);
	CHECK_EQ_I64(q, 42);
	CHECK_EQ_I64(mw_ipc_parse_mq_status("NOTIFY:0 QSIZE:42", &q), -EINVAL);
	CHECK(mw_ipc_parse_mq_status("QSIZE:", &q) < 0);
	CHECK(mw_ipc_parse_mq_status("QSIZE:99999999999999999999999", &q) < 0);
	/* A root without any of it: nothing listed, and it says POSIX queues are missing. */
	CHECK_EQ_I64(mw_ipc_read("/nonexistent-root", false, &s), 0);
	CHECK_EQ_I64(s.n, 0);
	CHECK(!s.sysv_ok);
	CHECK(!s.mqueue_mounted);
	mw_ipc_set_release(&s);
}

/* The object label of the first object of kind k, or "(none)". */
static const char *label_of(const struct mw_ipc_set *s, enum mw_ipc_kind k, char *buf, size_t cap)
{
	const struct mw_ipc_obj *o = find_kind(s, k);

	if (!o)
		return "(none)";
	mw_ipc_label(o, buf, cap);
	return buf;
}

/* The names memwatch ipc and top's IPC view print: never an ident, -1 or '?'. */
static void test_labels(void)
{
	struct mw_ipc_set s = {0};
	struct mw_ipc_view v = {0};
	const struct mw_ipc_obj *o;
	char root[4096], buf[200];

	snprintf(root, sizeof(root), "%s/tests/data/root-6.18", SRCDIR);
	CHECK_EQ_I64(mw_ipc_read(root, false, &s), 0);
	CHECK_EQ_STR(label_of(&s, MW_IPC_shm, buf, sizeof(buf)), "id 32806 key 0x18ffc536");
	CHECK_EQ_STR(label_of(&s, MW_IPC_mqueue, buf, sizeof(buf)), "/dev/mqueue/jobs");
	CHECK_EQ_STR(label_of(&s, MW_IPC_posix_shm, buf, sizeof(buf)), "/dev/shm/cache.seg");
	o = find_kind(&s, MW_IPC_shm);
	CHECK(o != NULL);
	if (o) {
		CHECK_EQ_STR(mw_ipc_size_label(o, buf, sizeof(buf)), "1.0 MiB");
		CHECK_EQ_STR(mw_ipc_attach_label(o, buf, sizeof(buf)), "0");
		v.o = *o;
		mw_ipc_creator_label(&v, buf, sizeof(buf));
		CHECK_EQ_STR(buf, "pid 2979 (unknown)");
		v.creator_known = true;
		snprintf(v.creator_comm, sizeof(v.creator_comm), "postgres");
		mw_ipc_creator_label(&v, buf, sizeof(buf));
		CHECK_EQ_STR(buf, "postgres[2979] (exited)");
		v.o.cpid = 0;
		mw_ipc_creator_label(&v, buf, sizeof(buf));
		CHECK_EQ_STR(buf, "-");
	}
	o = find_kind(&s, MW_IPC_msg);
	CHECK(o != NULL);
	if (o) {
		memset(&v, 0, sizeof(v));
		v.o = *o;
		CHECK_EQ_STR(mw_ipc_attach_label(o, buf, sizeof(buf)), "-");
		mw_ipc_creator_label(&v, buf, sizeof(buf));
		CHECK_EQ_STR(buf, "sender pid 1234 (unknown)");
	}
	o = find_kind(&s, MW_IPC_sem);
	CHECK(o != NULL);
	if (o) {
		CHECK_EQ_STR(mw_ipc_size_label(o, buf, sizeof(buf)), "3 sems");
		v.o = *o;
		v.o.size = 1;
		CHECK_EQ_STR(mw_ipc_size_label(&v.o, buf, sizeof(buf)), "1 sem");
	}
	o = find_kind(&s, MW_IPC_posix_shm);
	CHECK(o && strcmp(mw_ipc_size_label(o, buf, sizeof(buf)), "8.0 KiB") == 0);
	mw_ipc_set_release(&s);
}

int main(void)
{
	test_recorded();
	test_labels();
	test_odd();
	test_live_segment();
	return check_done();
}
