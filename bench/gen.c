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
 * A fast, deterministic traffic generator for benchmarks: writes a
 * classic pcap of Ethernet frames to standard output, streaming, so that
 * 10^8 packets need no disk.  The same arguments always write the same
 * bytes.
 *
 * Traffic is drawn over a fixed number of flow slots with a Zipf-like
 * popularity (a few heavy slots, a long tail).  Each slot has a fixed
 * profile drawn from its number: IPv4 or IPv6, with or without an
 * 802.1Q tag, TCP or UDP, a destination port.  A TCP slot carries one
 * connection at a time: its first packet is a SYN, and any later packet
 * may end it with a FIN or a RST; the slot's next packet then opens a
 * new connection from another source port.  Every connection, and every
 * UDP slot, is one flow with a 5-tuple of its own, so that records
 * summed by 5-tuple can be compared with the ground truth exactly.
 *
 * Packet sizes are drawn per packet: TCP mostly bare ACKs and full
 * segments, UDP small, mid-sized and near-MTU datagrams.  Only the
 * headers are written; each record carries the wire length, so the IP
 * total length (what NetFlow counts) is the real one.
 *
 * With -t, one line per flow goes to the named file: protocol, source,
 * source port, destination, destination port, packets, IP bytes, first
 * and last packet time (seconds.microseconds) and VLAN ID.  Flows whose
 * connection ended are written as they end, the others at the end.
 *
 *	-6 pct		share of slots that are IPv6 (10)
 *	-d seconds	time the capture spans; overrides -g
 *	-e packets	mean TCP connection length: each later packet ends
 *			it with probability 1/packets, one time in five by
 *			RST; 0 never ends one (64)
 *	-f flows	flow slots, fewer than 2^24 (100000)
 *	-g gap_us	microseconds between packets (1)
 *	-p packets	packets to write (1000000)
 *	-s seed		seed for every draw (1)
 *	-t file		ground truth
 *	-u pct		share of slots that are UDP (25)
 *	-v pct		share of slots with an 802.1Q tag (10)
 *	-z skew		uniform draws multiplied per slot draw; more is
 *			more skewed (2)
 *
 * usage: gen [-6 pct] [-d seconds] [-e packets] [-f flows] [-g gap_us]
 *            [-p packets] [-s seed] [-t truthfile] [-u pct] [-v pct]
 *            [-z skew]
 */

#include <arpa/inet.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define SNAPLEN		96	/* more than the largest header stack */
#define MAXSLOTS	((1u << 24) - 1)	/* a slot numbers its source */
#define PORTS		64512	/* source ports 1024-65535 */
#define START_SEC	UINT64_C(1700000000)
#define AHEAD		16	/* slots drawn (and prefetched) ahead */

/* What a slot is, fixed for the run, drawn from the slot number. */
struct profile {
	int		 pr_v6;
	int		 pr_udp;
	uint16_t	 pr_vlan;	/* 0: untagged */
	uint16_t	 pr_dport;
	uint16_t	 pr_server;	/* low bits of the destination */
	uint32_t	 pr_portbase;	/* first connection's port index */
};

/*
 * Per slot: the connection in progress and its totals, in one place
 * because with a million slots each packet costs a cache miss here.
 */
struct slot {
	uint64_t	 sl_packets;
	uint64_t	 sl_bytes;
	uint64_t	 sl_first;	/* microseconds */
	uint64_t	 sl_last;
	uint32_t	 sl_conn;	/* connections begun before this one */
};

static const uint16_t tcp_ports[] = { 443, 443, 443, 80, 80, 22, 25, 993 };
static const uint16_t udp_ports[] = { 53, 53, 443, 123, 4789, 514, 161,
    5060 };

static uint64_t	 rng_state;
static uint64_t	 seed;
static unsigned	 share_v6 = 10, share_vlan = 10, share_udp = 25;
static FILE	*truthfp;

static uint64_t	 rng(void);
static uint64_t	 mix64(uint64_t);
static void	 usage(void) __attribute__((__noreturn__));
static unsigned long long number(const char *, unsigned long long,
		    unsigned long long);
static void	 profile(uint32_t, struct profile *);
static void	 addresses(const struct profile *, uint32_t, uint32_t,
		    uint8_t *, uint8_t *, uint16_t *);
static uint32_t	 zipf(uint32_t, uint64_t);
static uint32_t	 pktsize(int, int, uint8_t);
static size_t	 frame(uint8_t *, const struct profile *, uint32_t,
		    uint32_t, uint8_t, uint32_t, uint64_t, uint32_t *);
static void	 truth_write(const struct profile *, uint32_t,
		    const struct slot *);
