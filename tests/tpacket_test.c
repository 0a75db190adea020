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
 * The Linux backend's block walk on blocks built here, record by record:
 * the frames it hands over, with the VLAN tags the kernel stripped put
 * back, and the records it must refuse.  The backend's file is included
 * whole, so that its static walk is reachable without a socket; where it
 * compiles empty (BSD), so does every case here but a skip.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "../capture_tpacket.c"

#ifdef TPACKET3_HDRLEN

#define BLOCK		65536
#define SNAPLEN		256
#define FRAMES		8		/* frames whose bytes are kept */
#define MAXFRAMES	(CAPTURE_BATCH + 2)

/*
 * The frames as handed over, the first few copied (the walk's bytes are
 * the ring's), and the sizes of the first two batches.
 */
struct got {
	uint8_t		 g_data[FRAMES][64];
	uint32_t	 g_caplen[FRAMES];
	uint32_t	 g_wirelen[FRAMES];
	uint64_t	 g_time[MAXFRAMES];
	size_t		 g_batch[2];
	int		 g_batches;
	int		 g_n;
};

static _Alignas(8) uint8_t block[BLOCK];

static void	 on_frames(const struct fp_frame *, size_t, void *);
static void	 blk_init(void);
static struct tpacket3_hdr *blk_hdr(uint32_t);
static struct sockaddr_ll *blk_sll(uint32_t);
static uint32_t	 blk_add(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t,
		    uint16_t, uint16_t);
static int	 walk(struct capture *, struct got *, int);

static void
on_frames(const struct fp_frame *fr, size_t n, void *arg)
{
	struct got *g = arg;

	ATF_REQUIRE(n >= 1 && n <= CAPTURE_BATCH);
	if (g->g_batches < 2)
		g->g_batch[g->g_batches] = n;
	g->g_batches++;
	for (; n > 0; n--, fr++) {
		ATF_REQUIRE(g->g_n < MAXFRAMES);
		if (g->g_n < FRAMES) {
			memcpy(g->g_data[g->g_n], fr->fr_data,
			    fr->fr_caplen < 64 ? fr->fr_caplen : 64);
			g->g_caplen[g->g_n] = fr->fr_caplen;
			g->g_wirelen[g->g_n] = fr->fr_wirelen;
		}
		g->g_time[g->g_n] = fr->fr_time;
		g->g_n++;
	}
}

static uint32_t	 blk_off, blk_prev, blk_npkts;

static void
blk_init(void)
{
	struct tpacket_block_desc *bd = (struct tpacket_block_desc *)block;

	memset(block, 0, sizeof(block));
	blk_off = TPACKET_ALIGN(sizeof(struct tpacket_block_desc));
	bd->hdr.bh1.offset_to_first_pkt = blk_off;
	blk_prev = 0;
	blk_npkts = 0;
}

/* The record at off, and the sockaddr_ll between it and its frame. */
static struct tpacket3_hdr *
blk_hdr(uint32_t off)
{
	return ((struct tpacket3_hdr *)(block + off));
}

static struct sockaddr_ll *
blk_sll(uint32_t off)
{
	return ((struct sockaddr_ll *)(block + off +
	    TPACKET_ALIGN(sizeof(struct tpacket3_hdr))));
}

/*
 * A record at the next free offset: its frame at mac bytes from the
 * header, snap of its len bytes captured (bytes 0, 1, 2, ... so that a
 * move shows), status and the stripped tag's TCI and TPID.  Returns the
 * record's offset in the block.
 */
static uint32_t
blk_add(uint32_t mac, uint32_t snap, uint32_t len, uint32_t status,
    uint32_t sec, uint16_t tci, uint16_t tpid)
{
	struct tpacket_block_desc *bd = (struct tpacket_block_desc *)block;
	struct tpacket3_hdr *h;
	uint32_t i, off = blk_off;

	ATF_REQUIRE(off + mac + snap <= BLOCK);
	h = blk_hdr(off);
	h->tp_mac = mac;
	h->tp_snaplen = snap;
	h->tp_len = len;
	h->tp_status = status;
	h->tp_sec = sec;
	h->tp_nsec = 250000000;
	h->hv1.tp_vlan_tci = tci;
	h->hv1.tp_vlan_tpid = tpid;
	blk_sll(off)->sll_pkttype = PACKET_HOST;
	for (i = 0; i < snap; i++)
		block[off + mac + i] = (uint8_t)i;
	if (blk_npkts > 0)
		blk_hdr(blk_prev)->tp_next_offset = off - blk_prev;
	blk_prev = off;
	blk_off = TPACKET_ALIGN(off + mac + snap);
	blk_npkts++;
	bd->hdr.bh1.num_pkts = blk_npkts;
	bd->hdr.bh1.blk_len = blk_off;
	return (off);
}

