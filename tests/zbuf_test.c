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
 * Tests of the zero-copy consumer in zbuf.c, driven against the model of
 * the FreeBSD kernel side in zbuf_model.c: the pitfalls P1-P3 and P5-P7
 * of freebsd-bpf.md, strict A/B order, generation wrap, hostile record
 * headers in exactly sized buffers (so ASan sees any over-read), and a
 * threaded run where every numbered packet is delivered or counted as
 * dropped, exactly once and in order.
 */

#include <sys/mman.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <atf-c.h>

#include "capture.h"
#include "zbuf_model.h"

#define PKTLEN		100	/* a 128-byte record: 31 fill a page */
#define PER_PAGE	31
#define SNAPLEN		256
#define MAXGOT		1024
#define T0		1700000000123456789ULL	/* ns since the epoch */

struct rig {
	struct model	*r_m;
	uint8_t		*r_buf[2];
	size_t		 r_len;
	struct zbuf	 r_zb;
	uint32_t	 r_seq;		/* next packet number */
	int		 r_rotates;	/* rotate callbacks */
};

struct got {
	const struct rig *g_rig;
	uint32_t	 g_n;
	uint32_t	 g_seq[MAXGOT];
	uint32_t	 g_caplen[MAXGOT];
	uint32_t	 g_wirelen[MAXGOT];
	uint64_t	 g_time[MAXGOT];
	int		 g_buf[MAXGOT];	/* 0: A, 1: B */
	int		 g_badbytes;
	void		(*g_hook)(struct got *);
	struct rig	*g_hookrig;
};

static void	 rig_open(struct rig *, size_t, unsigned int, int);
static void	 rig_close(struct rig *);
static enum model_fate rig_send(struct rig *, uint32_t, uint32_t);
static void	 rig_sendn(struct rig *, int, uint32_t);
static int	 rig_rotate(void *);
static int	 rig_dispatch(struct rig *, short, struct got *);
static uint32_t	 rig_kgen(const struct rig *, int);
static void	 fill(uint8_t *, uint32_t, uint32_t);
static int	 check_fill(const uint8_t *, uint32_t, uint32_t);
static void	 got_frames(const struct fp_frame *, size_t, void *);
static void	 got_init(struct got *, const struct rig *);
static void	 check_order(const struct got *, uint32_t);
static void	 p1_stuck_state(struct rig *, struct got *);
static void	 p3_hook(struct got *);
static void	 put_rec(uint8_t *, size_t, uint16_t, uint32_t, uint32_t);
static uint8_t	*hostile_buf(size_t, uint32_t);
static void	 count_frames(const struct fp_frame *, size_t, void *);
static void	 stress_frames(const struct fp_frame *, size_t, void *);
static void	 batch_frames(const struct fp_frame *, size_t, void *);

/* Packet seq of len bytes: seq in 4 bytes, then (seq + i) & 0xff. */
static void
fill(uint8_t *p, uint32_t len, uint32_t seq)
{
	uint32_t i;

	memcpy(p, &seq, sizeof(seq));
	for (i = sizeof(seq); i < len; i++)
		p[i] = (uint8_t)(seq + i);
}

static int
check_fill(const uint8_t *p, uint32_t caplen, uint32_t seq)
{
	uint32_t i;

	for (i = sizeof(seq); i < caplen; i++)
		if (p[i] != (uint8_t)(seq + i))
			return (0);
	return (1);
}

/* /dev/bpf as capture_bpf.c sets it up, and the consumer on top. */
static void
rig_open(struct rig *r, size_t pages, unsigned int tstamp, int zbts)
{
	struct model_zbuf bz;
	struct model_ifreq ifr;
	unsigned int mode;
	size_t zmax;
	int i;

	memset(r, 0, sizeof(*r));
	ATF_REQUIRE((r->r_m = model_create()) != NULL);
	r->r_len = pages * MODEL_PAGE;
	for (i = 0; i < 2; i++) {
		r->r_buf[i] = mmap(NULL, r->r_len, PROT_READ | PROT_WRITE,
		    MAP_ANON | MAP_PRIVATE, -1, 0);
		ATF_REQUIRE(r->r_buf[i] != MAP_FAILED);
	}
	mode = MODEL_BUFMODE_ZBUF;
	ATF_REQUIRE(sim_ioctl(r->r_m, MODEL_BIOCSETBUFMODE, &mode) == 0);
	ATF_REQUIRE(sim_ioctl(r->r_m, MODEL_BIOCGETZMAX, &zmax) == 0);
	ATF_REQUIRE(r->r_len <= zmax);
	bz.bz_bufa = r->r_buf[0];
	bz.bz_bufb = r->r_buf[1];
	bz.bz_buflen = r->r_len;
	ATF_REQUIRE(sim_ioctl(r->r_m, MODEL_BIOCSETZBUF, &bz) == 0);
	ATF_REQUIRE(sim_ioctl(r->r_m, MODEL_BIOCSTSTAMP, &tstamp) == 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "em0");
	ATF_REQUIRE(sim_ioctl(r->r_m, MODEL_BIOCSETIF, &ifr) == 0);
	ATF_REQUIRE(sim_ioctl(r->r_m, MODEL_BIOCPROMISC, NULL) == 0);
	ATF_REQUIRE(zbuf_init(&r->r_zb, r->r_buf[0], r->r_buf[1], r->r_len,
	    zbts, sizeof(long)) == 0);
}

static void
rig_close(struct rig *r)
{
	model_destroy(r->r_m);
	munmap(r->r_buf[0], r->r_len);
	munmap(r->r_buf[1], r->r_len);
}

static enum model_fate
rig_send(struct rig *r, uint32_t len, uint32_t snaplen)
{
	static uint8_t pkt[16384];
	uint32_t seq = r->r_seq++;

	ATF_REQUIRE(len <= sizeof(pkt));
	fill(pkt, len, seq);
	return (model_deliver(r->r_m, pkt, len, snaplen,
	    T0 + (uint64_t)seq * 1000000));
}

static void
rig_sendn(struct rig *r, int n, uint32_t len)
{
	while (n-- > 0)
		ATF_REQUIRE_EQ(rig_send(r, len, SNAPLEN), MODEL_STORED);
}

