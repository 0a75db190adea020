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
 * Unit tests of the flow cache: counters, each end reason through both
 * expire and update, eviction, flush, deadlines and statistics.  Time is
 * a plain number the tests pass in, so every case is exact.  A recording
 * callback keeps what the cache emits.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <atf-c.h>

#include "flowprobe.h"

#define TH_FIN		0x01
#define TH_SYN		0x02
#define TH_RST		0x04
#define TH_ACK		0x10

#define INACTIVE	15000
#define ACTIVE		60000
#define TCPEND		2000
#define T0		UINT64_C(1700000000000)
#define REC_MAX		64

struct rec {
	struct flow	 r_flow[REC_MAX];
	enum flow_end	 r_reason[REC_MAX];
	size_t		 r_n;		/* records kept, at most REC_MAX */
	uint64_t	 r_total;	/* records emitted */
	uint64_t	 r_packets;
	uint64_t	 r_octets;
};

static void	 record(const struct flow *, enum flow_end, void *);
static struct flowcache *mkcache(uint32_t, struct rec *);
static struct flowcache *mkcache_if(uint32_t, uint32_t, struct rec *);
static struct flowcache *mkcache_max(uint32_t, uint32_t, uint64_t,
		    struct rec *);
static void	 mkpkt(struct fp_pkt *, uint32_t, uint32_t, uint8_t);
static uint32_t	 flow_id(const struct flow *);
static void	 garbage_words(struct fp_packed *, uint64_t);

static void
record(const struct flow *f, enum flow_end reason, void *arg)
{
	struct rec *r = arg;

	if (r->r_n < REC_MAX) {
		r->r_flow[r->r_n] = *f;
		r->r_reason[r->r_n] = reason;
		r->r_n++;
	}
	r->r_total++;
	r->r_packets += f->f_packets;
	r->r_octets += f->f_octets;
}

static struct flowcache *
mkcache(uint32_t maxflows, struct rec *r)
{
	return (mkcache_if(maxflows, 0, r));
}

/* A cache whose flows all come in on interface ifindex. */
static struct flowcache *
mkcache_if(uint32_t maxflows, uint32_t ifindex, struct rec *r)
{
	return (mkcache_max(maxflows, ifindex, 0, r));
}

/* ... whose records carry at most maxcount packets or octets. */
static struct flowcache *
mkcache_max(uint32_t maxflows, uint32_t ifindex, uint64_t maxcount,
    struct rec *r)
{
	struct fc_conf conf;
	struct flowcache *fc;

	memset(r, 0, sizeof(*r));
	memset(&conf, 0, sizeof(conf));
	conf.fc_maxflows = maxflows;
	conf.fc_ifindex = ifindex;
	conf.fc_inactive = INACTIVE;
	conf.fc_active = ACTIVE;
	conf.fc_tcpend = TCPEND;
	conf.fc_maxcount = maxcount;
	conf.fc_seed[0] = UINT64_C(0x0123456789abcdef);
	conf.fc_seed[1] = UINT64_C(0xfedcba9876543210);
	fc = flowcache_create(&conf, record, r);
	ATF_REQUIRE(fc != NULL);
	return (fc);
}

/* A TCP packet of flow number id: 10.x.x.x:id -> 192.0.2.1:80. */
static void
mkpkt(struct fp_pkt *p, uint32_t id, uint32_t octets, uint8_t flags)
{
	memset(p, 0, sizeof(*p));
	p->p_key.k_src[0] = 10;
	p->p_key.k_src[1] = (uint8_t)(id >> 16);
	p->p_key.k_src[2] = (uint8_t)(id >> 8);
	p->p_key.k_src[3] = (uint8_t)id;
	p->p_key.k_dst[0] = 192;
	p->p_key.k_dst[2] = 2;
	p->p_key.k_dst[3] = 1;
	p->p_key.k_sport = (uint16_t)(1024 + (id & 0x3fff));
	p->p_key.k_dport = 80;
	p->p_key.k_proto = 6;
	p->p_key.k_ipver = 4;
	p->p_octets = octets;
	p->p_tcpflags = flags;
}

static uint32_t
flow_id(const struct flow *f)
{
	return ((uint32_t)f->f_key.k_src[1] << 16 |
	    (uint32_t)f->f_key.k_src[2] << 8 | f->f_key.k_src[3]);
}

ATF_TC_WITHOUT_HEAD(create_rejects_zero);
ATF_TC_BODY(create_rejects_zero, tc)
{
	struct fc_conf conf;
	struct rec r;

	memset(&conf, 0, sizeof(conf));
	errno = 0;
	ATF_CHECK(flowcache_create(&conf, record, &r) == NULL);
	ATF_CHECK_EQ(errno, EINVAL);
}

ATF_TC_WITHOUT_HEAD(counters_64bit);
ATF_TC_BODY(counters_64bit, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, UINT32_MAX, TH_SYN);
	flowcache_update(fc, &p, T0);
	mkpkt(&p, 1, UINT32_MAX, TH_ACK);
	flowcache_update(fc, &p, T0 + 10);
	mkpkt(&p, 1, 7, TH_ACK | 0x08);
	flowcache_update(fc, &p, T0 + 25);
	ATF_CHECK_EQ(r.r_total, 0);
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_FORCED);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, 3);
	ATF_CHECK_EQ(r.r_flow[0].f_octets, 2 * (uint64_t)UINT32_MAX + 7);
	ATF_CHECK_EQ(r.r_flow[0].f_first, T0);
	ATF_CHECK_EQ(r.r_flow[0].f_last, T0 + 25);
	ATF_CHECK_EQ(r.r_flow[0].f_tcpflags, TH_SYN | TH_ACK | 0x08);
	ATF_CHECK(memcmp(&r.r_flow[0].f_key, &p.p_key, sizeof(p.p_key)) == 0);
	flowcache_destroy(fc);
}

