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
 * This file owns packet decoding: captured frame bytes in, a flow key and
 * an octet count out, through link layers, VLAN/MPLS/PPPoE shims, IPv4,
 * IPv6 extension headers and the transport ports; and the packed form of
 * the key the flow cache takes (struct fp_packed).  It is a pure function
 * of its arguments, so it can be fuzzed on its own.  The common frames
 * take a straight path whose length checks all come first and which
 * writes the packed words itself; everything else is read through a
 * bounds-checked cursor.  Nothing is overlaid on the packet.
 */

#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "flowprobe.h"

/* Ethertypes and PPP protocol numbers dispatched on. */
#define ET_IPV4		0x0800
#define ET_IPV6		0x86dd
#define ET_VLAN		0x8100	/* 802.1Q */
#define ET_QINQ		0x88a8	/* 802.1ad service tag */
#define ET_VLAN9100	0x9100	/* pre-standard QinQ */
#define ET_MPLS		0x8847
#define ET_MPLS_MCAST	0x8848
#define ET_PPPOE_SESS	0x8864
#define PPP_IPV4	0x0021
#define PPP_IPV6	0x0057

/* Address families a loopback header may carry, from every OS. */
#define AF_NULL_INET	2
#define AF_NULL_LINUX6	10
#define AF_NULL_WIN6	23
#define AF_NULL_BSD6	24	/* OpenBSD, NetBSD */
#define AF_NULL_FBSD6	28
#define AF_NULL_DARWIN6	30

/* IP protocol numbers. */
#define PROTO_HOPOPTS	0
#define PROTO_ICMP	1
#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_DCCP	33
#define PROTO_ROUTING	43
#define PROTO_FRAGMENT	44
#define PROTO_ESP	50
#define PROTO_AH	51
#define PROTO_ICMPV6	58
#define PROTO_NONE	59
#define PROTO_DSTOPTS	60
#define PROTO_SCTP	132
#define PROTO_UDPLITE	136

#define ETHER_HDRLEN	14
#define MPLS_PW_CWLEN	4
#define SLL_HDRLEN	16
#define SLL2_HDRLEN	20
#define PPPOE_HDRLEN	6
#define IPV4_HDRLEN	20
#define IPV6_HDRLEN	40
#define IPV6_EXTMIN	8	/* smallest extension header */
#define TCP_FLAGSOFF	13
/* Ethernet, 802.1Q and an IPv4 header without options. */
#define FAST_MINCAP	(ETHER_HDRLEN + 4 + IPV4_HDRLEN)
#define VLAN_VIDMASK	0x0fff
#define MPLS_BOS	0x00000100

/* Hard caps: a hostile frame must not make the decoder loop. */
#define MAX_VLANTAGS	8
#define MAX_MPLSLABELS	16
#define MAX_IPV6EXT	8

/* A window on the captured bytes; reads fail instead of passing end. */
struct cursor {
	const uint8_t	*p;
	const uint8_t	*end;
};

static inline size_t	 cur_left(const struct cursor *);
static inline void	 cur_limit(struct cursor *, size_t);
static inline int	 cur_skip(struct cursor *, size_t);
static inline int	 cur_peek(const struct cursor *, uint8_t *);
static inline int	 cur_u8(struct cursor *, uint8_t *);
static inline int	 cur_be16(struct cursor *, uint16_t *);
static inline int	 cur_be32(struct cursor *, uint32_t *);

static inline uint16_t be16(const uint8_t *);
static FP_INLINE int fast_decode(const struct fp_frame *,
		    struct fp_packed *);
static FP_INLINE int fast_ip(const struct fp_frame *, int, uint32_t,
		    uint16_t, struct fp_packed *);
static FP_NOINLINE int general_decode(int, const struct fp_frame *, uint32_t,
		    struct fp_pkt *);
static FP_NOINLINE size_t slow_decode(int, const struct fp_frame *,
		    struct fp_packed *, uint64_t *);
static int	 af_version(uint32_t);
static int	 af_decode(struct cursor *, uint32_t, int, uint32_t,
		    struct fp_pkt *);