static uint16_t	 cksum(const uint8_t *, size_t);
static void	 put16(uint8_t *, uint16_t);
static void	 put32(uint8_t *, uint32_t);
static void	 put32le(uint8_t *, uint32_t);

/* xorshift64*: fast, and the same everywhere. */
static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * UINT64_C(0x2545f4914f6cdd1d));
}

/* splitmix64's finaliser: a slot's profile is a pure function of it. */
static uint64_t
mix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (x ^ (x >> 31));
}

static void
usage(void)
{
	fprintf(stderr, "usage: gen [-6 pct] [-d seconds] [-e packets] "
	    "[-f flows] [-g gap_us]\n"
	    "           [-p packets] [-s seed] [-t truthfile] [-u pct] "
	    "[-v pct]\n"
	    "           [-z skew]\n");
	exit(EX_USAGE);
}

static unsigned long long
number(const char *s, unsigned long long min, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		errx(EX_USAGE, "%s: not a number from %llu to %llu", s, min,
		    max);
	return (v);
}

/*
 * Independent percentages come from disjoint bits of one hash, so the
 * IPv6, VLAN and UDP shares do not correlate with each other or with a
 * slot's popularity (which is its number).
 */
static void
profile(uint32_t s, struct profile *pr)
{
	uint64_t h;

	h = mix64(seed * UINT64_C(0x100000001b3) ^ s);
	pr->pr_v6 = (h & 0x3ff) % 100 < share_v6;
	pr->pr_vlan = ((h >> 10) & 0x3ff) % 100 < share_vlan ?
	    (uint16_t)(1 + (h >> 20 & 0xffff) % 4094) : 0;
	pr->pr_udp = ((h >> 36) & 0x3ff) % 100 < share_udp;
	pr->pr_dport = pr->pr_udp ? udp_ports[h >> 46 & 7] :
	    tcp_ports[h >> 46 & 7];
	pr->pr_server = (uint16_t)(1 + (h >> 49 & 0xff) % 254);
	pr->pr_portbase = (uint32_t)((h >> 32) % PORTS);
}

/*
 * The source address numbers the slot and the source port numbers the
 * connection; connections past the port range carry on in the
 * destination, so no two flows of a run share a 5-tuple.
 */
static void
addresses(const struct profile *pr, uint32_t s, uint32_t conn,
    uint8_t *src, uint8_t *dst, uint16_t *sport)
{
	uint32_t c, wrap;

	c = pr->pr_portbase + conn;
	*sport = (uint16_t)(1024 + c % PORTS);
	wrap = c / PORTS;
	if (pr->pr_v6) {
		/* 2001:db8:a::S+1, and 2001:db8:b:0 W32 0:X */
		memset(src, 0, 16);
		memset(dst, 0, 16);
		put32(src, 0x20010db8);
		put16(src + 4, 0x000a);
		put32(src + 12, s + 1);
		put32(dst, 0x20010db8);
		put16(dst + 4, 0x000b);
		put32(dst + 8, wrap);
		put16(dst + 14, pr->pr_server);
	} else {
		put32(src, 0x0a000000 | (s + 1));
		put32(dst, 0xac100000 | (wrap & 0xfff) << 8 | pr->pr_server);
	}
}

/*
 * Zipf-like: the product of skew uniform draws in [0,1) crowds toward
 * 0, so low slot numbers are the heavy ones.
 */
static uint32_t
zipf(uint32_t skew, uint64_t nflows)
{
	double x;
	uint32_t k;

	x = (double)(rng() >> 11) / (double)(UINT64_C(1) << 53);
	for (k = 1; k < skew; k++)
		x *= (double)(rng() >> 11) / (double)(UINT64_C(1) << 53);
	return ((uint32_t)(x * (double)nflows));
}

/*
 * IP total length of one packet.  TCP: 45% bare ACKs, 35% full
 * segments, the rest in between; UDP: half small (DNS, NTP), a fifth
 * near the MTU (QUIC, tunnels), the rest in between.
 */
static uint32_t
pktsize(int v6, int udp, uint8_t flags)
{
	uint64_t r;
	uint32_t hdr, pick;

	hdr = (v6 ? 40 : 20) + (udp ? 8 : 20);
	if ((flags & 0x07) != 0)	/* SYN, FIN, RST */
		return (hdr);
	r = rng();
	pick = (uint32_t)(r >> 32) % 100;
	if (udp) {
		if (pick < 50)
			return (hdr + 16 + (uint32_t)r % 180);
		if (pick < 70)
			return (1200 + (uint32_t)r % 301);
		return (hdr + 200 + (uint32_t)r % (1000 - hdr));
	}
	if (pick < 45)
		return (hdr);
	if (pick < 80)
		return (1500);
	return (hdr + 1 + (uint32_t)r % (1499 - hdr));
}

