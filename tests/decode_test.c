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
 * Unit tests for decode_frame().  Each frame is built byte by byte by a
 * builder below; every builder is also listed in builders[] so that the
 * last case can replay each frame at every caplen from an exactly-sized
 * heap copy, where ASan sees any read past the captured bytes.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "flowprobe.h"

#define FRAME_MAX	512
#define IFINDEX		7

struct frame {
	uint8_t		 b[FRAME_MAX];
	size_t		 len;		/* bytes captured */
	uint32_t	 wirelen;	/* 0: same as len */
	int		 link;
};

typedef void	 build_fn(struct frame *);

static void	 put8(struct frame *, uint8_t);
static void	 put16(struct frame *, uint16_t);
static void	 put32(struct frame *, uint32_t);
static void	 putn(struct frame *, uint8_t, size_t);
static void	 set16(struct frame *, size_t, uint16_t);
static void	 eth(struct frame *, uint16_t);
static size_t	 ip4(struct frame *, uint8_t);
static size_t	 ip6(struct frame *, uint8_t);
static void	 fix4(struct frame *, size_t);
static void	 fix6(struct frame *, size_t);
static void	 tcp(struct frame *, uint16_t, uint16_t, uint8_t);
static void	 udp(struct frame *, uint16_t, uint16_t);
static void	 ext6(struct frame *, uint8_t, uint8_t);
static void	 udp4_body(struct frame *);
static void	 udp6_body(struct frame *);
static void	 tcp4_body(struct frame *);
static void	 tcp6_body(struct frame *);
static uint8_t	*mkframe(const struct frame *, size_t, struct fp_frame *);
static int	 dec_cap(const struct frame *, size_t, struct fp_pkt *);
static int	 dec(const struct frame *, struct fp_pkt *);
static int	 is_v4(const struct fp_pkt *);
static int	 is_v6(const struct fp_pkt *);
static int	 same_words(const struct fp_packed *, const struct fp_packed *);
static void	 dstopts(struct frame *, int);
static void	 wire_agrees(const struct fp_frame *, const char *, size_t,
		    uint32_t);
static build_fn	 b_eth_tcp, b_eth_udp, b_eth_icmp, b_eth_icmp6,
		    b_eth_sctp, b_vlan, b_qinq, b_mpls_v4, b_mpls_v6, b_pppoe,
		    b_pppoe6, b_null_le, b_null_be, b_loop, b_raw4, b_raw6,
		    b_link4_v6, b_link6_v6, b_sll, b_sll2, b_prio_vlan, b_pad,
		    b_padcut, b_hdronly, b_frag4, b_frag6_first, b_frag6_later,
		    b_ext6, b_dst8, b_dst9, b_dst20, b_extpast, b_lie4,
		    b_short4, b_lie6, b_ihl4, b_tso4, b_tso6, b_opts4, b_esp6,
		    b_arp, b_8023, b_pppoe_disc, b_pppoe_lcp, b_vlan9, b_vlan8,
		    b_mpls17, b_mpls_pw, b_mpls_pw_arp, b_mpls_pw_mpls,
		    b_unsupp, b_null_bad, b_null_ipx, b_raw_bad, b_eth_udp6,
		    b_prio4, b_prio6;

static const uint8_t	 v4src[4] = { 192, 0, 2, 1 };
static const uint8_t	 v4dst[4] = { 198, 51, 100, 2 };
static const uint8_t	 v6src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t	 v6dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static void
put8(struct frame *f, uint8_t v)
{
	ATF_REQUIRE(f->len < FRAME_MAX);
	f->b[f->len++] = v;
}

static void
put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void
put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void
putn(struct frame *f, uint8_t v, size_t n)
{
	while (n-- > 0)
		put8(f, v);
}

static void
set16(struct frame *f, size_t off, uint16_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

/* Ethernet: 6 destination, 6 source, ethertype. */
static void
eth(struct frame *f, uint16_t etype)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_ETHERNET;
	putn(f, 0x02, 6);
	putn(f, 0x04, 6);
	put16(f, etype);
}

/* IPv4, no options, ToS 0x28, total length set later by fix4(). */
static size_t
ip4(struct frame *f, uint8_t proto)
{
	size_t	 o = f->len;

	put8(f, 0x45);
	put8(f, 0x28);
	put16(f, 0);
	put16(f, 0x1234);
	put16(f, 0x4000);	/* DF, offset 0 */
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, 0xc0000201);	/* 192.0.2.1 */
	put32(f, 0xc6336402);	/* 198.51.100.2 */
	return (o);
}

static void
fix4(struct frame *f, size_t o)
{
	set16(f, o + 2, (uint16_t)(f->len - o));
}

/* IPv6, traffic class 0xb8, payload length set later by fix6(). */
static size_t
ip6(struct frame *f, uint8_t nh)
{
	size_t	 o = f->len;
	int	 i;

	put32(f, 0x6b812345);
	put16(f, 0);
	put8(f, nh);
	put8(f, 64);
	for (i = 0; i < 16; i++)
		put8(f, v6src[i]);
	for (i = 0; i < 16; i++)
		put8(f, v6dst[i]);
	return (o);
}

static void
fix6(struct frame *f, size_t o)
{
	set16(f, o + 4, (uint16_t)(f->len - o - 40));
}

static void
tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1000);		/* seq */
	put32(f, 0);		/* ack */
	put8(f, 0x50);		/* data offset 5 */
	put8(f, flags);
	put16(f, 65535);
	put32(f, 0);		/* checksum, urgent */
}

static void
udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, 8 + 10);
	put16(f, 0);
	putn(f, 0xaa, 10);
}

/* An 8-byte extension header chaining to nh. */
static void
ext6(struct frame *f, uint8_t nh, uint8_t len8)
{
	put8(f, nh);
	put8(f, len8);
	putn(f, 0, 6 + (size_t)len8 * 8);
}

static void
udp4_body(struct frame *f)
{
	size_t	 o = ip4(f, 17);

	udp(f, 5353, 53);
	fix4(f, o);
}

static void
udp6_body(struct frame *f)
{
	size_t	 o = ip6(f, 17);

	udp(f, 5353, 53);
	fix6(f, o);
}

static void
tcp4_body(struct frame *f)
{
	size_t	 o = ip4(f, 6);

	tcp(f, 12345, 80, 0x12);
	putn(f, 0xee, 4);
	fix4(f, o);
}

static void
tcp6_body(struct frame *f)
{
	size_t	 o = ip6(f, 6);

	tcp(f, 12345, 443, 0x18);
	putn(f, 0xee, 4);
	fix6(f, o);
}

