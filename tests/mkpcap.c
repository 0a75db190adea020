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
 * mkpcap writes a classic pcap savefile of known flows, described one
 * flow a line on standard input, so that tests know exactly what the
 * probe should meter.  It is a test tool and links nothing from
 * flowprobe: a bug shared by the writer and the reader must not hide.
 *
 * usage: mkpcap [-bn] [-l linktype] [-s snaplen] -o out.pcap < spec
 * spec:  PROTO SRC DST SPORT DPORT PACKETS SIZE START_MS GAP_MS [key=value]
 */

#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define MAXCAPLEN	262144
#define MAXMPLS		8
#define MAXIPLEN	(65535 + 40)	/* IPv6 payload length + header */
#define MAXLINKHDR	(14 + 4 + 4 + 8 + 4 * MAXMPLS + 20)
#define ETHER_MIN	60		/* without the FCS */

/* Protocols with a header of their own. */
#define P_ICMP		1
#define P_TCP		6
#define P_UDP		17
#define P_ICMP6		58
#define P_SCTP		132

struct linktype {
	const char	*lt_name;
	uint32_t	 lt_type;
};

static const struct linktype linktypes[] = {
	{ "en10mb",	1 },
	{ "null",	0 },
	{ "loop",	108 },
	{ "raw",	101 },
	{ "ipv4",	228 },
	{ "ipv6",	229 },
	{ "sll",	113 },
	{ "sll2",	276 },
};

/* One spec line, and where its next packet stands. */
struct flowspec {
	uint8_t		 fs_proto;
	int		 fs_v6;
	uint8_t		 fs_src[16];
	uint8_t		 fs_dst[16];
	uint16_t	 fs_sport;
	uint16_t	 fs_dport;
	uint64_t	 fs_packets;
	uint32_t	 fs_size;
	uint64_t	 fs_start;
	uint64_t	 fs_gap;
	int		 fs_vlan;	/* -1: none */
	int		 fs_qinq;	/* -1: none */
	unsigned int	 fs_mpls;	/* labels */
	int		 fs_pppoe;
	uint8_t		 fs_tos;
	uint8_t		 fs_flags;
	int		 fs_first;	/* -1: as fs_flags */
	int		 fs_last;	/* -1: as fs_flags */
	uint64_t	 fs_next;	/* index of the next packet */
	uint32_t	 fs_seq;	/* TCP sequence number */
};

struct out {
	FILE		*o_fp;
	const char	*o_name;
	int		 o_be;
	int		 o_nsec;
	uint32_t	 o_linktype;
	uint32_t	 o_snaplen;
};

static void	 usage(void) __attribute__((__noreturn__));
static void	 put16(uint8_t *, uint16_t);
static void	 put32(uint8_t *, uint32_t);
static void	 fput16(const struct out *, uint8_t *, uint16_t);
static void	 fput32(const struct out *, uint8_t *, uint32_t);
static int	 number(const char *, uint64_t, uint64_t, uint64_t *);
static int	 parse_line(char *, uint32_t, struct flowspec *, char *,
		    size_t);
static int	 parse_key(const char *, struct flowspec *, char *, size_t);
static uint32_t	 cksum_add(uint32_t, const uint8_t *, size_t);
static uint16_t	 cksum_fold(uint32_t);
static uint32_t	 crc32c(const uint8_t *, size_t);
static size_t	 build_l4(const struct flowspec *, uint8_t *, size_t);
static size_t	 build_ip(struct flowspec *, uint8_t *);
static size_t	 build_frame(const struct out *, struct flowspec *,
		    uint8_t *);
static void	 write_bytes(const struct out *, const void *, size_t);
static void	 write_header(const struct out *);
static void	 write_record(const struct out *, uint64_t, const uint8_t *,
		    size_t);
static uint64_t	 next_time(const struct flowspec *);
static int	 heap_less(const struct flowspec *, size_t, size_t,
		    const size_t *);