/*
 * What capture_bpf.c does on a poll timeout: BIOCGETIF says whether the
 * interface is still there (EINVAL: detached, P7), BIOCROTZBUF asks for
 * the partial buffer either way.  Its answer is not looked at (P4).
 */
static int
rig_rotate(void *arg)
{
	struct rig *r = arg;
	struct model_ifreq ifr;
	struct model_zbuf bz;
	int gone;

	r->r_rotates++;
	gone = sim_ioctl(r->r_m, MODEL_BIOCGETIF, &ifr) == -1 &&
	    errno == EINVAL;
	if (sim_ioctl(r->r_m, MODEL_BIOCROTZBUF, &bz) == -1 && !gone)
		return (-1);
	if (gone) {
		errno = ENXIO;
		return (-1);
	}
	return (0);
}

static int
rig_dispatch(struct rig *r, short revents, struct got *g)
{
	return (zbuf_dispatch(&r->r_zb, revents, rig_rotate, r, got_frames, g));
}

static uint32_t
rig_kgen(const struct rig *r, int i)
{
	uint32_t gen;

	memcpy(&gen, r->r_buf[i], sizeof(gen));
	return (gen);
}

static void
got_init(struct got *g, const struct rig *r)
{
	memset(g, 0, sizeof(*g));
	g->g_rig = r;
}

static void
got_frames(const struct fp_frame *fr, size_t n, void *arg)
{
	struct got *g = arg;
	const struct rig *r = g->g_rig;
	uint32_t seq;
	int i;

	ATF_REQUIRE(n >= 1 && n <= CAPTURE_BATCH);
	for (; n > 0; n--, fr++) {
		ATF_REQUIRE(g->g_n < MAXGOT);
		seq = UINT32_MAX;
		if (fr->fr_caplen >= sizeof(seq))
			memcpy(&seq, fr->fr_data, sizeof(seq));
		if (!check_fill(fr->fr_data, fr->fr_caplen, seq))
			g->g_badbytes++;
		g->g_buf[g->g_n] = -1;
		for (i = 0; i < 2; i++)
			if (fr->fr_data >= r->r_buf[i] &&
			    fr->fr_data < r->r_buf[i] + r->r_len)
				g->g_buf[g->g_n] = i;
		g->g_seq[g->g_n] = seq;
		g->g_caplen[g->g_n] = fr->fr_caplen;
		g->g_wirelen[g->g_n] = fr->fr_wirelen;
		g->g_time[g->g_n] = fr->fr_time;
		g->g_n++;
		if (g->g_hook != NULL)
			g->g_hook(g);
	}
}

/* Frames 0 .. n-1 of g carry packets first, first+1, ... intact. */
static void
check_order(const struct got *g, uint32_t first)
{
	uint32_t i;

	ATF_CHECK_EQ(g->g_badbytes, 0);
	for (i = 0; i < g->g_n; i++)
		ATF_CHECK_EQ_MSG(g->g_seq[i], first + i, "frame %u", i);
}

ATF_TC_WITHOUT_HEAD(ioctl_numbers);
ATF_TC_BODY(ioctl_numbers, tc)
{
	/* FreeBSD's encoding, amd64 sizes; Linux _IOW would set OUT (P10). */
	ATF_CHECK_EQ(MODEL_BIOCSETZBUF,
	    MODEL_IOC(MODEL_IOC_IN, 'B', 129, sizeof(struct model_zbuf)));
	ATF_CHECK_EQ(MODEL_BIOCROTZBUF,
	    MODEL_IOC(MODEL_IOC_OUT, 'B', 128, sizeof(struct model_zbuf)));
	ATF_CHECK_EQ(MODEL_BIOCGETZMAX,
	    MODEL_IOC(MODEL_IOC_OUT, 'B', 127, sizeof(size_t)));
	ATF_CHECK_EQ(MODEL_BIOCGSTATS,
	    MODEL_IOC(MODEL_IOC_OUT, 'B', 111, sizeof(struct model_stat)));
	ATF_CHECK_EQ(MODEL_BIOCSETIF,
	    MODEL_IOC(MODEL_IOC_IN, 'B', 108, sizeof(struct model_ifreq)));
	ATF_CHECK_EQ(MODEL_BIOCSETF,
	    MODEL_IOC(MODEL_IOC_IN, 'B', 103, sizeof(struct model_program)));
	ATF_CHECK_EQ(MODEL_BIOCLOCK, MODEL_IOC(MODEL_IOC_VOID, 'B', 122, 0));
}

ATF_TC_WITHOUT_HEAD(setup_order);
ATF_TC_BODY(setup_order, tc)
{
	struct model *m;
	struct model_zbuf bz;
	struct model_ifreq ifr;
	unsigned int mode, blen;
	size_t zmax;
	uint8_t *a, *b;

	ATF_REQUIRE((m = model_create()) != NULL);
	a = mmap(NULL, 2 * MODEL_PAGE, PROT_READ | PROT_WRITE,
	    MAP_ANON | MAP_PRIVATE, -1, 0);
	b = mmap(NULL, 2 * MODEL_PAGE, PROT_READ | PROT_WRITE,
	    MAP_ANON | MAP_PRIVATE, -1, 0);
	ATF_REQUIRE(a != MAP_FAILED && b != MAP_FAILED);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "em0");
	bz.bz_bufa = a;
	bz.bz_bufb = b;
	bz.bz_buflen = 2 * MODEL_PAGE;

	/* Buffered mode until BIOCSETBUFMODE: zero-copy ioctls refused. */
	ATF_CHECK(sim_ioctl(m, MODEL_BIOCGETZMAX, &zmax) == -1 &&
	    errno == EOPNOTSUPP);
	ATF_CHECK(sim_ioctl(m, MODEL_BIOCSETZBUF, &bz) == -1 &&
	    errno == EOPNOTSUPP);
	mode = MODEL_BUFMODE_ZBUF;
	ATF_REQUIRE(sim_ioctl(m, MODEL_BIOCSETBUFMODE, &mode) == 0);
	ATF_REQUIRE(sim_ioctl(m, MODEL_BIOCGETZMAX, &zmax) == 0);
	ATF_CHECK_EQ(zmax, (size_t)512 * 4096);
	/* No buffers yet: nothing to attach. */
	ATF_CHECK(sim_ioctl(m, MODEL_BIOCSETIF, &ifr) == -1 &&
	    errno == EINVAL);
	/* Page-aligned, whole pages. */
	bz.bz_bufa = a + 8;
	ATF_CHECK(sim_ioctl(m, MODEL_BIOCSETZBUF, &bz) == -1 &&
	    errno == EINVAL);
	bz.bz_bufa = a;
	bz.bz_buflen = MODEL_PAGE + 32;
	ATF_CHECK(sim_ioctl(m, MODEL_BIOCSETZBUF, &bz) == -1 &&
	    errno == EINVAL);
	bz.bz_buflen = 2 * MODEL_PAGE;
	ATF_REQUIRE(sim_ioctl(m, MODEL_BIOCSETZBUF, &bz) == 0);
	/* Once only, and the mode is fixed from now on. */
	ATF_CHECK(sim_ioctl(m, MODEL_BIOCSETZBUF, &bz) == -1 &&
	    errno == EINVAL);
	ATF_CHECK(sim_ioctl(m, MODEL_BIOCSETBUFMODE, &mode) == -1 &&
	    errno == EBUSY);
	ATF_REQUIRE(sim_ioctl(m, MODEL_BIOCSETIF, &ifr) == 0);
	ATF_REQUIRE(sim_ioctl(m, MODEL_BIOCGBLEN, &blen) == 0);
	ATF_CHECK_EQ(blen, 2 * MODEL_PAGE - 32);
	model_destroy(m);
	munmap(a, 2 * MODEL_PAGE);
	munmap(b, 2 * MODEL_PAGE);
}