static int	 ether_decode(struct cursor *, uint16_t, uint32_t, int,
		    struct fp_pkt *);
static int	 mpls_decode(struct cursor *, uint32_t, struct fp_pkt *);
static int	 pppoe_decode(struct cursor *, uint32_t, struct fp_pkt *);
static int	 ip_decode(struct cursor *, int, uint32_t, struct fp_pkt *);
static int	 ipv4_decode(struct cursor *, uint32_t, struct fp_pkt *);
static int	 ipv6_decode(struct cursor *, uint32_t, struct fp_pkt *);
static void	 l4_decode(struct cursor *, uint8_t, uint8_t,
		    struct fp_pkt *);

static inline size_t
cur_left(const struct cursor *c)
{
	return ((size_t)(c->end - c->p));
}

/* Narrows the window to n bytes, e.g. to drop Ethernet padding. */
static inline void
cur_limit(struct cursor *c, size_t n)
{
	if (n < cur_left(c))
		c->end = c->p + n;
}

static inline int
cur_skip(struct cursor *c, size_t n)
{
	if (n > cur_left(c))
		return (-1);
	c->p += n;
	return (0);
}

static inline int
cur_peek(const struct cursor *c, uint8_t *v)
{
	if (cur_left(c) < 1)
		return (-1);
	*v = c->p[0];
	return (0);
}

static inline int
cur_u8(struct cursor *c, uint8_t *v)
{
	if (cur_left(c) < 1)
		return (-1);
	*v = c->p[0];
	c->p += 1;
	return (0);
}

static inline int
cur_be16(struct cursor *c, uint16_t *v)
{
	if (cur_left(c) < 2)
		return (-1);
	*v = (uint16_t)((uint16_t)c->p[0] << 8 | c->p[1]);
	c->p += 2;
	return (0);
}

static inline int
cur_be32(struct cursor *c, uint32_t *v)
{
	if (cur_left(c) < 4)
		return (-1);
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | (uint32_t)c->p[3];
	c->p += 4;
	return (0);
}

static inline uint16_t
be16(const uint8_t *b)
{
	return ((uint16_t)(b[0] << 8 | b[1]));
}

/*
 * Nearly every frame a mirror port carries is Ethernet, with at most one
 * 802.1Q tag, then IPv4 without options or IPv6 without extension
 * headers, then TCP or UDP captured as far as the ports and TCP flags.
 * Those take this straight path, in one of four shapes (IPv4 or IPv6,
 * tagged or not), each fast_ip() inlined with its offsets (and, untagged,
 * the VLAN) constant: a few length checks up front, then plain offsets,
 * straight into the cache's words.  Anything else returns -1 for the
 * general path, which gives the same result on these frames too, once
 * packed (the tests and the decode fuzzer compare the two).
 */
static FP_INLINE int
fast_decode(const struct fp_frame *fr, struct fp_packed *pk)
{
	const uint8_t	*h;
	uint16_t	 etype, vlan;

	/*
	 * Enough for the fields read before the transport's length is known;
	 * data is NULL only when nothing was captured.
	 */
	h = fr->fr_data;
	if (fr->fr_caplen < FAST_MINCAP)
		return (-1);
	/*
	 * In the order they are common, which clang keeps only when told:
	 * it would test for a tag first.
	 */
	etype = be16(h + 12);
	if (FP_USUALLY(etype == ET_IPV4))
		return (fast_ip(fr, 4, ETHER_HDRLEN, 0, pk));
	if (etype == ET_IPV6)
		return (fast_ip(fr, 6, ETHER_HDRLEN, 0, pk));
	if (etype != ET_VLAN)
		return (-1);
	vlan = be16(h + 14) & VLAN_VIDMASK;
	etype = be16(h + 16);
	if (etype == ET_IPV4)
		return (fast_ip(fr, 4, ETHER_HDRLEN + 4, vlan, pk));
	if (etype == ET_IPV6)
		return (fast_ip(fr, 6, ETHER_HDRLEN + 4, vlan, pk));
	return (-1);
}