/*
 * The first caplen bytes of f as a captured frame at time 1, in a buffer
 * of exactly that size, so that ASan sees any read past it; the caller
 * frees what this returns.
 */
static uint8_t *
mkframe(const struct frame *f, size_t caplen, struct fp_frame *fr)
{
	uint8_t *buf;

	buf = malloc(caplen);
	ATF_REQUIRE(caplen == 0 || buf != NULL);
	if (caplen > 0)
		memcpy(buf, f->b, caplen);
	memset(fr, 0, sizeof(*fr));
	fr->fr_data = buf;
	fr->fr_caplen = (uint32_t)caplen;
	fr->fr_wirelen = f->wirelen != 0 ? f->wirelen : (uint32_t)f->len;
	fr->fr_time = 1;
	return (buf);
}

static int
dec_cap(const struct frame *f, size_t caplen, struct fp_pkt *p)
{
	struct fp_frame	 fr;
	uint8_t		*buf;
	int		 r;

	buf = mkframe(f, caplen, &fr);
	/* Garbage first: the decoder must clear all of it. */
	memset(p, 0xa5, sizeof(*p));
	r = decode_frame(f->link, &fr, IFINDEX, p);
	free(buf);
	return (r);
}

static int
dec(const struct frame *f, struct fp_pkt *p)
{
	return (dec_cap(f, f->len, p));
}

static int
is_v4(const struct fp_pkt *p)
{
	static const uint8_t	 zero[12];

	return (p->p_key.k_ipver == 4 &&
	    memcmp(p->p_key.k_src, v4src, 4) == 0 &&
	    memcmp(p->p_key.k_dst, v4dst, 4) == 0 &&
	    memcmp(p->p_key.k_src + 4, zero, 12) == 0 &&
	    memcmp(p->p_key.k_dst + 4, zero, 12) == 0 &&
	    p->p_key.k_tos == 0x28 && p->p_key.k_ifindex == IFINDEX);
}

static int
is_v6(const struct fp_pkt *p)
{
	return (p->p_key.k_ipver == 6 &&
	    memcmp(p->p_key.k_src, v6src, 16) == 0 &&
	    memcmp(p->p_key.k_dst, v6dst, 16) == 0 &&
	    p->p_key.k_tos == 0xb8 && p->p_key.k_ifindex == IFINDEX);
}

/* The words the cache reads: an IPv4 key's 1-3 are not among them. */
static int
same_words(const struct fp_packed *a, const struct fp_packed *b)
{
	if (a->pk_key[0] != b->pk_key[0] || a->pk_key[4] != b->pk_key[4])
		return (0);
	return (PK_IS_IPV4(a->pk_key[4]) || memcmp(&a->pk_key[1],
	    &b->pk_key[1], 3 * sizeof(a->pk_key[1])) == 0);
}

/*
 * fe given wirelen as its wire length, which may break fp_frame's promise
 * (wirelen < fr_caplen): decode_frames() must still give the general
 * path's verdict and, when it meters, decode_pack()'s words.
 */
static void
wire_agrees(const struct fp_frame *fe, const char *name, size_t caplen,
    uint32_t wirelen)
{
	struct fp_frame	 fw;
	struct fp_packed c, pw;
	struct fp_pkt	 w;
	uint64_t	 results[DECODE_UNSUPPORTED + 1];
	size_t		 n;
	int		 rw;

	fw = *fe;
	fw.fr_wirelen = wirelen;
	rw = decode_frame(LINK_ETHERNET, &fw, IFINDEX, &w);
	memset(results, 0, sizeof(results));
	memset(&c, 0x3c, sizeof(c));
	n = decode_frames(LINK_ETHERNET, &fw, 1, &c, results);
	ATF_CHECK_MSG(n == (rw == DECODE_OK) && results[rw] == 1,
	    "%s caplen %zu, wire %u: %zu packets, verdict %d", name, caplen,
	    wirelen, n, rw);
	if (n != 1 || rw != DECODE_OK)
		return;
	decode_pack(&w, fw.fr_time, &pw);
	ATF_CHECK_MSG(same_words(&pw, &c) && pw.pk_octets == c.pk_octets &&
	    pw.pk_tcpflags == c.pk_tcpflags, "%s caplen %zu, wire %u: "
	    "packed differently", name, caplen, wirelen);
}

/* Frame builders, one per encapsulation or oddity. */

static void
b_eth_tcp(struct frame *f)
{
	eth(f, 0x0800);
	tcp4_body(f);
}

static void
b_eth_udp(struct frame *f)
{
	eth(f, 0x0800);
	udp4_body(f);
}

static void
b_eth_icmp(struct frame *f)
{
	size_t	 o;

	eth(f, 0x0800);
	o = ip4(f, 1);
	put8(f, 3);		/* destination unreachable */
	put8(f, 4);		/* fragmentation needed */
	putn(f, 0, 6 + 28);
	fix4(f, o);
}

static void
b_eth_icmp6(struct frame *f)
{
	size_t	 o;

	eth(f, 0x86dd);
	o = ip6(f, 58);
	put8(f, 128);		/* echo request */
	put8(f, 0);
	putn(f, 0x11, 6);
	fix6(f, o);
}

static void
b_eth_sctp(struct frame *f)
{
	size_t	 o;

	eth(f, 0x0800);
	o = ip4(f, 132);
	put16(f, 36412);
	put16(f, 38412);
	put32(f, 0xdeadbeef);	/* verification tag */
	put32(f, 0);		/* checksum */
	fix4(f, o);
}

static void
b_vlan(struct frame *f)
{
	eth(f, 0x8100);
	put16(f, 0xa064);	/* priority 5, VLAN 100 */
	put16(f, 0x0800);
	udp4_body(f);
}

static void
b_qinq(struct frame *f)
{
	eth(f, 0x88a8);
	put16(f, 200);
	put16(f, 0x8100);
	put16(f, 300);
	put16(f, 0x0800);
	udp4_body(f);
}

static void
b_mpls_v4(struct frame *f)
{
	eth(f, 0x8847);
	put32(f, 16 << 12 | 64);
	put32(f, 17 << 12 | 64);
	put32(f, 18 << 12 | 0x100 | 64);	/* bottom of stack */
	udp4_body(f);
}

static void
b_mpls_v6(struct frame *f)
{
	eth(f, 0x8847);
	put32(f, 16 << 12 | 64);
	put32(f, 17 << 12 | 64);
	put32(f, 18 << 12 | 0x100 | 64);
	tcp6_body(f);
}

