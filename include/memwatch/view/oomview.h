/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `memwatch oom` output: the kills with what grew before each, and the forecast. */
#ifndef MEMWATCH_VIEW_OOMVIEW_H
#define MEMWATCH_VIEW_OOMVIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "memwatch/analyse/oom.h"

void mw_oom_print_text(FILE *out, const struct mw_oom_history *h, const struct mw_oom_forecast *f,
                       const char *source_note, bool utf8);
void mw_oom_print_json(FILE *out, const struct mw_oom_history *h, const struct mw_oom_forecast *f,
                       const char *source_kind, const char *source_note);

#endif
