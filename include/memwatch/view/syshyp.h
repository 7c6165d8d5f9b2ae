/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The words of a system hypothesis (analyse/syshyp.h): its title,
 * subject, evidence lines and next step, rendered from its facts, and the
 * facts as JSON. The report (view/sysreport.h) prints these; the text is
 * raw (comm, cache and queue names included) and is escaped by the
 * caller for its medium.
 */
#ifndef MEMWATCH_VIEW_SYSHYP_H
#define MEMWATCH_VIEW_SYSHYP_H

#include <stddef.h>

#include "memwatch/analyse/syshyp.h"
#include "memwatch/base/json.h"

/*
 * Buffer sizes the report renders into: the longest line each part can
 * be is shorter, and these are the sizes the strings always had, so a
 * pathological name is cut where it always was.
 */
#define MW_SYSHYP_TITLE_MAX   1024
#define MW_SYSHYP_SUBJECT_MAX 320
#define MW_SYSFACT_TEXT_MAX   400
#define MW_SYSHYP_NEXT_MAX    400

/* Each returns buf. */
const char *mw_syshyp_title(const struct mw_syshyp *h, char *buf, size_t cap);
const char *mw_syshyp_subject(const struct mw_syshyp *h, char *buf, size_t cap);
const char *mw_syshyp_next_step(const struct mw_syshyp *h, char *buf, size_t cap);
/* One evidence line; "" for a headline kind (the title says it). */
const char *mw_sysfact_text(const struct mw_sysfact *f, char *buf, size_t cap);

/* f as an object under key (NULL inside an array): "kind" and its numbers. */
void mw_sysfact_json(struct mw_json *j, const char *key, const struct mw_sysfact *f);

#endif