static void
b_pppoe(struct frame *f)
{
	eth(f, 0x8864);
	put8(f, 0x11);		/* version 1, type 1 */
	put8(f, 0);		/* session data */
	put16(f, 0x0042);	/* session ID */
	put16(f, 2 + 20 + 18);
	put16(f, 0x0021);
	udp4_body(f);
}

static void
b_pppoe6(struct frame *f)
{
	eth(f, 0x8864);
	put8(f, 0x11);
	put8(f, 0);
	put16(f, 0x0042);
	put16(f, 2 + 40 + 18);
	put16(f, 0x0057);
	udp6_body(f);
}

static void
b_null_le(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_NULL;
	put32(f, 0x02000000);	/* AF_INET written little-endian */
	udp4_body(f);
}

static void
b_null_be(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_NULL;
	put32(f, 28);		/* AF_INET6 (FreeBSD) written big-endian */
	udp6_body(f);
}

static void
b_loop(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_LOOP;
	put32(f, 24);		/* AF_INET6 (OpenBSD) */
	tcp6_body(f);
}

static void
b_raw4(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_RAW;
	tcp4_body(f);
}

static void
b_raw6(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_RAW_OPENBSD;
	udp6_body(f);
}

static void
b_link4_v6(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_IPV4;
	udp6_body(f);
}

static void
b_link6_v6(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_IPV6;
	udp6_body(f);
}

static void
b_sll(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_LINUX_SLL;
	put16(f, 0);		/* to us */
	put16(f, 1);		/* ARPHRD_ETHER */
	put16(f, 6);
	putn(f, 0x02, 6);
	putn(f, 0, 2);
	put16(f, 0x0800);
	tcp4_body(f);
}

static void
b_sll2(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_LINUX_SLL2;
	put16(f, 0x86dd);
	put16(f, 0);
	put32(f, 3);		/* ifindex */
	put16(f, 1);
	put8(f, 4);		/* outgoing */
	put8(f, 6);
	putn(f, 0x02, 6);
	putn(f, 0, 2);
	udp6_body(f);
}

/*
 * Priority tags (VLAN ID 0), as Linux captures hand them back with the
 * tag they stripped: over a VLAN, then alone; and a priority on a VLAN.
 */
static void
b_prio_vlan(struct frame *f)
{
	eth(f, 0x8100);
	put16(f, 0xa000);	/* priority 5, no VLAN */
	put16(f, 0x8100);
	put16(f, 0x0007);
	put16(f, 0x0800);
	udp4_body(f);
}

static void
b_eth_udp6(struct frame *f)
{
	eth(f, 0x86dd);
	udp6_body(f);
}

static void
b_prio4(struct frame *f)
{
	eth(f, 0x8100);
	put16(f, 0x2000);
	put16(f, 0x0800);
	tcp4_body(f);
}

static void
b_prio6(struct frame *f)
{
	eth(f, 0x8100);
	put16(f, 0x2007);	/* the priority must not leak into the ID */
	put16(f, 0x86dd);
	udp6_body(f);
}

static void
b_pad(struct frame *f)
{
	size_t	 o;

	eth(f, 0x0800);
	o = ip4(f, 6);
	tcp(f, 40000, 22, 0x02);
	fix4(f, o);
	putn(f, 0xff, 60 - f->len);
}

/* The IP packet ends inside the TCP header; padding is not the rest. */
static void
b_padcut(struct frame *f)
{
	size_t	 o;

	eth(f, 0x0800);
	o = ip4(f, 6);
	tcp(f, 40000, 22, 0x02);
	f->len -= 8;
	fix4(f, o);
	putn(f, 0xff, 60 - f->len);
}

static void
b_hdronly(struct frame *f)
{
	size_t	 o;

	eth(f, 0x0800);
	o = ip4(f, 6);
	tcp(f, 12345, 80, 0x10);
	set16(f, o + 2, 1500);
	f->wirelen = 1514;
}

static void
b_frag4(struct frame *f)
{
	size_t	 o;

	eth(f, 0x0800);
	o = ip4(f, 17);
	set16(f, o + 6, 185);	/* offset 1480 bytes */
	putn(f, 0x35, 40);	/* payload that looks like ports */
	fix4(f, o);
}

static void
b_frag6_first(struct frame *f)
{
	size_t	 o;

	eth(f, 0x86dd);
	o = ip6(f, 44);
	put8(f, 17);
	put8(f, 0);
	put16(f, 0x0001);	/* offset 0, more fragments */
	put32(f, 0xcafe);
	udp(f, 5353, 53);
	fix6(f, o);
}

static void
b_frag6_later(struct frame *f)
{
	size_t	 o;

	eth(f, 0x86dd);
	o = ip6(f, 44);
	put8(f, 17);
	put8(f, 0);
	put16(f, 100 << 3);	/* offset 800 bytes, last */
	put32(f, 0xcafe);
	putn(f, 0x35, 24);
	fix6(f, o);
}

static void
b_ext6(struct frame *f)
{
	size_t	 o;

	eth(f, 0x86dd);
	o = ip6(f, 0);
	ext6(f, 43, 0);		/* hop-by-hop, 8 bytes */
	ext6(f, 60, 2);		/* routing, 24 bytes */
	ext6(f, 6, 1);		/* destination options, 16 bytes */
	tcp(f, 12345, 443, 0x11);
	fix6(f, o);
}

static void
dstopts(struct frame *f, int n)
{
	size_t	 o;
	int	 i;

	eth(f, 0x86dd);
	o = ip6(f, 60);
	for (i = 1; i < n; i++)
		ext6(f, 60, 0);
	ext6(f, 17, 0);
	udp(f, 5353, 53);
	fix6(f, o);
}

static void
b_dst8(struct frame *f)
{
	dstopts(f, 8);
}

static void
b_dst9(struct frame *f)
{
	dstopts(f, 9);
}

static void
b_dst20(struct frame *f)
{
	dstopts(f, 20);
}

static void
b_extpast(struct frame *f)
{
	size_t	 o;

	eth(f, 0x86dd);
	o = ip6(f, 0);
	ext6(f, 17, 1);		/* 16 bytes ... */
	udp(f, 5353, 53);
	fix6(f, o);
	set16(f, o + 4, 8);	/* ... in a payload of 8 */
}

static void
b_lie4(struct frame *f)
{
	size_t	 o;

	eth(f, 0x0800);
	o = ip4(f, 17);
	udp(f, 5353, 53);
	set16(f, o + 2, 1000);
}

