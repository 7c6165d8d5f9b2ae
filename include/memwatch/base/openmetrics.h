/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing the Prometheus text exposition format (version 0.0.4): family
 * headers, label values escaped, hostile /proc text made valid UTF-8; and
 * turning that into OpenMetrics text for a scraper that asks for it.
 */
#ifndef MEMWATCH_OPENMETRICS_H
#define MEMWATCH_OPENMETRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "# HELP name help\n# TYPE name type\n" (help escaped per the format). */
void mw_om_family(FILE *out, const char *name, const char *type, const char *help);

/*
 * A label value: '\\', '"' and newline escaped; control characters and
 * invalid UTF-8 become U+FFFD so a comm cannot break the exposition.
 */
void mw_om_label_value(FILE *out, const char *v);

/* name{labels} value: labels is a NULL-terminated list of key, value pairs (or NULL). */
void mw_om_sample(FILE *out, const char *name, const char *const *labels, double value);
void mw_om_sample_i64(FILE *out, const char *name, const char *const *labels, int64_t value);

/*
 * The same exposition in OpenMetrics 1.0 text: a counter's family is named
 * without its _total suffix (its samples keep it), "untyped" becomes
 * "unknown", a '"' in HELP is escaped, and "# EOF" ends it. text is what
 * the functions above wrote. Returns 0 and a malloc'ed *out, or -ENOMEM.
 */
int mw_om_to_openmetrics(const char *text, size_t len, char **out, size_t *outlen);

#endif
