/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A process whose name and command line are hostile to terminals: an
 * escape sequence that clears the screen, newline, tab and bytes that are
 * not UTF-8. It re-executes itself with such an argv, then sets its comm
 * with prctl(PR_SET_NAME). Prints "ready PID" and sleeps for --for seconds.
 * Viewers must show these escaped (\e[2J \n \t \xff), never raw.
 */
#include "common.h"

#include <sys/prctl.h>

#define HOSTILE_COMM                                                                               \
	"\x1b[2J\n\t\xff"                                                                          \
	"evil"
#define HOSTILE_ARG0                                                                               \
	"hostile\x1b[2J\n\t\xff\xfe"                                                               \
	"name"
#define HOSTILE_ARG1 "--x\x1b]0;pwned\x07\t\xc3\x28"

int main(int argc, char **argv)
{
	double duration = wl_arg(argc, argv, "--for", 600);
	char dur[32];

	if (argc < 2 || strcmp(argv[1], "--child") != 0) {
		char *args[] = {HOSTILE_ARG0, "--child", HOSTILE_ARG1, "--for", dur, NULL};

		snprintf(dur, sizeof(dur), "%g", duration);
		execv("/proc/self/exe", args);
		perror("hostile_name: execv /proc/self/exe");
		return 1;
	}
	if (prctl(PR_SET_NAME, HOSTILE_COMM, 0, 0, 0) < 0) {
		perror("hostile_name: prctl(PR_SET_NAME)");
		return 1;
	}
	wl_ready();
	wl_sleep_until(wl_now() + duration);
	return 0;
}
