/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/base/caps.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static int last_cap(void)
{
	char buf[16];
	int64_t v;

	if (mw_read_file("/proc/sys/kernel/cap_last_cap", buf, sizeof(buf), NULL) < 0)
		return CAP_LAST_CAP;
	buf[strcspn(buf, "\n")] = '\0';
	return mw_parse_i64(buf, &v) == 0 && v > 0 && v < 64 ? (int)v : CAP_LAST_CAP;
}

int mw_caps_get(uint64_t *effective, uint64_t *permitted)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	if (effective)
		*effective = d[0].effective | (uint64_t)d[1].effective << 32;
	if (permitted)
		*permitted = d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

int mw_caps_keep_only(uint64_t keep)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	uint64_t eff, perm;
	int last = last_cap(), r;

	r = mw_caps_get(&eff, &perm);
	if (r < 0)
		return r;
	keep &= perm;
	/*
	 * The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * goes next. Under systemd the unit's CapabilityBoundingSet already
	 * did this, without giving us CAP_SETPCAP: then there is nothing to do.
	 */
	for (int c = 0; c <= last && (eff & MW_CAP(CAP_SETPCAP)); c++)
		if (!(keep & MW_CAP(c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

void mw_caps_format(uint64_t mask, char *buf, size_t cap)
{
	static const struct {
		int c;
		const char *n;
	} names[] = {
	        {CAP_CHOWN, "cap_chown"},
	        {CAP_DAC_OVERRIDE, "cap_dac_override"},
	        {CAP_DAC_READ_SEARCH, "cap_dac_read_search"},
	        {CAP_FOWNER, "cap_fowner"},
	        {CAP_KILL, "cap_kill"},
	        {CAP_SETPCAP, "cap_setpcap"},
	        {CAP_NET_BIND_SERVICE, "cap_net_bind_service"},
	        {CAP_NET_ADMIN, "cap_net_admin"},
	        {CAP_IPC_LOCK, "cap_ipc_lock"},
	        {CAP_SYS_PTRACE, "cap_sys_ptrace"},
	        {CAP_SYS_ADMIN, "cap_sys_admin"},
	        {CAP_SYS_NICE, "cap_sys_nice"},
	        {CAP_SYS_RESOURCE, "cap_sys_resource"},
	        {CAP_PERFMON, "cap_perfmon"},
	        {CAP_BPF, "cap_bpf"},
	};
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < MW_ARRAY_SIZE(names) && o < cap; i++)
		if (mask & MW_CAP(names[i].c)) {
			o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? "," : "", names[i].n);
			mask &= ~MW_CAP(names[i].c);
		}
	if (mask && o < cap)
		snprintf(buf + o, cap - o, "%s+0x%llx", o ? "," : "", (unsigned long long)mask);
	else if (!o && cap)
		snprintf(buf, cap, "none");
}