/*
 * NetFlow v5 carries 32-bit counters: with fc_maxcount a record ends
 * before it would pass the limit, and the flow goes on in a new one with
 * nothing lost.
 */
ATF_TC_WITHOUT_HEAD(maxcount_splits);
ATF_TC_BODY(maxcount_splits, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint64_t octets;
	int i;

	fc = mkcache_max(16, 0, UINT32_MAX, &r);
	/* Five packets of 2^30 octets: the fourth would pass 2^32 - 1. */
	for (i = 0; i < 5; i++) {
		mkpkt(&p, 1, UINT32_C(1) << 30, TH_ACK);
		flowcache_update(fc, &p, T0 + i);
	}
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_ACTIVE);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, 3);
	ATF_CHECK_EQ(r.r_flow[0].f_octets, 3 * (UINT64_C(1) << 30));
	ATF_CHECK_EQ(r.r_flow[0].f_last, T0 + 2);
	/* The second record starts with the fourth packet. */
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_REQUIRE_EQ(r.r_n, 2);
	ATF_CHECK_EQ(r.r_flow[1].f_packets, 2);
	ATF_CHECK_EQ(r.r_flow[1].f_first, T0 + 3);
	octets = r.r_flow[0].f_octets + r.r_flow[1].f_octets;
	ATF_CHECK_EQ(octets, 5 * (UINT64_C(1) << 30));
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(idle_by_expire);
ATF_TC_BODY(idle_by_expire, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, 100, 0);
	flowcache_update(fc, &p, T0);
	mkpkt(&p, 2, 100, 0);
	flowcache_update(fc, &p, T0 + 5);
	flowcache_expire(fc, T0 + INACTIVE - 1);
	ATF_CHECK_EQ(r.r_total, 0);
	flowcache_expire(fc, T0 + INACTIVE);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(flow_id(&r.r_flow[0]), 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_IDLE);
	flowcache_expire(fc, T0 + INACTIVE + 5);
	ATF_REQUIRE_EQ(r.r_n, 2);
	ATF_CHECK_EQ(flow_id(&r.r_flow[1]), 2);
	ATF_CHECK_EQ(r.r_reason[1], FLOW_END_IDLE);
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_active, 0);
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(idle_by_update);
ATF_TC_BODY(idle_by_update, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, 100, 0);
	flowcache_update(fc, &p, T0);
	flowcache_update(fc, &p, T0 + INACTIVE - 1);
	ATF_CHECK_EQ(r.r_total, 0);
	flowcache_update(fc, &p, T0 + 2 * INACTIVE - 1);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_IDLE);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, 2);
	ATF_CHECK_EQ(r.r_flow[0].f_last, T0 + INACTIVE - 1);
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_REQUIRE_EQ(r.r_n, 2);
	ATF_CHECK_EQ(r.r_flow[1].f_packets, 1);
	ATF_CHECK_EQ(r.r_flow[1].f_first, T0 + 2 * INACTIVE - 1);
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(active_by_expire);
ATF_TC_BODY(active_by_expire, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint64_t t;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, 100, 0);
	for (t = T0; t < T0 + ACTIVE; t += 1000) {
		flowcache_update(fc, &p, t);
		flowcache_expire(fc, t);
	}
	ATF_CHECK_EQ(r.r_total, 0);
	flowcache_expire(fc, T0 + ACTIVE);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_ACTIVE);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, ACTIVE / 1000);
	ATF_CHECK_EQ(r.r_flow[0].f_last, T0 + ACTIVE - 1000);
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(active_by_update);
ATF_TC_BODY(active_by_update, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint64_t t;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, 100, 0);
	for (t = T0; t <= T0 + ACTIVE; t += 1000)
		flowcache_update(fc, &p, t);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_ACTIVE);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, ACTIVE / 1000);
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_active, 1);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + ACTIVE + INACTIVE);
	flowcache_destroy(fc);
}

/*
 * Due for two reasons when seen: the deadline that came first names the
 * end, so the record does not depend on how often the caller expires.
 */
