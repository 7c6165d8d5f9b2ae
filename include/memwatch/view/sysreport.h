/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch report --system and memwatch ipc: rendering (text, JSON,
 * HTML) of a mw_sysview with its hypotheses, tunable advice and OOM
 * forecast. Gathering is in store/sysread.c (and cli/syslive.c live); the
 * rules in syshyp.c; their evaluation into a mw_sysreport in
 * analyse/sysreport.h.
 */
#ifndef MEMWATCH_SYSREPORT_H
#define MEMWATCH_SYSREPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "memwatch/analyse/sysreport.h"
#include "memwatch/analyse/sysview.h"

void mw_sysreport_print_text(FILE *f, const struct mw_sysreport *r, bool utf8);
void mw_sysreport_print_json(FILE *f, const struct mw_sysreport *r);
void mw_sysreport_print_html(FILE *f, const struct mw_sysreport *r);

/* memwatch ipc: every object, or only leak candidates. */
void mw_ipc_print_text(FILE *f, const struct mw_sysview *v, bool orphans_only,
                       const char *source_note, bool utf8);
void mw_ipc_print_json(FILE *f, const struct mw_sysview *v, bool orphans_only,
                       const char *source_note);

/*
 * The names memwatch ipc prints, which top's IPC view shows too: the
 * object ("id N key 0xK", /dev/shm/NAME, /dev/mqueue/NAME), its creator
 * (or sender, or a holder; "-" when nobody is known), its size (a
 * semaphore set's count of semaphores) and its attachments ("-" when the
 * kind has none).
 */
void mw_ipc_label(const struct mw_ipc_obj *o, char *buf, size_t cap);
void mw_ipc_creator_label(const struct mw_ipc_view *o, char *buf, size_t cap);
const char *mw_ipc_size_label(const struct mw_ipc_obj *o, char *buf, size_t cap);
const char *mw_ipc_attach_label(const struct mw_ipc_obj *o, char *buf, size_t cap);

#endif