/* The IP header at off, of version ver: both constants once inlined. */
static FP_INLINE int
fast_ip(const struct fp_frame *fr, int ver, uint32_t off, uint16_t vlan,
    struct fp_packed *pk)
{
	static const uint8_t	 noflags;
	const uint8_t	*ip, *l4, *flags;
	uint64_t	 w4;
	uint32_t	 caplen, len, need, ports;
	uint16_t	 frag;
	uint8_t		 proto;

	caplen = fr->fr_caplen;
	ip = fr->fr_data + off;
	if (ver == 4) {
		/* No options; offset 0, so not a later fragment. */
		memcpy(&frag, ip + 6, sizeof(frag));
		if (ip[0] != 0x45 || (frag & htons(0x1fff)) != 0)
			return (-1);
		proto = ip[9];
		len = be16(ip + 2);
		need = IPV4_HDRLEN;
		w4 = (uint64_t)ip[1] << PK_TOS_SHIFT |
		    (uint64_t)4 << PK_VER_SHIFT;
	} else {
		if (ip[0] >> 4 != 6)
			return (-1);
		proto = ip[6];
		len = (uint32_t)be16(ip + 4) + IPV6_HDRLEN;
		need = IPV6_HDRLEN;
		w4 = (uint64_t)((ip[0] & 0x0f) << 4 | ip[1] >> 4) <<
		    PK_TOS_SHIFT | (uint64_t)6 << PK_VER_SHIFT;
	}
	/*
	 * The flags byte's address, UDP's a zero of our own: read without
	 * asking the protocol twice.
	 */
	l4 = ip + need;
	if (proto == PROTO_TCP) {
		need += TCP_FLAGSOFF + 1;
		flags = l4 + TCP_FLAGSOFF;
	} else if (proto == PROTO_UDP) {
		need += 4;
		flags = &noflags;
	} else
		return (-1);
	/*
	 * Transport within the capture and within what the header claims,
	 * which is within the wire as given.  Of a frame whose wire length
	 * is short of what was captured (fp_frame's promise broken), one
	 * whose datagram runs past it goes to the general path, which
	 * clamps; either way the verdict is the same.
	 */
	if (caplen < off + need || len < need || len + off > fr->fr_wirelen)
		return (-1);

	memcpy(&ports, l4, 4);
	pk->pk_key[4] = w4 | ports | (uint64_t)vlan << PK_VLAN_SHIFT |
	    (uint64_t)proto << PK_PROTO_SHIFT;
	if (ver == 4)
		memcpy(&pk->pk_key[0], ip + 12, 8);
	else
		memcpy(&pk->pk_key[0], ip + 8, 32);
	pk->pk_octets = len;
	pk->pk_tcpflags = *flags;
	pk->pk_time = fr->fr_time;
	return (0);
}

/* One frame, the reference: every frame takes the general path. */
int
decode_frame(int linktype, const struct fp_frame *fr, uint32_t ifindex,
    struct fp_pkt *p)
{
	return (general_decode(linktype, fr, ifindex, p));
}

/*
 * n frames at once, for the hot path: the packets to meter are packed
 * into pkts, each with its frame's time, their number returned; every
 * verdict is counted in results[] (DECODE_UNSUPPORTED + 1 counters).
 */
size_t
decode_frames(int linktype, const struct fp_frame *fr, size_t n,
    struct fp_packed *pkts, uint64_t *results)
{
	const struct fp_frame *end = fr + n;
	struct fp_packed *pk = pkts;

	if (linktype == LINK_ETHERNET) {
		for (; fr < end; fr++) {
			/* Written in place; kept only when it counts. */
			if (fast_decode(fr, pk) == 0)
				pk++;
			else
				pk += slow_decode(linktype, fr, pk, results);
		}
	} else
		for (; fr < end; fr++)
			pk += slow_decode(linktype, fr, pk, results);
	results[DECODE_OK] += (size_t)(pk - pkts);
	return ((size_t)(pk - pkts));
}