ATF_TC_WITHOUT_HEAD(first_deadline_wins);
ATF_TC_BODY(first_deadline_wins, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint64_t f, t;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, 100, 0);
	/* Idle from T0 + 45s - 1 ms, before the active deadline. */
	for (t = T0; t < T0 + ACTIVE - INACTIVE; t += 10000)
		flowcache_update(fc, &p, t);
	flowcache_update(fc, &p, T0 + ACTIVE - INACTIVE - 1);
	f = T0 + ACTIVE + 1;
	flowcache_update(fc, &p, f);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_IDLE);

	/* Busy until after the active deadline, then idle, seen late. */
	for (t = f + 10000; t < f + ACTIVE; t += 10000)
		flowcache_update(fc, &p, t);
	flowcache_update(fc, &p, f + ACTIVE + INACTIVE + 1);
	ATF_REQUIRE_EQ(r.r_n, 2);
	ATF_CHECK_EQ(r.r_reason[1], FLOW_END_ACTIVE);
	ATF_CHECK_EQ(r.r_flow[1].f_packets, ACTIVE / 10000);

	/* The same through expire. */
	f += ACTIVE + INACTIVE + 1;
	for (t = f + 10000; t < f + ACTIVE; t += 10000)
		flowcache_update(fc, &p, t);
	flowcache_expire(fc, f + 10 * ACTIVE);
	ATF_REQUIRE_EQ(r.r_n, 3);
	ATF_CHECK_EQ(r.r_reason[2], FLOW_END_ACTIVE);
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(fin_closing_ack);
ATF_TC_BODY(fin_closing_ack, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, 60, TH_SYN);
	flowcache_update(fc, &p, T0);
	mkpkt(&p, 1, 52, TH_ACK);
	flowcache_update(fc, &p, T0 + 1);
	mkpkt(&p, 1, 52, TH_FIN | TH_ACK);
	flowcache_update(fc, &p, T0 + 100);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + 100 + TCPEND);
	flowcache_expire(fc, T0 + 100 + TCPEND - 1);
	mkpkt(&p, 1, 52, TH_ACK);
	flowcache_update(fc, &p, T0 + 100 + TCPEND - 1);
	flowcache_expire(fc, T0 + 100 + 2 * TCPEND - 2);
	ATF_CHECK_EQ(r.r_total, 0);
	flowcache_expire(fc, T0 + 100 + 2 * TCPEND - 1);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_EOF);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, 4);
	ATF_CHECK_EQ(r.r_flow[0].f_octets, 60 + 3 * 52);
	ATF_CHECK_EQ(r.r_flow[0].f_tcpflags, TH_SYN | TH_ACK | TH_FIN);
	ATF_CHECK_EQ(r.r_flow[0].f_last, T0 + 100 + TCPEND - 1);
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(fin_eof_by_update);
ATF_TC_BODY(fin_eof_by_update, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, 52, TH_FIN | TH_ACK);
	flowcache_update(fc, &p, T0);
	mkpkt(&p, 1, 52, TH_ACK);
	flowcache_update(fc, &p, T0 + TCPEND);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_EOF);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, 1);
	/* The stray ACK starts a flow on the idle timer. */
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + TCPEND + INACTIVE);
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(rst);
ATF_TC_BODY(rst, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, 60, TH_SYN);
	flowcache_update(fc, &p, T0);
	mkpkt(&p, 1, 40, TH_RST);
	flowcache_update(fc, &p, T0 + 3);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + 3 + TCPEND);
	flowcache_expire(fc, T0 + 3 + TCPEND - 1);
	ATF_CHECK_EQ(r.r_total, 0);
	flowcache_expire(fc, T0 + 3 + TCPEND);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_EOF);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, 2);
	ATF_CHECK_EQ(r.r_flow[0].f_tcpflags, TH_SYN | TH_RST);
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(syn_reuse_after_fin);
ATF_TC_BODY(syn_reuse_after_fin, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, 52, TH_FIN | TH_ACK);
	flowcache_update(fc, &p, T0);
	/* A SYN-ACK is the old connection's business, not a new one. */
	mkpkt(&p, 1, 60, TH_SYN | TH_ACK);
	flowcache_update(fc, &p, T0 + 1);
	ATF_CHECK_EQ(r.r_total, 0);
	mkpkt(&p, 1, 60, TH_SYN);
	flowcache_update(fc, &p, T0 + 2);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_EOF);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, 2);
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_REQUIRE_EQ(r.r_n, 2);
	ATF_CHECK_EQ(r.r_flow[1].f_packets, 1);
	ATF_CHECK_EQ(r.r_flow[1].f_tcpflags, TH_SYN);
	ATF_CHECK_EQ(r.r_flow[1].f_first, T0 + 2);
	flowcache_destroy(fc);
}

/* A SYN on a flow without FIN or RST is just another packet. */
ATF_TC_WITHOUT_HEAD(syn_without_fin_stays);
ATF_TC_BODY(syn_without_fin_stays, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, 60, TH_SYN);
	flowcache_update(fc, &p, T0);
	flowcache_update(fc, &p, T0 + 1000);
	ATF_CHECK_EQ(r.r_total, 0);
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_created, 1);
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(evict_when_full);
ATF_TC_BODY(evict_when_full, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint32_t i;

	fc = mkcache(4, &r);
	for (i = 0; i < 10; i++) {
		mkpkt(&p, i, 100 + i, 0);
		flowcache_update(fc, &p, T0 + i);
		ATF_CHECK(flowcache_stats(fc)->fs_active <= 4);
	}
	ATF_REQUIRE_EQ(r.r_n, 6);
	for (i = 0; i < 6; i++) {
		ATF_CHECK_EQ(flow_id(&r.r_flow[i]), i);
		ATF_CHECK_EQ(r.r_reason[i], FLOW_END_RESOURCES);
	}
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_active, 4);
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_ended[FLOW_END_RESOURCES], 6);
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_CHECK_EQ(r.r_total, 10);
	ATF_CHECK_EQ(r.r_packets, 10);
	ATF_CHECK_EQ(r.r_octets, 10 * 100 + 45);
	flowcache_destroy(fc);
}

/* Least recently updated goes, not least recently created. */
ATF_TC_WITHOUT_HEAD(evict_lru);
ATF_TC_BODY(evict_lru, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint32_t i;

	fc = mkcache(4, &r);
	for (i = 0; i < 4; i++) {
		mkpkt(&p, i, 100, 0);
		flowcache_update(fc, &p, T0 + i);
	}
	mkpkt(&p, 0, 100, 0);
	flowcache_update(fc, &p, T0 + 10);
	mkpkt(&p, 2, 100, TH_FIN);
	flowcache_update(fc, &p, T0 + 11);
	mkpkt(&p, 4, 100, 0);
	flowcache_update(fc, &p, T0 + 12);
	mkpkt(&p, 5, 100, 0);
	flowcache_update(fc, &p, T0 + 13);
	mkpkt(&p, 6, 100, 0);
	flowcache_update(fc, &p, T0 + 14);
	ATF_REQUIRE_EQ(r.r_n, 3);
	ATF_CHECK_EQ(flow_id(&r.r_flow[0]), 1);
	ATF_CHECK_EQ(flow_id(&r.r_flow[1]), 3);
	ATF_CHECK_EQ(flow_id(&r.r_flow[2]), 0);
	ATF_CHECK_EQ(r.r_reason[2], FLOW_END_RESOURCES);
	/* Now the flow with the FIN is the least recently updated. */
	mkpkt(&p, 7, 100, 0);
	flowcache_update(fc, &p, T0 + 15);
	ATF_REQUIRE_EQ(r.r_n, 4);
	ATF_CHECK_EQ(flow_id(&r.r_flow[3]), 2);
	ATF_CHECK_EQ(r.r_reason[3], FLOW_END_RESOURCES);
	flowcache_destroy(fc);
}