ATF_TC_WITHOUT_HEAD(lock_keeps_loop_ioctls);
ATF_TC_BODY(lock_keeps_loop_ioctls, tc)
{
	struct rig r;
	struct model_zbuf bz;
	struct model_stat bs;
	struct model_ifreq ifr;
	struct model_program prog;
	size_t zmax;

	rig_open(&r, 1, MODEL_T_NANOTIME, ZBUF_TS_NANO);
	ATF_REQUIRE(sim_ioctl(r.r_m, MODEL_BIOCLOCK, NULL) == 0);
	/* What capture_dispatch and capture_stats use still works... */
	ATF_CHECK(sim_ioctl(r.r_m, MODEL_BIOCROTZBUF, &bz) == 0);
	ATF_CHECK(sim_ioctl(r.r_m, MODEL_BIOCGSTATS, &bs) == 0);
	ATF_CHECK(sim_ioctl(r.r_m, MODEL_BIOCGETIF, &ifr) == 0);
	/* ... and setup is over. */
	memset(&prog, 0, sizeof(prog));
	ATF_CHECK(sim_ioctl(r.r_m, MODEL_BIOCSETF, &prog) == -1 &&
	    errno == EPERM);
	ATF_CHECK(sim_ioctl(r.r_m, MODEL_BIOCGETZMAX, &zmax) == -1 &&
	    errno == EPERM);
	rig_close(&r);
}

ATF_TC_WITHOUT_HEAD(strict_alternation);
ATF_TC_BODY(strict_alternation, tc)
{
	struct rig r;
	struct got g;
	uint32_t i;
	int round;

	rig_open(&r, 1, MODEL_T_NANOTIME, ZBUF_TS_NANO);
	got_init(&g, &r);
	for (round = 0; round < 6; round++) {
		/* Each round's first packet rotates out the last round's. */
		rig_sendn(&r, PER_PAGE, PKTLEN);
		if (round > 0) {
			ATF_REQUIRE_EQ(model_poll(r.r_m, POLLIN), POLLIN);
			ATF_REQUIRE(rig_dispatch(&r, POLLIN, &g) == PER_PAGE);
		}
	}
	ATF_REQUIRE_EQ(g.g_n, 5 * PER_PAGE);
	check_order(&g, 0);
	for (i = 0; i < g.g_n; i++)
		ATF_CHECK_EQ_MSG(g.g_buf[i], (int)(i / PER_PAGE) % 2,
		    "frame %u", i);
	ATF_CHECK_EQ(r.r_zb.zb_stats.zs_disorder, 0);
	rig_close(&r);
}

/*
 * A full, not yet acknowledged A; five packets in B; then the consumer
 * takes A.  B's packets are now stuck: BIOCROTZBUF refuses while the
 * acknowledged A waits for the next packet to be reclaimed.
 */
static void
p1_stuck_state(struct rig *r, struct got *g)
{
	rig_sendn(r, PER_PAGE + 5, PKTLEN);
	ATF_REQUIRE_EQ(rig_dispatch(r, POLLIN, g), PER_PAGE);
	ATF_REQUIRE_EQ(g->g_n, PER_PAGE);
}

ATF_TC_WITHOUT_HEAD(p1_stuck_until_next_packet);
ATF_TC_BODY(p1_stuck_until_next_packet, tc)
{
	struct rig r;
	struct got g;
	struct model_counters c0, c1;
	int i;

	rig_open(&r, 1, MODEL_T_NANOTIME, ZBUF_TS_NANO);
	got_init(&g, &r);
	p1_stuck_state(&r, &g);
	model_counters(r.r_m, &c0);
	for (i = 0; i < 3; i++)
		ATF_CHECK_EQ(rig_dispatch(&r, 0, &g), 0);
	model_counters(r.r_m, &c1);
	ATF_CHECK_EQ(c1.mc_rotations, c0.mc_rotations);
	ATF_CHECK_EQ(r.r_rotates, 3);
	ATF_CHECK_EQ(g.g_n, PER_PAGE);

	/* The next packet reclaims A; the next timeout rotates B out. */
	rig_sendn(&r, 1, PKTLEN);
	ATF_CHECK_EQ(model_poll(r.r_m, POLLIN), 0);
	ATF_CHECK_EQ(rig_dispatch(&r, 0, &g), 6);
	ATF_CHECK_EQ(g.g_n, PER_PAGE + 6);
	check_order(&g, 0);
	ATF_CHECK_EQ(g.g_buf[g.g_n - 1], 1);
	rig_close(&r);
}