/* The general path, packed: 1 if it wrote a packet to meter, else 0. */
static FP_NOINLINE size_t
slow_decode(int linktype, const struct fp_frame *fr, struct fp_packed *pk,
    uint64_t *results)
{
	struct fp_pkt p;
	int rc;

	if ((rc = general_decode(linktype, fr, 0, &p)) != DECODE_OK) {
		results[rc]++;
		return (0);
	}
	decode_pack(&p, fr->fr_time, pk);
	return (1);
}

/* A decoded packet seen at when, as the cache takes it (fp_packed). */
void
decode_pack(const struct fp_pkt *p, uint64_t when, struct fp_packed *pk)
{
	const struct fp_key *k = &p->p_key;
	uint64_t w4;

	/* The ports as on the wire, as decode_unpack() reads them. */
	w4 = htonl((uint32_t)k->k_sport << 16 | k->k_dport) |
	    (uint64_t)(k->k_vlan & VLAN_VIDMASK) << PK_VLAN_SHIFT |
	    (uint64_t)(k->k_ipver & 0x0f) << PK_VER_SHIFT |
	    (uint64_t)k->k_proto << PK_PROTO_SHIFT |
	    (uint64_t)k->k_tos << PK_TOS_SHIFT;
	memset(pk->pk_key, 0, sizeof(pk->pk_key));
	/* The cache's test, so that it reads the words written here. */
	if (PK_IS_IPV4(w4)) {
		memcpy(&pk->pk_key[0], k->k_src, 4);
		memcpy((uint8_t *)&pk->pk_key[0] + 4, k->k_dst, 4);
	} else {
		memcpy(&pk->pk_key[0], k->k_src, 16);
		memcpy(&pk->pk_key[2], k->k_dst, 16);
	}
	pk->pk_key[4] = w4;
	pk->pk_time = when;
	pk->pk_octets = p->p_octets;
	pk->pk_tcpflags = p->p_tcpflags;
}

/* The words back into a key; the interface is the caller's to fill in. */
void
decode_unpack(const uint64_t *w, struct fp_key *k)
{
	uint64_t w4 = w[4];
	uint32_t ports;

	memset(k, 0, sizeof(*k));
	/* The cache's test, so that both read the same words. */
	if (PK_IS_IPV4(w4)) {
		k->k_ipver = 4;
		memcpy(k->k_src, &w[0], 4);
		memcpy(k->k_dst, (const uint8_t *)&w[0] + 4, 4);
	} else {
		k->k_ipver = 6;
		memcpy(k->k_src, &w[0], 16);
		memcpy(k->k_dst, &w[2], 16);
	}
	/* Both ports at once: the bytes as on the wire, big-endian. */
	ports = ntohl((uint32_t)w4);
	k->k_sport = (uint16_t)(ports >> 16);
	k->k_dport = (uint16_t)ports;
	k->k_vlan = (uint16_t)(w4 >> PK_VLAN_SHIFT & VLAN_VIDMASK);
	k->k_proto = (uint8_t)(w4 >> PK_PROTO_SHIFT);
	k->k_tos = (uint8_t)(w4 >> PK_TOS_SHIFT);
}

/*
 * Out of line, so that the fast path need not set up its frame.
 *
 * "uncap" below is how many bytes of the frame the capture dropped
 * (effective wire length minus caplen), so that at any point the bytes
 * on the wire from the cursor onwards are cur_left() + uncap.  It keeps
 * octet counts right for header-only captures.
 */
static FP_NOINLINE int
general_decode(int linktype, const struct fp_frame *fr, uint32_t ifindex,
    struct fp_pkt *p)
{
	struct cursor	 c;
	uint32_t	 caplen, wirelen, uncap, af;
	uint16_t	 etype;
	uint8_t		 none;

	/* The key is hashed whole, padding included. */
	memset(p, 0, sizeof(*p));
	p->p_key.k_ifindex = ifindex;

	if (fr->fr_data == NULL) {
		/* Nothing captured: an empty window on a local byte. */
		c.p = c.end = &none;
		caplen = 0;
	} else {
		c.p = fr->fr_data;
		c.end = c.p + fr->fr_caplen;
		caplen = fr->fr_caplen;
	}
	wirelen = fr->fr_wirelen > caplen ? fr->fr_wirelen : caplen;
	uncap = wirelen - caplen;