/* A full cache ends a flow its timers made due before evicting one. */
ATF_TC_WITHOUT_HEAD(full_ends_due_first);
ATF_TC_BODY(full_ends_due_first, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint32_t i;

	fc = mkcache(2, &r);
	mkpkt(&p, 0, 100, 0);
	flowcache_update(fc, &p, T0);
	mkpkt(&p, 1, 100, TH_RST);
	flowcache_update(fc, &p, T0 + 1000);
	mkpkt(&p, 0, 100, 0);
	flowcache_update(fc, &p, T0 + 1001);
	for (i = 2; i < 4; i++) {
		mkpkt(&p, i, 100, 0);
		flowcache_update(fc, &p, T0 + 1000 + TCPEND + i);
	}
	ATF_REQUIRE_EQ(r.r_n, 2);
	ATF_CHECK_EQ(flow_id(&r.r_flow[0]), 1);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_EOF);
	ATF_CHECK_EQ(flow_id(&r.r_flow[1]), 0);
	ATF_CHECK_EQ(r.r_reason[1], FLOW_END_RESOURCES);
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(flush_creation_order);
ATF_TC_BODY(flush_creation_order, tc)
{
	static const uint32_t ids[] = { 7, 3, 9, 1 };
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	size_t i;

	fc = mkcache(16, &r);
	for (i = 0; i < 4; i++) {
		mkpkt(&p, ids[i], 100, i == 2 ? TH_FIN : 0);
		flowcache_update(fc, &p, T0 + i);
	}
	mkpkt(&p, 7, 100, 0);
	flowcache_update(fc, &p, T0 + 10);
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_REQUIRE_EQ(r.r_n, 4);
	for (i = 0; i < 4; i++) {
		ATF_CHECK_EQ(flow_id(&r.r_flow[i]), ids[i]);
		ATF_CHECK_EQ(r.r_reason[i], FLOW_END_FORCED);
	}
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_active, 0);
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_ended[FLOW_END_FORCED], 4);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), UINT64_MAX);
	/* Still usable afterwards. */
	flowcache_update(fc, &p, T0 + 20);
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_active, 1);
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_CHECK_EQ(r.r_total, 5);
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(next_expiry);
ATF_TC_BODY(next_expiry, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint64_t t;

	fc = mkcache(16, &r);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), UINT64_MAX);
	mkpkt(&p, 1, 100, 0);
	flowcache_update(fc, &p, T0);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + INACTIVE);
	flowcache_update(fc, &p, T0 + 5000);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + 5000 + INACTIVE);
	mkpkt(&p, 2, 100, TH_FIN);
	flowcache_update(fc, &p, T0 + 6000);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + 6000 + TCPEND);
	flowcache_expire(fc, T0 + 6000 + TCPEND);
	ATF_CHECK_EQ(r.r_total, 1);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + 5000 + INACTIVE);
	/* Kept busy, flow 1 comes to its active deadline first. */
	mkpkt(&p, 1, 100, 0);
	for (t = T0 + 10000; t < T0 + ACTIVE; t += 10000)
		flowcache_update(fc, &p, t);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + ACTIVE);
	flowcache_expire(fc, flowcache_next_expiry(fc));
	ATF_CHECK_EQ(r.r_total, 2);
	ATF_CHECK_EQ(r.r_reason[1], FLOW_END_ACTIVE);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), UINT64_MAX);
	flowcache_destroy(fc);
}

ATF_TC_WITHOUT_HEAD(stats);
ATF_TC_BODY(stats, tc)
{
	const struct fc_stats *fs;
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint32_t i;

	fc = mkcache(3, &r);
	fs = flowcache_stats(fc);
	for (i = 0; i < 5; i++) {
		mkpkt(&p, i % 2, 100, 0);
		flowcache_update(fc, &p, T0 + i);
	}
	ATF_CHECK_EQ(fs->fs_packets, 5);
	ATF_CHECK_EQ(fs->fs_created, 2);
	ATF_CHECK_EQ(fs->fs_active, 2);
	ATF_CHECK_EQ(fs->fs_peak, 2);
	for (i = 10; i < 14; i++) {
		mkpkt(&p, i, 100, 0);
		flowcache_update(fc, &p, T0 + i);
	}
	ATF_CHECK_EQ(fs->fs_packets, 9);
	ATF_CHECK_EQ(fs->fs_created, 6);
	ATF_CHECK_EQ(fs->fs_active, 3);
	ATF_CHECK_EQ(fs->fs_peak, 3);
	ATF_CHECK_EQ(fs->fs_ended[FLOW_END_RESOURCES], 3);
	flowcache_expire(fc, T0 + 13 + INACTIVE);
	ATF_CHECK_EQ(fs->fs_ended[FLOW_END_IDLE], 3);
	ATF_CHECK_EQ(fs->fs_active, 0);
	ATF_CHECK_EQ(fs->fs_peak, 3);
	ATF_CHECK_EQ(r.r_total, 6);
	flowcache_destroy(fc);
}

/*
 * The input interface is the cache's, not the packet's: a probe captures
 * on one, and the key the cache holds has no room for it.
 */
ATF_TC_WITHOUT_HEAD(ifindex_of_cache);
ATF_TC_BODY(ifindex_of_cache, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;

	fc = mkcache_if(16, 9, &r);
	mkpkt(&p, 1, 100, 0);
	flowcache_update(fc, &p, T0);
	p.p_key.k_ifindex = 5;
	flowcache_update(fc, &p, T0 + 1);
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, 2);
	ATF_CHECK_EQ(r.r_flow[0].f_key.k_ifindex, 9);
	flowcache_destroy(fc);
}

