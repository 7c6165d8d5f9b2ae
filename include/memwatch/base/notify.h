/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sd_notify protocol without libsystemd: one datagram of
 * newline-separated assignments to $NOTIFY_SOCKET (a path, or '@' for an
 * abstract socket). Without $NOTIFY_SOCKET it does nothing.
 */
#ifndef MEMWATCH_NOTIFY_H
#define MEMWATCH_NOTIFY_H

#include <stdint.h>

/* Send state ("READY=1\nSTATUS=..."). 0 sent, 1 no socket configured, -errno. */
int mw_notify(const char *state);

/* printf-style convenience. */
int mw_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The watchdog period systemd asked for ($WATCHDOG_USEC, honouring
 * $WATCHDOG_PID), in ns; 0 when none.
 */
uint64_t mw_notify_watchdog_ns(void);

#endif
