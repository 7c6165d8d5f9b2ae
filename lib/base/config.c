/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h" /* the build's: MW_DEFAULT_DB */
#include "memwatch/base/config.h"
#include "memwatch/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <string.h>

#define NS_PER_S 1000000000ull

void mw_config_defaults(struct mw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->interval_ns = 5 * NS_PER_S;
	c->slow_interval_ns = 60 * NS_PER_S;
	snprintf(c->database, sizeof(c->database), "%s", MW_DEFAULT_DB);
	c->retain_raw_ns = 48ull * 3600 * NS_PER_S;
	c->retain_minute_ns = 30ull * 86400 * NS_PER_S;
	c->retain_hour_ns = 365ull * 86400 * NS_PER_S;
	c->max_size_bytes = 1ull << 30;
	c->metrics_top = 20;
	c->nice = 10;
	c->malloc_arenas = 1;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int mw_config_parse_size(const char *s, uint64_t *out)
{
	static const char *const units[] = {"", "K", "M", "G", "T"};
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	for (size_t u = 0; u < MW_ARRAY_SIZE(units); u++) {
		size_t l = strlen(units[u]);
		const char *rest = end + l;
		if (strncasecmp(end, units[u], l) != 0)
			continue;
		if (*rest && strcasecmp(rest, "B") != 0 && strcasecmp(rest, "iB") != 0)
			continue;
		/* "1GB" reads as GiB: a cap is a budget, binary units are what people mean. */
		for (size_t k = 0; k < u; k++) {
			if (v > UINT64_MAX / 1024)
				return -ERANGE;
			v *= 1024;
		}
		*out = v;
		return 0;
	}
	return -EINVAL;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_secs(const char *v, double lo, double hi, uint64_t *ns)
{
	uint64_t x;

	if (mw_parse_duration(v, &x) < 0 || (double)x < lo * 1e9 || (double)x > hi * 1e9)
		return -EINVAL;
	*ns = x;
	return 0;
}

static int add_pattern(struct mw_config_patterns *p, const char *v, char *err, size_t errlen)
{
	if (!*v)
		return fail(err, errlen, "expected a glob pattern, got nothing");
	if (strlen(v) >= MW_CONFIG_PATTERN_MAX)
		return fail(err, errlen, "pattern longer than %d characters",
		            MW_CONFIG_PATTERN_MAX - 1);
	if (p->n == MW_CONFIG_MAX_PATTERNS)
		return fail(err, errlen, "more than %d patterns", MW_CONFIG_MAX_PATTERNS);
	snprintf(p->v[p->n++], MW_CONFIG_PATTERN_MAX, "%s", v);
	return 0;
}

/* Comma/space separated list, each item handed to fn. */
static int each_item(const char *v, int (*fn)(struct mw_config *, const char *, char *, size_t),
                     struct mw_config *c, char *err, size_t errlen)
{
	char buf[1024], *save = NULL;
	int r = 0;

	if (strlen(v) >= sizeof(buf))
		return fail(err, errlen, "list too long");
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *tok = strtok_r(buf, ", \t", &save); tok && r == 0;
	     tok = strtok_r(NULL, ", \t", &save))
		r = fn(c, tok, err, errlen);
	return r;
}

static int add_disabled(struct mw_config *c, const char *name, char *err, size_t errlen)
{
	if (strlen(name) >= sizeof(c->disabled[0]))
		return fail(err, errlen, "'%s' is not a source name", name);
	if (c->ndisabled == MW_CONFIG_MAX_SOURCES)
		return fail(err, errlen, "more than %d disabled sources", MW_CONFIG_MAX_SOURCES);
	snprintf(c->disabled[c->ndisabled++], sizeof(c->disabled[0]), "%s", name);
	return 0;
}

static int add_uid(uint32_t *v, size_t *n, const char *s, char *err, size_t errlen)
{
	uint64_t u;

	if (mw_parse_u64(s, &u) < 0 || u > UINT32_MAX - 1)
		return fail(err, errlen, "'%s' is not a numeric uid", s);
	if (*n == MW_CONFIG_MAX_UIDS)
		return fail(err, errlen, "more than %d uids", MW_CONFIG_MAX_UIDS);
	v[(*n)++] = (uint32_t)u;
	return 0;
}

static int add_include_uid(struct mw_config *c, const char *s, char *err, size_t errlen)
{
	return add_uid(c->include_uid, &c->ninclude_uid, s, err, errlen);
}

static int add_exclude_uid(struct mw_config *c, const char *s, char *err, size_t errlen)
{
	return add_uid(c->exclude_uid, &c->nexclude_uid, s, err, errlen);
}

/* host:port with a numeric IPv4 address or [v6]; resolved by the listener. */
static int check_listen(const char *v)
{
	const char *colon = strrchr(v, ':');
	uint64_t port;

	if (!*v)
		return 0;
	if (!colon || colon == v || mw_parse_u64(colon + 1, &port) < 0 || port == 0 || port > 65535)
		return -EINVAL;
	return colon - v < 100 ? 0 : -EINVAL;
}

static int set_duration_key(const char *key, const char *v, uint64_t *dst, double lo, double hi,
                            char *err, size_t errlen)
{
	if (parse_secs(v, lo, hi, dst) < 0)
		return fail(err, errlen,
		            "%s: '%s': expected a duration from %gs to %gs (e.g. 5s, 2m, 48h, 30d)",
		            key, v, lo, hi);
	return 0;
}

const char *const mw_config_keys[] = {
        "interval",      "slow_interval", "database",        "retain_raw",
        "retain_minute", "retain_hour",   "max_size",        "disable",
        "include_comm",  "exclude_comm",  "include_cmdline", "exclude_cmdline",
        "include_uid",   "exclude_uid",   "listen",          "metrics_top",
        "nice",          "mlockall",      "malloc_arenas",   NULL,
};

/*
 * Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions, the commonest typo), ignoring case; stops counting at
 * MW_CONFIG_KEY_MAX.
 */
#define MW_CONFIG_KEY_MAX 32
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned d[MW_CONFIG_KEY_MAX + 1][MW_CONFIG_KEY_MAX + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > MW_CONFIG_KEY_MAX || lb > MW_CONFIG_KEY_MAX)
		return UINT32_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = tolower((unsigned char)a[i - 1]) !=
			                tolower((unsigned char)b[j - 1]);
			unsigned v = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

const char *mw_config_suggest(const char *key)
{
	const char *best = NULL;
	unsigned best_d = 3; /* within 2 edits */

	for (size_t i = 0; mw_config_keys[i]; i++) {
		unsigned dist = edit_distance(key, mw_config_keys[i]);
		if (dist < best_d) {
			best_d = dist;
			best = mw_config_keys[i];
		}
	}
	return best;
}

int mw_config_set(struct mw_config *c, const char *key, const char *v, char *err, size_t errlen)
{
	int64_t n;
	uint64_t u;

	if (!strcmp(key, "interval"))
		return set_duration_key(key, v, &c->interval_ns, 0.1, 3600, err, errlen);
	if (!strcmp(key, "slow_interval"))
		return set_duration_key(key, v, &c->slow_interval_ns, 0.1, 86400, err, errlen);
	if (!strcmp(key, "retain_raw"))
		return set_duration_key(key, v, &c->retain_raw_ns, 60, 3650.0 * 86400, err, errlen);
	if (!strcmp(key, "retain_minute"))
		return set_duration_key(key, v, &c->retain_minute_ns, 60, 3650.0 * 86400, err,
		                        errlen);
	if (!strcmp(key, "retain_hour"))
		return set_duration_key(key, v, &c->retain_hour_ns, 3600, 3650.0 * 86400, err,
		                        errlen);
	if (!strcmp(key, "database")) {
		if (v[0] != '/' || strlen(v) >= sizeof(c->database))
			return fail(err, errlen, "database: '%s': expected an absolute file path",
			            v);
		snprintf(c->database, sizeof(c->database), "%s", v);
		return 0;
	}
	if (!strcmp(key, "max_size")) {
		if (mw_config_parse_size(v, &u) < 0 || u < (1u << 20))
			return fail(
			        err, errlen,
			        "max_size: '%s': expected a size of at least 1M (e.g. 512M, 1G)",
			        v);
		c->max_size_bytes = u;
		return 0;
	}
	if (!strcmp(key, "disable"))
		return each_item(v, add_disabled, c, err, errlen);
	if (!strcmp(key, "include_comm"))
		return add_pattern(&c->include_comm, v, err, errlen);
	if (!strcmp(key, "exclude_comm"))
		return add_pattern(&c->exclude_comm, v, err, errlen);
	if (!strcmp(key, "include_cmdline"))
		return add_pattern(&c->include_cmdline, v, err, errlen);
	if (!strcmp(key, "exclude_cmdline"))
		return add_pattern(&c->exclude_cmdline, v, err, errlen);
	if (!strcmp(key, "include_uid"))
		return each_item(v, add_include_uid, c, err, errlen);
	if (!strcmp(key, "exclude_uid"))
		return each_item(v, add_exclude_uid, c, err, errlen);
	if (!strcmp(key, "listen")) {
		if (strcmp(v, "off") == 0)
			v = "";
		if (check_listen(v) < 0)
			return fail(
			        err, errlen,
			        "listen: '%s': expected ADDRESS:PORT (e.g. 127.0.0.1:9464) or off",
			        v);
		snprintf(c->listen, sizeof(c->listen), "%s", v);
		return 0;
	}
	if (!strcmp(key, "metrics_top")) {
		if (mw_parse_u64(v, &u) < 0 || u > 1000)
			return fail(err, errlen, "metrics_top: '%s': expected 0 to 1000", v);
		c->metrics_top = (unsigned)u;
		return 0;
	}
	if (!strcmp(key, "nice")) {
		if (mw_parse_i64(v, &n) < 0 || n < -20 || n > 19)
			return fail(err, errlen, "nice: '%s': expected -20 to 19", v);
		c->nice = (int)n;
		return 0;
	}
	if (!strcmp(key, "mlockall")) {
		if (parse_bool(v, &c->mlockall) < 0)
			return fail(err, errlen, "mlockall: '%s': expected yes or no", v);
		return 0;
	}
	if (!strcmp(key, "malloc_arenas")) {
		if (mw_parse_u64(v, &u) < 0 || u < 1 || u > 64)
			return fail(err, errlen, "malloc_arenas: '%s': expected 1 to 64", v);
		c->malloc_arenas = (unsigned)u;
		return 0;
	}
	{
		const char *near = mw_config_suggest(key);
		if (near)
			fail(err, errlen, "unknown key '%s'; did you mean %s?", key, near);
		else
			fail(err, errlen, "unknown key '%s'", key);
	}
	return -ENOENT;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int parse_line(struct mw_config *c, char *line, char *err, size_t errlen)
{
	char *eq, *key, *val, *hash;

	/* '#' starts a comment only at the start of a line or after blanks, so globs keep '#'. */
	for (hash = line; (hash = strchr(hash, '#')); hash++)
		if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
			*hash = '\0';
			break;
		}
	line = trim(line);
	if (!*line)
		return 0;
	eq = strchr(line, '=');
	if (!eq)
		return fail(err, errlen, "expected 'key = value', got '%.60s'", line);
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (!*key)
		return fail(err, errlen, "missing key before '='");
	if (strlen(val) >= 2 && val[0] == '"' && val[strlen(val) - 1] == '"') {
		val[strlen(val) - 1] = '\0';
		val++;
	}
	return mw_config_set(c, key, val, err, errlen);
}

/* Room kept at the end of err for the count of errors that did not fit. */
#define MORE_ROOM 40

/* Append "name:line: why" as a line of err; counts it in *dropped when it does not fit. */
static void add_error(char *err, size_t errlen, size_t *used, unsigned *dropped, const char *name,
                      unsigned lineno, const char *why)
{
	size_t room = errlen > MORE_ROOM ? errlen - MORE_ROOM : errlen;
	int n;

	if (!err || !errlen)
		return;
	if (*used >= room || *dropped) {
		(*dropped)++;
		return;
	}
	n = snprintf(err + *used, room - *used, "%s%s:%u: %s", *used ? "\n" : "", name, lineno,
	             why);
	if (n < 0 || (size_t)n >= room - *used) {
		err[*used] = '\0'; /* no half line */
		(*dropped)++;
		return;
	}
	*used += (size_t)n;
}

int mw_config_parse(const char *text, const char *name, struct mw_config *c, char *err,
                    size_t errlen)
{
	struct mw_config *tmp = malloc(sizeof(*tmp));
	char why[512], line[4096];
	const char *p = text;
	unsigned lineno = 0, dropped = 0;
	size_t used = 0;
	int r = 0;

	if (!tmp)
		return -ENOMEM;
	if (err && errlen)
		err[0] = '\0';
	*tmp = *c;
	/* Every line is checked, so one --check-config run shows every mistake. */
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		why[0] = '\0';
		if (len >= sizeof(line)) {
			snprintf(why, sizeof(why), "line longer than %zu bytes", sizeof(line) - 1);
		} else if (memchr(p, '\0', len)) {
			snprintf(why, sizeof(why), "NUL byte in the line");
		} else {
			memcpy(line, p, len);
			line[len] = '\0';
			if (parse_line(tmp, line, why, sizeof(why)) == 0)
				why[0] = '\0';
			else if (!why[0])
				snprintf(why, sizeof(why), "invalid line");
		}
		if (why[0]) {
			add_error(err, errlen, &used, &dropped, name, lineno, why);
			r = -EINVAL;
		}
		p = nl ? nl + 1 : p + len;
	}
	if (dropped && err && errlen > MORE_ROOM)
		snprintf(err + used, errlen - used, "%s... and %u more", used ? "\n" : "", dropped);
	if (r == 0)
		*c = *tmp;
	free(tmp);
	return r;
}