ATF_TC_WITHOUT_HEAD(p2_assigned_without_wakeup);
ATF_TC_BODY(p2_assigned_without_wakeup, tc)
{
	struct rig r;
	struct got g;
	struct model_counters c;
	struct model_stat bs;

	rig_open(&r, 1, MODEL_T_NANOTIME, ZBUF_TS_NANO);
	got_init(&g, &r);
	/* A rotates out with a wakeup, B fills while A is still held... */
	rig_sendn(&r, 2 * PER_PAGE, PKTLEN);
	/* ... and the next packets find no room: B is handed over, quietly. */
	ATF_CHECK_EQ(rig_send(&r, PKTLEN, SNAPLEN), MODEL_DROPPED);
	ATF_CHECK_EQ(rig_send(&r, PKTLEN, SNAPLEN), MODEL_DROPPED);
	model_counters(r.r_m, &c);
	ATF_CHECK_EQ(c.mc_wakeups, 1);
	ATF_CHECK_EQ(c.mc_buffull, 1);
	ATF_CHECK(rig_kgen(&r, 0) == 1 && rig_kgen(&r, 1) == 1);
	ATF_CHECK(zbuf_pending(&r.r_zb));

	/* One readiness, both buffers, A first. */
	ATF_CHECK_EQ(rig_dispatch(&r, POLLIN, &g), 2 * PER_PAGE);
	check_order(&g, 0);
	ATF_CHECK_EQ(g.g_buf[0], 0);
	ATF_CHECK_EQ(g.g_buf[g.g_n - 1], 1);
	ATF_CHECK(!zbuf_pending(&r.r_zb));
	ATF_REQUIRE(sim_ioctl(r.r_m, MODEL_BIOCGSTATS, &bs) == 0);
	ATF_CHECK_EQ(bs.bs_drop, 2);
	ATF_CHECK_EQ(bs.bs_recv, 2 * PER_PAGE + 2);
	rig_close(&r);
}

/*
 * On A's last frame, B overflows while A is still held: B becomes ours
 * without a wakeup.  On B's first frame, A is acknowledged, and poll
 * would say "not readable": only reading the header found B.
 */
static void
p3_hook(struct got *g)
{
	struct rig *r = g->g_hookrig;

	if (g->g_n == PER_PAGE) {
		rig_sendn(r, PER_PAGE - 1, PKTLEN);
		ATF_REQUIRE_EQ(rig_send(r, PKTLEN, SNAPLEN), MODEL_DROPPED);
	} else if (g->g_n == PER_PAGE + 1) {
		ATF_CHECK_EQ(model_poll(r->r_m, POLLIN), 0);
		ATF_CHECK(zbuf_pending(&r->r_zb));
	}
}

ATF_TC_WITHOUT_HEAD(p3_poll_not_ready_but_owned);
ATF_TC_BODY(p3_poll_not_ready_but_owned, tc)
{
	struct rig r;
	struct got g;
	struct model_counters c;

	rig_open(&r, 1, MODEL_T_NANOTIME, ZBUF_TS_NANO);
	got_init(&g, &r);
	g.g_hook = p3_hook;
	g.g_hookrig = &r;
	rig_sendn(&r, PER_PAGE + 1, PKTLEN);
	ATF_CHECK_EQ(rig_dispatch(&r, POLLIN, &g), 2 * PER_PAGE);
	model_counters(r.r_m, &c);
	ATF_CHECK_EQ(c.mc_wakeups, 1);
	ATF_CHECK_EQ(c.mc_buffull, 1);
	ATF_CHECK_EQ(g.g_n, 2 * PER_PAGE);
	check_order(&g, 0);
	ATF_CHECK_EQ(r.r_rotates, 0);
	rig_close(&r);
}

ATF_TC_WITHOUT_HEAD(p5_rotation_only_when_full);
ATF_TC_BODY(p5_rotation_only_when_full, tc)
{
	struct rig r;
	struct got g;
	struct model_counters c;
	uint32_t klen;
	size_t bufsize = MODEL_PAGE - 32;

	rig_open(&r, 1, MODEL_T_NANOTIME, ZBUF_TS_NANO);
	got_init(&g, &r);
	rig_sendn(&r, 3, PKTLEN);
	model_counters(r.r_m, &c);
	ATF_CHECK_EQ(c.mc_rotations, 0);
	ATF_CHECK_EQ(model_poll(r.r_m, POLLIN), 0);
	ATF_CHECK(!zbuf_pending(&r.r_zb));

	/* Too big for what is left of A: A goes out part empty. */
	ATF_REQUIRE_EQ(rig_send(&r, 10000, 65535), MODEL_STORED);
	memcpy(&klen, r.r_buf[0] + 4, sizeof(klen));
	ATF_CHECK_EQ(klen, 2 * 128 + 126);
	ATF_CHECK_EQ(rig_dispatch(&r, POLLIN, &g), 3);

	/* B holds the big one, cut to the buffer; the next small rotates. */
	rig_sendn(&r, 1, PKTLEN);
	ATF_CHECK_EQ(rig_dispatch(&r, POLLIN, &g), 1);
	ATF_REQUIRE_EQ(g.g_n, 4);
	ATF_CHECK_EQ(g.g_caplen[3], bufsize - 26);
	ATF_CHECK_EQ(g.g_wirelen[3], 10000);
	ATF_CHECK_EQ(g.g_buf[3], 1);
	ATF_CHECK_EQ(rig_dispatch(&r, 0, &g), 0);	/* P1 */
	rig_sendn(&r, 1, PKTLEN);
	ATF_CHECK_EQ(rig_dispatch(&r, 0, &g), 2);
	check_order(&g, 0);
	rig_close(&r);
}

ATF_TC_WITHOUT_HEAD(p6_no_spin_without_immediate);
ATF_TC_BODY(p6_no_spin_without_immediate, tc)
{
	struct rig r;
	struct got g;
	unsigned int on;
	int i;

	rig_open(&r, 1, MODEL_T_NANOTIME, ZBUF_TS_NANO);
	got_init(&g, &r);
	p1_stuck_state(&r, &g);

	/* Not readable: poll sleeps its timeout; each costs one ioctl pair. */
	for (i = 0; i < 50; i++) {
		ATF_REQUIRE_EQ(model_poll(r.r_m, POLLIN), 0);
		ATF_REQUIRE_EQ(rig_dispatch(&r, 0, &g), 0);
	}
	ATF_CHECK_EQ(r.r_rotates, 50);

	/* What BIOCIMMEDIATE would do: readable at once, nothing to read. */
	on = 1;
	ATF_REQUIRE(sim_ioctl(r.r_m, MODEL_BIOCIMMEDIATE, &on) == 0);
	ATF_CHECK_EQ(model_poll(r.r_m, POLLIN), POLLIN);
	ATF_CHECK_EQ(rig_dispatch(&r, POLLIN, &g), 0);
	on = 0;
	ATF_REQUIRE(sim_ioctl(r.r_m, MODEL_BIOCIMMEDIATE, &on) == 0);

	/* Progress as soon as the kernel allows it. */
	rig_sendn(&r, 1, PKTLEN);
	ATF_CHECK_EQ(rig_dispatch(&r, 0, &g), 6);
	check_order(&g, 0);
	rig_close(&r);
}