/*
 * Writes one record (pcap header and frame headers) at p; returns its
 * length and sets *iplen.
 */
static size_t
frame(uint8_t *p, const struct profile *pr, uint32_t s, uint32_t conn,
    uint8_t flags, uint32_t ipid, uint64_t t_us, uint32_t *iplen)
{
	uint8_t *f, *ip, *l4;
	uint32_t l2, hdrs, wire;
	uint16_t sport;

	*iplen = pktsize(pr->pr_v6, pr->pr_udp, flags);
	l2 = pr->pr_vlan != 0 ? 18 : 14;
	hdrs = l2 + (pr->pr_v6 ? 40 : 20) + (pr->pr_udp ? 8 : 20);
	wire = l2 + *iplen < 60 ? 60 : l2 + *iplen;
	put32le(p, (uint32_t)(t_us / 1000000));
	put32le(p + 4, (uint32_t)(t_us % 1000000));
	put32le(p + 8, hdrs);
	put32le(p + 12, wire);
	f = p + 16;
	memset(f, 0, hdrs);
	f[0] = 0x02; f[5] = 0x01;
	f[6] = 0x02; f[11] = 0x02;
	if (pr->pr_vlan != 0) {
		put16(f + 12, 0x8100);
		put16(f + 14, pr->pr_vlan);
	}
	ip = f + l2;
	put16(ip - 2, pr->pr_v6 ? 0x86dd : 0x0800);
	if (pr->pr_v6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(*iplen - 40));
		ip[6] = pr->pr_udp ? 17 : 6;
		ip[7] = 64;
		addresses(pr, s, conn, ip + 8, ip + 24, &sport);
		l4 = ip + 40;
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)*iplen);
		put16(ip + 4, (uint16_t)ipid);
		if (!pr->pr_udp)
			ip[6] = 0x40;	/* DF */
		ip[8] = 64;
		ip[9] = pr->pr_udp ? 17 : 6;
		addresses(pr, s, conn, ip + 12, ip + 16, &sport);
		put16(ip + 10, cksum(ip, 20));
		l4 = ip + 20;
	}
	put16(l4, sport);
	put16(l4 + 2, pr->pr_dport);
	if (pr->pr_udp)
		put16(l4 + 4, (uint16_t)(*iplen - (pr->pr_v6 ? 40 : 20)));
	else {
		put32(l4 + 4, ipid * 1448u);	/* a plausible sequence */
		l4[12] = 0x50;
		l4[13] = flags;
		put16(l4 + 14, 0xffff);
	}
	return (16 + hdrs);
}

static void
truth_write(const struct profile *pr, uint32_t s, const struct slot *sl)
{
	uint8_t src[16], dst[16];
	char sbuf[INET6_ADDRSTRLEN], dbuf[INET6_ADDRSTRLEN];
	uint16_t sport;
	int af;

	addresses(pr, s, sl->sl_conn, src, dst, &sport);
	af = pr->pr_v6 ? AF_INET6 : AF_INET;
	if (inet_ntop(af, src, sbuf, sizeof(sbuf)) == NULL ||
	    inet_ntop(af, dst, dbuf, sizeof(dbuf)) == NULL)
		err(EX_SOFTWARE, "inet_ntop");
	fprintf(truthfp, "%u %s %u %s %u %llu %llu %llu.%06u %llu.%06u %u\n",
	    pr->pr_udp ? 17 : 6, sbuf, sport, dbuf, pr->pr_dport,
	    (unsigned long long)sl->sl_packets,
	    (unsigned long long)sl->sl_bytes,
	    (unsigned long long)(sl->sl_first / 1000000),
	    (unsigned)(sl->sl_first % 1000000),
	    (unsigned long long)(sl->sl_last / 1000000),
	    (unsigned)(sl->sl_last % 1000000), pr->pr_vlan);
}