/* Keys equal but for one field each are different flows. */
ATF_TC_WITHOUT_HEAD(distinct_keys);
ATF_TC_BODY(distinct_keys, tc)
{
	struct flowcache *fc;
	struct fp_pkt p[7];
	struct rec r;
	size_t i;

	fc = mkcache(16, &r);
	for (i = 0; i < 7; i++)
		mkpkt(&p[i], 1, 100, 0);
	p[1].p_key.k_vlan = 1;
	p[2].p_key.k_dport = 443;
	p[3].p_key.k_tos = 1;
	p[4].p_key.k_ipver = 6;
	p[5].p_key.k_proto = 17;
	p[6].p_key.k_dst[3] = 2;
	for (i = 0; i < 7; i++) {
		flowcache_update(fc, &p[i], T0);
		flowcache_update(fc, &p[i], T0 + 1);
	}
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_created, 7);
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_active, 7);
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_REQUIRE_EQ(r.r_n, 7);
	for (i = 0; i < 7; i++) {
		ATF_CHECK_EQ(r.r_flow[i].f_packets, 2);
		ATF_CHECK(memcmp(&r.r_flow[i].f_key, &p[i].p_key,
		    sizeof(p[i].p_key)) == 0);
	}
	flowcache_destroy(fc);
}

/* A clock that steps back is held at the latest time seen. */
ATF_TC_WITHOUT_HEAD(clock_clamped);
ATF_TC_BODY(clock_clamped, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;

	fc = mkcache(16, &r);
	mkpkt(&p, 1, 100, 0);
	flowcache_update(fc, &p, T0 + 5000);
	flowcache_update(fc, &p, T0);
	flowcache_expire(fc, T0);
	ATF_CHECK_EQ(r.r_total, 0);
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(r.r_flow[0].f_first, T0 + 5000);
	ATF_CHECK_EQ(r.r_flow[0].f_last, T0 + 5000);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, 2);
	flowcache_destroy(fc);
}

/* 100k flows through 1000 slots: nothing is lost or counted twice. */
ATF_TC_WITHOUT_HEAD(churn_conserves);
ATF_TC_BODY(churn_conserves, tc)
{
	const struct fc_stats *fs;
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint64_t packets, octets, t, x;
	uint32_t i, id, octs;
	uint8_t flags;
	size_t k;

	fc = mkcache(1000, &r);
	fs = flowcache_stats(fc);
	packets = octets = 0;
	x = 88172645463325252ULL;
	t = T0;
	for (i = 0; i < 400000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Recent ids come back often, so flows get several packets. */
		id = i / 4 + 1 > 2000 ? (uint32_t)(i / 4 + 1 - x % 2000) :
		    (uint32_t)(x % (i / 4 + 1));
		id %= 100000;
		/* A few elephants live until their active timeout. */
		if (x % 16 == 0)
			id = 100000 + (uint32_t)(x >> 8) % 4;
		octs = (uint32_t)(x >> 40) | 1;
		flags = (x >> 20) % 50 == 0 ? TH_FIN : (x >> 20) % 97 == 0 ?
		    TH_SYN : TH_ACK;
		mkpkt(&p, id, octs, flags);
		t += x % 20;
		flowcache_update(fc, &p, t);
		packets++;
		octets += octs;
		if (i % 1000 == 0)
			flowcache_expire(fc, t);
		ATF_REQUIRE(fs->fs_active <= 1000);
	}
	ATF_CHECK(fs->fs_created >= 100000);
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_CHECK_EQ(fs->fs_active, 0);
	ATF_CHECK_EQ(fs->fs_peak, 1000);
	ATF_CHECK_EQ(fs->fs_packets, packets);
	ATF_CHECK_EQ(r.r_packets, packets);
	ATF_CHECK_EQ(r.r_octets, octets);
	ATF_CHECK_EQ(r.r_total, fs->fs_created);
	x = 0;
	for (k = 0; k < FLOW_END_MAX; k++)
		x += fs->fs_ended[k];
	ATF_CHECK_EQ(x, fs->fs_created);
	ATF_CHECK(fs->fs_ended[FLOW_END_RESOURCES] > 0);
	ATF_CHECK(fs->fs_ended[FLOW_END_EOF] > 0);
	ATF_CHECK(fs->fs_ended[FLOW_END_IDLE] > 0);
	ATF_CHECK(fs->fs_ended[FLOW_END_ACTIVE] > 0);
	flowcache_destroy(fc);
}

/*
 * A flush of a well-filled table empties it at once rather than flow by
 * flow: every flow still comes out once, in creation order, with its
 * counts, and the emptied table meters and flushes again as new.  The
 * batch entry point is used, as the program uses it.
 */
ATF_TC_WITHOUT_HEAD(flush_whole_table);
ATF_TC_BODY(flush_whole_table, tc)
{
	struct fp_packed pk[40];
	struct fp_pkt p;
	struct flowcache *fc;
	struct rec r;
	uint32_t i, round;

	fc = mkcache(64, &r);
	for (round = 0; round < 2; round++) {
		memset(&r, 0, sizeof(r));
		for (i = 0; i < 40; i++) {
			mkpkt(&p, round * 100 + 39 - i, 100 + i, TH_ACK);
			decode_pack(&p, T0 + round * 1000 + i, &pk[i]);
		}
		flowcache_update_batch(fc, pk, 40);
		/* Every flow twice over: the second batch finds them all. */
		for (i = 0; i < 40; i++)
			pk[i].pk_time += 40;
		flowcache_update_batch(fc, pk, 40);
		ATF_CHECK_EQ(flowcache_stats(fc)->fs_active, 40);
		flowcache_flush(fc, FLOW_END_FORCED);
		ATF_CHECK_EQ(flowcache_stats(fc)->fs_active, 0);
		ATF_REQUIRE_EQ(r.r_n, 40);
		for (i = 0; i < 40; i++) {
			ATF_CHECK_EQ(flow_id(&r.r_flow[i]),
			    round * 100 + 39 - i);
			ATF_CHECK_EQ(r.r_flow[i].f_packets, 2);
			ATF_CHECK_EQ(r.r_flow[i].f_octets, 2 * (100 + i));
			ATF_CHECK_EQ(r.r_flow[i].f_first,
			    T0 + round * 1000 + i);
			ATF_CHECK_EQ(r.r_flow[i].f_last,
			    T0 + round * 1000 + i + 40);
			ATF_CHECK_EQ(r.r_reason[i], FLOW_END_FORCED);
		}
		flowcache_flush(fc, FLOW_END_FORCED);
		ATF_CHECK_EQ(r.r_total, 40);
	}
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_ended[FLOW_END_FORCED], 80);
	flowcache_destroy(fc);
}

