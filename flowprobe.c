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
 * up and locked down, the loops that drive capture -> decode -> cache ->
 * export (one for a savefile, one for a live interface), the signal
 * flags, the daemon's pidfile, the summary and the exit status.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <net/if.h>

#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "flowprobe.h"
#include "capture.h"

#define PIDFILE_FMT		"/var/run/flowprobe.%s.pid"

/* How often flows are checked for expiry, on the capture's clock. */
#define TICK_MS			100
/* Longest sleep in poll(2): signals and windows are noticed this fast. */
#define POLL_MS			250
/*
 * Live packets reach us up to a buffer timeout after they were stamped:
 * the cache's clock runs this far behind the wall clock, so that packet
 * times still arrive in order.
 */
#define LIVE_LAG_MS		300
/* At the end, wait this long, at most 3 times, for the last buffers. */
#define DRAIN_MS		200
/*
 * Frames decoded, then metered, as one batch: enough that what each batch
 * costs once is lost in it, few enough that its frames (6 KB) and packed
 * packets (14 KB) stay in the first-level cache between the two.  The
 * capture backends' batches are at most this size.
 */
#define METER_BATCH		CAPTURE_BATCH
/*
 * Pacing: unless -R says, the bucket holds at most this many milliseconds
 * of datagrams (and never fewer than PACE_MINBURST), so that a sleep
 * longer than asked is made up without a burst a small socket buffer
 * would drop.
 */
#define PACE_BURST_MS		2
#define PACE_MINBURST		8
/* One datagram in tokens, which count millionths of a datagram. */
#define PACE_UNIT		1000000

struct decode_stats {
	uint64_t	 ds_read;
	uint64_t	 ds_result[DECODE_UNSUPPORTED + 1];
};

/* Everything one run owns, set up by main() and driven by a loop. */
struct probe {
	struct fc_conf		 pr_fcc;
	struct export_conf	 pr_ecc;
	struct collectors	 pr_cs;
	struct flowcache	*pr_fc;
	struct exporter		*pr_ex;		/* NULL: print flows */
	struct capture		*pr_cap;	/* NULL: reading a file */
	const char		*pr_ifname;
	uint32_t		 pr_ifindex;	/* exported input interface */
	int			 pr_linktype;
	uint64_t		 pr_now;	/* never runs backwards */
	uint64_t		 pr_maxpackets;	/* -c; 0: no limit */
	int			 pr_paced;	/* may wait to send: see
						   send_datagram() */
	uint64_t		 pr_rate;	/* datagrams/s; 0: unpaced */
	int64_t			 pr_tokens;	/* millionths of a datagram;
						   below 0: sent ahead */
	int64_t			 pr_tokens_max;
	uint64_t		 pr_refilled;	/* us, monotonic */
	uint64_t		 pr_refill_us;	/* empty to full */
	struct decode_stats	 pr_ds;
	struct fp_packed	 pr_pkts[METER_BATCH];
};

static volatile sig_atomic_t quit;
static volatile sig_atomic_t report;

static void	 usage(void) __attribute__((__noreturn__));
static void	 add_collector(struct collectors *, const char *);
static void	 load_filter(const char *, struct capture_conf *, uint32_t);
static void	 open_capture(struct probe *, const struct capture_conf *);
static struct pcapfile *open_file(struct probe *, const char *);
static int	 open_pidfile(const char *);
static void	 write_pidfile(int, const char *);
static void	 on_signal(int);
static void	 on_report(int);
static uint64_t	 wallclock_ms(void);
static void	 emit_flow(const struct flow *, enum flow_end, void *);
static uint64_t	 monotonic_us(void);
static void	 pace_refill(struct probe *);
static int	 send_datagram(const uint8_t *, size_t, void *);
static void	 meter_frames(struct probe *, const struct fp_frame *,
		    size_t);
static size_t	 frames_allowed(const struct probe *, size_t);
static void	 on_frames(const struct fp_frame *, size_t, void *);
static int	 expire_due(struct probe *);
static int	 tick(struct probe *);
static void	 finish(struct probe *);
static int	 run_file(struct probe *, struct pcapfile *, const char *);
static int	 run_live(struct probe *, uint32_t);
static void	 print_summary(const struct probe *);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: flowprobe [-Dpq] [-c count] [-E domain] [-F filterfile] "
	    "[-m maxflows]\n"
	    "                 [-n collector[:port]] [-R rate[:burst]] "
	    "[-s snaplen]\n"
	    "                 [-T seconds[:datagrams]] [-t name=seconds[,...]] "
	    "[-u user]\n"
	    "                 [-V version] [-w seconds] "
	    "-i [ifindex:]interface | -r file\n");
	exit(EX_USAGE);
}