/* The block through tp_walk(); skipout as for a socket that sees both. */
static int
walk(struct capture *cp, struct got *g, int skipout)
{
	memset(cp, 0, sizeof(*cp));
	cp->cp_blocksize = BLOCK;
	cp->cp_snaplen = SNAPLEN;
	cp->cp_skipout = skipout;
	memset(g, 0, sizeof(*g));
	return (tp_walk(cp, block, on_frames, g));
}

/* The room the kernel leaves before an Ethernet frame, reserve and all. */
#define MAC		(TPACKET3_HDRLEN + 18)

ATF_TC_WITHOUT_HEAD(untagged_as_is);
ATF_TC_BODY(untagged_as_is, tc)
{
	struct capture cp;
	struct got g;
	uint32_t i;

	blk_init();
	(void)blk_add(MAC, 60, 1514, TP_STATUS_USER, 1700000000, 0, 0);
	ATF_REQUIRE_EQ(walk(&cp, &g, 0), 1);
	ATF_CHECK_EQ(g.g_caplen[0], 60);
	ATF_CHECK_EQ(g.g_wirelen[0], 1514);
	ATF_CHECK_EQ(g.g_time[0], 1700000000250ULL);
	for (i = 0; i < 60; i++)
		ATF_CHECK_EQ(g.g_data[0][i], i);
	ATF_CHECK_EQ(cp.cp_badrec, 0);
}

/*
 * A stripped tag goes back after the addresses, TPID as the kernel saw
 * it when it says so, else 802.1Q's; caplen and wirelen grow by the tag.
 */
ATF_TC_WITHOUT_HEAD(tag_put_back);
ATF_TC_BODY(tag_put_back, tc)
{
	static const uint8_t qinq[4] = { 0x88, 0xa8, 0xa0, 0x2a };
	static const uint8_t dot1q[4] = { 0x81, 0x00, 0x00, 0x07 };
	struct capture cp;
	struct got g;
	uint32_t i;

	blk_init();
	(void)blk_add(MAC, 60, 60, TP_STATUS_USER | TP_STATUS_VLAN_VALID |
	    TP_STATUS_VLAN_TPID_VALID, 1, 0xa02a, 0x88a8);
	(void)blk_add(MAC, 60, 100, TP_STATUS_USER | TP_STATUS_VLAN_VALID, 1,
	    0x0007, 0x1234);
	ATF_REQUIRE_EQ(walk(&cp, &g, 0), 2);
	ATF_CHECK_EQ(g.g_caplen[0], 64);
	ATF_CHECK_EQ(g.g_wirelen[0], 64);
	ATF_CHECK(memcmp(g.g_data[0] + 12, qinq, 4) == 0);
	ATF_CHECK(memcmp(g.g_data[1] + 12, dot1q, 4) == 0);
	ATF_CHECK_EQ(g.g_caplen[1], 64);
	ATF_CHECK_EQ(g.g_wirelen[1], 104);
	for (i = 0; i < 12; i++) {
		ATF_CHECK_EQ(g.g_data[0][i], i);
		ATF_CHECK_EQ(g.g_data[1][i], i);
	}
	/* The rest of the frame stays where it was, after the tag. */
	for (i = 12; i < 60; i++)
		ATF_CHECK_EQ(g.g_data[0][i + 4], i);
	ATF_CHECK_EQ(cp.cp_badrec, 0);
}

/* The tag counts against the snap length, as on the wire. */
ATF_TC_WITHOUT_HEAD(tag_within_snaplen);
ATF_TC_BODY(tag_within_snaplen, tc)
{
	struct capture cp;
	struct got g;

	blk_init();
	(void)blk_add(MAC, SNAPLEN, 1514, TP_STATUS_USER |
	    TP_STATUS_VLAN_VALID, 1, 42, 0);
	ATF_REQUIRE_EQ(walk(&cp, &g, 0), 1);
	ATF_CHECK_EQ(g.g_caplen[0], SNAPLEN);
	ATF_CHECK_EQ(g.g_wirelen[0], 1518);
}

/*
 * Records a tag cannot go back into: too little room before the frame
 * (bad: the kernel always leaves some), a wire length the tag would wrap
 * (bad), a frame too short to hold the addresses (handed over as is).
 */