ATF_TC_WITHOUT_HEAD(p7_hangup_delivers_then_enxio);
ATF_TC_BODY(p7_hangup_delivers_then_enxio, tc)
{
	struct rig r;
	struct got g;
	short rev;

	rig_open(&r, 1, MODEL_T_NANOTIME, ZBUF_TS_NANO);
	got_init(&g, &r);
	rig_sendn(&r, 5, PKTLEN);
	model_detach(r.r_m);
	rev = model_poll(r.r_m, POLLIN | POLLHUP);
	ATF_CHECK((rev & POLLHUP) != 0);
	ATF_CHECK_EQ(rig_dispatch(&r, rev, &g), -1);
	ATF_CHECK_EQ(errno, ENXIO);
	/* What was caught before the departure is not lost. */
	ATF_CHECK_EQ(g.g_n, 5);
	check_order(&g, 0);
	ATF_CHECK_EQ(rig_send(&r, PKTLEN, SNAPLEN), MODEL_DROPPED);
	ATF_CHECK_EQ(rig_dispatch(&r, rev, &g), -1);
	ATF_CHECK_EQ(errno, ENXIO);
	ATF_CHECK_EQ(g.g_n, 5);
	rig_close(&r);
}

ATF_TC_WITHOUT_HEAD(p7_detach_seen_as_pollin);
ATF_TC_BODY(p7_detach_seen_as_pollin, tc)
{
	struct rig r;
	struct got g;
	struct model_ifreq ifr;
	short rev;

	rig_open(&r, 1, MODEL_T_NANOTIME, ZBUF_TS_NANO);
	got_init(&g, &r);
	rig_sendn(&r, 5, PKTLEN);
	model_detach(r.r_m);
	/* Asked for POLLIN only, a detached bpf says POLLIN, forever. */
	rev = model_poll(r.r_m, POLLIN);
	ATF_CHECK_EQ(rev, POLLIN);
	ATF_CHECK(sim_ioctl(r.r_m, MODEL_BIOCGETIF, &ifr) == -1 &&
	    errno == EINVAL);
	ATF_CHECK_EQ(rig_dispatch(&r, rev, &g), -1);
	ATF_CHECK_EQ(errno, ENXIO);
	ATF_CHECK_EQ(g.g_n, 5);
	check_order(&g, 0);
	rig_close(&r);
}

ATF_TC_WITHOUT_HEAD(generation_wrap);
ATF_TC_BODY(generation_wrap, tc)
{
	struct rig r;
	struct got g;
	int round;

	rig_open(&r, 1, MODEL_T_NANOTIME, ZBUF_TS_NANO);
	got_init(&g, &r);
	model_set_gen(r.r_m, 0, UINT32_MAX - 1);
	model_set_gen(r.r_m, 1, UINT32_MAX);
	for (round = 0; round < 7; round++) {
		rig_sendn(&r, PER_PAGE, PKTLEN);
		if (round > 0)
			ATF_REQUIRE_EQ(rig_dispatch(&r, POLLIN, &g),
			    PER_PAGE);
	}
	/* A went UINT32_MAX-1, UINT32_MAX, 0, 1; B UINT32_MAX, 0, 1, 2. */
	ATF_CHECK_EQ(rig_kgen(&r, 0), 1);
	ATF_CHECK_EQ(rig_kgen(&r, 1), 2);
	ATF_CHECK_EQ(g.g_n, 6 * PER_PAGE);
	check_order(&g, 0);
	ATF_CHECK_EQ(r.r_zb.zb_stats.zs_disorder, 0);
	rig_close(&r);
}

ATF_TC_WITHOUT_HEAD(timestamps);
ATF_TC_BODY(timestamps, tc)
{
	static const struct {
		unsigned int	 kernel;
		int		 zbuf;
	} fmt[] = {
		{ MODEL_T_MICROTIME, ZBUF_TS_MICRO },
		{ MODEL_T_NANOTIME, ZBUF_TS_NANO },
		{ MODEL_T_BINTIME, ZBUF_TS_BIN },
	};
	struct rig r;
	struct got g;
	size_t i;

	for (i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		rig_open(&r, 1, fmt[i].kernel, fmt[i].zbuf);
		got_init(&g, &r);
		rig_sendn(&r, 2, PKTLEN);
		ATF_REQUIRE_EQ(rig_dispatch(&r, 0, &g), 2);
		/* T0 is ...123456789 ns; packet 1 one ms later. */
		ATF_CHECK_EQ_MSG(g.g_time[0], T0 / 1000000, "format %zu", i);
		ATF_CHECK_EQ_MSG(g.g_time[1], T0 / 1000000 + 1,
		    "format %zu", i);
		ATF_CHECK_EQ(g.g_caplen[0], PKTLEN);
		ATF_CHECK_EQ(g.g_wirelen[0], PKTLEN);
		check_order(&g, 0);
		rig_close(&r);
	}
}

/* A bpf_xhdr record at off: caplen, datalen, hdrlen; packet zeroed. */
static void
put_rec(uint8_t *data, size_t off, uint16_t hdrlen, uint32_t caplen,
    uint32_t datalen)
{
	int64_t sec = 1700000000;
	uint64_t frac = 0;

	memcpy(data + off, &sec, sizeof(sec));
	memcpy(data + off + 8, &frac, sizeof(frac));
	memcpy(data + off + 16, &caplen, sizeof(caplen));
	memcpy(data + off + 20, &datalen, sizeof(datalen));
	memcpy(data + off + 24, &hdrlen, sizeof(hdrlen));
}