	switch (linktype) {
	case LINK_ETHERNET:
		/* 0-5 destination, 6-11 source, 12-13 ethertype */
		if (cur_skip(&c, ETHER_HDRLEN - 2) == -1 ||
		    cur_be16(&c, &etype) == -1)
			return (DECODE_TRUNCATED);
		return (ether_decode(&c, etype, uncap, 0, p));
	case LINK_LINUX_SLL:
		/*
		 * 0-1 packet type, 2-3 ARPHRD type, 4-5 address length,
		 * 6-13 address, 14-15 protocol
		 */
		if (cur_skip(&c, SLL_HDRLEN - 2) == -1 ||
		    cur_be16(&c, &etype) == -1)
			return (DECODE_TRUNCATED);
		return (ether_decode(&c, etype, uncap, 0, p));
	case LINK_LINUX_SLL2:
		/*
		 * 0-1 protocol, 2-3 reserved, 4-7 ifindex, 8-9 ARPHRD type,
		 * 10 packet type, 11 address length, 12-19 address
		 */
		if (cur_be16(&c, &etype) == -1 ||
		    cur_skip(&c, SLL2_HDRLEN - 2) == -1)
			return (DECODE_TRUNCATED);
		return (ether_decode(&c, etype, uncap, 0, p));
	case LINK_NULL:
		/* 0-3 address family in the byte order of the writer */
		if (cur_be32(&c, &af) == -1)
			return (DECODE_TRUNCATED);
		return (af_decode(&c, af, 1, uncap, p));
	case LINK_LOOP:
		/* 0-3 address family, network byte order */
		if (cur_be32(&c, &af) == -1)
			return (DECODE_TRUNCATED);
		return (af_decode(&c, af, 0, uncap, p));
	case LINK_RAW_BSD:
	case LINK_RAW_OPENBSD:
	case LINK_RAW:
		return (ip_decode(&c, 0, uncap, p));
	case LINK_IPV4:
		return (ip_decode(&c, 4, uncap, p));
	case LINK_IPV6:
		return (ip_decode(&c, 6, uncap, p));
	default:
		return (DECODE_UNSUPPORTED);
	}
}

/* The IP version a loopback address family stands for, or 0. */
static int
af_version(uint32_t af)
{
	switch (af) {
	case AF_NULL_INET:
		return (4);
	case AF_NULL_LINUX6:
	case AF_NULL_WIN6:
	case AF_NULL_BSD6:
	case AF_NULL_FBSD6:
	case AF_NULL_DARWIN6:
		return (6);
	default:
		return (0);
	}
}

/*
 * A loopback header's address family.  LINK_NULL stores it in the
 * writer's host order, which the reader cannot know, so both orders are
 * tried; no family of interest reads as another one when swapped.
 */
static int
af_decode(struct cursor *c, uint32_t af, int anyorder, uint32_t uncap,
    struct fp_pkt *p)
{
	int	 version;

	version = af_version(af);
	if (version == 0 && anyorder)
		version = af_version((af & 0xff) << 24 | (af & 0xff00) << 8 |
		    (af >> 8 & 0xff00) | af >> 24);
	switch (version) {
	case 4:
		return (ipv4_decode(c, uncap, p));
	case 6:
		return (ipv6_decode(c, uncap, p));
	default:
		return (DECODE_NOTIP);
	}
}

/*
 * Everything that follows an ethertype.  Only VLAN tags loop back here;
 * a tag is 0-1 TCI (priority 3 bits, DEI 1, VLAN ID 12), 2-3 the next
 * ethertype.  pw is set inside an MPLS pseudowire, where a second MPLS
 * stack is not followed: that bounds the recursion.
 */
static int
ether_decode(struct cursor *c, uint16_t etype, uint32_t uncap, int pw,
    struct fp_pkt *p)
{
	uint16_t	 tci;
	int		 ntags;

