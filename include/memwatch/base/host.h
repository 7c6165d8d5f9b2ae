/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Constants of the running kernel that identify where and when data was
 * recorded: the host name, the boot id, the boot time and USER_HZ. Not observations of
 * memory, so every layer may ask (the store keys process identity on them).
 */
#ifndef MEMWATCH_BASE_HOST_H
#define MEMWATCH_BASE_HOST_H

#include <stddef.h>
#include <stdint.h>

/* USER_HZ and boot time, for turning start_ticks into wall-clock time. */
long mw_clock_ticks_per_sec(void);
int mw_boot_time(const char *root, uint64_t *btime_s);

/* The kernel's per-boot random id, so (pid, start) is unique across reboots. */
int mw_boot_id(const char *root, char *buf, size_t cap);

/*
 * The host's name (the UTS namespace's, as /proc/sys/kernel/hostname
 * under root says; gethostname when that is unreadable on the live system).
 * -EFBIG when it does not fit in cap.
 */
int mw_hostname(const char *root, char *buf, size_t cap);

#endif