static void
b_short4(struct frame *f)
{
	size_t	 o;

	eth(f, 0x0800);
	o = ip4(f, 17);
	udp(f, 5353, 53);
	set16(f, o + 2, 19);
}

static void
b_lie6(struct frame *f)
{
	size_t	 o;

	eth(f, 0x86dd);
	o = ip6(f, 17);
	udp(f, 5353, 53);
	set16(f, o + 4, 1000);
}

static void
b_ihl4(struct frame *f)
{
	size_t	 o;

	eth(f, 0x0800);
	o = ip4(f, 17);
	udp(f, 5353, 53);
	fix4(f, o);
	f->b[o] = 0x44;
}

static void
b_tso4(struct frame *f)
{
	eth(f, 0x0800);
	(void)ip4(f, 6);
	tcp(f, 12345, 80, 0x18);
	f->wirelen = 14 + 64000;
}

static void
b_tso6(struct frame *f)
{
	eth(f, 0x86dd);
	(void)ip6(f, 6);
	tcp(f, 12345, 443, 0x18);
	f->wirelen = 14 + 40 + 70000;
}

static void
b_opts4(struct frame *f)
{
	size_t	 o;

	eth(f, 0x0800);
	o = ip4(f, 6);
	f->b[o] = 0x4f;		/* 40 bytes of options ... */
	putn(f, 1, 20);		/* ... of which 20 captured */
	set16(f, o + 2, 60 + 20);
	f->wirelen = 14 + 60 + 20;
}

static void
b_esp6(struct frame *f)
{
	size_t	 o;

	eth(f, 0x86dd);
	o = ip6(f, 50);
	put32(f, 0x1001);	/* SPI */
	put32(f, 1);
	putn(f, 0x77, 16);
	fix6(f, o);
}

static void
b_arp(struct frame *f)
{
	eth(f, 0x0806);
	put16(f, 1);
	put16(f, 0x0800);
	put8(f, 6);
	put8(f, 4);
	put16(f, 1);
	putn(f, 0x02, 6);
	put32(f, 0xc0000201);
	putn(f, 0, 6);
	put32(f, 0xc0000202);
}

static void
b_8023(struct frame *f)
{
	eth(f, 38);		/* a length: 802.3 with LLC */
	put8(f, 0x42);
	put8(f, 0x42);
	put8(f, 0x03);
	putn(f, 0, 35);
}

static void
b_pppoe_disc(struct frame *f)
{
	eth(f, 0x8863);
	put8(f, 0x11);
	put8(f, 0x09);		/* PADI */
	put16(f, 0);
	put16(f, 4);
	put32(f, 0x01010000);
}

static void
b_pppoe_lcp(struct frame *f)
{
	eth(f, 0x8864);
	put8(f, 0x11);
	put8(f, 0);
	put16(f, 0x0042);
	put16(f, 6);
	put16(f, 0xc021);
	put32(f, 0x01010004);
}

static void
b_vlan9(struct frame *f)
{
	int	 i;

	eth(f, 0x8100);
	for (i = 0; i < 8; i++) {
		put16(f, (uint16_t)(10 + i));
		put16(f, 0x8100);
	}
	put16(f, 99);
	put16(f, 0x0800);
	udp4_body(f);
}

static void
b_vlan8(struct frame *f)
{
	int	 i;

	eth(f, 0x9100);
	for (i = 0; i < 7; i++) {
		put16(f, (uint16_t)(10 + i));
		put16(f, 0x8100);
	}
	put16(f, 99);
	put16(f, 0x0800);
	udp4_body(f);
}

static void
b_mpls17(struct frame *f)
{
	int	 i;

	eth(f, 0x8847);
	for (i = 0; i < 17; i++)
		put32(f, (uint32_t)(16 + i) << 12 | 64);
	udp4_body(f);
}

/* Ethernet over MPLS: label, control word, a whole inner frame. */
static void
pw_head(struct frame *f, uint16_t inner)
{
	eth(f, 0x8847);
	put32(f, 16 << 12 | 0x100 | 64);
	put32(f, 0);		/* pseudowire control word */
	putn(f, 0x06, 6);
	putn(f, 0x08, 6);
	put16(f, inner);
}

static void
b_mpls_pw(struct frame *f)
{
	size_t	 o;

	pw_head(f, 0x0800);
	o = ip4(f, 17);
	udp(f, 5353, 53);
	fix4(f, o);
}

static void
b_mpls_pw_arp(struct frame *f)
{
	pw_head(f, 0x0806);
	putn(f, 0x00, 28);
}

/* A second label stack inside the pseudowire is not followed. */
static void
b_mpls_pw_mpls(struct frame *f)
{
	size_t	 o;

	pw_head(f, 0x8847);
	put32(f, 17 << 12 | 0x100 | 64);
	o = ip4(f, 17);
	udp(f, 5353, 53);
	fix4(f, o);
}

static void
b_unsupp(struct frame *f)
{
	b_eth_udp(f);
	f->link = 105;		/* 802.11 */
}

static void
b_null_bad(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_NULL;
	put32(f, 2);		/* AF_INET ... */
	udp6_body(f);		/* ... over an IPv6 packet */
}

static void
b_null_ipx(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	f->link = LINK_NULL;
	put32(f, 0x17000100);	/* no known AF in either order */
	udp4_body(f);
}

static void
b_raw_bad(struct frame *f)
{
	b_raw4(f);
	f->link = LINK_RAW_BSD;
	f->b[0] = 0x55;
}