static void	 heap_down(const struct flowspec *, size_t *, size_t,
		    size_t);

static void
usage(void)
{
	fprintf(stderr, "usage: mkpcap [-bn] [-l linktype] [-s snaplen] "
	    "-o out.pcap < spec\n");
	exit(EX_USAGE);
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
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* In the savefile's byte order. */
static void
fput16(const struct out *o, uint8_t *p, uint16_t v)
{
	if (o->o_be)
		put16(p, v);
	else {
		p[0] = v & 0xff;
		p[1] = v >> 8;
	}
}

static void
fput32(const struct out *o, uint8_t *p, uint32_t v)
{
	if (o->o_be)
		put32(p, v);
	else {
		fput16(o, p, v & 0xffff);
		fput16(o, p + 2, v >> 16);
	}
}

/* Decimal, or hex with 0x, in [min, max]; 0 on success. */
static int
number(const char *s, uint64_t min, uint64_t max, uint64_t *vp)
{
	unsigned long long v;
	char *end;

	if (*s == '\0' || *s == '-' || *s == '+')
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return (-1);
	*vp = v;
	return (0);
}

static int
parse_key(const char *kv, struct flowspec *fs, char *msg, size_t msglen)
{
	static const struct {
		const char	*k_name;
		uint64_t	 k_max;
	} keys[] = {
		{ "vlan", 4095 }, { "qinq", 4095 }, { "mpls", MAXMPLS },
		{ "pppoe", 1 }, { "tos", 255 }, { "flags", 255 },
		{ "first", 255 }, { "last", 255 },
	};
	const char *eq;
	uint64_t v;
	size_t i, klen;

	if ((eq = strchr(kv, '=')) == NULL) {
		snprintf(msg, msglen, "%s: expected key=value", kv);
		return (-1);
	}
	klen = (size_t)(eq - kv);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].k_name) == klen &&
		    strncmp(kv, keys[i].k_name, klen) == 0)
			break;
	if (i == sizeof(keys) / sizeof(keys[0])) {
		snprintf(msg, msglen, "%s: unknown key", kv);
		return (-1);
	}
	if (number(eq + 1, 0, keys[i].k_max, &v) == -1) {
		snprintf(msg, msglen, "%s: value out of range", kv);
		return (-1);
	}
	switch (i) {
	case 0:
		fs->fs_vlan = (int)v;
		break;
	case 1:
		fs->fs_qinq = (int)v;
		break;
	case 2:
		fs->fs_mpls = (unsigned int)v;
		break;
	case 3:
		fs->fs_pppoe = (int)v;
		break;
	case 4:
		fs->fs_tos = (uint8_t)v;
		break;
	case 5:
		fs->fs_flags = (uint8_t)v;
		break;
	case 6:
		fs->fs_first = (int)v;
		break;
	default:
		fs->fs_last = (int)v;
		break;
	}
	return (0);
}