	for (ntags = 0;; ntags++) {
		switch (etype) {
		case ET_IPV4:
			return (ipv4_decode(c, uncap, p));
		case ET_IPV6:
			return (ipv6_decode(c, uncap, p));
		case ET_VLAN:
		case ET_QINQ:
		case ET_VLAN9100:
			break;
		case ET_MPLS:
		case ET_MPLS_MCAST:
			if (pw)
				return (DECODE_NOTIP);
			return (mpls_decode(c, uncap, p));
		case ET_PPPOE_SESS:
			return (pppoe_decode(c, uncap, p));
		default:
			/* 802.3 lengths, ARP, PPPoE discovery, LLDP, ... */
			return (DECODE_NOTIP);
		}
		if (ntags == MAX_VLANTAGS)
			return (DECODE_INVALID);
		if (cur_be16(c, &tci) == -1 || cur_be16(c, &etype) == -1)
			return (DECODE_TRUNCATED);
		/* The outermost that names a VLAN (ID 0 is priority only). */
		if (p->p_key.k_vlan == 0)
			p->p_key.k_vlan = tci & VLAN_VIDMASK;
	}
}

/*
 * An MPLS label stack entry is 32 bits: label 20, traffic class 3,
 * bottom of stack 1, TTL 8.  The payload carries no type, so after the
 * bottom entry the first nibble is the only clue: 4 or 6 for IP, 0 for
 * the control word of an Ethernet pseudowire (RFC 4385: 4 bytes, then a
 * whole Ethernet frame).
 */
static int
mpls_decode(struct cursor *c, uint32_t uncap, struct fp_pkt *p)
{
	uint32_t	 lse;
	uint16_t	 etype;
	int		 n;
	uint8_t		 b;

	for (n = 0; n < MAX_MPLSLABELS; n++) {
		if (cur_be32(c, &lse) == -1)
			return (DECODE_TRUNCATED);
		if ((lse & MPLS_BOS) != 0)
			break;
	}
	if (n == MAX_MPLSLABELS)
		return (DECODE_INVALID);
	if (cur_peek(c, &b) == -1)
		return (DECODE_TRUNCATED);
	switch (b >> 4) {
	case 4:
		return (ipv4_decode(c, uncap, p));
	case 6:
		return (ipv6_decode(c, uncap, p));
	case 0:
		if (cur_skip(c, MPLS_PW_CWLEN + ETHER_HDRLEN - 2) == -1 ||
		    cur_be16(c, &etype) == -1)
			return (DECODE_TRUNCATED);
		return (ether_decode(c, etype, uncap, 1, p));
	default:
		/* Pseudowires without a control word: no way to tell. */
		return (DECODE_NOTIP);
	}
}

/*
 * PPPoE session (RFC 2516): 0 version/type, 1 code, 2-3 session ID,
 * 4-5 length, then the 2-byte PPP protocol.
 */
static int
pppoe_decode(struct cursor *c, uint32_t uncap, struct fp_pkt *p)
{
	uint16_t	 proto;

	if (cur_skip(c, PPPOE_HDRLEN) == -1 || cur_be16(c, &proto) == -1)
		return (DECODE_TRUNCATED);
	switch (proto) {
	case PPP_IPV4:
		return (ipv4_decode(c, uncap, p));
	case PPP_IPV6:
		return (ipv6_decode(c, uncap, p));
	default:
		/* LCP, IPCP and other control traffic. */
		return (DECODE_NOTIP);
	}
}

/*
 * Raw IP link types.  want is the version the link type promises, or 0
 * when the version nibble alone decides.
 */
static int
ip_decode(struct cursor *c, int want, uint32_t uncap, struct fp_pkt *p)
{
	uint8_t		 b;
	int		 version;

	if (cur_peek(c, &b) == -1)
		return (DECODE_TRUNCATED);
	version = b >> 4;
	if (want != 0 && version != want)
		return (DECODE_INVALID);
	switch (version) {
	case 4:
		return (ipv4_decode(c, uncap, p));
	case 6:
		return (ipv6_decode(c, uncap, p));
	default:
		return (DECODE_INVALID);
	}
}

