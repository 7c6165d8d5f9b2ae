/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void mw_log(int priority, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	/* Debug lines only on request: they are per tick and would flood the journal. */
	if (priority >= LOG_DEBUG && !getenv("MEMWATCH_DEBUG"))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so concurrent writers do not interleave mid-line. */
	fprintf(stderr, "<%d>%s\n", priority, line);
}
