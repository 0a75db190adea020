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
 * libFuzzer target for decode.c.  The input is a frame with a 3-byte
 * prefix that sets what a capture backend would: byte 0 picks the link
 * type (every one decode_frame() supports, plus one it does not), bytes
 * 1-2 set the wire length.
 * Every verdict is checked against what flowprobe.h promises, and a
 * broken promise traps, so that a logic bug is a finding like a crash.
 *
 * Input: [link type index] [wire hi] [wire lo] [frame ...]
 *   wire 0xffff:       fr_wirelen 0, less than the bytes captured
 *   wire 0x8000 | n:   fr_wirelen UINT32_MAX - n, a super-frame
 *   otherwise:         fr_wirelen = caplen + wire
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowprobe.h"

#define FZ_PREFIX	3
#define FZ_IFINDEX	7
#define FZ_UNSUPPORTED	147	/* LINKTYPE_USER0 */

#define PROTO_TCP	6

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	 check(int, const struct fp_frame *, int,
		    const struct fp_pkt *);
static int	 allzero(const uint8_t *, size_t);
static void	 differential(const struct fp_frame *, int,
		    const struct fp_pkt *);

static const int linktypes[] = {
	LINK_NULL, LINK_ETHERNET, LINK_RAW_BSD, LINK_RAW_OPENBSD, LINK_RAW,
	LINK_LOOP, LINK_LINUX_SLL, LINK_IPV4, LINK_IPV6, LINK_LINUX_SLL2,
	FZ_UNSUPPORTED
};
#define FZ_NLINKTYPES	(sizeof(linktypes) / sizeof(linktypes[0]))

static int
allzero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return (0);
	return (1);
}

/* What flowprobe.h and decode.c's comments promise of every verdict. */
static void
check(int linktype, const struct fp_frame *fr, int rv,
    const struct fp_pkt *p)
{
	const struct fp_key *k = &p->p_key;
	uint32_t wire;

	if (rv < DECODE_OK || rv > DECODE_UNSUPPORTED)
		__builtin_trap();
	if ((rv == DECODE_UNSUPPORTED) != (linktype == FZ_UNSUPPORTED))
		__builtin_trap();
	/* The key is hashed whole: padding must stay zero on every path. */
	if (!allzero(k->k_pad, sizeof(k->k_pad)))
		__builtin_trap();
	if (k->k_ifindex != FZ_IFINDEX || k->k_vlan > 0x0fff)
		__builtin_trap();
	if (p->p_l4trunc > 1)
		__builtin_trap();
	if (rv != DECODE_OK)
		return;

	if (k->k_ipver != 4 && k->k_ipver != 6)
		__builtin_trap();
	/* Octets come from the IP header and never exceed the wire. */
	wire = fr->fr_wirelen > fr->fr_caplen ? fr->fr_wirelen :
	    fr->fr_caplen;
	if (p->p_octets == 0 || p->p_octets > wire)
		__builtin_trap();
	if (k->k_ipver == 4) {
		if (p->p_octets < 20 || !allzero(k->k_src + 4, 12) ||
		    !allzero(k->k_dst + 4, 12))
			__builtin_trap();
	} else if (p->p_octets < 40)
		__builtin_trap();
	if (p->p_tcpflags != 0 && k->k_proto != PROTO_TCP)
		__builtin_trap();
}

static void
differential(const struct fp_frame *fr, int rv, const struct fp_pkt *p)
{
	struct fp_frame	 fs;
	struct fp_packed fast, packed;
	struct fp_pkt	 q;
	uint64_t	 results[DECODE_UNSUPPORTED + 1];
	uint8_t		*sll;
	int		 rs;

	/* Exactly sized, so that ASan sees an over-read here too. */
	if ((sll = malloc(fr->fr_caplen + 2)) == NULL)
		return;
	memset(sll, 0, 14);
	memcpy(sll + 14, fr->fr_data + 12, fr->fr_caplen - 12);
	fs = *fr;
	fs.fr_data = sll;
	fs.fr_caplen += 2;
	if (fs.fr_wirelen != 0)
		fs.fr_wirelen += 2;
	rs = decode_frame(LINK_LINUX_SLL, &fs, FZ_IFINDEX, &q);
	free(sll);
	if (rs != rv)
		__builtin_trap();
	if (rv == DECODE_OK && (memcmp(&p->p_key, &q.p_key,
	    sizeof(q.p_key)) != 0 || p->p_octets != q.p_octets ||
	    p->p_tcpflags != q.p_tcpflags || p->p_l4trunc != q.p_l4trunc))
		__builtin_trap();
	/* The fast path's words are the general path's, packed. */
	memset(results, 0, sizeof(results));
	if (decode_frames(LINK_ETHERNET, fr, 1, &fast, results) !=
	    (rv == DECODE_OK ? 1U : 0U) || results[rv] != 1)
		__builtin_trap();
	if (rv == DECODE_OK) {
		decode_pack(p, fr->fr_time, &packed);
		/* An IPv4 key is words 0 and 4; 1-3 are not read. */
		if (fast.pk_key[0] != packed.pk_key[0] ||
		    fast.pk_key[4] != packed.pk_key[4] ||
		    (!PK_IS_IPV4(packed.pk_key[4]) &&
		    memcmp(&fast.pk_key[1], &packed.pk_key[1], 24) != 0) ||
		    fast.pk_octets != packed.pk_octets ||
		    fast.pk_tcpflags != packed.pk_tcpflags ||
		    fast.pk_time != packed.pk_time)
			__builtin_trap();
		decode_unpack(fast.pk_key, &q.p_key);
		q.p_key.k_ifindex = FZ_IFINDEX;
		if (memcmp(&q.p_key, &p->p_key, sizeof(q.p_key)) != 0)
			__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_frame fr;
	struct fp_pkt p, again;
	uint16_t wire;
	int linktype, rv;

	if (size < FZ_PREFIX)
		return (0);
	linktype = linktypes[data[0] % FZ_NLINKTYPES];
	memset(&fr, 0, sizeof(fr));
	wire = (uint16_t)(data[1] << 8 | data[2]);
	/* libFuzzer's copy is exactly sized: ASan sees any over-read. */
	fr.fr_caplen = (uint32_t)(size - FZ_PREFIX);
	fr.fr_data = fr.fr_caplen > 0 ? data + FZ_PREFIX : NULL;
	if (wire == 0xffff)
		fr.fr_wirelen = 0;
	else if ((wire & 0x8000) != 0)
		fr.fr_wirelen = UINT32_MAX - (wire & 0x7fff);
	else
		fr.fr_wirelen = fr.fr_caplen + wire;
	fr.fr_time = 1700000000000ULL;

	rv = decode_frame(linktype, &fr, FZ_IFINDEX, &p);
	check(linktype, &fr, rv, &p);

	/*
	 * The same bytes behind a Linux cooked header take the general
	 * path; an Ethernet frame may take the fast one: they must agree.
	 */
	if (linktype == LINK_ETHERNET && fr.fr_caplen >= 14 &&
	    fr.fr_wirelen <= UINT32_MAX - 2)
		differential(&fr, rv, &p);

	/* A pure function: the same frame, the same answer. */
	if (decode_frame(linktype, &fr, FZ_IFINDEX, &again) != rv ||
	    memcmp(&p.p_key, &again.p_key, sizeof(p.p_key)) != 0 ||
	    p.p_octets != again.p_octets ||
	    p.p_tcpflags != again.p_tcpflags ||
	    p.p_l4trunc != again.p_l4trunc)
		__builtin_trap();
	return (0);
}
