/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatchd.conf: "key = value" lines, '#' comments, documented in
 * memwatchd.conf(5). A file is parsed whole into a fresh struct, so a bad
 * file never half-applies: the caller keeps its old config.
 */
#ifndef MEMWATCH_CONFIG_H
#define MEMWATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MW_CONFIG_MAX_PATTERNS 32
#define MW_CONFIG_PATTERN_MAX  256
#define MW_CONFIG_MAX_UIDS     32
#define MW_CONFIG_MAX_SOURCES  16

struct mw_config_patterns {
	size_t n;
	char v[MW_CONFIG_MAX_PATTERNS][MW_CONFIG_PATTERN_MAX];
};

struct mw_config {
	uint64_t interval_ns;      /* interval */
	uint64_t slow_interval_ns; /* slow_interval */
	char database[4096];       /* database */
	uint64_t retain_raw_ns;    /* retain_raw */
	uint64_t retain_minute_ns; /* retain_minute */
	uint64_t retain_hour_ns;   /* retain_hour */
	uint64_t max_size_bytes;   /* max_size */
	size_t ndisabled;          /* disable = name, ... */
	char disabled[MW_CONFIG_MAX_SOURCES][32];
	struct mw_config_patterns include_comm, exclude_comm, include_cmdline, exclude_cmdline;
	size_t ninclude_uid, nexclude_uid;
	uint32_t include_uid[MW_CONFIG_MAX_UIDS], exclude_uid[MW_CONFIG_MAX_UIDS];
	char listen[128];     /* "" = off; "127.0.0.1:9464" */
	unsigned metrics_top; /* top-N processes in /metrics */
	int nice;             /* -20..19 */
	bool mlockall;
	unsigned malloc_arenas; /* M_ARENA_MAX when mlockall is on */
};

void mw_config_defaults(struct mw_config *c);

/* Every key the file takes, NULL-terminated. */
extern const char *const mw_config_keys[];

/* The known key within 2 edits (case ignored) of an unknown key, or NULL. */
const char *mw_config_suggest(const char *key);

/*
 * Set one key from text (the parser and command-line overrides both go
 * through here). Returns -EINVAL with the reason in err, -ENOENT for an
 * unknown key.
 */
int mw_config_set(struct mw_config *c, const char *key, const char *value, char *err,
                  size_t errlen);

/*
 * Parse text (named `name` in messages) on top of *c. On error *c is
 * unchanged and err holds every error, one "name:line: reason" per line
 * (then "... and N more" when err is too small for all of them).
 */
int mw_config_parse(const char *text, const char *name, struct mw_config *c, char *err,
                    size_t errlen);

/* Read and parse a file; -ENOENT (err says so) when it does not exist. */
int mw_config_load(const char *path, struct mw_config *c, char *err, size_t errlen);

/* Sizes: "1073741824", "512K", "64M", "1G", "1GiB", "2T". */
int mw_config_parse_size(const char *s, uint64_t *out);

/* Does the config let this process be recorded? Exclusions win over inclusions. */
bool mw_config_proc_wanted(const struct mw_config *c, const char *comm, const char *cmdline,
                           uint32_t uid);

/* Is the named daemon source or collector switched off by `disable`? */
bool mw_config_disabled(const struct mw_config *c, const char *name);

#endif
