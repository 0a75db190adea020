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
 * flowprobe meters the flows in captured packets and exports them as
 * NetFlow v5, v9 or IPFIX to UDP collectors, or prints them.  This file
 * owns main(): the command line, the order in which the stages are set
 * up, the packet loop that drives capture -> decode -> cache -> export,
 * the signal flags, the summary and the exit status.
 */

#include <errno.h>
#include <err.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "flowprobe.h"

#define DEFAULT_MAXFLOWS	131072
#define MAX_MAXFLOWS		(64 * 1024 * 1024)
#define DEFAULT_VERSION		9
#define DEFAULT_INACTIVE	15
#define DEFAULT_ACTIVE		1800
#define DEFAULT_TCPEND		5
#define DEFAULT_FLUSH		1
#define DEFAULT_TMPL_SECONDS	600
#define DEFAULT_TMPL_COUNT	20
#define MAX_TIMEOUT		(7 * 24 * 3600)

/* How often, on the capture's clock, flows are checked for expiry. */
#define TICK_MS			1000

struct decode_stats {
	uint64_t	 ds_read;
	uint64_t	 ds_result[DECODE_UNSUPPORTED + 1];
};

/* What the cache's emit callback needs to hand a flow on. */
struct sink {
	struct exporter	*sk_exporter;	/* NULL: print flows instead */
	FILE		*sk_out;
	uint64_t	 sk_now;
};

static volatile sig_atomic_t quit;

static void	 usage(void) __attribute__((__noreturn__));
static void	 usage_error(const char *, ...)
		    __attribute__((__noreturn__, __format__(__printf__, 1, 2)));
static long long parse_number(const char *, long long, long long,
		    const char *);
static void	 parse_timeouts(char *, struct fc_conf *, struct export_conf *);
static void	 parse_template(char *, struct export_conf *);
static void	 add_collector(struct collectors *, const char *);
static void	 on_signal(int);
static void	 emit_flow(const struct flow *, enum flow_end, void *);
static int	 run_file(const char *, struct flowcache **,
		    const struct fc_conf *, const struct export_conf *,
		    struct collectors *, struct sink *, struct decode_stats *);
static void	 print_summary(const struct decode_stats *,
		    const struct flowcache *, const struct exporter *,
		    const struct collectors *);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: flowprobe [-q] [-E domain] [-m maxflows] "
	    "[-n collector[:port]]\n"
	    "                 [-T seconds[:datagrams]] "
	    "[-t name=seconds[,...]] [-V version]\n"
	    "                 -r file\n");
	exit(EX_USAGE);
}

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	usage();
}

/* strtonum(3) with the option named in the message; glibc lacks it. */
static long long
parse_number(const char *s, long long min, long long max, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		usage_error("%s: \"%s\" is not a number", what, s);
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		usage_error("%s: \"%s\" is not a number", what, s);
	if (errno == ERANGE || v < min || v > max)
		usage_error("%s: %s is out of range (%lld to %lld)", what, s,
		    min, max);
	return (v);
}

/* -t inactive=15,active=1800,tcpend=5,flush=1 */
static void
parse_timeouts(char *arg, struct fc_conf *fc, struct export_conf *ec)
{
	char *item, *value;
	long long secs;

	while ((item = strsep(&arg, ",")) != NULL) {
		if ((value = strchr(item, '=')) == NULL)
			usage_error("-t: \"%s\" is not name=seconds", item);
		*value++ = '\0';
		if (strcmp(item, "inactive") == 0) {
			secs = parse_number(value, 1, MAX_TIMEOUT, "-t inactive");
			fc->fc_inactive = secs * 1000;
		} else if (strcmp(item, "active") == 0) {
			secs = parse_number(value, 1, MAX_TIMEOUT, "-t active");
			fc->fc_active = secs * 1000;
		} else if (strcmp(item, "tcpend") == 0) {
			secs = parse_number(value, 0, MAX_TIMEOUT, "-t tcpend");
			fc->fc_tcpend = secs * 1000;
		} else if (strcmp(item, "flush") == 0) {
			secs = parse_number(value, 1, 60, "-t flush");
			ec->ec_flush_ms = secs * 1000;
		} else
			usage_error("-t: unknown timeout \"%s\" (inactive, "
			    "active, tcpend, flush)", item);
	}
}

/* -T seconds[:datagrams] */
static void
parse_template(char *arg, struct export_conf *ec)
{
	char *count;

	if ((count = strchr(arg, ':')) != NULL) {
		*count++ = '\0';
		ec->ec_tmpl_count = parse_number(count, 1, 1000000,
		    "-T datagrams");
	}
	ec->ec_tmpl_ms = parse_number(arg, 1, 86400, "-T seconds") * 1000;
}