/*
 * More flows come into the lists unsorted than one sort may take at
 * once: the expiry that follows sorts them all the same, and the due
 * ones leave in deadline order, those updated again staying.
 */
ATF_TC_WITHOUT_HEAD(many_unsorted);
ATF_TC_BODY(many_unsorted, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint32_t i;

	fc = mkcache(131072, &r);
	/* Flow i at T0 + i / 8, the ids in an order the times do not follow. */
	for (i = 0; i < 70000; i++) {
		mkpkt(&p, (i * 7919) % 70000, 40, TH_ACK);
		flowcache_update(fc, &p, T0 + i / 8);
	}
	/* Nothing due yet; the lists are sorted here, or later. */
	flowcache_expire(fc, T0 + 8750);
	ATF_CHECK_EQ(r.r_total, 0);
	for (i = 0; i < 400; i++) {
		mkpkt(&p, (i * 7919) % 70000, 40, TH_ACK);
		flowcache_update(fc, &p, T0 + 9000 + i / 8);
	}
	/* Due: flows 400-799, the first 800 but those updated again. */
	flowcache_expire(fc, T0 + INACTIVE + 99);
	ATF_CHECK_EQ(r.r_total, 400);
	for (i = 0; i < r.r_n; i++) {
		ATF_CHECK_EQ(flow_id(&r.r_flow[i]),
		    ((400 + i) * 7919) % 70000);
		ATF_CHECK_EQ(r.r_flow[i].f_last, T0 + (400 + i) / 8);
		ATF_CHECK_EQ(r.r_reason[i], FLOW_END_IDLE);
	}
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + 100 + INACTIVE);
	flowcache_destroy(fc);
}

/*
 * With many flows held the lists stay in order as flows are updated, so
 * that no sort of a whole table stalls capture: a flow updated after
 * another must still leave after it once both are due, though neither
 * left the unordered part in between.
 */
ATF_TC_WITHOUT_HEAD(large_table_order);
ATF_TC_BODY(large_table_order, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint32_t i;

	fc = mkcache(131072, &r);
	for (i = 0; i < 66000; i++) {
		mkpkt(&p, i, 40, TH_ACK);
		flowcache_update(fc, &p, T0 + i / 8);
	}
	/* Asked exactly, the cache sorts: every flow in order. */
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + INACTIVE);
	mkpkt(&p, 1, 40, TH_ACK);
	flowcache_update(fc, &p, T0 + 9000);
	mkpkt(&p, 2, 40, TH_ACK);
	flowcache_update(fc, &p, T0 + 9001);
	mkpkt(&p, 1, 40, TH_ACK);
	flowcache_update(fc, &p, T0 + 9002);
	/* All but flow 1 are due, flow 2 too: it was updated before it. */
	flowcache_expire(fc, T0 + INACTIVE + 9001);
	ATF_CHECK_EQ(r.r_total, 65999);
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_active, 1);
	ATF_CHECK_EQ(flowcache_next_expiry(fc), T0 + 9002 + INACTIVE);
	flowcache_destroy(fc);
}

/*
 * The decoder's fast path leaves an IPv4 key's words 1-3 as they were:
 * packets of one flow with different garbage there are one flow, in the
 * one-pass loop and in the prefetching one, and records carry the
 * addresses alone.  The flow count passes the prefetching threshold.
 * Fails if the lookup, the hash or the unpacking reads those words.
 */
#define GARBAGE_FLOWS	66000

static void
garbage_words(struct fp_packed *pk, uint64_t seed)
{
	pk->pk_key[1] = seed * UINT64_C(0x9e3779b97f4a7c15);
	pk->pk_key[2] = ~pk->pk_key[1];
	pk->pk_key[3] = pk->pk_key[1] ^ seed << 32;
}

ATF_TC_WITHOUT_HEAD(ipv4_unread_words);
ATF_TC_BODY(ipv4_unread_words, tc)
{
	static struct fp_packed pk[GARBAGE_FLOWS];
	static const uint8_t zero[12];
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint64_t round;
	uint32_t i;

	fc = mkcache(2 * GARBAGE_FLOWS, &r);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < GARBAGE_FLOWS; i++) {
			mkpkt(&p, i, 40, TH_ACK);
			decode_pack(&p, T0 + round, &pk[i]);
			garbage_words(&pk[i], round * GARBAGE_FLOWS + i + 1);
		}
		/* Small batches first, while the table is small. */
		for (i = 0; i < GARBAGE_FLOWS; i += 100)
			flowcache_update_batch(fc, pk + i,
			    GARBAGE_FLOWS - i < 100 ? GARBAGE_FLOWS - i : 100);
		ATF_REQUIRE_EQ(flowcache_stats(fc)->fs_active, GARBAGE_FLOWS);
	}
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_CHECK_EQ(r.r_total, GARBAGE_FLOWS);
	ATF_CHECK_EQ(r.r_packets, 3 * GARBAGE_FLOWS);
	ATF_REQUIRE(r.r_n > 0);
	for (i = 0; i < r.r_n; i++) {
		ATF_CHECK_EQ(r.r_flow[i].f_packets, 3);
		ATF_CHECK(memcmp(r.r_flow[i].f_key.k_src + 4, zero, 12) == 0);
		ATF_CHECK(memcmp(r.r_flow[i].f_key.k_dst + 4, zero, 12) == 0);
	}
	flowcache_destroy(fc);
}

