/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Human formatting (sizes, rates, durations) and the two escapers every
 * string from /proc goes through before it reaches a terminal or JSON.
 */
#ifndef MEMWATCH_FORMAT_H
#define MEMWATCH_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "0 B", "512 B", "4.0 KiB", "1.5 GiB"; negative values get a sign. MW_UNKNOWN prints "-". */
const char *mw_fmt_bytes(char *buf, size_t cap, int64_t bytes);

/* Signed, with explicit "+": "+1.2 MiB". */
const char *mw_fmt_bytes_delta(char *buf, size_t cap, double bytes);

/* "45s", "12m", "3h 20m", "2d 4h". */
const char *mw_fmt_duration(char *buf, size_t cap, uint64_t ns);

/* Local wall-clock "YYYY-MM-DD HH:MM:SS". */
const char *mw_fmt_time(char *buf, size_t cap, uint64_t t_ns);

/*
 * Terminal-safe copy of untrusted bytes: control characters become
 * \n \t \r \e or \xNN, a backslash becomes \\, bytes that are not valid
 * UTF-8 become \xNN. With utf8 false (non-UTF-8 locale) every byte >= 0x80
 * is escaped too. Always NUL-terminates; truncates at a character
 * boundary. Returns the number of bytes written (without the NUL).
 */
size_t mw_escape_term(const char *in, size_t len, char *out, size_t cap, bool utf8);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
int mw_utf8_seq_len(const unsigned char *s, size_t avail);

/*
 * Write s as a JSON string literal (with quotes). Control characters use
 * \uXXXX; each byte that is not part of valid UTF-8 becomes U+FFFD, so the
 * document stays valid. That loses the byte: mw_json_str (json.h) adds the
 * raw bytes beside it.
 */
void mw_json_string(FILE *f, const char *s);

/* True when every byte of s belongs to a valid UTF-8 sequence. */
bool mw_utf8_valid(const char *s);

/*
 * Write untrusted bytes as HTML text: & < > " ' as entities, control
 * characters and bytes that are not valid UTF-8 as the text \xNN.
 */
void mw_html_escape(FILE *f, const char *s);

#endif
