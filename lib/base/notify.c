/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/base/notify.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int mw_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen;
	socklen_t salen;
	int fd, r = 0;

	if (!path || !*path)
		return 1;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace: no trailing NUL counted */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* MSG_DONTWAIT: a stuck manager must never block the tick. */
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa,
	           salen) < 0)
		r = -errno;
	close(fd);
	return r;
}

int mw_notifyf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return mw_notify(buf);
}

uint64_t mw_notify_watchdog_ns(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	uint64_t us, p;

	if (!usec || mw_parse_u64(usec, &us) < 0 || us == 0)
		return 0;
	if (pid && *pid && (mw_parse_u64(pid, &p) < 0 || (pid_t)p != getpid()))
		return 0;
	return us * 1000;
}