/* Returns 1 for a flow, 0 for a blank line, -1 with msg on error. */
static int
parse_line(char *line, uint32_t linktype, struct flowspec *fs, char *msg,
    size_t msglen)
{
	char *tok[64], *p;
	size_t i, ntok, hdrlen;
	uint64_t v;
	int v6;

	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	ntok = 0;
	for (p = strtok(line, " \t\r\n"); p != NULL;
	    p = strtok(NULL, " \t\r\n")) {
		if (ntok == sizeof(tok) / sizeof(tok[0])) {
			snprintf(msg, msglen, "too many fields");
			return (-1);
		}
		tok[ntok++] = p;
	}
	if (ntok == 0)
		return (0);
	if (ntok < 9) {
		snprintf(msg, msglen, "expected PROTO SRC DST SPORT DPORT "
		    "PACKETS SIZE START_MS GAP_MS");
		return (-1);
	}

	memset(fs, 0, sizeof(*fs));
	fs->fs_vlan = fs->fs_qinq = fs->fs_first = fs->fs_last = -1;
	fs->fs_flags = 0x10;
	fs->fs_seq = 1;
	if (strcmp(tok[0], "tcp") == 0)
		fs->fs_proto = P_TCP;
	else if (strcmp(tok[0], "udp") == 0)
		fs->fs_proto = P_UDP;
	else if (strcmp(tok[0], "icmp") == 0)
		fs->fs_proto = P_ICMP;
	else if (strcmp(tok[0], "icmp6") == 0)
		fs->fs_proto = P_ICMP6;
	else if (strcmp(tok[0], "sctp") == 0)
		fs->fs_proto = P_SCTP;
	else if (number(tok[0], 0, 255, &v) == 0)
		fs->fs_proto = (uint8_t)v;
	else {
		snprintf(msg, msglen, "bad protocol %s", tok[0]);
		return (-1);
	}

	v6 = strchr(tok[1], ':') != NULL;
	if (v6 != (strchr(tok[2], ':') != NULL)) {
		snprintf(msg, msglen, "SRC and DST are of different families");
		return (-1);
	}
	fs->fs_v6 = v6;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, tok[1], fs->fs_src) != 1 ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, tok[2], fs->fs_dst) != 1) {
		snprintf(msg, msglen, "bad address %s or %s", tok[1],
		    tok[2]);
		return (-1);
	}
	if ((fs->fs_proto == P_ICMP && v6) ||
	    (fs->fs_proto == P_ICMP6 && !v6)) {
		snprintf(msg, msglen, "icmp is for IPv4 and icmp6 for IPv6");
		return (-1);
	}
	if ((linktype == 228 && v6) || (linktype == 229 && !v6)) {
		snprintf(msg, msglen,
		    "address family does not match the link type");
		return (-1);
	}

	if (fs->fs_proto == P_ICMP || fs->fs_proto == P_ICMP6) {
		if (number(tok[3], 0, 255, &v) == -1) {
			snprintf(msg, msglen, "bad ICMP type %s", tok[3]);
			return (-1);
		}
		fs->fs_sport = (uint16_t)v;
		if (number(tok[4], 0, 255, &v) == -1) {
			snprintf(msg, msglen, "bad ICMP code %s", tok[4]);
			return (-1);
		}
		fs->fs_dport = (uint16_t)v;
	} else {
		if (number(tok[3], 0, 65535, &v) == -1) {
			snprintf(msg, msglen, "bad SPORT %s", tok[3]);
			return (-1);
		}
		fs->fs_sport = (uint16_t)v;
		if (number(tok[4], 0, 65535, &v) == -1) {
			snprintf(msg, msglen, "bad DPORT %s", tok[4]);
			return (-1);
		}
		fs->fs_dport = (uint16_t)v;
	}
	if (number(tok[5], 1, UINT32_MAX, &fs->fs_packets) == -1) {
		snprintf(msg, msglen, "bad PACKETS %s", tok[5]);
		return (-1);
	}
	if (number(tok[6], 0, v6 ? MAXIPLEN : 65535, &v) == -1) {
		snprintf(msg, msglen, "bad SIZE %s", tok[6]);
		return (-1);
	}
	fs->fs_size = (uint32_t)v;
	/* pcap seconds are 32 bits. */
	if (number(tok[7], 0, UINT32_MAX * 1000ULL + 999, &fs->fs_start) ==
	    -1) {
		snprintf(msg, msglen, "bad START_MS %s", tok[7]);
		return (-1);
	}
	if (number(tok[8], 0, UINT32_MAX * 1000ULL, &fs->fs_gap) == -1 ||
	    (fs->fs_packets > 1 && fs->fs_gap >
	    (UINT32_MAX * 1000ULL + 999 - fs->fs_start) /
	    (fs->fs_packets - 1))) {
		snprintf(msg, msglen, "bad GAP_MS %s", tok[8]);
		return (-1);
	}
	for (i = 9; i < ntok; i++)
		if (parse_key(tok[i], fs, msg, msglen) == -1)
			return (-1);

	if ((fs->fs_vlan != -1 || fs->fs_qinq != -1 || fs->fs_mpls > 0 ||
	    fs->fs_pppoe) && linktype != 1) {
		snprintf(msg, msglen, "link-layer keys need -l en10mb");
		return (-1);
	}
	if ((fs->fs_flags != 0x10 || fs->fs_first != -1 ||
	    fs->fs_last != -1) && fs->fs_proto != P_TCP) {
		snprintf(msg, msglen, "TCP flags on a flow that is not TCP");
		return (-1);
	}
	hdrlen = v6 ? 40 : 20;
	switch (fs->fs_proto) {
	case P_TCP:
		hdrlen += 20;
		break;
	case P_UDP:
	case P_ICMP:
	case P_ICMP6:
		hdrlen += 8;
		break;
	case P_SCTP:
		hdrlen += 12;
		break;
	}
	if (fs->fs_size < hdrlen) {
		snprintf(msg, msglen, "SIZE %" PRIu32 " is smaller than the "
		    "%zu bytes of headers", fs->fs_size, hdrlen);
		return (-1);
	}
	return (1);
}

