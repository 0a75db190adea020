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
 * The command line, parsed into a struct options and checked, with no
 * side effect: nothing is opened, resolved or printed, and nothing
 * exits, so a fuzzer can drive it.  main() reports the one message and
 * acts on the result.
 */

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowprobe.h"
#include "capture.h"

#define DEFAULT_MAXFLOWS	131072
#define MAX_MAXFLOWS		(64 * 1024 * 1024)
#define DEFAULT_VERSION		9
#define DEFAULT_INACTIVE	15
#define DEFAULT_ACTIVE		1800
#define DEFAULT_TCPEND		5
#define DEFAULT_FLUSH		1
#define DEFAULT_TMPL_SECONDS	600
#define DEFAULT_TMPL_COUNT	20
#define DEFAULT_USER		"nobody"
/*
 * Datagrams a second to a collector: what nfcapd with its default 208 KB
 * socket buffer took from a million-flow flush without loss here, with
 * room for its stalls (about 100,000 records a second).
 */
#define DEFAULT_RATE		4000
#define MAX_RATE		10000000
#define MAX_BURST		1000000
#define MAX_TIMEOUT		(7 * 24 * 3600)
#define MAX_WINDOW		(366 * 24 * 3600)

static int	 opt_error(char *, size_t, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
static int	 opt_number(const char *, long long, long long, const char *,
		    long long *, char *, size_t);
static int	 opt_timeouts(char *, struct options *, char *, size_t);
static int	 opt_template(char *, struct options *, char *, size_t);
static int	 opt_rate(char *, struct options *, char *, size_t);
static int	 opt_interface(char *, struct options *, char *, size_t);

static int
opt_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return (-1);
}

/* strtonum(3) with the option named in the message; glibc lacks it. */
static int
opt_number(const char *s, long long min, long long max, const char *what,
    long long *v, char *errbuf, size_t errlen)
{
	char *end;

	if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return (opt_error(errbuf, errlen, "%s: \"%s\" is not a number",
		    what, s));
	errno = 0;
	*v = strtoll(s, &end, 10);
	if (*end != '\0')
		return (opt_error(errbuf, errlen, "%s: \"%s\" is not a number",
		    what, s));
	if (errno == ERANGE || *v < min || *v > max)
		return (opt_error(errbuf, errlen, "%s: %s is out of range "
		    "(%lld to %lld)", what, s, min, max));
	return (0);
}

/* -t inactive=15,active=1800,tcpend=5,flush=1 */
static int
opt_timeouts(char *arg, struct options *o, char *errbuf, size_t errlen)
{
	char *item, *value;
	long long secs;

	while ((item = strsep(&arg, ",")) != NULL) {
		if ((value = strchr(item, '=')) == NULL)
			return (opt_error(errbuf, errlen,
			    "-t: \"%s\" is not name=seconds", item));
		*value++ = '\0';
		if (strcmp(item, "inactive") == 0) {
			if (opt_number(value, 1, MAX_TIMEOUT, "-t inactive",
			    &secs, errbuf, errlen) == -1)
				return (-1);
			o->o_fcc.fc_inactive = secs * 1000;
		} else if (strcmp(item, "active") == 0) {
			if (opt_number(value, 1, MAX_TIMEOUT, "-t active",
			    &secs, errbuf, errlen) == -1)
				return (-1);
			o->o_fcc.fc_active = secs * 1000;
		} else if (strcmp(item, "tcpend") == 0) {
			if (opt_number(value, 0, MAX_TIMEOUT, "-t tcpend",
			    &secs, errbuf, errlen) == -1)
				return (-1);
			o->o_fcc.fc_tcpend = secs * 1000;
		} else if (strcmp(item, "flush") == 0) {
			if (opt_number(value, 1, 60, "-t flush", &secs,
			    errbuf, errlen) == -1)
				return (-1);
			o->o_ecc.ec_flush_ms = secs * 1000;
		} else
			return (opt_error(errbuf, errlen, "-t: unknown timeout "
			    "\"%s\" (inactive, active, tcpend, flush)", item));
	}
	return (0);
}

/* -T seconds[:datagrams] */
static int
opt_template(char *arg, struct options *o, char *errbuf, size_t errlen)
{
	char *count;
	long long v;

	if ((count = strchr(arg, ':')) != NULL) {
		*count++ = '\0';
		if (opt_number(count, 1, 1000000, "-T datagrams", &v, errbuf,
		    errlen) == -1)
			return (-1);
		o->o_ecc.ec_tmpl_count = v;
	}
	if (opt_number(arg, 1, 86400, "-T seconds", &v, errbuf, errlen) == -1)
		return (-1);
	o->o_ecc.ec_tmpl_ms = v * 1000;
	return (0);
}

/* -R rate[:burst], datagrams a second and at once. */
static int
opt_rate(char *arg, struct options *o, char *errbuf, size_t errlen)
{
	char *burst;
	long long v;

	if ((burst = strchr(arg, ':')) != NULL) {
		*burst++ = '\0';
		if (opt_number(burst, 1, MAX_BURST, "-R burst", &v, errbuf,
		    errlen) == -1)
			return (-1);
		o->o_burst = v;
	}
	if (opt_number(arg, 0, MAX_RATE, "-R", &v, errbuf, errlen) == -1)
		return (-1);
	o->o_rate = v;
	return (0);
}