ATF_TC_WITHOUT_HEAD(tag_refused);
ATF_TC_BODY(tag_refused, tc)
{
	struct capture cp;
	struct got g;
	uint32_t i;

	blk_init();
	(void)blk_add(TPACKET3_HDRLEN + 3, 60, 60, TP_STATUS_USER |
	    TP_STATUS_VLAN_VALID, 1, 42, 0);
	(void)blk_add(MAC, 60, UINT32_MAX - 3, TP_STATUS_USER |
	    TP_STATUS_VLAN_VALID, 1, 42, 0);
	(void)blk_add(MAC, 11, 11, TP_STATUS_USER | TP_STATUS_VLAN_VALID, 1,
	    42, 0);
	(void)blk_add(TPACKET3_HDRLEN + 4, 60, 60, TP_STATUS_USER |
	    TP_STATUS_VLAN_VALID, 1, 42, 0);
	ATF_REQUIRE_EQ(walk(&cp, &g, 0), 2);
	ATF_CHECK_EQ(cp.cp_badrec, 2);
	ATF_CHECK_EQ(g.g_caplen[0], 11);
	ATF_CHECK_EQ(g.g_wirelen[0], 11);
	for (i = 0; i < 11; i++)
		ATF_CHECK_EQ(g.g_data[0][i], i);
	/* Exactly the room needed is enough. */
	ATF_CHECK_EQ(g.g_caplen[1], 64);
	ATF_CHECK_EQ(g.g_data[1][15], 42);
}

/* A block header that lies: no record is read, and each counts as bad. */
ATF_TC_WITHOUT_HEAD(hostile_block);
ATF_TC_BODY(hostile_block, tc)
{
	struct tpacket_block_desc *bd = (struct tpacket_block_desc *)block;
	struct capture cp;
	struct got g;
	int i;

	for (i = 0; i < 4; i++) {
		blk_init();
		(void)blk_add(MAC, 60, 60, TP_STATUS_USER, 1, 0, 0);
		(void)blk_add(MAC, 60, 60, TP_STATUS_USER, 1, 0, 0);
		switch (i) {
		case 0:		/* longer than the block */
			bd->hdr.bh1.blk_len = BLOCK + 8;
			break;
		case 1:		/* first record not aligned */
			bd->hdr.bh1.offset_to_first_pkt += 2;
			break;
		case 2:		/* first record inside the descriptor */
			bd->hdr.bh1.offset_to_first_pkt = 8;
			break;
		case 3:		/* no room for the first header */
			bd->hdr.bh1.offset_to_first_pkt =
			    bd->hdr.bh1.blk_len - 8;
			break;
		}
		ATF_CHECK_EQ_MSG(walk(&cp, &g, 0), 0, "case %d", i);
		ATF_CHECK_EQ_MSG(cp.cp_badrec, 2, "case %d", i);
	}
}

/*
 * A next offset that does not move forward within the block, lands off
 * alignment or without room for a header, or more records claimed than
 * there are: the walk ends there, the rest bad.  The last record's next
 * offset is never followed.
 */
ATF_TC_WITHOUT_HEAD(hostile_next_offset);
ATF_TC_BODY(hostile_next_offset, tc)
{
	struct tpacket_block_desc *bd = (struct tpacket_block_desc *)block;
	struct capture cp;
	struct got g;
	uint32_t first;
	int i;

	for (i = 0; i < 5; i++) {
		blk_init();
		first = blk_add(MAC, 60, 60, TP_STATUS_USER, 1, 0, 0);
		(void)blk_add(MAC, 60, 60, TP_STATUS_USER, 1, 0, 0);
		(void)blk_add(MAC, 60, 60, TP_STATUS_USER, 1, 0, 0);
		switch (i) {
		case 0:		/* no step: the same record again */
			blk_hdr(first)->tp_next_offset = 0;
			break;
		case 1:		/* past the block's end */
			blk_hdr(first)->tp_next_offset = BLOCK;
			break;
		case 2:		/* a step too short for a header */
			blk_hdr(first)->tp_next_offset = 4;
			break;
		case 3:		/* off alignment */
			blk_hdr(first)->tp_next_offset += 2;
			break;
		case 4:		/* a header's room short of the end */
			blk_hdr(first)->tp_next_offset =
			    bd->hdr.bh1.blk_len - first - 8;
			break;
		}
		ATF_CHECK_EQ_MSG(walk(&cp, &g, 0), 1, "case %d", i);
		ATF_CHECK_EQ_MSG(cp.cp_badrec, 2, "case %d", i);
	}
	blk_init();
	(void)blk_add(MAC, 60, 60, TP_STATUS_USER, 1, 0, 0);
	(void)blk_add(MAC, 60, 60, TP_STATUS_USER, 1, 0, 0);
	bd->hdr.bh1.num_pkts = 5;
	ATF_CHECK_EQ(walk(&cp, &g, 0), 2);
	ATF_CHECK_EQ(cp.cp_badrec, 3);
	blk_init();
	(void)blk_add(MAC, 60, 60, TP_STATUS_USER, 1, 0, 0);
	first = blk_add(MAC, 60, 60, TP_STATUS_USER, 1, 0, 0);
	blk_hdr(first)->tp_next_offset = 2;
	ATF_CHECK_EQ(walk(&cp, &g, 0), 2);
	ATF_CHECK_EQ(cp.cp_badrec, 0);
}