static uint32_t
cksum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return (sum);
}

static uint16_t
cksum_fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

/* CRC32c (Castagnoli), reflected, as SCTP uses it (RFC 9260 App. A). */
static uint32_t
crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc;
	size_t i;
	int b;

	crc = 0xffffffffU;
	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0x82f63b78U & (0U - (crc & 1)));
	}
	return (~crc);
}

/*
 * The transport header at l4, len bytes to the end of the packet, the
 * payload zero.  Returns where in the header the caller must store the
 * Internet checksum, which needs the IP addresses, or 0 when there is
 * none to store.
 */
static size_t
build_l4(const struct flowspec *fs, uint8_t *l4, size_t len)
{
	uint64_t i;
	uint32_t crc;
	uint8_t flags;
	int isfirst, islast;

	i = fs->fs_next;
	switch (fs->fs_proto) {
	case P_TCP:
		isfirst = i == 0 && fs->fs_first != -1;
		islast = i == fs->fs_packets - 1 && fs->fs_last != -1;
		/* A lone packet is both first and last: it carries both. */
		if (isfirst && islast)
			flags = (uint8_t)(fs->fs_first | fs->fs_last);
		else if (isfirst)
			flags = (uint8_t)fs->fs_first;
		else if (islast)
			flags = (uint8_t)fs->fs_last;
		else
			flags = fs->fs_flags;
		put16(l4, fs->fs_sport);
		put16(l4 + 2, fs->fs_dport);
		put32(l4 + 4, fs->fs_seq);
		put32(l4 + 8, (flags & 0x10) ? 1 : 0);
		l4[12] = 5 << 4;
		l4[13] = flags;
		put16(l4 + 14, 65535);
		return (16);
	case P_UDP:
		put16(l4, fs->fs_sport);
		put16(l4 + 2, fs->fs_dport);
		put16(l4 + 4, (uint16_t)len);
		return (6);
	case P_ICMP:
	case P_ICMP6:
		l4[0] = (uint8_t)fs->fs_sport;
		l4[1] = (uint8_t)fs->fs_dport;
		put16(l4 + 4, 1);		/* identifier */
		put16(l4 + 6, (uint16_t)(i + 1));	/* sequence */
		return (2);
	case P_SCTP:
		put16(l4, fs->fs_sport);
		put16(l4 + 2, fs->fs_dport);
		put32(l4 + 4, 0x01020304);	/* verification tag */
		/* The rest as one DATA chunk, so decoders see no garbage. */
		if (len >= 12 + 16) {
			l4[12] = 0;		/* DATA */
			l4[13] = 0x03;		/* B and E: unfragmented */
			put16(l4 + 14, (uint16_t)(len - 12));
			put32(l4 + 16, (uint32_t)i + 1);	/* TSN */
		}
		crc = crc32c(l4, len);
		/* The CRC goes out least significant byte first. */
		l4[8] = crc & 0xff;
		l4[9] = (crc >> 8) & 0xff;
		l4[10] = (crc >> 16) & 0xff;
		l4[11] = crc >> 24;
		return (0);
	}
	return (0);
}