static const struct {
	const char	*name;
	build_fn	*fn;
} builders[] = {
	{ "eth_tcp", b_eth_tcp }, { "eth_udp", b_eth_udp },
	{ "eth_icmp", b_eth_icmp }, { "eth_icmp6", b_eth_icmp6 },
	{ "eth_sctp", b_eth_sctp }, { "vlan", b_vlan }, { "qinq", b_qinq },
	{ "mpls_v4", b_mpls_v4 }, { "mpls_v6", b_mpls_v6 },
	{ "pppoe", b_pppoe }, { "pppoe6", b_pppoe6 },
	{ "null_le", b_null_le }, { "null_be", b_null_be },
	{ "loop", b_loop }, { "raw4", b_raw4 }, { "raw6", b_raw6 },
	{ "link4_v6", b_link4_v6 }, { "link6_v6", b_link6_v6 },
	{ "sll", b_sll }, { "sll2", b_sll2 }, { "prio_vlan", b_prio_vlan },
	{ "pad", b_pad }, { "padcut", b_padcut }, { "hdronly", b_hdronly },
	{ "frag4", b_frag4 },
	{ "frag6_first", b_frag6_first }, { "frag6_later", b_frag6_later },
	{ "ext6", b_ext6 }, { "dst8", b_dst8 }, { "dst9", b_dst9 },
	{ "dst20", b_dst20 }, { "extpast", b_extpast }, { "lie4", b_lie4 },
	{ "short4", b_short4 }, { "lie6", b_lie6 }, { "ihl4", b_ihl4 },
	{ "tso4", b_tso4 }, { "tso6", b_tso6 }, { "opts4", b_opts4 },
	{ "esp6", b_esp6 }, { "arp", b_arp }, { "8023", b_8023 },
	{ "pppoe_disc", b_pppoe_disc }, { "pppoe_lcp", b_pppoe_lcp },
	{ "vlan9", b_vlan9 }, { "vlan8", b_vlan8 }, { "mpls17", b_mpls17 },
	{ "mpls_pw", b_mpls_pw }, { "mpls_pw_arp", b_mpls_pw_arp },
	{ "mpls_pw_mpls", b_mpls_pw_mpls }, { "unsupp", b_unsupp },
	{ "null_bad", b_null_bad }, { "null_ipx", b_null_ipx },
	{ "raw_bad", b_raw_bad }, { "eth_udp6", b_eth_udp6 },
	{ "prio4", b_prio4 }, { "prio6", b_prio6 },
};

ATF_TC_WITHOUT_HEAD(eth_ipv4_tcp);
ATF_TC_BODY(eth_ipv4_tcp, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;
	static const uint8_t	 zero[3];

	b_eth_tcp(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v4(&p));
	ATF_CHECK_EQ(p.p_key.k_proto, 6);
	ATF_CHECK_EQ(p.p_key.k_sport, 12345);
	ATF_CHECK_EQ(p.p_key.k_dport, 80);
	ATF_CHECK_EQ(p.p_tcpflags, 0x12);
	ATF_CHECK_EQ(p.p_octets, 44);
	ATF_CHECK_EQ(p.p_key.k_vlan, 0);
	ATF_CHECK_EQ(p.p_l4trunc, 0);
	ATF_CHECK(memcmp(p.p_key.k_pad, zero, sizeof(zero)) == 0);
}

ATF_TC_WITHOUT_HEAD(eth_ipv4_udp);
ATF_TC_BODY(eth_ipv4_udp, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_eth_udp(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v4(&p));
	ATF_CHECK_EQ(p.p_key.k_proto, 17);
	ATF_CHECK_EQ(p.p_key.k_sport, 5353);
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
	ATF_CHECK_EQ(p.p_tcpflags, 0);
	ATF_CHECK_EQ(p.p_octets, 38);
}

ATF_TC_WITHOUT_HEAD(eth_ipv4_icmp);
ATF_TC_BODY(eth_ipv4_icmp, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_eth_icmp(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v4(&p));
	ATF_CHECK_EQ(p.p_key.k_proto, 1);
	ATF_CHECK_EQ(p.p_key.k_sport, 0);
	ATF_CHECK_EQ(p.p_key.k_dport, 3 * 256 + 4);
}

ATF_TC_WITHOUT_HEAD(eth_ipv6_icmp6);
ATF_TC_BODY(eth_ipv6_icmp6, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_eth_icmp6(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v6(&p));
	ATF_CHECK_EQ(p.p_key.k_proto, 58);
	ATF_CHECK_EQ(p.p_key.k_sport, 0);
	ATF_CHECK_EQ(p.p_key.k_dport, 128 * 256);
	ATF_CHECK_EQ(p.p_octets, 48);
}

ATF_TC_WITHOUT_HEAD(eth_ipv4_sctp);
ATF_TC_BODY(eth_ipv4_sctp, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_eth_sctp(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_proto, 132);
	ATF_CHECK_EQ(p.p_key.k_sport, 36412);
	ATF_CHECK_EQ(p.p_key.k_dport, 38412);
}

ATF_TC_WITHOUT_HEAD(vlan_8021q);
ATF_TC_BODY(vlan_8021q, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_vlan(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v4(&p));
	ATF_CHECK_EQ(p.p_key.k_vlan, 100);
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
}

ATF_TC_WITHOUT_HEAD(vlan_qinq_outer);
ATF_TC_BODY(vlan_qinq_outer, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_qinq(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_vlan, 200);
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
}

ATF_TC_WITHOUT_HEAD(vlan_tag_cap);
ATF_TC_BODY(vlan_tag_cap, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_vlan8(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_vlan, 10);
	b_vlan9(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_INVALID);
}

/* The outermost tag that names a VLAN; priority bits are not the ID. */
ATF_TC_WITHOUT_HEAD(vlan_priority_tags);
ATF_TC_BODY(vlan_priority_tags, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_prio_vlan(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_vlan, 7);
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
	b_prio4(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v4(&p));
	ATF_CHECK_EQ(p.p_key.k_vlan, 0);
	ATF_CHECK_EQ(p.p_key.k_dport, 80);
	b_prio6(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v6(&p));
	ATF_CHECK_EQ(p.p_key.k_vlan, 7);
}

ATF_TC_WITHOUT_HEAD(mpls_ipv4);
ATF_TC_BODY(mpls_ipv4, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_mpls_v4(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v4(&p));
	ATF_CHECK_EQ(p.p_key.k_proto, 17);
	ATF_CHECK_EQ(p.p_key.k_sport, 5353);
	ATF_CHECK_EQ(p.p_octets, 38);
}

ATF_TC_WITHOUT_HEAD(mpls_ipv6);
ATF_TC_BODY(mpls_ipv6, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_mpls_v6(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v6(&p));
	ATF_CHECK_EQ(p.p_key.k_proto, 6);
	ATF_CHECK_EQ(p.p_key.k_dport, 443);
	ATF_CHECK_EQ(p.p_tcpflags, 0x18);
}

ATF_TC_WITHOUT_HEAD(mpls_limits);
ATF_TC_BODY(mpls_limits, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_mpls17(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_INVALID);
	b_mpls_pw(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v4(&p));
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
	b_mpls_pw_arp(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_NOTIP);
	b_mpls_pw_mpls(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_NOTIP);
}

ATF_TC_WITHOUT_HEAD(pppoe_session);
ATF_TC_BODY(pppoe_session, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_pppoe(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v4(&p));
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
	b_pppoe6(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v6(&p));
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
	b_pppoe_lcp(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_NOTIP);
}