/*
 * maxcount_splits again with GARBAGE_FLOWS held, past the size at which
 * batches take their prefetching passes, which test the limit too.
 */
ATF_TC_WITHOUT_HEAD(maxcount_splits_batched);
ATF_TC_BODY(maxcount_splits_batched, tc)
{
	struct flowcache *fc;
	struct fp_pkt p;
	struct rec r;
	uint32_t i;

	fc = mkcache_max(2 * GARBAGE_FLOWS, 0, UINT32_MAX, &r);
	for (i = 0; i < GARBAGE_FLOWS; i++) {
		mkpkt(&p, i, 40, TH_ACK);
		flowcache_update(fc, &p, T0);
	}
	for (i = 0; i < 5; i++) {
		mkpkt(&p, GARBAGE_FLOWS, UINT32_C(1) << 30, TH_ACK);
		flowcache_update(fc, &p, T0 + 1 + i);
	}
	ATF_REQUIRE_EQ(r.r_n, 1);
	ATF_CHECK_EQ(flow_id(&r.r_flow[0]), GARBAGE_FLOWS);
	ATF_CHECK_EQ(r.r_reason[0], FLOW_END_ACTIVE);
	ATF_CHECK_EQ(r.r_flow[0].f_packets, 3);
	flowcache_flush(fc, FLOW_END_FORCED);
	ATF_CHECK_EQ(r.r_total, GARBAGE_FLOWS + 2);
	ATF_CHECK_EQ(r.r_octets, GARBAGE_FLOWS * UINT64_C(40) +
	    5 * (UINT64_C(1) << 30));
	flowcache_destroy(fc);
}

/*
 * The cache against a plain model of its rules, on a long random run:
 * flows updated in random order, some ending with FIN, timers running
 * out between and at expiry calls, a small table evicting the least
 * recently updated flow.  Every record must come out as the model says,
 * in the same order: deadlines are told apart (even packet times, an
 * odd TCP-end wait) so that the order is the model's to decide.  The
 * times span far more than 256 ms, so the lists' lazy order is sorted
 * on more than one byte.
 */
#define MODEL_IDS	100
#define MODEL_STEPS	20000
#define MODEL_INACTIVE	1000
#define MODEL_TCPEND	301
#define MODEL_RECS	(2 * MODEL_STEPS + MODEL_IDS)

struct mrec {
	uint32_t	 m_id;
	uint64_t	 m_first;
	uint64_t	 m_last;
	uint64_t	 m_packets;
	enum flow_end	 m_reason;
};

struct mlog {
	struct mrec	 l_rec[MODEL_RECS];
	size_t		 l_n;
};

struct mflow {
	int		 f_held;
	uint64_t	 f_first;
	uint64_t	 f_last;
	uint64_t	 f_packets;
	uint8_t		 f_flags;
};

static void
mlog_add(struct mlog *l, uint32_t id, uint64_t first, uint64_t last,
    uint64_t packets, enum flow_end reason)
{
	ATF_REQUIRE(l->l_n < MODEL_RECS);
	l->l_rec[l->l_n].m_id = id;
	l->l_rec[l->l_n].m_first = first;
	l->l_rec[l->l_n].m_last = last;
	l->l_rec[l->l_n].m_packets = packets;
	l->l_rec[l->l_n].m_reason = reason;
	l->l_n++;
}

static void
mlog_record(const struct flow *f, enum flow_end reason, void *arg)
{
	mlog_add(arg, flow_id(f), f->f_first, f->f_last, f->f_packets,
	    reason);
}

static uint64_t
m_deadline(const struct mflow *f)
{
	return (f->f_last + ((f->f_flags & (TH_FIN | TH_RST)) != 0 ?
	    MODEL_TCPEND : MODEL_INACTIVE));
}

static void
m_end(struct mflow *m, uint32_t id, enum flow_end reason, struct mlog *l)
{
	mlog_add(l, id, m[id].f_first, m[id].f_last, m[id].f_packets,
	    reason);
	m[id].f_held = 0;
}

static enum flow_end
m_reason(const struct mflow *f)
{
	return ((f->f_flags & (TH_FIN | TH_RST)) != 0 ? FLOW_END_EOF :
	    FLOW_END_IDLE);
}

/* The held flow with the earliest deadline at or before now, or -1. */
static int
m_due(const struct mflow *m, uint64_t now)
{
	int best, id;

	best = -1;
	for (id = 0; id < MODEL_IDS; id++)
		if (m[id].f_held && m_deadline(&m[id]) <= now &&
		    (best == -1 || m_deadline(&m[id]) < m_deadline(&m[best])))
			best = id;
	return (best);
}

/* Every flow due by now, earliest first. */
static void
m_expire(struct mflow *m, uint64_t now, struct mlog *l)
{
	int best;

	while ((best = m_due(m, now)) != -1)
		m_end(m, (uint32_t)best, m_reason(&m[best]), l);
}

static void
m_update(struct mflow *m, uint32_t id, uint64_t now, uint8_t flags,
    uint32_t maxflows, struct mlog *l)
{
	uint32_t held;
	int best, i;

	if (m[id].f_held && now >= m_deadline(&m[id]))
		m_end(m, id, m_reason(&m[id]), l);
	if (m[id].f_held) {
		m[id].f_last = now;
		m[id].f_packets++;
		m[id].f_flags |= flags;
		return;
	}
	for (held = 0, i = 0; i < MODEL_IDS; i++)
		held += (uint32_t)m[i].f_held;
	if (held == maxflows) {
		if ((best = m_due(m, now)) != -1)
			m_end(m, (uint32_t)best, m_reason(&m[best]), l);
		else {
			for (i = 0; i < MODEL_IDS; i++)
				if (m[i].f_held && (best == -1 ||
				    m[i].f_last < m[best].f_last))
					best = i;
			m_end(m, (uint32_t)best, FLOW_END_RESOURCES, l);
		}
	}
	m[id].f_held = 1;
	m[id].f_first = m[id].f_last = now;
	m[id].f_packets = 1;
	m[id].f_flags = flags;
}