/*
 * IPv4 (RFC 791), offsets from the start of the header:
 *   0     version (high nibble), header length in words (low nibble)
 *   1     type of service
 *   2-3   total length
 *   4-5   identification
 *   6-7   flags (3 bits), fragment offset (13 bits)
 *   8     TTL, 9 protocol, 10-11 checksum
 *   12-15 source, 16-19 destination, then options up to IHL * 4
 */
static int
ipv4_decode(struct cursor *c, uint32_t uncap, struct fp_pkt *p)
{
	struct cursor	 l4;
	const uint8_t	*h;
	uint32_t	 wire_left, hlen, len;
	uint16_t	 totlen, frag;
	uint8_t		 vihl, tos, proto;

	wire_left = (uint32_t)cur_left(c) + uncap;
	l4 = *c;
	/* One bounds check for the fixed header, then plain offsets. */
	if (cur_left(c) < IPV4_HDRLEN)
		return (DECODE_TRUNCATED);
	h = c->p;
	vihl = h[0];
	tos = h[1];
	totlen = (uint16_t)(h[2] << 8 | h[3]);
	frag = (uint16_t)(h[6] << 8 | h[7]);
	proto = h[9];
	memcpy(p->p_key.k_src, h + 12, 4);
	memcpy(p->p_key.k_dst, h + 16, 4);
	c->p += IPV4_HDRLEN;
	if (vihl >> 4 != 4)
		return (DECODE_INVALID);
	hlen = (uint32_t)(vihl & 0x0f) * 4;
	if (hlen < IPV4_HDRLEN)
		return (DECODE_INVALID);
	/* Zero: a TSO/GSO super-frame ("BIG TCP"); the wire knows. */
	len = totlen != 0 ? totlen : wire_left;
	if (len < hlen || len > wire_left)
		return (DECODE_INVALID);

	p->p_key.k_ipver = 4;
	p->p_key.k_tos = tos;
	p->p_key.k_proto = proto;
	p->p_octets = len;

	/* Only the first fragment carries the transport header. */
	if ((frag & 0x1fff) != 0)
		return (DECODE_OK);
	/* Past the total length is link padding, not transport. */
	cur_limit(&l4, len);
	if (cur_skip(&l4, hlen) == -1) {
		/* Options cut by the snaplen: meter without ports. */
		p->p_l4trunc = 1;
		return (DECODE_OK);
	}
	l4_decode(&l4, proto, PROTO_ICMP, p);
	return (DECODE_OK);
}

/*
 * IPv6 (RFC 8200), offsets from the start of the header:
 *   0-3   version 4 bits, traffic class 8, flow label 20
 *   4-5   payload length
 *   6     next header, 7 hop limit
 *   8-23  source, 24-39 destination
 * Extension headers then chain by their byte 0 (next header); byte 1 is
 * their length, in 8-byte units not counting the first 8 (in 4-byte
 * units not counting the first 8 for AH).  The fragment header is 8
 * bytes: 0 next header, 1 reserved, 2-3 offset (13 bits) and flags.
 */