static void
add_collector(struct collectors *cs, const char *spec)
{
	char errbuf[256];

	if (collector_add(cs, spec, errbuf, sizeof(errbuf)) == 0)
		return;
	switch (errno) {
	case EINVAL:
		warnx("-n: %s", errbuf);
		usage();
	case EADDRNOTAVAIL:
		errx(EX_NOHOST, "%s", errbuf);
	default:
		errx(EX_OSERR, "%s", errbuf);
	}
}

/* -F: the program runs in the kernel; it may keep headers only. */
static void
load_filter(const char *path, struct capture_conf *cc, uint32_t snaplen)
{
	static struct fp_insn insns[CAPTURE_MAXINSNS];
	char errbuf[512];
	size_t n;

	if (filter_load(path, insns, CAPTURE_MAXINSNS, &n, errbuf,
	    sizeof(errbuf)) == -1)
		errx(errno == EINVAL ? EX_DATAERR : EX_NOINPUT, "%s", errbuf);
	filter_clamp_snaplen(insns, n, snaplen);
	cc->cc_filter = insns;
	cc->cc_filterlen = n;
}

static void
open_capture(struct probe *pr, const struct capture_conf *cc)
{
	char errbuf[512];

	if ((pr->pr_cap = capture_open(cc, errbuf, sizeof(errbuf))) == NULL) {
		switch (errno) {
		case ENXIO:
		case ENODEV:
			errx(EX_NOINPUT, "%s", errbuf);
		case EPERM:
		case EACCES:
			errx(EX_NOPERM, "%s", errbuf);
		default:
			errx(EX_OSERR, "%s", errbuf);
		}
	}
	pr->pr_linktype = capture_linktype(pr->pr_cap);
	if (pr->pr_ifindex == 0)
		pr->pr_ifindex = if_nametoindex(pr->pr_ifname);
}

static struct pcapfile *
open_file(struct probe *pr, const char *path)
{
	struct pcapfile *pf;
	char errbuf[512];

	if ((pf = pcapfile_open(path, errbuf, sizeof(errbuf))) == NULL)
		errx(errno == EINVAL ? EX_DATAERR : EX_NOINPUT, "%s", errbuf);
	pr->pr_linktype = pcapfile_linktype(pf);
	return (pf);
}

/*
 * A locked pidfile: a second probe on the same interface is refused, in
 * the foreground where the admin sees it.  flock(2), not fcntl(2): the
 * lock must pass to the child that daemon(3) forks.
 */
static int
open_pidfile(const char *path)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
		err(EX_CANTCREAT, "%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		errx(EX_UNAVAILABLE, "%s: another flowprobe holds it", path);
	return (fd);
}

static void
write_pidfile(int fd, const char *path)
{
	char buf[32];
	int len;

	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, buf, len) != len)
		log_warn("%s", path);
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
on_report(int sig)
{
	(void)sig;
	report = 1;
}

static uint64_t
wallclock_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void
emit_flow(const struct flow *f, enum flow_end reason, void *arg)
{
	struct probe *pr = arg;

	/*
	 * Times may run backwards within a batch, whose last frame set the
	 * clock: never export a flow before its last packet.
	 */
	if (f->f_last > pr->pr_now)
		pr->pr_now = f->f_last;
	if (pr->pr_ex != NULL)
		export_flow(pr->pr_ex, f, reason, pr->pr_now);
	else
		export_print_flow(stdout, f, reason);
}

static uint64_t
monotonic_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* Tokens for the time gone by, in millionths of a datagram. */
static void
pace_refill(struct probe *pr)
{
	uint64_t now;

	now = monotonic_us();
	if (now > pr->pr_refilled) {
		/* Long enough to fill it: no product that could wrap. */
		if (now - pr->pr_refilled > pr->pr_refill_us)
			pr->pr_tokens = pr->pr_tokens_max;
		else
			pr->pr_tokens += (int64_t)((now - pr->pr_refilled) *
			    pr->pr_rate);
		if (pr->pr_tokens > pr->pr_tokens_max)
			pr->pr_tokens = pr->pr_tokens_max;
	}
	pr->pr_refilled = now;
}

