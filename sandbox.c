/*-
 * Copyright (c) 2026 The flowprobe authors.
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */


/*
 * Once the capture and the export sockets are set up, the process gives
 * up everything the packet loop does not need.  This file owns that last
 * step: Capsicum capability mode with each export socket limited to
 * sending, where the system has Capsicum; nothing yet elsewhere.  The
 * capture descriptor is limited by its backend (capture_lock).
 */

#if __has_include(<sys/capsicum.h>)
#include <sys/capsicum.h>

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "flowprobe.h"

static int	 limit_fd(int, cap_rights_t *);

/* ENOSYS: a kernel built without Capsicum; run on, as tcpdump does. */
static int
limit_fd(int fd, cap_rights_t *rights)
{
	if (cap_rights_limit(fd, rights) == -1 && errno != ENOSYS)
		return (-1);
	return (0);
}

int
sandbox_enter(const struct collectors *cs, char *errbuf, size_t errlen)
{
	cap_rights_t rights;
	int fd, i;

	/* Connected sockets: send(2) needs no name lookup. */
	for (i = 0; (fd = collector_fd(cs, i)) != -1; i++) {
		cap_rights_init(&rights, CAP_SEND);
		if (limit_fd(fd, &rights) == -1) {
			snprintf(errbuf, errlen, "cap_rights_limit: collector "
			    "socket");
			return (-1);
		}
	}
	cap_rights_init(&rights, CAP_WRITE, CAP_FSTAT, CAP_IOCTL);
	if (limit_fd(STDOUT_FILENO, &rights) == -1 ||
	    limit_fd(STDERR_FILENO, &rights) == -1) {
		snprintf(errbuf, errlen, "cap_rights_limit: standard output");
		return (-1);
	}
	/* Local time for printed flows needs the zone file read now. */
	tzset();
	if (cap_enter() == -1 && errno != ENOSYS) {
		snprintf(errbuf, errlen, "cap_enter");
		return (-1);
	}
	return (0);
}

#else /* no Capsicum */

#include <stddef.h>

#include "flowprobe.h"

int
sandbox_enter(const struct collectors *cs, char *errbuf, size_t errlen)
{
	(void)cs;
	(void)errbuf;
	(void)errlen;
	return (0);
}

#endif