static void
model_run(uint32_t maxflows)
{
	static struct mlog got, want;
	struct mflow m[MODEL_IDS];
	struct fc_conf conf;
	struct flowcache *fc;
	struct fp_pkt p;
	uint64_t t, x;
	uint32_t id, step;
	uint8_t flags;
	size_t i;

	memset(&got, 0, sizeof(got));
	memset(&want, 0, sizeof(want));
	memset(m, 0, sizeof(m));
	memset(&conf, 0, sizeof(conf));
	conf.fc_maxflows = maxflows;
	conf.fc_inactive = MODEL_INACTIVE;
	conf.fc_active = UINT32_MAX;
	conf.fc_tcpend = MODEL_TCPEND;
	conf.fc_seed[0] = 1;
	conf.fc_seed[1] = 2;
	ATF_REQUIRE((fc = flowcache_create(&conf, mlog_record, &got)) != NULL);

	t = T0;
	x = UINT64_C(0x9e3779b97f4a7c15);
	for (step = 0; step < MODEL_STEPS; step++) {
		x = x * UINT64_C(6364136223846793005) +
		    UINT64_C(1442695040888963407);
		/* Even times, steps of 2 to 8 ms, some flows far busier. */
		t += 2 * (1 + (x >> 60 & 3));
		id = (uint32_t)((x >> 33) % MODEL_IDS *
		    ((x >> 20) % MODEL_IDS) / MODEL_IDS);
		flags = (x >> 10 & 15) == 0 ? TH_FIN | TH_ACK : TH_ACK;
		mkpkt(&p, id, 40, flags);
		flowcache_update(fc, &p, t);
		m_update(m, id, t, flags, maxflows, &want);
		if ((x >> 4 & 31) == 0) {
			flowcache_expire(fc, t);
			m_expire(m, t, &want);
		}
	}
	t += 10 * MODEL_INACTIVE;
	flowcache_expire(fc, t);
	m_expire(m, t, &want);
	ATF_CHECK_EQ(flowcache_stats(fc)->fs_active, 0);
	flowcache_destroy(fc);

	ATF_CHECK_EQ(got.l_n, want.l_n);
	for (i = 0; i < got.l_n && i < want.l_n; i++)
		if (got.l_rec[i].m_id != want.l_rec[i].m_id ||
		    got.l_rec[i].m_first != want.l_rec[i].m_first ||
		    got.l_rec[i].m_last != want.l_rec[i].m_last ||
		    got.l_rec[i].m_packets != want.l_rec[i].m_packets ||
		    got.l_rec[i].m_reason != want.l_rec[i].m_reason) {
			ATF_CHECK_MSG(0, "record %zu: flow %u %ju..%ju %ju "
			    "packets reason %d, the model's flow %u %ju..%ju "
			    "%ju packets reason %d", i, got.l_rec[i].m_id,
			    (uintmax_t)got.l_rec[i].m_first,
			    (uintmax_t)got.l_rec[i].m_last,
			    (uintmax_t)got.l_rec[i].m_packets,
			    got.l_rec[i].m_reason, want.l_rec[i].m_id,
			    (uintmax_t)want.l_rec[i].m_first,
			    (uintmax_t)want.l_rec[i].m_last,
			    (uintmax_t)want.l_rec[i].m_packets,
			    want.l_rec[i].m_reason);
			break;
		}
}

ATF_TC_WITHOUT_HEAD(model_agrees);
ATF_TC_BODY(model_agrees, tc)
{
	model_run(4096);
}

ATF_TC_WITHOUT_HEAD(model_agrees_evicting);
ATF_TC_BODY(model_agrees_evicting, tc)
{
	model_run(40);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, flush_whole_table);
	ATF_TP_ADD_TC(tp, many_unsorted);
	ATF_TP_ADD_TC(tp, large_table_order);
	ATF_TP_ADD_TC(tp, model_agrees);
	ATF_TP_ADD_TC(tp, model_agrees_evicting);
	ATF_TP_ADD_TC(tp, create_rejects_zero);
	ATF_TP_ADD_TC(tp, counters_64bit);
	ATF_TP_ADD_TC(tp, maxcount_splits);
	ATF_TP_ADD_TC(tp, maxcount_splits_batched);
	ATF_TP_ADD_TC(tp, idle_by_expire);
	ATF_TP_ADD_TC(tp, idle_by_update);
	ATF_TP_ADD_TC(tp, active_by_expire);
	ATF_TP_ADD_TC(tp, active_by_update);
	ATF_TP_ADD_TC(tp, first_deadline_wins);
	ATF_TP_ADD_TC(tp, fin_closing_ack);
	ATF_TP_ADD_TC(tp, fin_eof_by_update);
	ATF_TP_ADD_TC(tp, rst);
	ATF_TP_ADD_TC(tp, syn_reuse_after_fin);
	ATF_TP_ADD_TC(tp, syn_without_fin_stays);
	ATF_TP_ADD_TC(tp, evict_when_full);
	ATF_TP_ADD_TC(tp, evict_lru);
	ATF_TP_ADD_TC(tp, full_ends_due_first);
	ATF_TP_ADD_TC(tp, flush_creation_order);
	ATF_TP_ADD_TC(tp, next_expiry);
	ATF_TP_ADD_TC(tp, stats);
	ATF_TP_ADD_TC(tp, distinct_keys);
	ATF_TP_ADD_TC(tp, ifindex_of_cache);
	ATF_TP_ADD_TC(tp, clock_clamped);
	ATF_TP_ADD_TC(tp, churn_conserves);
	ATF_TP_ADD_TC(tp, ipv4_unread_words);
	return (atf_no_error());
}