ATF_TC_WITHOUT_HEAD(null_both_orders);
ATF_TC_BODY(null_both_orders, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_null_le(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v4(&p));
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
	b_null_be(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v6(&p));
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
	b_null_ipx(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_NOTIP);
	b_null_bad(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_INVALID);
}

ATF_TC_WITHOUT_HEAD(loop_network_order);
ATF_TC_BODY(loop_network_order, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_loop(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v6(&p));
	ATF_CHECK_EQ(p.p_key.k_dport, 443);
	/* LOOP is network order only: a little-endian AF is unknown. */
	f.b[0] = 24;
	f.b[3] = 0;
	ATF_CHECK_EQ(dec(&f, &p), DECODE_NOTIP);
}

ATF_TC_WITHOUT_HEAD(raw_by_nibble);
ATF_TC_BODY(raw_by_nibble, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_raw4(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v4(&p));
	ATF_CHECK_EQ(p.p_key.k_dport, 80);
	b_raw6(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v6(&p));
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
	b_raw_bad(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_INVALID);
}

ATF_TC_WITHOUT_HEAD(link_ipv4_ipv6_mismatch);
ATF_TC_BODY(link_ipv4_ipv6_mismatch, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_link4_v6(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_INVALID);
	b_link6_v6(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v6(&p));
	b_raw4(&f);
	f.link = LINK_IPV6;
	ATF_CHECK_EQ(dec(&f, &p), DECODE_INVALID);
}

ATF_TC_WITHOUT_HEAD(linux_sll);
ATF_TC_BODY(linux_sll, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_sll(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v4(&p));
	ATF_CHECK_EQ(p.p_key.k_dport, 80);
	ATF_CHECK_EQ(p.p_tcpflags, 0x12);
}

ATF_TC_WITHOUT_HEAD(linux_sll2);
ATF_TC_BODY(linux_sll2, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_sll2(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v6(&p));
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
	ATF_CHECK_EQ(p.p_octets, 58);
}

ATF_TC_WITHOUT_HEAD(ethernet_padding);
ATF_TC_BODY(ethernet_padding, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_pad(&f);
	ATF_REQUIRE_EQ(f.len, 60);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_octets, 40);
	ATF_CHECK_EQ(p.p_key.k_dport, 22);
	ATF_CHECK_EQ(p.p_tcpflags, 0x02);
	b_padcut(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_octets, 32);
	ATF_CHECK_EQ(p.p_key.k_dport, 22);
	ATF_CHECK_EQ(p.p_tcpflags, 0);
	ATF_CHECK_EQ(p.p_l4trunc, 1);
}

ATF_TC_WITHOUT_HEAD(header_only_capture);
ATF_TC_BODY(header_only_capture, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_hdronly(&f);
	ATF_REQUIRE_EQ(f.len, 54);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_octets, 1500);
	ATF_CHECK_EQ(p.p_key.k_sport, 12345);
	ATF_CHECK_EQ(p.p_tcpflags, 0x10);
	ATF_CHECK_EQ(p.p_l4trunc, 0);
}

