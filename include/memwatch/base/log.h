/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging to stderr with syslog priority prefixes ("<3>") that journald
 * turns into priorities. The caller decides what is worth a line.
 */
#ifndef MEMWATCH_LOG_H
#define MEMWATCH_LOG_H

#include <syslog.h>

void mw_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define mw_err(...)    mw_log(LOG_ERR, __VA_ARGS__)
#define mw_warn(...)   mw_log(LOG_WARNING, __VA_ARGS__)
#define mw_notice(...) mw_log(LOG_NOTICE, __VA_ARGS__)
#define mw_info(...)   mw_log(LOG_INFO, __VA_ARGS__)
#define mw_debug(...)  mw_log(LOG_DEBUG, __VA_ARGS__)

#endif