/*
 * A zero-copy buffer of exactly size bytes, handed over (kernel_gen 1)
 * with klen data bytes: any read past it is an ASan report.
 */
static uint8_t *
hostile_buf(size_t size, uint32_t klen)
{
	uint8_t *b;
	uint32_t gen = 1;

	ATF_REQUIRE((b = calloc(1, size)) != NULL);
	memcpy(b, &gen, sizeof(gen));
	memcpy(b + 4, &klen, sizeof(klen));
	return (b);
}

static void
count_frames(const struct fp_frame *fr, size_t n, void *arg)
{
	uint32_t *count = arg, i, sum;

	ATF_REQUIRE(n >= 1 && n <= CAPTURE_BATCH);
	/* Touch every byte, so an over-read cannot hide. */
	for (; n > 0; n--, fr++) {
		for (i = sum = 0; i < fr->fr_caplen; i++)
			sum += fr->fr_data[i];
		(void)sum;
		(*count)++;
	}
}

/*
 * Hostile headers.  Each buffer holds one good record (32 + 10 bytes,
 * padded to 40) and then the bad one; the bad one ends the walk and is
 * counted, and the buffer is still handed back.
 */
ATF_TC_WITHOUT_HEAD(hostile_hdrlen_too_small);
ATF_TC_BODY(hostile_hdrlen_too_small, tc)
{
	struct zbuf zb;
	uint8_t *a, *b;
	uint32_t n = 0, ugen;

	a = hostile_buf(32 + 80, 80);
	b = hostile_buf(32 + 80, 0);
	put_rec(a + 32, 0, 26, 10, 60);
	put_rec(a + 32, 40, 25, 10, 60);	/* SIZEOF_BPF_HDR is 26 */
	ATF_REQUIRE(zbuf_init(&zb, a, b, 32 + 80, ZBUF_TS_NANO, 8) == 0);
	ATF_CHECK_EQ(zbuf_read(&zb, count_frames, &n), 1);
	ATF_CHECK_EQ(n, 1);
	ATF_CHECK_EQ(zb.zb_stats.zs_badrecords, 1);
	memcpy(&ugen, a + 8, sizeof(ugen));
	ATF_CHECK_EQ(ugen, 1);
	free(a);
	free(b);
}

ATF_TC_WITHOUT_HEAD(hostile_caplen_past_kernel_len);
ATF_TC_BODY(hostile_caplen_past_kernel_len, tc)
{
	struct zbuf zb;
	uint8_t *a, *b;
	uint32_t n = 0;

	/* 40 + 26 + 13 = 79 is the end; caplen 14 is one byte past. */
	a = hostile_buf(32 + 79, 79);
	b = hostile_buf(32 + 79, 0);
	put_rec(a + 32, 0, 26, 10, 60);
	put_rec(a + 32, 40, 26, 14, 60);
	ATF_REQUIRE(zbuf_init(&zb, a, b, 32 + 79, ZBUF_TS_NANO, 8) == 0);
	ATF_CHECK_EQ(zbuf_read(&zb, count_frames, &n), 1);
	ATF_CHECK_EQ(zb.zb_stats.zs_badrecords, 1);

	/* hdrlen + caplen wrapping 32 bits must not pass either. */
	put_rec(a + 32, 40, 26, UINT32_MAX - 20, UINT32_MAX);
	memcpy(a, &(uint32_t){ 2 }, sizeof(uint32_t));
	ATF_REQUIRE(zbuf_init(&zb, a, b, 32 + 79, ZBUF_TS_NANO, 8) == 0);
	memcpy(a + 8, &(uint32_t){ 1 }, sizeof(uint32_t));
	ATF_CHECK_EQ(zbuf_read(&zb, count_frames, &n), 1);
	ATF_CHECK_EQ(zb.zb_stats.zs_badrecords, 1);
	ATF_CHECK_EQ(n, 2);
	free(a);
	free(b);
}

ATF_TC_WITHOUT_HEAD(hostile_kernel_len_past_buffer);
ATF_TC_BODY(hostile_kernel_len_past_buffer, tc)
{
	struct zbuf zb;
	uint8_t *a, *b;
	uint32_t n = 0, ugen;

	a = hostile_buf(32 + 64, 65);
	b = hostile_buf(32 + 64, 0);
	put_rec(a + 32, 0, 26, 38, 60);		/* fits 64, not 65 */
	ATF_REQUIRE(zbuf_init(&zb, a, b, 32 + 64, ZBUF_TS_NANO, 8) == 0);
	ATF_CHECK_EQ(zbuf_read(&zb, count_frames, &n), 0);
	ATF_CHECK_EQ(n, 0);
	ATF_CHECK_EQ(zb.zb_stats.zs_badbuffers, 1);
	memcpy(&ugen, a + 8, sizeof(ugen));
	ATF_CHECK_EQ(ugen, 1);
	free(a);
	free(b);
}

ATF_TC_WITHOUT_HEAD(hostile_short_tail_and_caplen_over_datalen);
ATF_TC_BODY(hostile_short_tail_and_caplen_over_datalen, tc)
{
	struct zbuf zb;
	uint8_t *a, *b;
	uint32_t n = 0;

	/* A good record, then 20 bytes: too short for a header. */
	a = hostile_buf(32 + 60, 60);
	b = hostile_buf(32 + 60, 0);
	put_rec(a + 32, 0, 26, 10, 60);
	ATF_REQUIRE(zbuf_init(&zb, a, b, 32 + 60, ZBUF_TS_NANO, 8) == 0);
	ATF_CHECK_EQ(zbuf_read(&zb, count_frames, &n), 1);
	ATF_CHECK_EQ(zb.zb_stats.zs_badrecords, 1);

	/* More captured than was on the wire. */
	ATF_REQUIRE(zbuf_init(&zb, NULL, NULL, 0, ZBUF_TS_NANO, 8) == 0);
	put_rec(a + 32, 0, 26, 10, 9);
	ATF_CHECK_EQ(zbuf_walk(&zb, a + 32, 36, count_frames, &n), 0);
	ATF_CHECK_EQ(zb.zb_stats.zs_badrecords, 1);
	free(a);
	free(b);
}