/* -i [ifindex:]interface; without an index, the kernel's. */
static int
opt_interface(char *arg, struct options *o, char *errbuf, size_t errlen)
{
	char *colon;
	long long v;

	colon = strchr(arg, ':');
	if (colon != NULL && colon != arg &&
	    strspn(arg, "0123456789") == (size_t)(colon - arg)) {
		*colon = '\0';
		if (opt_number(arg, 1, UINT32_MAX, "-i ifindex", &v, errbuf,
		    errlen) == -1)
			return (-1);
		o->o_ifindex = v;
		arg = colon + 1;
	}
	if (*arg == '\0' || strlen(arg) >= IF_NAMESIZE)
		return (opt_error(errbuf, errlen,
		    "-i: \"%s\" is not an interface name", arg));
	o->o_ifname = arg;
	return (0);
}

/*
 * Fills o from the command line, defaults first.  Returns 0, or -1 with
 * one message in errbuf: the caller adds the usage and exits EX_USAGE.
 */
int
options_parse(int argc, char *argv[], struct options *o, char *errbuf,
    size_t errlen)
{
	long long v;
	int ch;

	memset(o, 0, sizeof(*o));
	o->o_fcc.fc_maxflows = DEFAULT_MAXFLOWS;
	o->o_fcc.fc_inactive = DEFAULT_INACTIVE * 1000;
	o->o_fcc.fc_active = DEFAULT_ACTIVE * 1000;
	o->o_fcc.fc_tcpend = DEFAULT_TCPEND * 1000;
	o->o_ecc.ec_version = DEFAULT_VERSION;
	o->o_ecc.ec_domain = (uint32_t)getpid();
	o->o_ecc.ec_tmpl_ms = DEFAULT_TMPL_SECONDS * 1000;
	o->o_ecc.ec_tmpl_count = DEFAULT_TMPL_COUNT;
	o->o_ecc.ec_flush_ms = DEFAULT_FLUSH * 1000;
	o->o_promisc = 1;
	o->o_rate = DEFAULT_RATE;
	o->o_snaplen = CAPTURE_SNAPLEN;
	o->o_user = DEFAULT_USER;

	/* getopt(3) reports on its own; the message here is the one. */
	opterr = 0;
	while ((ch = getopt(argc, argv,
	    ":c:DE:F:i:m:n:pqR:r:s:T:t:u:V:w:")) != -1) {
		switch (ch) {
		case 'c':
			if (opt_number(optarg, 1, LLONG_MAX, "-c", &v, errbuf,
			    errlen) == -1)
				return (-1);
			o->o_maxpackets = v;
			break;
		case 'D':
			o->o_daemon = 1;
			break;
		case 'E':
			if (opt_number(optarg, 0, UINT32_MAX, "-E", &v, errbuf,
			    errlen) == -1)
				return (-1);
			o->o_ecc.ec_domain = v;
			break;
		case 'F':
			o->o_filterfile = optarg;
			break;
		case 'i':
			if (opt_interface(optarg, o, errbuf, errlen) == -1)
				return (-1);
			break;
		case 'm':
			if (opt_number(optarg, 1, MAX_MAXFLOWS, "-m", &v,
			    errbuf, errlen) == -1)
				return (-1);
			o->o_fcc.fc_maxflows = v;
			break;
		case 'n':
			if (o->o_ncollectors == EXPORT_MAXCOLLECTORS)
				return (opt_error(errbuf, errlen,
				    "-n: at most %d collectors",
				    EXPORT_MAXCOLLECTORS));
			o->o_collectors[o->o_ncollectors++] = optarg;
			break;
		case 'p':
			o->o_promisc = 0;
			break;
		case 'q':
			o->o_quiet = 1;
			break;
		case 'R':
			if (opt_rate(optarg, o, errbuf, errlen) == -1)
				return (-1);
			break;
		case 'r':
			o->o_file = optarg;
			break;
		case 's':
			if (opt_number(optarg, 64, 65535, "-s", &v, errbuf,
			    errlen) == -1)
				return (-1);
			o->o_snaplen = v;
			break;
		case 'T':
			if (opt_template(optarg, o, errbuf, errlen) == -1)
				return (-1);
			break;
		case 't':
			if (opt_timeouts(optarg, o, errbuf, errlen) == -1)
				return (-1);
			break;
		case 'u':
			if (*optarg == '\0')
				return (opt_error(errbuf, errlen,
				    "-u: empty user name"));
			o->o_user = optarg;
			break;
		case 'V':
			if (opt_number(optarg, 5, 10, "-V", &v, errbuf,
			    errlen) == -1)
				return (-1);
			if (v != 5 && v != 9 && v != 10)
				return (opt_error(errbuf, errlen,
				    "-V: version must be 5, 9 or 10"));
			o->o_ecc.ec_version = v;
			break;
		case 'w':
			if (opt_number(optarg, 1, MAX_WINDOW, "-w", &v, errbuf,
			    errlen) == -1)
				return (-1);
			o->o_window = v;
			break;
		case ':':
			return (opt_error(errbuf, errlen,
			    "-%c needs an argument", optopt));
		default:
			return (opt_error(errbuf, errlen, "unknown option -%c",
			    optopt));
		}
	}
	if (optind < argc)
		return (opt_error(errbuf, errlen, "unexpected argument \"%s\"",
		    argv[optind]));
	if ((o->o_file == NULL) == (o->o_ifname == NULL))
		return (opt_error(errbuf, errlen,
		    "give one input: -i interface or -r file"));
	if (o->o_file != NULL && (o->o_daemon || o->o_filterfile != NULL ||
	    o->o_window != 0 || o->o_promisc == 0 ||
	    o->o_snaplen != CAPTURE_SNAPLEN))
		return (opt_error(errbuf, errlen,
		    "-D, -F, -p, -s and -w need -i, not -r"));
	if (o->o_daemon && o->o_ncollectors == 0)
		return (opt_error(errbuf, errlen,
		    "-D needs a collector (-n)"));
	return (0);
}
