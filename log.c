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
 * Where messages go once the packet loop runs: standard error in the
 * foreground, syslog(3) as a daemon.  Stages below flowprobe.c report
 * through these so that a detached probe is not silent.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "flowprobe.h"

static int	 log_to_syslog;

static void	 log_vmsg(int, int, const char *, va_list)
		    __attribute__((__format__(__printf__, 3, 0)));

/* After daemon(3): openlog now, while /var/run/log can still be opened. */
void
log_syslog(void)
{
	openlog("flowprobe", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_to_syslog = 1;
}

static void
log_vmsg(int pri, int errnum, const char *fmt, va_list ap)
{
	char msg[1024];

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_syslog) {
		if (errnum != 0)
			syslog(pri, "%s: %s", msg, strerror(errnum));
		else
			syslog(pri, "%s", msg);
		return;
	}
	if (errnum != 0)
		fprintf(stderr, "flowprobe: %s: %s\n", msg, strerror(errnum));
	else
		fprintf(stderr, "flowprobe: %s\n", msg);
}

/* warn(3) */
void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int errnum = errno;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, errnum, fmt, ap);
	va_end(ap);
}

/* warnx(3) */
void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

/* The summary and other news that is not a problem. */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}