/* The last record is not padded: the step overshoots, and that is fine. */
ATF_TC_WITHOUT_HEAD(walk_unpadded_last_record);
ATF_TC_BODY(walk_unpadded_last_record, tc)
{
	struct zbuf zb;
	uint8_t *data;
	uint32_t n = 0;

	ATF_REQUIRE((data = calloc(1, 40 + 39)) != NULL);
	put_rec(data, 0, 26, 13, 60);
	put_rec(data, 40, 26, 13, 60);
	ATF_REQUIRE(zbuf_init(&zb, NULL, NULL, 0, ZBUF_TS_NANO, 8) == 0);
	ATF_CHECK_EQ(zbuf_walk(&zb, data, 40 + 39, count_frames, &n), 2);
	ATF_CHECK_EQ(zb.zb_stats.zs_badrecords, 0);
	free(data);
}

/* OpenBSD's and macOS's bpf_hdr: 32-bit stamp, 4-byte alignment. */
ATF_TC_WITHOUT_HEAD(walk_micro32_layout);
ATF_TC_BODY(walk_micro32_layout, tc)
{
	struct zbuf zb;
	uint8_t data[24 + 20 + 4];
	uint32_t v, n = 0;
	uint16_t h = 20;

	memset(data, 0, sizeof(data));
	v = 1000;			/* seconds */
	memcpy(data, &v, 4);
	v = 2500;			/* microseconds */
	memcpy(data + 4, &v, 4);
	v = 2;				/* caplen */
	memcpy(data + 8, &v, 4);
	v = 60;				/* datalen */
	memcpy(data + 12, &v, 4);
	memcpy(data + 16, &h, 2);
	memcpy(data + 24, data, 20);	/* 20 + 2 rounds up to 24 */
	v = 4;
	memcpy(data + 24 + 8, &v, 4);
	ATF_REQUIRE(zbuf_init(&zb, NULL, NULL, 0, ZBUF_TS_MICRO32, 4) == 0);
	ATF_CHECK_EQ(zbuf_walk(&zb, data, sizeof(data), count_frames, &n), 2);
	ATF_CHECK_EQ(zb.zb_stats.zs_badrecords, 0);
}

/* What batch_frames() saw: the size of each batch, every wire length. */
#define BATCHED		(2 * CAPTURE_BATCH + 3)
struct batches {
	size_t		 b_size[4];
	size_t		 b_calls;
	uint32_t	 b_wirelen[BATCHED];
	size_t		 b_frames;
};

static void
batch_frames(const struct fp_frame *fr, size_t n, void *arg)
{
	struct batches *b = arg;
	size_t i;

	ATF_REQUIRE(b->b_calls < 4 && b->b_frames + n <= BATCHED);
	b->b_size[b->b_calls++] = n;
	for (i = 0; i < n; i++)
		b->b_wirelen[b->b_frames++] = fr[i].fr_wirelen;
}

/* One buffer of more than a batch: full batches, then the rest, in order. */
ATF_TC_WITHOUT_HEAD(walk_in_batches);
ATF_TC_BODY(walk_in_batches, tc)
{
	struct batches b;
	struct zbuf zb;
	uint8_t *data;
	size_t i;

	/* 26 + 6 bytes a record: 32, a multiple of the alignment. */
	ATF_REQUIRE((data = calloc(BATCHED, 32)) != NULL);
	for (i = 0; i < BATCHED; i++)
		put_rec(data, i * 32, 26, 6, 60 + (uint32_t)i);
	memset(&b, 0, sizeof(b));
	ATF_REQUIRE(zbuf_init(&zb, NULL, NULL, 0, ZBUF_TS_NANO, 8) == 0);
	ATF_CHECK_EQ(zbuf_walk(&zb, data, BATCHED * 32, batch_frames, &b),
	    BATCHED);
	ATF_CHECK_EQ(b.b_calls, 3);
	ATF_CHECK_EQ(b.b_size[0], CAPTURE_BATCH);
	ATF_CHECK_EQ(b.b_size[1], CAPTURE_BATCH);
	ATF_CHECK_EQ(b.b_size[2], 3);
	ATF_CHECK_EQ(b.b_frames, BATCHED);
	for (i = 0; i < b.b_frames; i++)
		ATF_CHECK_EQ_MSG(b.b_wirelen[i], 60 + i, "frame %zu", i);
	ATF_CHECK_EQ(zb.zb_stats.zs_frames, BATCHED);
	free(data);
}

ATF_TC_WITHOUT_HEAD(init_rejects_bad_arguments);
ATF_TC_BODY(init_rejects_bad_arguments, tc)
{
	struct zbuf zb;
	uint32_t a[16], b[16];

	ATF_CHECK(zbuf_init(&zb, a, b, sizeof(a), ZBUF_TS_NANO, 6) == -1);
	ATF_CHECK(zbuf_init(&zb, a, b, sizeof(a), 7, 8) == -1);
	ATF_CHECK(zbuf_init(&zb, a, a, sizeof(a), ZBUF_TS_NANO, 8) == -1);
	ATF_CHECK(zbuf_init(&zb, a, NULL, sizeof(a), ZBUF_TS_NANO, 8) == -1);
	ATF_CHECK(zbuf_init(&zb, a, b, 32, ZBUF_TS_NANO, 8) == -1);
	ATF_CHECK(zbuf_init(&zb, (uint8_t *)a + 1, b, 33, ZBUF_TS_NANO,
	    8) == -1);
	ATF_CHECK(zbuf_init(&zb, a, b, sizeof(a), ZBUF_TS_NANO, 8) == 0);
}

/* The threaded run: what the consumer saw of the numbered sequence. */
struct seen {
	uint32_t	 s_count;	/* numbered packets */
	uint8_t		*s_got;		/* times each was delivered */
	uint64_t	 s_delivered;	/* numbered packets delivered */
	uint64_t	 s_frames;	/* all frames, sentinels too */
	uint32_t	 s_last;	/* last number seen */
	int		 s_any;
	uint64_t	 s_disorder;	/* numbers not rising */
	uint64_t	 s_badbytes;
};