/*
 * A million flows can end at once (end of file, window, signal), and
 * their datagrams, sent as fast as they are built, overflow a collector's
 * socket buffer: records lost with no error anywhere, and nothing comes
 * back over UDP to tell.  So datagrams leave at -R a second at most,
 * through a token bucket on the monotonic clock.  Where nothing waits on
 * flowprobe (a file, a live run's final flush) it sleeps for its next
 * token; during capture it never does: tick() expires no more flows than
 * the bucket can send, and the rest stay due until the next tick.
 */
static int
send_datagram(const uint8_t *buf, size_t len, void *arg)
{
	struct probe *pr = arg;
	uint64_t wait_us;

	if (pr->pr_rate != 0) {
		pace_refill(pr);
		while (pr->pr_paced && pr->pr_tokens < PACE_UNIT) {
			wait_us = (uint64_t)(PACE_UNIT - pr->pr_tokens) /
			    pr->pr_rate + 1;
			(void)poll(NULL, 0, (int)((wait_us + 999) / 1000));
			pace_refill(pr);
		}
		/* Capturing, a datagram past the budget is owed. */
		pr->pr_tokens -= PACE_UNIT;
	}
	return (collector_send(buf, len, &pr->pr_cs));
}

/*
 * Up to METER_BATCH frames, of a savefile or a capture buffer.  The
 * packets' own times are the flows' times; the cache treats one earlier
 * than the latest it saw as the latest, so its clock never runs
 * backwards.  The probe's clock goes by the batch's last frame.  Batches
 * let the cache fetch the table entries of many packets at once.
 */
static void
meter_frames(struct probe *pr, const struct fp_frame *fr, size_t n)
{
	size_t k;

	if (fr[n - 1].fr_time > pr->pr_now)
		pr->pr_now = fr[n - 1].fr_time;
	pr->pr_ds.ds_read += n;
	k = decode_frames(pr->pr_linktype, fr, n, pr->pr_pkts,
	    pr->pr_ds.ds_result);
	flowcache_update_batch(pr->pr_fc, pr->pr_pkts, k);
}

/* How many of n more frames -c lets be read. */
static size_t
frames_allowed(const struct probe *pr, size_t n)
{
	uint64_t left;

	if (pr->pr_maxpackets == 0)
		return (n);
	left = pr->pr_maxpackets > pr->pr_ds.ds_read ?
	    pr->pr_maxpackets - pr->pr_ds.ds_read : 0;
	return (left < n ? (size_t)left : n);
}

/*
 * A batch of captured frames, metered at once: their bytes are the
 * kernel's again once this returns.
 */
static void
on_frames(const struct fp_frame *fr, size_t n, void *arg)
{
	struct probe *pr = arg;

	if ((n = frames_allowed(pr, n)) != 0)
		meter_frames(pr, fr, n);
}

/*
 * Ends the flows that are due.  While capturing, paced, no more than
 * the datagrams in the bucket can carry; one more may go out, part
 * filled before, and is owed.  Returns 1 when flows were left due, for
 * the caller to come back in a millisecond rather than at the next tick.
 */
static int
expire_due(struct probe *pr)
{
	size_t budget;

	if (pr->pr_rate == 0 || pr->pr_paced || pr->pr_ex == NULL) {
		flowcache_expire(pr->pr_fc, pr->pr_now);
		return (0);
	}
	pace_refill(pr);
	budget = pr->pr_tokens < PACE_UNIT ? 0 :
	    (size_t)(pr->pr_tokens / PACE_UNIT) * export_min_records(pr->pr_ex);
	return (flowcache_expire_some(pr->pr_fc, pr->pr_now, budget) == budget);
}

/* Every TICK_MS: expiry, and datagrams held too long go out.  As above. */
static int
tick(struct probe *pr)
{
	int left;

	left = expire_due(pr);
	if (pr->pr_ex != NULL)
		export_tick(pr->pr_ex, pr->pr_now);
	return (left);
}

/* Every way out: flows whose time ran out end as such, the rest forced. */
static void
finish(struct probe *pr)
{
	pr->pr_paced = 1;
	flowcache_expire(pr->pr_fc, pr->pr_now);
	flowcache_flush(pr->pr_fc, FLOW_END_FORCED);
	if (pr->pr_ex != NULL)
		export_flush(pr->pr_ex, pr->pr_now);
}