/* The IP packet of the flow's next packet at p; returns its length. */
static size_t
build_ip(struct flowspec *fs, uint8_t *p)
{
	size_t hl, l4len, ckoff;
	uint32_t sum;

	memset(p, 0, fs->fs_size);
	if (fs->fs_v6) {
		hl = 40;
		p[0] = 0x60 | fs->fs_tos >> 4;
		p[1] = (uint8_t)(fs->fs_tos << 4);
		put16(p + 4, (uint16_t)(fs->fs_size - 40));
		p[6] = fs->fs_proto;
		p[7] = 64;
		memcpy(p + 8, fs->fs_src, 16);
		memcpy(p + 24, fs->fs_dst, 16);
	} else {
		hl = 20;
		p[0] = 0x45;
		p[1] = fs->fs_tos;
		put16(p + 2, (uint16_t)fs->fs_size);
		put16(p + 4, (uint16_t)fs->fs_next);
		p[8] = 64;
		p[9] = fs->fs_proto;
		memcpy(p + 12, fs->fs_src, 4);
		memcpy(p + 16, fs->fs_dst, 4);
		put16(p + 10, cksum_fold(cksum_add(0, p, 20)));
	}
	l4len = fs->fs_size - hl;
	if ((ckoff = build_l4(fs, p + hl, l4len)) != 0) {
		sum = 0;
		/* ICMPv4 alone has no pseudo-header. */
		if (fs->fs_proto != P_ICMP) {
			sum = cksum_add(sum, fs->fs_src, fs->fs_v6 ? 16 : 4);
			sum = cksum_add(sum, fs->fs_dst, fs->fs_v6 ? 16 : 4);
			sum += fs->fs_proto + (uint32_t)l4len;
		}
		sum = cksum_fold(cksum_add(sum, p + hl, l4len));
		/* In UDP, zero means "no checksum". */
		if (sum == 0 && fs->fs_proto == P_UDP)
			sum = 0xffff;
		put16(p + hl + ckoff, (uint16_t)sum);
	}
	if (fs->fs_proto == P_TCP)
		fs->fs_seq += (uint32_t)(l4len - 20);
	return (fs->fs_size);
}