static uint16_t
cksum(const uint8_t *p, size_t len)
{
	uint32_t sum;
	size_t i;

	sum = 0;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static void
put32le(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

int
main(int argc, char *argv[])
{
	static uint8_t out[1 << 16];
	struct profile pr;
	struct slot *slots, *sl;
	uint8_t hdr[24], flags;
	uint64_t packets, i, t_us, nflows, gap, dur_us, step, rem, frac;
	uint64_t r;
	uint32_t skew, endlen, s, iplen, ahead[AHEAD];
	size_t used;
	const char *truthfile;
	int ch, ended;

	nflows = 100000;
	packets = 1000000;
	gap = 1;
	dur_us = 0;
	endlen = 64;
	seed = 1;
	skew = 2;
	truthfile = NULL;
	while ((ch = getopt(argc, argv, "6:d:e:f:g:p:s:t:u:v:z:")) != -1) {
		switch (ch) {
		case '6':
			share_v6 = (unsigned)number(optarg, 0, 100);
			break;
		case 'd':
			dur_us = number(optarg, 1, 86400 * 366) * 1000000;
			break;
		case 'e':
			endlen = (uint32_t)number(optarg, 0, UINT32_MAX);
			break;
		case 'f':
			nflows = number(optarg, 1, MAXSLOTS);
			break;
		case 'g':
			gap = number(optarg, 0, 1000000);
			break;
		case 'p':
			packets = number(optarg, 1, UINT64_MAX);
			break;
		case 's':
			seed = number(optarg, 1, UINT64_MAX);
			break;
		case 't':
			truthfile = optarg;
			break;
		case 'u':
			share_udp = (unsigned)number(optarg, 0, 100);
			break;
		case 'v':
			share_vlan = (unsigned)number(optarg, 0, 100);
			break;
		case 'z':
			skew = (uint32_t)number(optarg, 1, 8);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	rng_state = seed;

	if ((slots = calloc(nflows, sizeof(*slots))) == NULL)
		err(EX_OSERR, "%llu flows", (unsigned long long)nflows);
	if (truthfile != NULL) {
		if ((truthfp = fopen(truthfile, "w")) == NULL)
			err(EX_CANTCREAT, "%s", truthfile);
		fprintf(truthfp, "# proto src sport dst dport packets bytes "
		    "first last vlan\n");
	}

	/* Little-endian microsecond savefile, Ethernet. */
	put32le(hdr, 0xa1b2c3d4);
	hdr[4] = 2; hdr[5] = 0; hdr[6] = 4; hdr[7] = 0;
	memset(hdr + 8, 0, 8);
	put32le(hdr + 16, SNAPLEN);
	put32le(hdr + 20, 1);
	if (fwrite(hdr, 1, sizeof(hdr), stdout) != sizeof(hdr))
		err(EX_IOERR, "stdout");

	/*
	 * With -d the packets spread evenly over the span: a whole step
	 * each, plus one microsecond whenever the remainders add up.
	 */
	step = gap;
	rem = frac = 0;
	if (dur_us != 0) {
		step = dur_us / packets;
		rem = dur_us % packets;
	}
	/*
	 * Slots are drawn AHEAD packets early and their state prefetched:
	 * with a million slots the miss, not the arithmetic, sets the pace.
	 */
	for (i = 0; i < AHEAD; i++)
		ahead[i] = zipf(skew, nflows);
	t_us = START_SEC * 1000000;
	used = 0;
	for (i = 0; i < packets; i++) {
		s = ahead[i % AHEAD];
		ahead[i % AHEAD] = zipf(skew, nflows);
		__builtin_prefetch(&slots[ahead[i % AHEAD]], 1);
		sl = &slots[s];
		profile(s, &pr);
		flags = 0;
		ended = 0;
		if (!pr.pr_udp) {
			if (sl->sl_packets == 0)
				flags = 0x02;	/* SYN, opening it */
			else if (endlen != 0 &&
			    (r = rng()) % endlen == 0) {
				/* One ending in five is a reset. */
				flags = (r >> 32) % 5 == 0 ? 0x04 : 0x11;
				ended = 1;
			} else
				flags = 0x10;	/* ACK */
		}
		if (used + 16 + SNAPLEN > sizeof(out)) {
			if (fwrite(out, 1, used, stdout) != used)
				err(EX_IOERR, "stdout");
			used = 0;
		}
		used += frame(out + used, &pr, s, sl->sl_conn, flags,
		    (uint32_t)i, t_us, &iplen);
		if (sl->sl_packets == 0)
			sl->sl_first = t_us;
		sl->sl_last = t_us;
		sl->sl_packets++;
		sl->sl_bytes += iplen;
		if (ended) {
			if (truthfp != NULL)
				truth_write(&pr, s, sl);
			sl->sl_packets = sl->sl_bytes = 0;
			sl->sl_conn++;
		}
		t_us += step;
		if ((frac += rem) >= packets) {
			frac -= packets;
			t_us++;
		}
	}
	if (fwrite(out, 1, used, stdout) != used || fflush(stdout) == EOF)
		err(EX_IOERR, "stdout");
	if (truthfp != NULL) {
		for (s = 0; s < nflows; s++) {
			if (slots[s].sl_packets == 0)
				continue;
			profile(s, &pr);
			truth_write(&pr, s, &slots[s]);
		}
		if (fflush(truthfp) == EOF || ferror(truthfp) ||
		    fclose(truthfp) == EOF)
			err(EX_IOERR, "%s", truthfile);
	}
	return (0);
}