/*
 * Meters a savefile.  The packets' clock drives everything, so expiry
 * and every exported time are those of the capture.  Returns 0, or the
 * exit status for a file that could not be read to its end; whatever
 * was read before is metered and exported either way.
 */
static int
run_file(struct probe *pr, struct pcapfile *pf, const char *path)
{
	struct fp_frame fr[METER_BATCH];
	char errbuf[512];
	uint64_t next_tick;
	size_t max;
	int i, j, n, status;

	status = 0;
	next_tick = 0;
	pr->pr_paced = 1;
	while (quit == 0) {
		/* One frame first: it tells whether the link type is known. */
		max = pr->pr_ds.ds_read == 0 ? 1 : METER_BATCH;
		if ((max = frames_allowed(pr, max)) == 0)
			break;
		n = pcapfile_read(pf, fr, max, errbuf, sizeof(errbuf));
		if (n == 0)
			break;
		if (n < 0) {
			warnx("%s", errbuf);
			status = (errno == EINVAL ? EX_DATAERR : EX_IOERR);
			break;
		}
		/* The exporter's uptime starts with the capture. */
		if (pr->pr_cs.cs_count > 0 && pr->pr_ex == NULL &&
		    (pr->pr_ex = export_create(&pr->pr_ecc, fr[0].fr_time,
		    send_datagram, pr)) == NULL)
			err(EX_SOFTWARE, "exporter");
		for (i = 0; i < n; i = j) {
			/*
			 * Expire first: records leave in the order they end
			 * (of each template: a datagram keeps one set each).
			 */
			if (fr[i].fr_time >= next_tick) {
				if (fr[i].fr_time > pr->pr_now)
					pr->pr_now = fr[i].fr_time;
				(void)tick(pr);
				next_tick = pr->pr_now + TICK_MS;
			}
			/*
			 * Most batches end before the next tick.  Times that
			 * run backwards may hide a tick inside one until the
			 * next: the cache ends such flows on their own packets.
			 */
			if (fr[n - 1].fr_time < next_tick)
				j = n;
			else
				for (j = i + 1; j < n &&
				    fr[j].fr_time < next_tick; j++)
					continue;
			meter_frames(pr, fr + i, (size_t)(j - i));
		}
		/* The link type is the file's: the first frame tells. */
		if (pr->pr_ds.ds_result[DECODE_UNSUPPORTED] != 0) {
			warnx("%s: link type %d is not supported", path,
			    pr->pr_linktype);
			status = EX_DATAERR;
			break;
		}
	}
	finish(pr);
	return (status);
}

/*
 * Captures until the window closes, the packet count is reached, a
 * signal asks, or the interface goes away.  The wall clock drives
 * expiry between packets, so a quiet link still exports on time.
 */