int mw_config_load(const char *path, struct mw_config *c, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int r = mw_read_file_alloc(path, &text, &len);

	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	if (strlen(text) != len) {
		snprintf(err, errlen, "%s: binary file (NUL byte)", path);
		free(text);
		return -EINVAL;
	}
	r = mw_config_parse(text, path, c, err, errlen);
	free(text);
	return r;
}

static bool any_match(const struct mw_config_patterns *p, const char *s)
{
	for (size_t i = 0; i < p->n; i++)
		if (fnmatch(p->v[i], s, 0) == 0)
			return true;
	return false;
}

static bool uid_in(const uint32_t *v, size_t n, uint32_t uid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == uid)
			return true;
	return false;
}

bool mw_config_proc_wanted(const struct mw_config *c, const char *comm, const char *cmdline,
                           uint32_t uid)
{
	bool has_include = c->include_comm.n || c->include_cmdline.n || c->ninclude_uid;

	comm = comm ? comm : "";
	cmdline = cmdline ? cmdline : "";
	if (any_match(&c->exclude_comm, comm) || any_match(&c->exclude_cmdline, cmdline) ||
	    uid_in(c->exclude_uid, c->nexclude_uid, uid))
		return false;
	if (!has_include)
		return true;
	return any_match(&c->include_comm, comm) || any_match(&c->include_cmdline, cmdline) ||
	       uid_in(c->include_uid, c->ninclude_uid, uid);
}

bool mw_config_disabled(const struct mw_config *c, const char *name)
{
	for (size_t i = 0; i < c->ndisabled; i++)
		if (!strcmp(c->disabled[i], name))
			return true;
	return false;
}
