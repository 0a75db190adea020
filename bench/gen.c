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
 * classic pcap of Ethernet/IPv4 UDP and TCP packets to standard output,
 * streaming, so that 10^8 packets need no disk.  Flows are drawn with a
 * Zipf-like popularity (a few heavy flows, a long tail); each packet
 * follows the previous one by -g microseconds.  The same arguments
 * always write the same bytes.
 *
 * usage: gen [-f flows] [-g gap_us] [-p packets] [-s seed] [-z skew]
 */

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define SNAPLEN		96
#define FRAMELEN	64	/* Ethernet + IPv4 + TCP, as written */

static uint64_t	 rng_state;

static uint64_t	 rng(void);
static void	 usage(void) __attribute__((__noreturn__));
static unsigned long long number(const char *, unsigned long long,
		    unsigned long long);
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

static void
usage(void)
{
	fprintf(stderr, "usage: gen [-f flows] [-g gap_us] [-p packets] "
	    "[-s seed] [-z skew]\n");
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
	uint8_t hdr[24], *r;
	uint64_t packets, i, t_us, flow, nflows, gap, seed;
	uint32_t skew, iplen;
	size_t used;
	int ch;

	nflows = 100000;
	packets = 1000000;
	gap = 1;
	seed = 1;
	skew = 2;
	while ((ch = getopt(argc, argv, "f:g:p:s:z:")) != -1) {
		switch (ch) {
		case 'f':
			nflows = number(optarg, 1, UINT32_MAX);
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
		case 'z':
			skew = number(optarg, 1, 8);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	rng_state = seed;

	/* Little-endian microsecond savefile, Ethernet. */
	put32le(hdr, 0xa1b2c3d4);
	hdr[4] = 2; hdr[5] = 0; hdr[6] = 4; hdr[7] = 0;
	memset(hdr + 8, 0, 8);
	put32le(hdr + 16, SNAPLEN);
	put32le(hdr + 20, 1);
	if (fwrite(hdr, 1, sizeof(hdr), stdout) != sizeof(hdr))
		err(EX_IOERR, "stdout");

	t_us = UINT64_C(1700000000) * 1000000;
	used = 0;
	for (i = 0; i < packets; i++) {
		/*
		 * Zipf-like: the product of skew uniform draws in [0,1)
		 * crowds toward 0, so low flow numbers are the heavy ones.
		 */
		{
			uint64_t u = rng() >> 11;
			uint32_t k;
			double x = (double)u / (double)(UINT64_C(1) << 53);

			for (k = 1; k < skew; k++)
				x *= (double)(rng() >> 11) /
				    (double)(UINT64_C(1) << 53);
			flow = (uint64_t)(x * (double)nflows);
		}
		if (used + 16 + FRAMELEN > sizeof(out)) {
			if (fwrite(out, 1, used, stdout) != used)
				err(EX_IOERR, "stdout");
			used = 0;
		}
		r = out + used;
		put32le(r, (uint32_t)(t_us / 1000000));
		put32le(r + 4, (uint32_t)(t_us % 1000000));
		/* Packet sizes from 64 to 1500, fixed per flow. */
		iplen = 46 + (uint32_t)(flow * 2654435761u % 1455);
		put32le(r + 8, FRAMELEN);
		put32le(r + 12, iplen + 14);
		r += 16;
		memset(r, 0, FRAMELEN);
		r[0] = 0x02; r[6] = 0x02; r[11] = 1;
		put16(r + 12, 0x0800);
		r[14] = 0x45;
		put16(r + 16, (uint16_t)iplen);
		r[22] = 64;
		r[23] = flow % 4 == 0 ? 17 : 6;
		put32(r + 26, 0x0a000000 | (uint32_t)(flow >> 8 & 0xffff00) |
		    1);
		put32(r + 30, 0xac100000 | (uint32_t)(flow & 0xffff));
		put16(r + 34, (uint16_t)(1024 + (flow >> 16) % 60000));
		put16(r + 36, flow % 4 == 0 ? 53 : 443);
		if (r[23] == 6) {
			r[46] = 0x50;
			r[47] = 0x10;	/* ACK */
		}
		used += 16 + FRAMELEN;
		t_us += gap;
	}
	if (fwrite(out, 1, used, stdout) != used || fflush(stdout) == EOF)
		err(EX_IOERR, "stdout");
	return (0);
}