static int
run_live(struct probe *pr, uint32_t window)
{
	struct pollfd pfd;
	uint64_t end, wall, next_tick, next_expiry;
	int n, rc, status, timeout, drains;

	wall = wallclock_ms();
	end = window != 0 ? wall + (uint64_t)window * 1000 : UINT64_MAX;
	next_tick = next_expiry = 0;
	status = 0;
	pfd.fd = capture_fd(pr->pr_cap);
	for (;;) {
		if (quit != 0)
			break;
		if (report != 0) {
			report = 0;
			print_summary(pr);
		}
		wall = wallclock_ms();
		if (wall >= end)
			break;
		if (wall - LIVE_LAG_MS > pr->pr_now)
			pr->pr_now = wall - LIVE_LAG_MS;
		/* Due flows the send rate held back go as it allows. */
		if (wall >= next_tick) {
			next_expiry = tick(pr) ? wall + 1 : UINT64_MAX;
			next_tick = wall + TICK_MS;
		} else if (wall >= next_expiry)
			next_expiry = expire_due(pr) ? wall + 1 : UINT64_MAX;
		timeout = POLL_MS;
		if (next_tick - wall < (uint64_t)timeout)
			timeout = (int)(next_tick - wall);
		if (next_expiry - wall < (uint64_t)timeout)
			timeout = (int)(next_expiry - wall);
		if (end - wall < (uint64_t)timeout)
			timeout = (int)(end - wall);
		/* A detached bpf(4) reports POLLHUP only when asked. */
		pfd.events = POLLIN | POLLHUP;
		pfd.revents = 0;
		if ((n = poll(&pfd, 1, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			status = EX_OSERR;
			break;
		}
		rc = capture_dispatch(pr->pr_cap, n == 0 ? 0 : pfd.revents,
		    on_frames, pr);
		if (rc == -1) {
			if (errno == ENXIO)
				log_warnx("%s: the interface went away",
				    pr->pr_ifname);
			else
				log_warn("%s: capture", pr->pr_ifname);
			status = EX_IOERR;
			break;
		}
		if (frames_allowed(pr, 1) == 0)
			break;
	}

	/* What the kernel still holds was seen before the end: meter it. */
	for (drains = 0; status == 0 && drains < 3; drains++) {
		if (frames_allowed(pr, 1) == 0)
			break;
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = poll(&pfd, 1, DRAIN_MS);
		rc = capture_dispatch(pr->pr_cap, n <= 0 ? 0 : pfd.revents,
		    on_frames, pr);
		if (rc == -1 || (rc == 0 && n <= 0))
			break;
	}
	wall = wallclock_ms();
	if (wall > pr->pr_now)
		pr->pr_now = wall;
	finish(pr);
	return (status);
}

static void
print_summary(const struct probe *pr)
{
	const struct decode_stats *ds = &pr->pr_ds;
	const struct fc_stats *fs;
	const struct export_stats *es;
	struct capture_stats cst;
	uint64_t flows;
	int i;

	if (pr->pr_cap != NULL &&
	    capture_stats(pr->pr_cap, &cst) == 0)
		log_info("%s on %s: %ju packets received, %ju dropped by the "
		    "kernel", capture_mode(pr->pr_cap), pr->pr_ifname,
		    (uintmax_t)cst.cs_received, (uintmax_t)cst.cs_dropped);
	log_info("%ju packets read: %ju metered, %ju not IP, %ju truncated, "
	    "%ju invalid, %ju unsupported", (uintmax_t)ds->ds_read,
	    (uintmax_t)ds->ds_result[DECODE_OK],
	    (uintmax_t)ds->ds_result[DECODE_NOTIP],
	    (uintmax_t)ds->ds_result[DECODE_TRUNCATED],
	    (uintmax_t)ds->ds_result[DECODE_INVALID],
	    (uintmax_t)ds->ds_result[DECODE_UNSUPPORTED]);
	if (pr->pr_fc != NULL) {
		fs = flowcache_stats(pr->pr_fc);
		flows = 0;
		for (i = 0; i < FLOW_END_MAX; i++)
			flows += fs->fs_ended[i];
		log_info("%ju flows: %ju idle, %ju active, %ju end of flow, "
		    "%ju forced, %ju evicted; at most %u at once",
		    (uintmax_t)flows,
		    (uintmax_t)fs->fs_ended[FLOW_END_IDLE],
		    (uintmax_t)fs->fs_ended[FLOW_END_ACTIVE],
		    (uintmax_t)fs->fs_ended[FLOW_END_EOF],
		    (uintmax_t)fs->fs_ended[FLOW_END_FORCED],
		    (uintmax_t)fs->fs_ended[FLOW_END_RESOURCES],
		    fs->fs_peak);
	}
	if (pr->pr_ex != NULL) {
		es = export_stats(pr->pr_ex);
		log_info("%ju records in %ju datagrams, %ju not exportable, "
		    "%ju send errors", (uintmax_t)es->es_records,
		    (uintmax_t)es->es_datagrams,
		    (uintmax_t)es->es_unexportable,
		    (uintmax_t)es->es_senderrors);
		collector_summary(&pr->pr_cs);
	}
}

int
main(int argc, char *argv[])
{
	struct options o;
	struct probe pr;
	struct capture_conf cc;
	struct sandbox_conf sb;
	struct pcapfile *pf;
	struct sigaction sa;
	char errbuf[512], pidpath[64];
	int i, status, pidfd;

	if (options_parse(argc, argv, &o, errbuf, sizeof(errbuf)) == -1) {
		warnx("%s", errbuf);
		usage();
	}
	memset(&pr, 0, sizeof(pr));
	pr.pr_fcc = o.o_fcc;
	pr.pr_ecc = o.o_ecc;
	pr.pr_ifname = o.o_ifname;
	pr.pr_ifindex = o.o_ifindex;
	pr.pr_maxpackets = o.o_maxpackets;
	pr.pr_rate = o.o_rate;
	if (o.o_burst != 0)
		pr.pr_tokens_max = (int64_t)o.o_burst * PACE_UNIT;
	else {
		pr.pr_tokens_max = (int64_t)o.o_rate * PACE_BURST_MS *
		    (PACE_UNIT / 1000);
		if (pr.pr_tokens_max < PACE_MINBURST * PACE_UNIT)
			pr.pr_tokens_max = PACE_MINBURST * PACE_UNIT;
	}
	if (o.o_rate != 0)
		pr.pr_refill_us = (uint64_t)pr.pr_tokens_max / o.o_rate + 1;
	pr.pr_tokens = pr.pr_tokens_max;
	pr.pr_refilled = monotonic_us();
	pf = NULL;
	pidfd = -1;

	/* Everything that needs the file system or privilege comes first. */
	for (i = 0; i < o.o_ncollectors; i++)
		add_collector(&pr.pr_cs, o.o_collectors[i]);
	if (o.o_file != NULL)
		pf = open_file(&pr, o.o_file);
	else {
		memset(&cc, 0, sizeof(cc));
		cc.cc_ifname = o.o_ifname;
		cc.cc_promisc = o.o_promisc;
		cc.cc_snaplen = o.o_snaplen;
		if (o.o_filterfile != NULL)
			load_filter(o.o_filterfile, &cc, cc.cc_snaplen);
		open_capture(&pr, &cc);
	}

	pr.pr_ecc.ec_maxpayload = export_maxpayload(pr.pr_cs.cs_inet6);
	/* NetFlow v5 counters are 32 bits: longer records are split. */
	if (pr.pr_ecc.ec_version == 5)
		pr.pr_fcc.fc_maxcount = UINT32_MAX;
	pr.pr_fcc.fc_ifindex = pr.pr_ifindex;
	arc4random_buf(pr.pr_fcc.fc_seed, sizeof(pr.pr_fcc.fc_seed));
	if ((pr.pr_fc = flowcache_create(&pr.pr_fcc, emit_flow, &pr)) == NULL)
		err(EX_OSERR, "flow cache of %u flows",
		    pr.pr_fcc.fc_maxflows);
	/* Reading a file, the exporter's uptime starts with its packets. */
	if (pf == NULL && pr.pr_cs.cs_count > 0 &&
	    (pr.pr_ex = export_create(&pr.pr_ecc, wallclock_ms(),
	    send_datagram, &pr)) == NULL)
		err(EX_SOFTWARE, "exporter");

	if (o.o_daemon) {
		(void)snprintf(pidpath, sizeof(pidpath), PIDFILE_FMT,
		    o.o_ifname);
		pidfd = open_pidfile(pidpath);
		if (daemon(0, 0) == -1)
			err(EX_OSERR, "daemon");
		log_syslog();
		write_pidfile(pidfd, pidpath);
	}

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_report;
	(void)sigaction(SIGUSR1, &sa, NULL);
#ifdef SIGINFO
	(void)sigaction(SIGINFO, &sa, NULL);
#endif

	/* Then lock everything down, in every mode. */
	if (pr.pr_cap != NULL &&
	    capture_lock(pr.pr_cap, errbuf, sizeof(errbuf)) == -1) {
		log_warnx("%s", errbuf);
		exit(EX_OSERR);
	}
	memset(&sb, 0, sizeof(sb));
	sb.sb_user = o.o_user;
	sb.sb_readfd = pf != NULL ? pcapfile_fd(pf) : -1;
	sb.sb_cs = &pr.pr_cs;
	if (sandbox_enter(&sb, errbuf, sizeof(errbuf)) == -1) {
		log_warnx("%s", errbuf);
		exit(errno == ENOENT ? EX_NOUSER : EX_OSERR);
	}

	if (pf != NULL) {
		status = run_file(&pr, pf, o.o_file);
		pcapfile_close(pf);
	} else
		status = run_live(&pr, o.o_window);

	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		if (status == 0)
			status = EX_IOERR;
	}
	if (!o.o_quiet)
		print_summary(&pr);
	if (status == 0 && collector_failures(&pr.pr_cs) > 0)
		status = EX_UNAVAILABLE;

	if (pr.pr_cap != NULL)
		capture_close(pr.pr_cap);
	if (pidfd != -1) {
		/* Chrooted, it cannot be removed: left empty, and unlocked. */
		(void)unlink(pidpath);
		(void)ftruncate(pidfd, 0);
		close(pidfd);
	}
	export_destroy(pr.pr_ex);
	flowcache_destroy(pr.pr_fc);
	collector_close_all(&pr.pr_cs);
	return (status);
}