static void
stress_frames(const struct fp_frame *fr, size_t n, void *arg)
{
	struct seen *sn = arg;
	struct timespec nap = { 0, 300000 };
	uint32_t seq;

	for (; n > 0; n--, fr++) {
		if (fr->fr_caplen < sizeof(seq)) {
			sn->s_badbytes++;
			continue;
		}
		memcpy(&seq, fr->fr_data, sizeof(seq));
		if (!check_fill(fr->fr_data, fr->fr_caplen, seq))
			sn->s_badbytes++;
		if (sn->s_any && seq <= sn->s_last)
			sn->s_disorder++;
		sn->s_any = 1;
		sn->s_last = seq;
		if (seq < sn->s_count) {
			sn->s_got[seq]++;
			sn->s_delivered++;
		}
		/* A slow consumer now and then, so that the kernel drops. */
		if (++sn->s_frames % 4096 == 0)
			nanosleep(&nap, NULL);
	}
}

ATF_TC(stress_threaded);
ATF_TC_HEAD(stress_threaded, tc)
{
	atf_tc_set_md_var(tc, "descr", "A kernel thread delivers a numbered "
	    "sequence while the consumer reads; each packet is delivered or "
	    "counted as dropped, once, in order");
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(stress_threaded, tc)
{
	struct rig r;
	struct seen sn;
	struct model_script ms;
	struct model_stat bs;
	struct timespec now, end;
	uint64_t sent, dropped, sentinels, sdrops, ndropped;
	uint32_t i, count = 200000;
	short rev;

	rig_open(&r, 2, MODEL_T_NANOTIME, ZBUF_TS_NANO);
	memset(&sn, 0, sizeof(sn));
	sn.s_count = count;
	ATF_REQUIRE((sn.s_got = calloc(count, 1)) != NULL);
	memset(&ms, 0, sizeof(ms));
	ms.ms_count = count;
	ms.ms_snaplen = SNAPLEN;
	ms.ms_burst = 64;
	ms.ms_pause_us = 20;
	ms.ms_idle_every = 5000;
	ms.ms_idle_us = 5000;
	ATF_REQUIRE((ms.ms_fate = calloc(count, 1)) != NULL);
	ATF_REQUIRE(model_start(r.r_m, &ms) == 0);

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 40;
	for (;;) {
		sent = model_progress(r.r_m, &dropped);
		if (sent == count && sn.s_delivered + dropped == count)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ATF_REQUIRE_MSG(now.tv_sec < end.tv_sec, "stalled: %ju sent, "
		    "%ju delivered, %ju dropped", (uintmax_t)sent,
		    (uintmax_t)sn.s_delivered, (uintmax_t)dropped);
		rev = model_wait(r.r_m, POLLIN, 1);
		ATF_REQUIRE(zbuf_dispatch(&r.r_zb, rev, rig_rotate, &r,
		    stress_frames, &sn) >= 0);
	}
	model_stop(r.r_m);
	sentinels = model_sentinels(r.r_m, &sdrops);

	ndropped = 0;
	for (i = 0; i < count; i++) {
		if (ms.ms_fate[i] == MODEL_DROPPED) {
			ndropped++;
			ATF_REQUIRE_EQ_MSG(sn.s_got[i], 0, "packet %u", i);
		} else
			ATF_REQUIRE_EQ_MSG(sn.s_got[i], 1, "packet %u", i);
	}
	ATF_CHECK_EQ(ndropped, dropped);
	ATF_CHECK_EQ(sn.s_delivered + ndropped, count);
	ATF_CHECK_EQ(sn.s_disorder, 0);
	ATF_CHECK_EQ(sn.s_badbytes, 0);
	ATF_CHECK_EQ(r.r_zb.zb_stats.zs_badrecords, 0);
	ATF_CHECK_EQ(r.r_zb.zb_stats.zs_badbuffers, 0);
	ATF_CHECK_EQ(r.r_zb.zb_stats.zs_disorder, 0);
	ATF_CHECK(r.r_rotates > 0);
	/* The drops are the kernel's own count (BIOCGSTATS bs_drop). */
	ATF_REQUIRE(sim_ioctl(r.r_m, MODEL_BIOCGSTATS, &bs) == 0);
	ATF_CHECK_EQ(bs.bs_drop, ndropped + sdrops);
	ATF_CHECK_EQ(bs.bs_recv, count + sentinels);
	printf("%u packets: %ju delivered, %ju dropped; %ju buffers, "
	    "%ju rotate calls, %ju sentinels\n", count,
	    (uintmax_t)sn.s_delivered, (uintmax_t)ndropped,
	    (uintmax_t)r.r_zb.zb_stats.zs_buffers,
	    (uintmax_t)r.r_zb.zb_stats.zs_rotations, (uintmax_t)sentinels);
	free(sn.s_got);
	free(ms.ms_fate);
	rig_close(&r);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, ioctl_numbers);
	ATF_TP_ADD_TC(tp, setup_order);
	ATF_TP_ADD_TC(tp, lock_keeps_loop_ioctls);
	ATF_TP_ADD_TC(tp, strict_alternation);
	ATF_TP_ADD_TC(tp, p1_stuck_until_next_packet);
	ATF_TP_ADD_TC(tp, p2_assigned_without_wakeup);
	ATF_TP_ADD_TC(tp, p3_poll_not_ready_but_owned);
	ATF_TP_ADD_TC(tp, p5_rotation_only_when_full);
	ATF_TP_ADD_TC(tp, p6_no_spin_without_immediate);
	ATF_TP_ADD_TC(tp, p7_hangup_delivers_then_enxio);
	ATF_TP_ADD_TC(tp, p7_detach_seen_as_pollin);
	ATF_TP_ADD_TC(tp, generation_wrap);
	ATF_TP_ADD_TC(tp, timestamps);
	ATF_TP_ADD_TC(tp, hostile_hdrlen_too_small);
	ATF_TP_ADD_TC(tp, hostile_caplen_past_kernel_len);
	ATF_TP_ADD_TC(tp, hostile_kernel_len_past_buffer);
	ATF_TP_ADD_TC(tp, hostile_short_tail_and_caplen_over_datalen);
	ATF_TP_ADD_TC(tp, walk_unpadded_last_record);
	ATF_TP_ADD_TC(tp, walk_micro32_layout);
	ATF_TP_ADD_TC(tp, walk_in_batches);
	ATF_TP_ADD_TC(tp, init_rejects_bad_arguments);
	ATF_TP_ADD_TC(tp, stress_threaded);
	return (atf_no_error());
}