/* The whole frame of the flow's next packet; returns its length. */
static size_t
build_frame(const struct out *o, struct flowspec *fs, uint8_t *f)
{
	static const uint8_t mac[12] = {
		0x02, 0, 0, 0, 0, 0x02,		/* destination */
		0x02, 0, 0, 0, 0, 0x01		/* source */
	};
	size_t len, pppoff;
	unsigned int i;
	uint16_t ethertype, ppp;

	len = 0;
	ethertype = fs->fs_v6 ? 0x86dd : 0x0800;
	switch (o->o_linktype) {
	case 1:
		memcpy(f, mac, sizeof(mac));
		len = 12;
		if (fs->fs_qinq != -1) {
			put16(f + len, 0x88a8);
			put16(f + len + 2, (uint16_t)fs->fs_qinq);
			len += 4;
		}
		if (fs->fs_vlan != -1) {
			put16(f + len, 0x8100);
			put16(f + len + 2, (uint16_t)fs->fs_vlan);
			len += 4;
		}
		if (fs->fs_pppoe) {
			put16(f + len, 0x8864);
			len += 2;
			pppoff = len;
			f[len] = 0x11;		/* version 1, type 1 */
			f[len + 1] = 0;		/* session data */
			put16(f + len + 2, 0x0001);	/* session ID */
			/* PPP protocol, MPLS labels and the IP packet. */
			put16(f + len + 4, (uint16_t)(2 + 4 * fs->fs_mpls +
			    fs->fs_size));
			ppp = fs->fs_mpls > 0 ? 0x0281 :
			    fs->fs_v6 ? 0x0057 : 0x0021;
			put16(f + len + 6, ppp);
			len = pppoff + 8;
		} else {
			put16(f + len, fs->fs_mpls > 0 ? 0x8847 : ethertype);
			len += 2;
		}
		for (i = 0; i < fs->fs_mpls; i++) {
			/* Label 16 + i, bottom of stack on the last, TTL 64. */
			put32(f + len, (16 + i) << 12 |
			    (i == fs->fs_mpls - 1 ? 0x100 : 0) | 64);
			len += 4;
		}
		break;
	case 0:
		/* Host order: the savefile's.  AF_INET6 as on OpenBSD. */
		fput32(o, f, fs->fs_v6 ? 24 : 2);
		len = 4;
		break;
	case 108:
		put32(f, fs->fs_v6 ? 24 : 2);
		len = 4;
		break;
	case 113:
		put16(f, 0);			/* sent to us */
		put16(f + 2, 1);		/* ARPHRD_ETHER */
		put16(f + 4, 6);
		memcpy(f + 6, mac + 6, 6);
		f[12] = f[13] = 0;
		put16(f + 14, ethertype);
		len = 16;
		break;
	case 276:
		put16(f, ethertype);
		put16(f + 2, 0);
		put32(f + 4, 1);		/* interface index */
		put16(f + 8, 1);		/* ARPHRD_ETHER */
		f[10] = 0;			/* sent to us */
		f[11] = 6;
		memcpy(f + 12, mac + 6, 6);
		f[18] = f[19] = 0;
		len = 20;
		break;
	default:
		/* raw, ipv4, ipv6: the IP header comes first. */
		break;
	}
	len += build_ip(fs, f + len);
	if (o->o_linktype == 1 && len < ETHER_MIN) {
		memset(f + len, 0, ETHER_MIN - len);
		len = ETHER_MIN;
	}
	return (len);
}

static void
write_bytes(const struct out *o, const void *p, size_t len)
{
	if (fwrite(p, 1, len, o->o_fp) != len)
		err(EX_IOERR, "%s", o->o_name);
}

static void
write_header(const struct out *o)
{
	uint8_t h[24];

	fput32(o, h, o->o_nsec ? 0xa1b23c4dU : 0xa1b2c3d4U);
	fput16(o, h + 4, 2);
	fput16(o, h + 6, 4);
	fput32(o, h + 8, 0);		/* thiszone */
	fput32(o, h + 12, 0);		/* sigfigs */
	fput32(o, h + 16, o->o_snaplen);
	fput32(o, h + 20, o->o_linktype);
	write_bytes(o, h, sizeof(h));
}

static void
write_record(const struct out *o, uint64_t ms, const uint8_t *frame,
    size_t len)
{
	uint8_t h[16];
	uint32_t frac, incl;

	frac = (uint32_t)(ms % 1000) * (o->o_nsec ? 1000000 : 1000);
	incl = len > o->o_snaplen ? o->o_snaplen : (uint32_t)len;
	fput32(o, h, (uint32_t)(ms / 1000));
	fput32(o, h + 4, frac);
	fput32(o, h + 8, incl);
	fput32(o, h + 12, (uint32_t)len);
	write_bytes(o, h, sizeof(h));
	write_bytes(o, frame, incl);
}

static uint64_t
next_time(const struct flowspec *fs)
{
	return (fs->fs_start + fs->fs_next * fs->fs_gap);
}

/* Earlier time first; on a tie, the earlier line. */
static int
heap_less(const struct flowspec *fs, size_t a, size_t b, const size_t *h)
{
	uint64_t ta, tb;

	ta = next_time(&fs[h[a]]);
	tb = next_time(&fs[h[b]]);
	return (ta < tb || (ta == tb && h[a] < h[b]));
}

