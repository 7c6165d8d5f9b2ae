/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/limits: recorded text, and a real process whose limits we set. */
#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"
#include "memwatch/base/util.h"
#include "memwatch/collect/limits.h"

static void test_parse(void)
{
	static const char text[] =
	        "Limit                     Soft Limit           Hard Limit           Units     \n"
	        "Max cpu time              unlimited            unlimited            seconds   \n"
	        "Max stack size            8388608              unlimited            bytes     \n"
	        "Max processes             96362                96362                processes \n"
	        "Max open files            2047                 524288               files     \n"
	        "Max open filesystems      1                    1                    bogus     \n";
	struct mw_proc_limits l;

	mw_proc_limits_parse(text, &l);
	CHECK(l.readable);
	CHECK_EQ_I64(l.nofile_soft, 2047);
	CHECK_EQ_I64(l.nofile_hard, 524288);
	CHECK_EQ_I64(l.stack_soft, 8388608);
	CHECK_EQ_I64(l.nproc_soft, 96362);
	mw_proc_limits_parse("Max open files            unlimited            unlimited\n", &l);
	CHECK_EQ_I64(l.nofile_soft, MW_UNKNOWN);
	CHECK_EQ_I64(l.stack_soft, MW_UNKNOWN);
}

static void test_live(void)
{
	struct rlimit rl = {.rlim_cur = 77, .rlim_max = 99};
	struct mw_proc_limits l, again;

	CHECK_EQ_I64(setrlimit(RLIMIT_NOFILE, &rl), 0);
	CHECK_EQ_I64(mw_proc_limits_read("", getpid(), &l), 0);
	CHECK(l.readable);
	CHECK_EQ_I64(l.nofile_soft, 77);
	CHECK_EQ_I64(l.nofile_hard, 99);
	CHECK_EQ_I64(mw_proc_limits_read("", getpid(), &again), 0);
	CHECK(mw_proc_limits_equal(&l, &again));
	rl.rlim_cur = 50;
	CHECK_EQ_I64(setrlimit(RLIMIT_NOFILE, &rl), 0);
	CHECK_EQ_I64(mw_proc_limits_read("", getpid(), &again), 0);
	CHECK(!mw_proc_limits_equal(&l, &again));
	/* A pid that cannot exist: gone, as the slow tier expects. */
	CHECK_EQ_I64(mw_proc_limits_read("", 0x3fffffff, &l), -ESRCH);
	CHECK(!l.readable);
}

int main(void)
{
	test_parse();
	test_live();
	return check_done();
}
