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
 * libFuzzer target for options.c.  The input, split on NUL bytes, is
 * the command line after "flowprobe" (at most FZ_MAXARGS arguments, each
 * in its own exactly sized copy so that ASan sees a read past one).
 * getopt(3) is reset for every input.  A parse that succeeds must leave
 * struct options within the limits the manual gives; one that fails
 * must leave one message and EINVAL.
 */

#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowprobe.h"
#include "capture.h"

#define FZ_MAXARGS	32
#define FZ_ERRLEN	80	/* short, so that long messages are cut */

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 ours(const char *);
static void	 check(const struct options *);

static char	 progname[] = "flowprobe";

/*
 * The arguments as allocated: the parser may cut them (-i 3:em0) and
 * getopt(3) may permute argv.
 */
static char	*args[FZ_MAXARGS];
static size_t	 arglens[FZ_MAXARGS];
static int	 nargs;

/* Does s point into one of the arguments? */
static int
ours(const char *s)
{
	uintptr_t a, p;
	int i;

	p = (uintptr_t)s;
	for (i = 0; i < nargs; i++) {
		a = (uintptr_t)args[i];
		if (p >= a && p <= a + arglens[i])
			return (1);
	}
	return (0);
}

/* What a successful parse promises main(). */
static void
check(const struct options *o)
{
	int i;

	if ((o->o_file == NULL) == (o->o_ifname == NULL))
		__builtin_trap();
	if (o->o_file != NULL && !ours(o->o_file))
		__builtin_trap();
	if (o->o_ifname != NULL && (!ours(o->o_ifname) ||
	    o->o_ifname[0] == '\0' || strlen(o->o_ifname) >= IF_NAMESIZE))
		__builtin_trap();
	if (o->o_filterfile != NULL && !ours(o->o_filterfile))
		__builtin_trap();
	if (o->o_ncollectors < 0 ||
	    o->o_ncollectors > EXPORT_MAXCOLLECTORS)
		__builtin_trap();
	for (i = 0; i < o->o_ncollectors; i++)
		if (o->o_collectors[i] == NULL ||
		    !ours(o->o_collectors[i]))
			__builtin_trap();
	if (o->o_daemon && o->o_ncollectors == 0)
		__builtin_trap();
	if (o->o_user == NULL || o->o_user[0] == '\0')
		__builtin_trap();
	if (o->o_snaplen < 64 || o->o_snaplen > 65535)
		__builtin_trap();
	if (o->o_ecc.ec_version != 5 && o->o_ecc.ec_version != 9 &&
	    o->o_ecc.ec_version != 10)
		__builtin_trap();
	if (o->o_fcc.fc_maxflows < 1 || o->o_fcc.fc_inactive == 0 ||
	    o->o_fcc.fc_active == 0 || o->o_ecc.ec_flush_ms == 0 ||
	    o->o_ecc.ec_tmpl_ms == 0 || o->o_ecc.ec_tmpl_count == 0)
		__builtin_trap();
	/* -r takes none of the live-capture options. */
	if (o->o_file != NULL && (o->o_daemon || o->o_filterfile != NULL ||
	    o->o_window != 0 || o->o_promisc == 0))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct options o;
	char *argv[FZ_MAXARGS + 2];
	char errbuf[FZ_ERRLEN];
	const uint8_t *p, *end, *nul;
	size_t len;
	int argc, i, rv;

	argv[0] = progname;
	argc = 1;
	nargs = 0;
	p = data;
	end = data + size;
	while (p < end && argc <= FZ_MAXARGS) {
		nul = memchr(p, '\0', (size_t)(end - p));
		len = nul != NULL ? (size_t)(nul - p) : (size_t)(end - p);
		if ((argv[argc] = malloc(len + 1)) == NULL)
			abort();
		args[nargs] = argv[argc];
		arglens[nargs++] = len;
		memcpy(argv[argc], p, len);
		argv[argc][len] = '\0';
		argc++;
		if (nul == NULL)
			break;
		p = nul + 1;
	}
	argv[argc] = NULL;

	/* glibc and musl start over at optind 0; the BSDs use optreset. */
#ifdef __GLIBC__
	optind = 0;
#else
	optreset = 1;
	optind = 1;
#endif
	memset(errbuf, 'x', sizeof(errbuf));
	errno = 0;
	rv = options_parse(argc, argv, &o, errbuf, sizeof(errbuf));
	if (rv == 0)
		check(&o);
	else if (rv != -1 || errno != EINVAL || errbuf[0] == '\0' ||
	    memchr(errbuf, '\0', sizeof(errbuf)) == NULL)
		__builtin_trap();

	for (i = 0; i < nargs; i++)
		free(args[i]);
	return (0);
}