static void
heap_down(const struct flowspec *fs, size_t *h, size_t n, size_t i)
{
	size_t c, t;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && heap_less(fs, c + 1, c, h))
			c++;
		if (!heap_less(fs, c, i, h))
			break;
		t = h[c];
		h[c] = h[i];
		h[i] = t;
		i = c;
	}
}

int
main(int argc, char *argv[])
{
	static uint8_t frame[MAXLINKHDR + MAXIPLEN + ETHER_MIN];
	struct out o;
	struct flowspec *fs, *nfs;
	size_t *heap, nfs_len, nfs_cap, lineno, n, i, cap;
	uint64_t v;
	char *line, msg[256];
	ssize_t linelen;
	int ch, rc;

	memset(&o, 0, sizeof(o));
	o.o_linktype = 1;
	o.o_snaplen = MAXCAPLEN;
	while ((ch = getopt(argc, argv, "bl:no:s:")) != -1) {
		switch (ch) {
		case 'b':
			o.o_be = 1;
			break;
		case 'l':
			for (i = 0; i < sizeof(linktypes) /
			    sizeof(linktypes[0]); i++)
				if (strcmp(optarg, linktypes[i].lt_name) == 0)
					break;
			if (i == sizeof(linktypes) / sizeof(linktypes[0]))
				errx(EX_USAGE, "unknown link type: %s", optarg);
			o.o_linktype = linktypes[i].lt_type;
			break;
		case 'n':
			o.o_nsec = 1;
			break;
		case 'o':
			o.o_name = optarg;
			break;
		case 's':
			if (number(optarg, 1, MAXCAPLEN, &v) == -1)
				errx(EX_USAGE, "bad snaplen: %s", optarg);
			o.o_snaplen = (uint32_t)v;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc != 0 || o.o_name == NULL)
		usage();

	/* Read every line first: packets are merged across lines. */
	fs = NULL;
	nfs_len = nfs_cap = 0;
	line = NULL;
	cap = 0;
	for (lineno = 1; (linelen = getline(&line, &cap, stdin)) != -1;
	    lineno++) {
		if (nfs_len == nfs_cap) {
			nfs_cap = nfs_cap == 0 ? 64 : nfs_cap * 2;
			if ((nfs = reallocarray(fs, nfs_cap,
			    sizeof(*fs))) == NULL)
				err(EX_OSERR, NULL);
			fs = nfs;
		}
		rc = parse_line(line, o.o_linktype, &fs[nfs_len], msg,
		    sizeof(msg));
		if (rc == -1)
			errx(EX_DATAERR, "line %zu: %s", lineno, msg);
		if (rc == 1)
			nfs_len++;
	}
	if (ferror(stdin))
		err(EX_IOERR, "stdin");
	free(line);

	if (strcmp(o.o_name, "-") == 0)
		o.o_fp = stdout;
	else if ((o.o_fp = fopen(o.o_name, "wb")) == NULL)
		err(EX_CANTCREAT, "%s", o.o_name);
	write_header(&o);

	/* A heap of lines ordered by their next packet's time. */
	if ((heap = reallocarray(NULL, nfs_len + 1, sizeof(*heap))) == NULL)
		err(EX_OSERR, NULL);
	for (i = 0; i < nfs_len; i++)
		heap[i] = i;
	n = nfs_len;
	for (i = n / 2; i-- > 0;)
		heap_down(fs, heap, n, i);
	while (n > 0) {
		nfs = &fs[heap[0]];
		write_record(&o, next_time(nfs), frame,
		    build_frame(&o, nfs, frame));
		if (++nfs->fs_next == nfs->fs_packets)
			heap[0] = heap[--n];
		heap_down(fs, heap, n, 0);
	}

	if (fflush(o.o_fp) == EOF || (o.o_fp != stdout &&
	    fclose(o.o_fp) == EOF))
		err(EX_IOERR, "%s", o.o_name);
	free(heap);
	free(fs);
	return (EX_OK);
}