static void
add_collector(struct collectors *cs, const char *spec)
{
	char errbuf[256];

	if (cs->cs_count >= EXPORT_MAXCOLLECTORS)
		usage_error("-n: at most %d collectors", EXPORT_MAXCOLLECTORS);
	if (collector_add(cs, spec, errbuf, sizeof(errbuf)) == 0)
		return;
	switch (errno) {
	case EINVAL:
		usage_error("-n: %s", errbuf);
	case EADDRNOTAVAIL:
		errx(EX_NOHOST, "%s", errbuf);
	default:
		errx(EX_OSERR, "%s", errbuf);
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
emit_flow(const struct flow *f, enum flow_end reason, void *arg)
{
	struct sink *sk = arg;

	if (sk->sk_exporter != NULL)
		export_flow(sk->sk_exporter, f, reason, sk->sk_now);
	else
		export_print_flow(sk->sk_out, f, reason);
}

/*
 * Meters a savefile.  The packets' clock drives everything, so expiry
 * and every exported time are those of the capture.  The clock never
 * runs backwards: an earlier timestamp counts as the latest seen.
 * Returns 0, or the exit status for a file that could not be read to
 * its end; whatever was read before is metered and exported either way.
 */
static int
run_file(const char *path, struct flowcache **fcp, const struct fc_conf *fcc,
    const struct export_conf *ecc, struct collectors *cs, struct sink *sk,
    struct decode_stats *ds)
{
	struct pcapfile *pf;
	struct fp_frame fr;
	struct fp_pkt pkt;
	struct flowcache *fc;
	char errbuf[512];
	uint64_t now, next_tick;
	int linktype, rc, status;

	if ((pf = pcapfile_open(path, errbuf, sizeof(errbuf))) == NULL) {
		warnx("%s", errbuf);
		return (errno == EINVAL ? EX_DATAERR : EX_NOINPUT);
	}
	linktype = pcapfile_linktype(pf);
	if ((fc = flowcache_create(fcc, emit_flow, sk)) == NULL)
		err(EX_OSERR, "flow cache of %u flows", fcc->fc_maxflows);
	*fcp = fc;

	status = 0;
	now = 0;
	next_tick = 0;
	while (quit == 0) {
		rc = pcapfile_next(pf, &fr, errbuf, sizeof(errbuf));
		if (rc == 0)
			break;
		if (rc < 0) {
			warnx("%s", errbuf);
			status = (errno == EINVAL ? EX_DATAERR : EX_IOERR);
			break;
		}
		if (fr.fr_time > now)
			now = fr.fr_time;
		sk->sk_now = now;
		/* The exporter's uptime starts with the capture. */
		if (cs->cs_count > 0 && sk->sk_exporter == NULL &&
		    (sk->sk_exporter = export_create(ecc, now, collector_send,
		    cs)) == NULL)
			err(EX_SOFTWARE, "exporter");
		/* Expire first, so records leave in the order they ended. */
		if (now >= next_tick) {
			flowcache_expire(fc, now);
			if (sk->sk_exporter != NULL)
				export_tick(sk->sk_exporter, now);
			next_tick = now + TICK_MS;
		}
		ds->ds_read++;
		rc = decode_frame(linktype, &fr, 0, &pkt);
		ds->ds_result[rc]++;
		if (rc == DECODE_OK)
			flowcache_update(fc, &pkt, now);
		else if (rc == DECODE_UNSUPPORTED) {
			warnx("%s: link type %d is not supported", path,
			    linktype);
			status = EX_DATAERR;
			break;
		}
	}
	pcapfile_close(pf);

	/* Flows whose time ran out before the last packet end as such. */
	flowcache_expire(fc, now);
	flowcache_flush(fc, FLOW_END_FORCED);
	if (sk->sk_exporter != NULL)
		export_flush(sk->sk_exporter, now);
	return (status);
}

static void
print_summary(const struct decode_stats *ds, const struct flowcache *fc,
    const struct exporter *ex, const struct collectors *cs)
{
	const struct fc_stats *fs;
	const struct export_stats *es;
	uint64_t flows;
	int i;

	fprintf(stderr, "flowprobe: %ju packets read: %ju metered, "
	    "%ju not IP, %ju truncated, %ju invalid, %ju unsupported\n",
	    (uintmax_t)ds->ds_read, (uintmax_t)ds->ds_result[DECODE_OK],
	    (uintmax_t)ds->ds_result[DECODE_NOTIP],
	    (uintmax_t)ds->ds_result[DECODE_TRUNCATED],
	    (uintmax_t)ds->ds_result[DECODE_INVALID],
	    (uintmax_t)ds->ds_result[DECODE_UNSUPPORTED]);
	if (fc != NULL) {
		fs = flowcache_stats(fc);
		flows = 0;
		for (i = 0; i < FLOW_END_MAX; i++)
			flows += fs->fs_ended[i];
		fprintf(stderr, "flowprobe: %ju flows: %ju idle, %ju active, "
		    "%ju end of flow, %ju forced, %ju evicted; "
		    "at most %u at once\n", (uintmax_t)flows,
		    (uintmax_t)fs->fs_ended[FLOW_END_IDLE],
		    (uintmax_t)fs->fs_ended[FLOW_END_ACTIVE],
		    (uintmax_t)fs->fs_ended[FLOW_END_EOF],
		    (uintmax_t)fs->fs_ended[FLOW_END_FORCED],
		    (uintmax_t)fs->fs_ended[FLOW_END_RESOURCES],
		    fs->fs_peak);
	}
	if (ex != NULL) {
		es = export_stats(ex);
		fprintf(stderr, "flowprobe: %ju records in %ju datagrams, "
		    "%ju not exportable, %ju send errors\n",
		    (uintmax_t)es->es_records, (uintmax_t)es->es_datagrams,
		    (uintmax_t)es->es_unexportable,
		    (uintmax_t)es->es_senderrors);
		collector_summary(cs, stderr);
	}
}

int
main(int argc, char *argv[])
{
	struct fc_conf fcc;
	struct export_conf ecc;
	struct collectors cs;
	struct decode_stats ds;
	struct sink sk;
	struct flowcache *fc;
	struct sigaction sa;
	const char *file;
	int ch, quiet, status;

	memset(&fcc, 0, sizeof(fcc));
	fcc.fc_maxflows = DEFAULT_MAXFLOWS;
	fcc.fc_inactive = DEFAULT_INACTIVE * 1000;
	fcc.fc_active = DEFAULT_ACTIVE * 1000;
	fcc.fc_tcpend = DEFAULT_TCPEND * 1000;
	memset(&ecc, 0, sizeof(ecc));
	ecc.ec_version = DEFAULT_VERSION;
	ecc.ec_domain = (uint32_t)getpid();
	ecc.ec_tmpl_ms = DEFAULT_TMPL_SECONDS * 1000;
	ecc.ec_tmpl_count = DEFAULT_TMPL_COUNT;
	ecc.ec_flush_ms = DEFAULT_FLUSH * 1000;
	memset(&cs, 0, sizeof(cs));
	memset(&ds, 0, sizeof(ds));
	memset(&sk, 0, sizeof(sk));
	file = NULL;
	quiet = 0;

	while ((ch = getopt(argc, argv, "E:m:n:qr:T:t:V:")) != -1) {
		switch (ch) {
		case 'E':
			ecc.ec_domain = parse_number(optarg, 0, UINT32_MAX,
			    "-E");
			break;
		case 'm':
			fcc.fc_maxflows = parse_number(optarg, 1,
			    MAX_MAXFLOWS, "-m");
			break;
		case 'n':
			add_collector(&cs, optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'r':
			file = optarg;
			break;
		case 'T':
			parse_template(optarg, &ecc);
			break;
		case 't':
			parse_timeouts(optarg, &fcc, &ecc);
			break;
		case 'V':
			ecc.ec_version = parse_number(optarg, 5, 10, "-V");
			if (ecc.ec_version != 5 && ecc.ec_version != 9 &&
			    ecc.ec_version != 10)
				usage_error("-V: version must be 5, 9 or 10");
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 0)
		usage_error("unexpected argument \"%s\"", argv[0]);
	if (file == NULL)
		usage_error("no input: give -r file");

	ecc.ec_maxpayload = export_maxpayload(cs.cs_inet6);
	arc4random_buf(fcc.fc_seed, sizeof(fcc.fc_seed));
	sk.sk_out = stdout;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);

	fc = NULL;
	status = run_file(file, &fc, &fcc, &ecc, &cs, &sk, &ds);

	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		if (status == 0)
			status = EX_IOERR;
	}
	if (!quiet)
		print_summary(&ds, fc, sk.sk_exporter, &cs);
	if (status == 0 && collector_failures(&cs) > 0)
		status = EX_UNAVAILABLE;

	if (sk.sk_exporter != NULL)
		export_destroy(sk.sk_exporter);
	if (fc != NULL)
		flowcache_destroy(fc);
	collector_close_all(&cs);
	return (status);
}