/*
 * A record whose frame is not within the block, or says more was
 * captured than was on the wire: skipped and counted; the walk goes on.
 */
ATF_TC_WITHOUT_HEAD(hostile_frame);
ATF_TC_BODY(hostile_frame, tc)
{
	struct capture cp;
	struct got g;
	uint32_t off[5];
	int i;

	blk_init();
	for (i = 0; i < 5; i++)
		off[i] = blk_add(MAC, 60, 60, TP_STATUS_USER, (uint32_t)i, 0,
		    0);
	blk_hdr(off[0])->tp_mac = UINT16_MAX;		/* past the block */
	blk_hdr(off[1])->tp_mac = 8;			/* inside the header */
	blk_hdr(off[2])->tp_snaplen = 61;		/* more than tp_len */
	blk_hdr(off[4])->tp_snaplen = BLOCK;		/* past the block */
	ATF_REQUIRE_EQ(walk(&cp, &g, 0), 1);
	ATF_CHECK_EQ(g.g_time[0], 3250);
	ATF_CHECK_EQ(g.g_caplen[0], 60);
	ATF_CHECK_EQ(cp.cp_badrec, 4);
}

/* Where the socket sees what the host sends, those frames are dropped. */
ATF_TC_WITHOUT_HEAD(outgoing_skipped);
ATF_TC_BODY(outgoing_skipped, tc)
{
	struct capture cp;
	struct got g;
	uint32_t out;

	blk_init();
	out = blk_add(MAC, 60, 60, TP_STATUS_USER, 1, 0, 0);
	(void)blk_add(MAC, 60, 60, TP_STATUS_USER, 2, 0, 0);
	blk_sll(out)->sll_pkttype = PACKET_OUTGOING;
	ATF_REQUIRE_EQ(walk(&cp, &g, 1), 1);
	ATF_CHECK_EQ(g.g_time[0], 2250);
	ATF_CHECK_EQ(cp.cp_skipped, 1);
	ATF_CHECK_EQ(cp.cp_badrec, 0);
	ATF_CHECK_EQ(walk(&cp, &g, 0), 2);
}

/* A block of more than a batch: a full batch, then the rest, in order. */
ATF_TC_WITHOUT_HEAD(walk_in_batches);
ATF_TC_BODY(walk_in_batches, tc)
{
	struct capture cp;
	struct got g;
	uint32_t i;

	blk_init();
	for (i = 0; i < CAPTURE_BATCH + 2; i++)
		(void)blk_add(MAC, 14, 60, TP_STATUS_USER, i, 0, 0);
	ATF_REQUIRE_EQ(walk(&cp, &g, 0), CAPTURE_BATCH + 2);
	ATF_CHECK_EQ(g.g_batches, 2);
	ATF_CHECK_EQ(g.g_batch[0], CAPTURE_BATCH);
	ATF_CHECK_EQ(g.g_batch[1], 2);
	for (i = 0; i < CAPTURE_BATCH + 2; i++)
		ATF_CHECK_EQ_MSG(g.g_time[i], i * 1000ULL + 250, "frame %u",
		    i);
	ATF_CHECK_EQ(cp.cp_badrec, 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, untagged_as_is);
	ATF_TP_ADD_TC(tp, tag_put_back);
	ATF_TP_ADD_TC(tp, tag_within_snaplen);
	ATF_TP_ADD_TC(tp, tag_refused);
	ATF_TP_ADD_TC(tp, hostile_block);
	ATF_TP_ADD_TC(tp, hostile_next_offset);
	ATF_TP_ADD_TC(tp, hostile_frame);
	ATF_TP_ADD_TC(tp, outgoing_skipped);
	ATF_TP_ADD_TC(tp, walk_in_batches);
	return (atf_no_error());
}

#else /* !TPACKET3_HDRLEN */

ATF_TC_WITHOUT_HEAD(not_linux);
ATF_TC_BODY(not_linux, tc)
{
	atf_tc_skip("no AF_PACKET ring here: the BPF backend is tested in "
	    "zbuf_test");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, not_linux);
	return (atf_no_error());
}

#endif /* TPACKET3_HDRLEN */