static int
ipv6_decode(struct cursor *c, uint32_t uncap, struct fp_pkt *p)
{
	struct cursor	 l4, ext;
	uint32_t	 wire_left, len, left, hlen;
	uint16_t	 plen, fragoff;
	uint8_t		 b0, b1, nh, next, elen;
	int		 n;

	wire_left = (uint32_t)cur_left(c) + uncap;
	l4 = *c;
	/* One bounds check for the fixed header, then plain offsets. */
	if (cur_left(c) < IPV6_HDRLEN)
		return (DECODE_TRUNCATED);
	b0 = c->p[0];
	b1 = c->p[1];
	plen = (uint16_t)(c->p[4] << 8 | c->p[5]);
	nh = c->p[6];
	memcpy(p->p_key.k_src, c->p + 8, 16);
	memcpy(p->p_key.k_dst, c->p + 24, 16);
	c->p += IPV6_HDRLEN;
	if (b0 >> 4 != 6)
		return (DECODE_INVALID);
	/* Zero: a jumbogram or GSO super-frame; the wire knows. */
	len = plen != 0 ? (uint32_t)plen + IPV6_HDRLEN : wire_left;
	if (len > wire_left)
		return (DECODE_INVALID);

	p->p_key.k_ipver = 6;
	p->p_key.k_tos = (uint8_t)((b0 & 0x0f) << 4 | b1 >> 4);
	p->p_octets = len;

	/* left: payload bytes the header vouches for, captured or not. */
	left = len - IPV6_HDRLEN;
	cur_limit(&l4, len);
	(void)cur_skip(&l4, IPV6_HDRLEN);
	for (n = 0;; n++) {
		switch (nh) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
		case PROTO_AH:
		case PROTO_FRAGMENT:
			break;
		case PROTO_ESP:
		case PROTO_NONE:
			/* Nothing readable follows. */
			p->p_key.k_proto = nh;
			return (DECODE_OK);
		default:
			l4_decode(&l4, nh, PROTO_ICMPV6, p);
			return (DECODE_OK);
		}
		if (left < IPV6_EXTMIN)
			return (DECODE_INVALID);
		if (n == MAX_IPV6EXT) {
			/*
			 * Legal but absurd: meter the packet without walking
			 * further, rather than lose it.
			 */
			p->p_key.k_proto = nh;
			return (DECODE_OK);
		}
		ext = l4;
		if (cur_u8(&ext, &next) == -1 || cur_u8(&ext, &elen) == -1) {
			p->p_key.k_proto = nh;
			p->p_l4trunc = 1;
			return (DECODE_OK);
		}
		if (nh == PROTO_FRAGMENT)
			hlen = IPV6_EXTMIN;
		else if (nh == PROTO_AH)
			hlen = ((uint32_t)elen + 2) * 4;
		else
			hlen = ((uint32_t)elen + 1) * 8;
		if (hlen > left)
			return (DECODE_INVALID);
		if (hlen > cur_left(&l4)) {
			/* The snaplen ends inside the chain. */
			p->p_key.k_proto = nh;
			p->p_l4trunc = 1;
			return (DECODE_OK);
		}
		if (nh == PROTO_FRAGMENT) {
			(void)cur_be16(&ext, &fragoff);
			if (fragoff >> 3 != 0) {
				/* A later fragment: no transport header. */
				p->p_key.k_proto = next;
				return (DECODE_OK);
			}
		}
		(void)cur_skip(&l4, hlen);
		left -= hlen;
		nh = next;
	}
}

/*
 * Transport ports: TCP, UDP, SCTP, UDP-Lite and DCCP all start with
 * 0-1 source port, 2-3 destination port; TCP has its flags at 13.
 * ICMP and ICMPv6 start with 0 type, 1 code.  icmp is the ICMP protocol
 * number of the IP version at hand.
 */
static void
l4_decode(struct cursor *c, uint8_t proto, uint8_t icmp, struct fp_pkt *p)
{
	uint16_t	 sport, dport;
	uint8_t		 type, code;

	p->p_key.k_proto = proto;
	switch (proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_SCTP:
	case PROTO_UDPLITE:
	case PROTO_DCCP:
		/* A port pair or nothing: half a key would split flows. */
		if (cur_be16(c, &sport) == -1 || cur_be16(c, &dport) == -1) {
			p->p_l4trunc = 1;
			return;
		}
		p->p_key.k_sport = sport;
		p->p_key.k_dport = dport;
		if (proto != PROTO_TCP)
			return;
		if (cur_skip(c, TCP_FLAGSOFF - 4) == -1 ||
		    cur_u8(c, &p->p_tcpflags) == -1)
			p->p_l4trunc = 1;
		return;
	default:
		if (proto != icmp)
			return;
		if (cur_u8(c, &type) == -1 || cur_u8(c, &code) == -1) {
			p->p_l4trunc = 1;
			return;
		}
		p->p_key.k_dport = (uint16_t)(type << 8 | code);
		return;
	}
}