ATF_TC_WITHOUT_HEAD(tcp_header_cut);
ATF_TC_BODY(tcp_header_cut, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_hdronly(&f);
	ATF_REQUIRE_EQ(dec_cap(&f, 14 + 20 + 10, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_sport, 12345);
	ATF_CHECK_EQ(p.p_key.k_dport, 80);
	ATF_CHECK_EQ(p.p_tcpflags, 0);
	ATF_CHECK_EQ(p.p_l4trunc, 1);
	ATF_REQUIRE_EQ(dec_cap(&f, 14 + 20 + 3, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_sport, 0);
	ATF_CHECK_EQ(p.p_key.k_dport, 0);
	ATF_CHECK_EQ(p.p_key.k_proto, 6);
	ATF_CHECK_EQ(p.p_l4trunc, 1);
	ATF_CHECK_EQ(p.p_octets, 1500);
}

ATF_TC_WITHOUT_HEAD(ipv4_options_cut);
ATF_TC_BODY(ipv4_options_cut, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_opts4(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_proto, 6);
	ATF_CHECK_EQ(p.p_key.k_sport, 0);
	ATF_CHECK_EQ(p.p_l4trunc, 1);
	ATF_CHECK_EQ(p.p_octets, 80);
}

ATF_TC_WITHOUT_HEAD(ipv4_later_fragment);
ATF_TC_BODY(ipv4_later_fragment, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_frag4(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_proto, 17);
	ATF_CHECK_EQ(p.p_key.k_sport, 0);
	ATF_CHECK_EQ(p.p_key.k_dport, 0);
	ATF_CHECK_EQ(p.p_l4trunc, 0);
	ATF_CHECK_EQ(p.p_octets, 60);
}

ATF_TC_WITHOUT_HEAD(ipv6_first_fragment);
ATF_TC_BODY(ipv6_first_fragment, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_frag6_first(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_proto, 17);
	ATF_CHECK_EQ(p.p_key.k_sport, 5353);
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
}

ATF_TC_WITHOUT_HEAD(ipv6_later_fragment);
ATF_TC_BODY(ipv6_later_fragment, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_frag6_later(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_proto, 17);
	ATF_CHECK_EQ(p.p_key.k_sport, 0);
	ATF_CHECK_EQ(p.p_key.k_dport, 0);
	ATF_CHECK_EQ(p.p_l4trunc, 0);
}

ATF_TC_WITHOUT_HEAD(ipv6_extension_walk);
ATF_TC_BODY(ipv6_extension_walk, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_ext6(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK(is_v6(&p));
	ATF_CHECK_EQ(p.p_key.k_proto, 6);
	ATF_CHECK_EQ(p.p_key.k_sport, 12345);
	ATF_CHECK_EQ(p.p_key.k_dport, 443);
	ATF_CHECK_EQ(p.p_tcpflags, 0x11);
	ATF_CHECK_EQ(p.p_octets, 40 + 8 + 24 + 16 + 20);
}

ATF_TC_WITHOUT_HEAD(ipv6_chain_cut);
ATF_TC_BODY(ipv6_chain_cut, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_ext6(&f);
	/* Inside the routing header: metered as routing, no ports. */
	ATF_REQUIRE_EQ(dec_cap(&f, 14 + 40 + 8 + 4, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_proto, 43);
	ATF_CHECK_EQ(p.p_key.k_dport, 0);
	ATF_CHECK_EQ(p.p_l4trunc, 1);
	ATF_CHECK_EQ(p.p_octets, 108);
	ATF_REQUIRE_EQ(dec_cap(&f, 14 + 40 + 1, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_proto, 0);
	ATF_CHECK_EQ(p.p_l4trunc, 1);
}

ATF_TC_WITHOUT_HEAD(ipv6_extension_cap);
ATF_TC_BODY(ipv6_extension_cap, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_dst8(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_dport, 53);
	/* Past the cap the packet is metered, its walk stopped. */
	b_dst9(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_proto, 60);
	ATF_CHECK_EQ(p.p_key.k_dport, 0);
	ATF_CHECK_EQ(p.p_octets, f.len - 14);
	b_dst20(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_proto, 60);
}

ATF_TC_WITHOUT_HEAD(ipv6_extension_past_payload);
ATF_TC_BODY(ipv6_extension_past_payload, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_extpast(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_INVALID);
}

ATF_TC_WITHOUT_HEAD(ipv6_esp_no_ports);
ATF_TC_BODY(ipv6_esp_no_ports, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_esp6(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_key.k_proto, 50);
	ATF_CHECK_EQ(p.p_key.k_sport, 0);
	ATF_CHECK_EQ(p.p_key.k_dport, 0);
	ATF_CHECK_EQ(p.p_l4trunc, 0);
}

ATF_TC_WITHOUT_HEAD(lying_lengths);
ATF_TC_BODY(lying_lengths, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_lie4(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_INVALID);
	b_short4(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_INVALID);
	b_lie6(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_INVALID);
	b_ihl4(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_INVALID);
}

ATF_TC_WITHOUT_HEAD(tso_zero_length);
ATF_TC_BODY(tso_zero_length, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_tso4(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_octets, 64000);
	ATF_CHECK_EQ(p.p_key.k_dport, 80);
	b_tso6(&f);
	ATF_REQUIRE_EQ(dec(&f, &p), DECODE_OK);
	ATF_CHECK_EQ(p.p_octets, 40 + 70000);
	ATF_CHECK_EQ(p.p_key.k_dport, 443);
}

ATF_TC_WITHOUT_HEAD(truncated_headers);
ATF_TC_BODY(truncated_headers, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_eth_tcp(&f);
	ATF_CHECK_EQ(dec_cap(&f, 13, &p), DECODE_TRUNCATED);
	ATF_CHECK_EQ(dec_cap(&f, 14 + 19, &p), DECODE_TRUNCATED);
	b_eth_icmp6(&f);
	ATF_CHECK_EQ(dec_cap(&f, 14 + 39, &p), DECODE_TRUNCATED);
	b_vlan(&f);
	ATF_CHECK_EQ(dec_cap(&f, 17, &p), DECODE_TRUNCATED);
	b_mpls_v4(&f);
	ATF_CHECK_EQ(dec_cap(&f, 14 + 10, &p), DECODE_TRUNCATED);
	b_pppoe(&f);
	ATF_CHECK_EQ(dec_cap(&f, 14 + 7, &p), DECODE_TRUNCATED);
	b_sll(&f);
	ATF_CHECK_EQ(dec_cap(&f, 15, &p), DECODE_TRUNCATED);
	b_sll2(&f);
	ATF_CHECK_EQ(dec_cap(&f, 19, &p), DECODE_TRUNCATED);
	b_null_le(&f);
	ATF_CHECK_EQ(dec_cap(&f, 3, &p), DECODE_TRUNCATED);
	b_raw4(&f);
	ATF_CHECK_EQ(dec_cap(&f, 0, &p), DECODE_TRUNCATED);
}

ATF_TC_WITHOUT_HEAD(unsupported_link);
ATF_TC_BODY(unsupported_link, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_unsupp(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_UNSUPPORTED);
	ATF_CHECK_EQ(p.p_key.k_ifindex, IFINDEX);
}

ATF_TC_WITHOUT_HEAD(not_ip);
ATF_TC_BODY(not_ip, tc)
{
	struct frame	 f;
	struct fp_pkt	 p;

	b_arp(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_NOTIP);
	b_8023(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_NOTIP);
	b_pppoe_disc(&f);
	ATF_CHECK_EQ(dec(&f, &p), DECODE_NOTIP);
}

/*
 * Every frame above at every caplen, each from a heap copy of exactly
 * caplen bytes.  A cut frame may only lose detail: the verdict stays
 * the full one or becomes TRUNCATED (or OK when the cut hides what made
 * it invalid), and an OK cut frame meters the same octets and, unless
 * it says its transport header was cut, the same key.
 */
ATF_TC_WITHOUT_HEAD(every_caplen);
ATF_TC_BODY(every_caplen, tc)
{
	struct frame	 f;
	struct fp_pkt	 full, p;
	struct fp_frame	 fr;
	static const uint8_t	 zero[3];
	uint8_t		*buf;
	size_t		 i, k;
	int		 want, r;

	for (i = 0; i < sizeof(builders) / sizeof(builders[0]); i++) {
		builders[i].fn(&f);
		want = dec(&f, &full);
		for (k = 0; k <= f.len; k++) {
			buf = mkframe(&f, k, &fr);
			memset(&p, 0x5a, sizeof(p));
			r = decode_frame(f.link, &fr, IFINDEX, &p);
			free(buf);

			ATF_CHECK_MSG(p.p_key.k_ifindex == IFINDEX &&
			    memcmp(p.p_key.k_pad, zero, 3) == 0,
			    "%s caplen %zu: key not cleared", builders[i].name,
			    k);
			if (k == f.len || want == DECODE_UNSUPPORTED) {
				ATF_CHECK_MSG(r == want,
				    "%s caplen %zu: %d != %d",
				    builders[i].name, k, r, want);
				continue;
			}
			ATF_CHECK_MSG(r == want || r == DECODE_TRUNCATED ||
			    (r == DECODE_OK && want == DECODE_INVALID),
			    "%s caplen %zu: %d, full frame %d",
			    builders[i].name, k, r, want);
			if (r != DECODE_OK || want != DECODE_OK)
				continue;
			ATF_CHECK_MSG(p.p_octets == full.p_octets,
			    "%s caplen %zu: %u octets, full frame %u",
			    builders[i].name, k, p.p_octets, full.p_octets);
			if (p.p_l4trunc != 0)
				ATF_CHECK_MSG(p.p_key.k_sport == 0 ||
				    p.p_key.k_proto == full.p_key.k_proto,
				    "%s caplen %zu: ports from a cut chain",
				    builders[i].name, k);
			else
				ATF_CHECK_MSG(memcmp(&p.p_key, &full.p_key,
				    sizeof(p.p_key)) == 0 &&
				    p.p_tcpflags == full.p_tcpflags,
				    "%s caplen %zu: key differs from full",
				    builders[i].name, k);
		}
	}
}

/*
 * decode_frame() is the general path; decode_frames() takes the fast one
 * for Ethernet when it can and writes the cache's packed words itself.
 * Every builder's Ethernet frame, cut at every length, must decode alike
 * as Ethernet, behind a Linux cooked header, and through decode_frames(),
 * whose words must be decode_pack()'s and unpack to the same key; and so
 * at every wire length up to just past the frame's, short ones included.
 */
ATF_TC_WITHOUT_HEAD(fast_path_agrees);
ATF_TC_BODY(fast_path_agrees, tc)
{
	struct frame	 f;
	struct fp_pkt	 a, b;
	struct fp_packed c, pa;
	struct fp_frame	 fe, fs;
	uint64_t	 results[DECODE_UNSUPPORTED + 1];
	uint8_t		 sll[FRAME_MAX + 2];
	uint8_t		*buf;
	size_t		 i, k, n, wl, decoded;
	int		 ra, rb;

	decoded = 0;
	for (i = 0; i < sizeof(builders) / sizeof(builders[0]); i++) {
		builders[i].fn(&f);
		if (f.link != LINK_ETHERNET || f.len < 14)
			continue;
		/* packet type, ARPHRD, address length, address, protocol */
		memset(sll, 0, 16);
		memcpy(sll + 14, f.b + 12, f.len - 12);
		for (k = 14; k <= f.len; k++) {
			buf = mkframe(&f, k, &fe);
			fe.fr_time = 42;
			fs = fe;
			fs.fr_data = sll;
			fs.fr_caplen += 2;
			fs.fr_wirelen += 2;
			memset(&a, 0xa5, sizeof(a));
			memset(&b, 0x5a, sizeof(b));
			ra = decode_frame(LINK_ETHERNET, &fe, IFINDEX, &a);
			rb = decode_frame(LINK_LINUX_SLL, &fs, IFINDEX, &b);
			ATF_CHECK_MSG(ra == rb, "%s caplen %zu: %d != %d",
			    builders[i].name, k, ra, rb);
			for (wl = 0; wl <= f.len + 1; wl++)
				wire_agrees(&fe, builders[i].name, k,
				    (uint32_t)wl);
			if (ra != DECODE_OK || rb != DECODE_OK) {
				free(buf);
				continue;
			}
			decoded++;
			ATF_CHECK_MSG(memcmp(&a.p_key, &b.p_key,
			    sizeof(a.p_key)) == 0 &&
			    a.p_octets == b.p_octets &&
			    a.p_tcpflags == b.p_tcpflags &&
			    a.p_l4trunc == b.p_l4trunc,
			    "%s caplen %zu: the two paths differ",
			    builders[i].name, k);

			/* Its fast path writes the packed words itself. */
			memset(results, 0, sizeof(results));
			memset(&c, 0x3c, sizeof(c));
			n = decode_frames(LINK_ETHERNET, &fe, 1, &c, results);
			free(buf);
			ATF_CHECK(n == 1 && results[DECODE_OK] == 1);
			decode_pack(&a, 42, &pa);
			ATF_CHECK(c.pk_time == 42 && same_words(&pa, &c) &&
			    pa.pk_octets == c.pk_octets &&
			    pa.pk_tcpflags == c.pk_tcpflags);
			decode_unpack(c.pk_key, &b.p_key);
			b.p_key.k_ifindex = IFINDEX;
			ATF_CHECK(memcmp(&a.p_key, &b.p_key,
			    sizeof(a.p_key)) == 0);
		}
	}
	/* The builders include plain TCP and UDP over IPv4 and IPv6. */
	ATF_CHECK(decoded > 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, eth_ipv4_tcp);
	ATF_TP_ADD_TC(tp, eth_ipv4_udp);
	ATF_TP_ADD_TC(tp, eth_ipv4_icmp);
	ATF_TP_ADD_TC(tp, eth_ipv6_icmp6);
	ATF_TP_ADD_TC(tp, eth_ipv4_sctp);
	ATF_TP_ADD_TC(tp, vlan_8021q);
	ATF_TP_ADD_TC(tp, vlan_qinq_outer);
	ATF_TP_ADD_TC(tp, vlan_tag_cap);
	ATF_TP_ADD_TC(tp, vlan_priority_tags);
	ATF_TP_ADD_TC(tp, mpls_ipv4);
	ATF_TP_ADD_TC(tp, mpls_ipv6);
	ATF_TP_ADD_TC(tp, mpls_limits);
	ATF_TP_ADD_TC(tp, pppoe_session);
	ATF_TP_ADD_TC(tp, null_both_orders);
	ATF_TP_ADD_TC(tp, loop_network_order);
	ATF_TP_ADD_TC(tp, raw_by_nibble);
	ATF_TP_ADD_TC(tp, link_ipv4_ipv6_mismatch);
	ATF_TP_ADD_TC(tp, linux_sll);
	ATF_TP_ADD_TC(tp, linux_sll2);
	ATF_TP_ADD_TC(tp, ethernet_padding);
	ATF_TP_ADD_TC(tp, header_only_capture);
	ATF_TP_ADD_TC(tp, tcp_header_cut);
	ATF_TP_ADD_TC(tp, ipv4_options_cut);
	ATF_TP_ADD_TC(tp, ipv4_later_fragment);
	ATF_TP_ADD_TC(tp, ipv6_first_fragment);
	ATF_TP_ADD_TC(tp, ipv6_later_fragment);
	ATF_TP_ADD_TC(tp, ipv6_extension_walk);
	ATF_TP_ADD_TC(tp, ipv6_chain_cut);
	ATF_TP_ADD_TC(tp, ipv6_extension_cap);
	ATF_TP_ADD_TC(tp, ipv6_extension_past_payload);
	ATF_TP_ADD_TC(tp, ipv6_esp_no_ports);
	ATF_TP_ADD_TC(tp, lying_lengths);
	ATF_TP_ADD_TC(tp, tso_zero_length);
	ATF_TP_ADD_TC(tp, truncated_headers);
	ATF_TP_ADD_TC(tp, unsupported_link);
	ATF_TP_ADD_TC(tp, not_ip);
	ATF_TP_ADD_TC(tp, every_caplen);
	ATF_TP_ADD_TC(tp, fast_path_agrees);
	return (atf_no_error());
}
