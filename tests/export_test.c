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
 * Tests of export.c: the v5, v9 and IPFIX encoders through a send callback
 * that keeps every datagram, checked byte by byte and by a small collector
 * written here; collector specs and real sends on loopback; the text
 * printer.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "flowprobe.h"

#define BOOT	1699999940000ULL	/* 60 s before NOW */
#define NOW	1700000000123ULL
/* The exporter puts boot on the whole second before the one it is given. */
#define EXBOOT	(BOOT - 1000)
#define MAXDG	65536

struct capture {
	int		 n;
	uint8_t		*buf[MAXDG];
	size_t		 len[MAXDG];
};

static struct capture cap;

static int	 cap_send(const uint8_t *, size_t, void *);
static void	 cap_reset(void);
static uint16_t	 be16(const uint8_t *);
static uint32_t	 be32(const uint8_t *);
static uint64_t	 be64(const uint8_t *);
static void	 flow4(struct flow *, const char *, const char *, uint8_t);
static void	 flow6(struct flow *, const char *, const char *, uint8_t);
static struct exporter *mkexp(int, size_t, uint32_t, uint32_t, uint32_t);
static void	 check_bytes(const uint8_t *, const uint8_t *, size_t);
static void	 check_field(uint16_t, uint16_t, const uint8_t *,
		    const struct flow *, enum flow_end);
static void	 check_agreement(int, int);
static void	 fill(int, size_t);
static int	 udp_bind(int, uint16_t *);
static char	*print_one(const struct flow *, enum flow_end);

/* arg, when given, points at a count of sends to report as failed. */
static int
cap_send(const uint8_t *b, size_t len, void *arg)
{
	int *failures = arg;

	ATF_REQUIRE(cap.n < MAXDG);
	ATF_REQUIRE((cap.buf[cap.n] = malloc(len)) != NULL);
	memcpy(cap.buf[cap.n], b, len);
	cap.len[cap.n++] = len;
	if (failures != NULL && *failures > 0) {
		(*failures)--;
		return (-1);
	}
	return (0);
}

static void
cap_reset(void)
{
	while (cap.n > 0)
		free(cap.buf[--cap.n]);
}

static uint16_t
be16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)be16(p) << 16 | be16(p + 2));
}

static uint64_t
be64(const uint8_t *p)
{
	return ((uint64_t)be32(p) << 32 | be32(p + 4));
}

static void
flow4(struct flow *f, const char *src, const char *dst, uint8_t proto)
{
	memset(f, 0, sizeof(*f));
	ATF_REQUIRE(inet_pton(AF_INET, src, f->f_key.k_src) == 1);
	ATF_REQUIRE(inet_pton(AF_INET, dst, f->f_key.k_dst) == 1);
	f->f_key.k_ipver = 4;
	f->f_key.k_proto = proto;
	f->f_key.k_sport = 1234;
	f->f_key.k_dport = 80;
	f->f_key.k_tos = 0x10;
	f->f_key.k_ifindex = 3;
	f->f_packets = 10;
	f->f_octets = 4000;
	f->f_first = BOOT + 1000;
	f->f_last = BOOT + 2500;
	f->f_tcpflags = 0x1b;
}

static void
flow6(struct flow *f, const char *src, const char *dst, uint8_t proto)
{
	memset(f, 0, sizeof(*f));
	ATF_REQUIRE(inet_pton(AF_INET6, src, f->f_key.k_src) == 1);
	ATF_REQUIRE(inet_pton(AF_INET6, dst, f->f_key.k_dst) == 1);
	f->f_key.k_ipver = 6;
	f->f_key.k_proto = proto;
	f->f_key.k_sport = 5353;
	f->f_key.k_dport = 53;
	f->f_key.k_ifindex = 70000;
	f->f_key.k_vlan = 42;
	f->f_packets = 3;
	f->f_octets = 300;
	f->f_first = BOOT + 5000;
	f->f_last = BOOT + 7000;
}

static struct exporter *
mkexp(int version, size_t maxpayload, uint32_t tmpl_ms, uint32_t tmpl_count,
    uint32_t flush_ms)
{
	struct export_conf c;
	struct exporter *ex;

	memset(&c, 0, sizeof(c));
	c.ec_version = version;
	c.ec_domain = 0x0102;
	c.ec_tmpl_ms = tmpl_ms;
	c.ec_tmpl_count = tmpl_count;
	c.ec_flush_ms = flush_ms;
	c.ec_maxpayload = maxpayload;
	cap_reset();
	ex = export_create(&c, BOOT, cap_send, NULL);
	ATF_REQUIRE(ex != NULL);
	return (ex);
}

static void
check_bytes(const uint8_t *got, const uint8_t *want, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		ATF_REQUIRE_MSG(got[i] == want[i],
		    "byte %zu: got 0x%02x, want 0x%02x", i, got[i], want[i]);
}

/* A v5 datagram, written out by hand from the Cisco format. */
ATF_TC_WITHOUT_HEAD(v5_bytes);
ATF_TC_BODY(v5_bytes, tc)
{
	static const uint8_t want[24 + 48] = {
		/* the exporter's boot is a second before BOOT: 61123 */
		0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0xee, 0xc3,
		0x65, 0x53, 0xf1, 0x00, 0x07, 0x54, 0xd4, 0xc0,
		0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00,
		/* record */
		10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 0, 0,
		0x00, 0x03, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x0f, 0xa0,
		0x00, 0x00, 0x07, 0xd0, 0x00, 0x00, 0x0d, 0xac,
		0x04, 0xd2, 0x00, 0x50, 0x00, 0x1b, 0x06, 0x10,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
	};
	struct exporter *ex;
	struct flow f;

	ex = mkexp(5, 1472, 0, 0, 1000);
	flow4(&f, "10.0.0.1", "10.0.0.2", 6);
	export_flow(ex, &f, FLOW_END_EOF, NOW - 1);
	ATF_CHECK_EQ(cap.n, 0);
	export_flush(ex, NOW);
	ATF_REQUIRE_EQ(cap.n, 1);
	ATF_REQUIRE_EQ(cap.len[0], sizeof(want));
	check_bytes(cap.buf[0], want, sizeof(want));
	ATF_CHECK_EQ(export_stats(ex)->es_records, 1);
	ATF_CHECK_EQ(export_stats(ex)->es_datagrams, 1);
	export_destroy(ex);
}

ATF_TC_WITHOUT_HEAD(v5_saturate);
ATF_TC_BODY(v5_saturate, tc)
{
	struct exporter *ex;
	struct flow f;

	ex = mkexp(5, 1472, 0, 0, 1000);
	flow4(&f, "10.0.0.1", "10.0.0.2", 6);
	f.f_key.k_ifindex = 70000;
	f.f_packets = 1ULL << 33;
	f.f_octets = 1ULL << 40;
	export_flow(ex, &f, FLOW_END_EOF, NOW);
	export_flush(ex, NOW);
	ATF_REQUIRE_EQ(cap.n, 1);
	ATF_CHECK_EQ(be16(cap.buf[0] + 24 + 12), 65535);
	ATF_CHECK_EQ(be32(cap.buf[0] + 24 + 16), UINT32_MAX);
	ATF_CHECK_EQ(be32(cap.buf[0] + 24 + 20), UINT32_MAX);
	export_destroy(ex);
}

ATF_TC_WITHOUT_HEAD(v5_sequence);
ATF_TC_BODY(v5_sequence, tc)
{
	struct exporter *ex;
	struct flow f;
	int i;

	ex = mkexp(5, 1472, 0, 0, 1000);
	flow4(&f, "10.0.0.1", "10.0.0.2", 17);
	for (i = 0; i < 30; i++)
		export_flow(ex, &f, FLOW_END_IDLE, NOW);
	ATF_CHECK_EQ(cap.n, 0);
	export_flow(ex, &f, FLOW_END_IDLE, NOW);
	ATF_REQUIRE_EQ(cap.n, 1);
	ATF_CHECK_EQ(cap.len[0], 24 + 30 * 48);
	ATF_CHECK_EQ(be16(cap.buf[0] + 2), 30);
	ATF_CHECK_EQ(be32(cap.buf[0] + 16), 0);
	export_flush(ex, NOW);
	ATF_REQUIRE_EQ(cap.n, 2);
	ATF_CHECK_EQ(be16(cap.buf[1] + 2), 1);
	ATF_CHECK_EQ(be32(cap.buf[1] + 16), 30);
	export_destroy(ex);
}

ATF_TC_WITHOUT_HEAD(v5_capacity_by_payload);
ATF_TC_BODY(v5_capacity_by_payload, tc)
{
	struct exporter *ex;
	struct flow f;
	int i;

	ex = mkexp(5, 24 + 5 * 48 + 47, 0, 0, 1000);
	flow4(&f, "10.0.0.1", "10.0.0.2", 17);
	for (i = 0; i < 6; i++)
		export_flow(ex, &f, FLOW_END_IDLE, NOW);
	ATF_REQUIRE_EQ(cap.n, 1);
	ATF_CHECK_EQ(be16(cap.buf[0] + 2), 5);
	export_destroy(ex);
}

ATF_TC_WITHOUT_HEAD(v5_ipv6_unexportable);
ATF_TC_BODY(v5_ipv6_unexportable, tc)
{
	struct exporter *ex;
	struct flow f;

	ex = mkexp(5, 1472, 0, 0, 1000);
	flow6(&f, "2001:db8::1", "2001:db8::2", 17);
	export_flow(ex, &f, FLOW_END_IDLE, NOW);
	export_flow(ex, &f, FLOW_END_IDLE, NOW);
	export_flush(ex, NOW);
	ATF_CHECK_EQ(cap.n, 0);
	ATF_CHECK_EQ(export_stats(ex)->es_unexportable, 2);
	ATF_CHECK_EQ(export_stats(ex)->es_records, 0);
	export_destroy(ex);
}

ATF_TC_WITHOUT_HEAD(create_bad_conf);
ATF_TC_BODY(create_bad_conf, tc)
{
	struct export_conf c;

	memset(&c, 0, sizeof(c));
	c.ec_version = 7;
	c.ec_maxpayload = 1472;
	errno = 0;
	ATF_CHECK(export_create(&c, BOOT, cap_send, NULL) == NULL);
	ATF_CHECK_EQ(errno, EINVAL);
	c.ec_version = 9;
	ATF_CHECK(export_create(&c, BOOT, NULL, NULL) == NULL);
	c.ec_maxpayload = 239;	/* header, templates, one IPv6 record */
	errno = 0;
	ATF_CHECK(export_create(&c, BOOT, cap_send, NULL) == NULL);
	ATF_CHECK_EQ(errno, EINVAL);
	c.ec_version = 10;
	c.ec_maxpayload = 243;
	ATF_CHECK(export_create(&c, BOOT, cap_send, NULL) == NULL);
	c.ec_maxpayload = 70000;
	ATF_CHECK(export_create(&c, BOOT, cap_send, NULL) == NULL);
	c.ec_version = 5;
	c.ec_maxpayload = 71;
	ATF_CHECK(export_create(&c, BOOT, cap_send, NULL) == NULL);
	ATF_CHECK_EQ(export_maxpayload(0), 1472);
	ATF_CHECK_EQ(export_maxpayload(1), 1452);
}

/* The v9 template flowset, from RFC 3954 section 5.2 and the brief. */
static const uint8_t v9_tmplset[140] = {
	0x00, 0x00, 0x00, 0x8c,
	0x01, 0x00, 0x00, 0x10,
	0, 8, 0, 4,  0, 12, 0, 4,  0, 7, 0, 2,  0, 11, 0, 2,
	0, 4, 0, 1,  0, 5, 0, 1,  0, 6, 0, 1,  0, 10, 0, 4,
	0, 14, 0, 4,  0, 58, 0, 2,  0, 1, 0, 8,  0, 2, 0, 8,
	0, 22, 0, 4,  0, 21, 0, 4,  0, 60, 0, 1,  0, 32, 0, 2,
	0x01, 0x01, 0x00, 0x10,
	0, 27, 0, 16,  0, 28, 0, 16,  0, 7, 0, 2,  0, 11, 0, 2,
	0, 4, 0, 1,  0, 5, 0, 1,  0, 6, 0, 1,  0, 10, 0, 4,
	0, 14, 0, 4,  0, 58, 0, 2,  0, 1, 0, 8,  0, 2, 0, 8,
	0, 22, 0, 4,  0, 21, 0, 4,  0, 60, 0, 1,  0, 32, 0, 2
};

static const uint8_t ipfix_tmplset[140] = {
	0x00, 0x02, 0x00, 0x8c,
	0x01, 0x00, 0x00, 0x10,
	0, 8, 0, 4,  0, 12, 0, 4,  0, 7, 0, 2,  0, 11, 0, 2,
	0, 4, 0, 1,  0, 5, 0, 1,  0, 6, 0, 2,  0, 10, 0, 4,
	0, 14, 0, 4,  0, 58, 0, 2,  0, 1, 0, 8,  0, 2, 0, 8,
	0, 152, 0, 8,  0, 153, 0, 8,  0, 136, 0, 1,  0, 60, 0, 1,
	0x01, 0x01, 0x00, 0x10,
	0, 27, 0, 16,  0, 28, 0, 16,  0, 7, 0, 2,  0, 11, 0, 2,
	0, 4, 0, 1,  0, 5, 0, 1,  0, 6, 0, 2,  0, 10, 0, 4,
	0, 14, 0, 4,  0, 58, 0, 2,  0, 1, 0, 8,  0, 2, 0, 8,
	0, 152, 0, 8,  0, 153, 0, 8,  0, 136, 0, 1,  0, 60, 0, 1
};

ATF_TC_WITHOUT_HEAD(v9_first_datagram);
ATF_TC_BODY(v9_first_datagram, tc)
{
	static const uint8_t hdr[20] = {
		/* uptime of the whole second in unix_secs: 61000 */
		0x00, 0x09, 0x00, 0x03, 0x00, 0x00, 0xee, 0x48,
		0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x01, 0x02
	};
	struct exporter *ex;
	struct flow f;
	const uint8_t *d;

	ex = mkexp(9, 1472, 60000, 20, 1000);
	flow4(&f, "10.0.0.1", "10.0.0.2", 6);
	export_flow(ex, &f, FLOW_END_EOF, NOW);
	export_flush(ex, NOW);
	ATF_REQUIRE_EQ(cap.n, 1);
	d = cap.buf[0];
	/* header, templates, one 52-byte record (no padding): 20+140+56 */
	ATF_REQUIRE_EQ(cap.len[0], 216);
	check_bytes(d, hdr, sizeof(hdr));
	check_bytes(d + 20, v9_tmplset, sizeof(v9_tmplset));
	ATF_CHECK_EQ(be16(d + 160), 256);
	ATF_CHECK_EQ(be16(d + 162), 56);
	/* ICMP_TYPE is 0 for TCP */
	ATF_CHECK_EQ(d[214], 0);
	ATF_CHECK_EQ(d[215], 0);
	ATF_CHECK_EQ(export_stats(ex)->es_templates, 1);
	export_destroy(ex);
}

/*
 * A datagram has one data set a template at most, the first opened
 * first, whatever the order the families came in; within a set the
 * records keep theirs.
 */
ATF_TC_WITHOUT_HEAD(v9_sequence_and_sets);
ATF_TC_BODY(v9_sequence_and_sets, tc)
{
	struct exporter *ex;
	struct flow f4, f6;
	const uint8_t *d;

	ex = mkexp(9, 1472, 60000, 20, 1000);
	flow4(&f4, "10.0.0.1", "10.0.0.2", 6);
	flow6(&f6, "2001:db8::1", "2001:db8::2", 17);
	export_flow(ex, &f4, FLOW_END_EOF, NOW);
	export_flush(ex, NOW);
	export_flow(ex, &f4, FLOW_END_EOF, NOW);
	export_flow(ex, &f6, FLOW_END_EOF, NOW);
	f4.f_packets = 11;
	export_flow(ex, &f4, FLOW_END_EOF, NOW);
	export_flush(ex, NOW);
	f6.f_packets = 4;
	export_flow(ex, &f6, FLOW_END_EOF, NOW);
	export_flow(ex, &f4, FLOW_END_EOF, NOW);
	f6.f_packets = 5;
	export_flow(ex, &f6, FLOW_END_EOF, NOW);
	export_flush(ex, NOW);
	ATF_REQUIRE_EQ(cap.n, 3);
	ATF_CHECK_EQ(be32(cap.buf[0] + 12), 0);
	d = cap.buf[1];
	ATF_CHECK_EQ(be32(d + 12), 1);
	ATF_CHECK_EQ(be16(d + 2), 3);	/* no templates this time */
	/* v4 set (4 + 2 * 52), then v6 set (4 + 76) */
	ATF_REQUIRE_EQ(cap.len[1], 20 + 108 + 80);
	ATF_CHECK_EQ(be16(d + 20), 256);
	ATF_CHECK_EQ(be16(d + 22), 108);
	ATF_CHECK_EQ(be64(d + 24 + 33), 10);	/* packets, in order */
	ATF_CHECK_EQ(be64(d + 76 + 33), 11);
	ATF_CHECK_EQ(be16(d + 128), 257);
	ATF_CHECK_EQ(be16(d + 130), 80);
	ATF_CHECK_EQ(d[132], 0x20);		/* 2001:db8::1 */
	/* v6 set (4 + 2 * 76), then the v4 set (4 + 52) moved behind it */
	d = cap.buf[2];
	ATF_CHECK_EQ(be32(d + 12), 2);
	ATF_CHECK_EQ(be16(d + 2), 3);
	ATF_REQUIRE_EQ(cap.len[2], 20 + 156 + 56);
	ATF_CHECK_EQ(be16(d + 20), 257);
	ATF_CHECK_EQ(be16(d + 22), 156);
	ATF_CHECK_EQ(be64(d + 24 + 57), 4);
	ATF_CHECK_EQ(be64(d + 100 + 57), 5);
	ATF_CHECK_EQ(be16(d + 176), 256);
	ATF_CHECK_EQ(be16(d + 178), 56);
	ATF_CHECK_EQ(be32(d + 180), 0x0a000001);	/* 10.0.0.1 */
	ATF_CHECK_EQ(be64(d + 180 + 33), 11);
	ATF_CHECK_EQ(export_stats(ex)->es_records, 7);
	ATF_CHECK_EQ(export_stats(ex)->es_datagrams, 3);
	export_destroy(ex);
}

ATF_TC_WITHOUT_HEAD(ipfix_header_and_sequence);
ATF_TC_BODY(ipfix_header_and_sequence, tc)
{
	static const uint8_t hdr[16] = {
		0x00, 0x0a, 0x01, 0x34, 0x65, 0x53, 0xf1, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02
	};
	struct exporter *ex;
	struct flow f4, f6;
	const uint8_t *d;

	ex = mkexp(10, 1472, 1000, 0, 1000);
	flow4(&f4, "10.0.0.1", "10.0.0.2", 6);
	flow6(&f6, "2001:db8::1", "2001:db8::2", 17);
	export_flow(ex, &f4, FLOW_END_EOF, NOW);
	export_flow(ex, &f6, FLOW_END_IDLE, NOW);
	export_flush(ex, NOW);
	ATF_REQUIRE_EQ(cap.n, 1);
	/* 16 + 140 + (4 + 60) + (4 + 84), no padding */
	ATF_REQUIRE_EQ(cap.len[0], 308);
	d = cap.buf[0];
	check_bytes(d, hdr, sizeof(hdr));
	check_bytes(d + 16, ipfix_tmplset, sizeof(ipfix_tmplset));
	ATF_CHECK_EQ(be16(d + 156), 256);
	ATF_CHECK_EQ(be16(d + 158), 64);
	ATF_CHECK_EQ(be16(d + 220), 257);
	ATF_CHECK_EQ(be16(d + 222), 88);

	/* A template-only message: sequence stays at the data records. */
	export_tick(ex, NOW + 1000);
	ATF_REQUIRE_EQ(cap.n, 2);
	ATF_CHECK_EQ(cap.len[1], 16 + 140);
	ATF_CHECK_EQ(be16(cap.buf[1] + 2), 156);
	ATF_CHECK_EQ(be32(cap.buf[1] + 8), 2);
	ATF_CHECK_EQ(be16(cap.buf[1] + 16), 2);

	export_flow(ex, &f4, FLOW_END_EOF, NOW + 1001);
	export_flush(ex, NOW + 2000);
	ATF_REQUIRE_EQ(cap.n, 3);
	ATF_CHECK_EQ(be32(cap.buf[2] + 4), 1700000002);
	ATF_CHECK_EQ(be32(cap.buf[2] + 8), 2);
	ATF_CHECK_EQ(be16(cap.buf[2] + 16), 256);
	ATF_CHECK_EQ(export_stats(ex)->es_templates, 2);
	export_destroy(ex);
}

/* The flow's value for one IE, worked out here independently. */
static void
check_field(uint16_t id, uint16_t len, const uint8_t *p, const struct flow *f,
    enum flow_end reason)
{
	const struct fp_key *k = &f->f_key;
	uint64_t v, want;

	if (id == 8 || id == 12 || id == 27 || id == 28) {
		ATF_REQUIRE_EQ(len, (k->k_ipver == 6) ? 16 : 4);
		ATF_CHECK(memcmp(p, id == 8 || id == 27 ? k->k_src : k->k_dst,
		    len) == 0);
		return;
	}
	switch (len) {
	case 1:
		v = p[0];
		break;
	case 2:
		v = be16(p);
		break;
	case 4:
		v = be32(p);
		break;
	case 8:
		v = be64(p);
		break;
	default:
		atf_tc_fail("IE %u: odd length %u", id, len);
		return;
	}
	switch (id) {
	case 1: want = f->f_octets; ATF_CHECK_EQ(len, 8); break;
	case 2: want = f->f_packets; ATF_CHECK_EQ(len, 8); break;
	case 4: want = k->k_proto; break;
	case 5: want = k->k_tos; break;
	case 6: want = f->f_tcpflags; break;
	case 7: want = k->k_sport; ATF_CHECK_EQ(len, 2); break;
	case 10: want = k->k_ifindex; ATF_CHECK_EQ(len, 4); break;
	case 11: want = k->k_dport; ATF_CHECK_EQ(len, 2); break;
	case 14: want = 0; break;
	case 21: want = f->f_last - EXBOOT; ATF_CHECK_EQ(len, 4); break;
	case 22: want = f->f_first - EXBOOT; ATF_CHECK_EQ(len, 4); break;
	case 32:
		want = k->k_proto == 1 || k->k_proto == 58 ? k->k_dport : 0;
		ATF_CHECK_EQ(len, 2);
		break;
	case 58: want = k->k_vlan; ATF_CHECK_EQ(len, 2); break;
	case 60: want = k->k_ipver; ATF_CHECK_EQ(len, 1); break;
	case 136: want = reason; ATF_CHECK_EQ(len, 1); break;
	case 152: want = f->f_first; ATF_CHECK_EQ(len, 8); break;
	case 153: want = f->f_last; ATF_CHECK_EQ(len, 8); break;
	default:
		atf_tc_fail("unexpected IE %u", id);
		return;
	}
	ATF_CHECK_MSG(v == want, "IE %u: got %llu, want %llu", id,
	    (unsigned long long)v, (unsigned long long)want);
}

/*
 * Decode one record per template with the template the exporter sent:
 * the record length must be the sum of the field lengths and every field
 * must hold the flow's value.
 */
static void
check_agreement(int version, int v6)
{
	struct exporter *ex;
	struct flow f;
	const uint8_t *d, *t, *tend, *r;
	size_t hdr, off, sum, reclen;
	uint16_t tid, nf, i, id, len;
	int found;

	ex = mkexp(version, 1472, 0, 0, 1000);
	if (v6)
		flow6(&f, "2001:db8::1", "2001:db8:ffff::2", 17);
	else
		flow4(&f, "192.0.2.1", "198.51.100.7", 6);
	f.f_packets = 0x0102030405060708ULL;
	f.f_octets = 0x1112131415161718ULL;
	f.f_key.k_ifindex = 0x0a0b0c0d;
	f.f_key.k_tos = 0xb8;
	f.f_key.k_vlan = 4094;
	f.f_tcpflags = 0x12;
	export_flow(ex, &f, FLOW_END_ACTIVE, NOW);
	export_flush(ex, NOW);
	ATF_REQUIRE_EQ(cap.n, 1);
	d = cap.buf[0];
	hdr = version == 9 ? 20 : 16;
	ATF_REQUIRE_EQ(be16(d + hdr), version == 9 ? 0 : 2);
	t = d + hdr + 4;
	tend = d + hdr + be16(d + hdr + 2);
	r = tend;			/* the data set follows */
	ATF_REQUIRE(r + 4 <= cap.buf[0] + cap.len[0]);
	ATF_REQUIRE_EQ(be16(r), v6 ? 257 : 256);
	reclen = be16(r + 2) - 4;
	found = 0;
	while (t + 4 <= tend) {
		tid = be16(t);
		nf = be16(t + 2);
		t += 4;
		sum = 0;
		for (i = 0; i < nf; i++)
			sum += be16(t + i * 4 + 2);
		if (tid == (v6 ? 257 : 256)) {
			found = 1;
			if (version == 9)
				ATF_CHECK_EQ(reclen, (sum + 4 + 3) / 4 * 4 - 4);
			else
				ATF_CHECK_EQ(reclen, sum);
			off = 0;
			for (i = 0; i < nf; i++) {
				id = be16(t + i * 4);
				len = be16(t + i * 4 + 2);
				check_field(id, len, r + 4 + off, &f,
				    FLOW_END_ACTIVE);
				off += len;
			}
			for (; off < reclen; off++)
				ATF_CHECK_EQ(r[4 + off], 0);
		}
		t += nf * 4;
	}
	ATF_CHECK(found);
	export_destroy(ex);
}

ATF_TC_WITHOUT_HEAD(table_agreement_v9);
ATF_TC_BODY(table_agreement_v9, tc)
{
	check_agreement(9, 0);
	check_agreement(9, 1);
}

ATF_TC_WITHOUT_HEAD(table_agreement_ipfix);
ATF_TC_BODY(table_agreement_ipfix, tc)
{
	check_agreement(10, 0);
	check_agreement(10, 1);
}

ATF_TC_WITHOUT_HEAD(tmpl_refresh_count);
ATF_TC_BODY(tmpl_refresh_count, tc)
{
	struct exporter *ex;
	struct flow f;
	int i;

	ex = mkexp(9, 1472, 0, 3, 1000);
	flow4(&f, "10.0.0.1", "10.0.0.2", 6);
	for (i = 0; i < 7; i++) {
		export_flow(ex, &f, FLOW_END_EOF, NOW);
		export_flush(ex, NOW);
	}
	ATF_REQUIRE_EQ(cap.n, 7);
	for (i = 0; i < 7; i++) {
		ATF_CHECK_EQ_MSG(be16(cap.buf[i] + 20), i % 3 == 0 ? 0 : 256,
		    "datagram %d", i);
		ATF_CHECK_EQ(be16(cap.buf[i] + 2), i % 3 == 0 ? 3 : 1);
		ATF_CHECK_EQ(be32(cap.buf[i] + 12), (uint32_t)i);
	}
	ATF_CHECK_EQ(export_stats(ex)->es_templates, 3);
	export_destroy(ex);
}

/*
 * A failed send may mean a collector that restarted and lost the
 * templates: the next datagram with records carries them again, and no
 * template-only datagram retries a dead collector in the meantime.
 */
ATF_TC_WITHOUT_HEAD(tmpl_after_failure);
ATF_TC_BODY(tmpl_after_failure, tc)
{
	struct export_conf c;
	struct exporter *ex;
	struct flow f;
	int failures;

	memset(&c, 0, sizeof(c));
	c.ec_version = 10;
	c.ec_tmpl_ms = 1000;
	c.ec_tmpl_count = 20;
	c.ec_flush_ms = 1000;
	c.ec_maxpayload = 1472;
	cap_reset();
	failures = 0;
	ATF_REQUIRE((ex = export_create(&c, BOOT, cap_send, &failures)) !=
	    NULL);
	flow4(&f, "10.0.0.1", "10.0.0.2", 6);
	export_flow(ex, &f, FLOW_END_EOF, NOW);
	export_flush(ex, NOW);
	export_flow(ex, &f, FLOW_END_EOF, NOW);
	export_flush(ex, NOW);
	ATF_REQUIRE_EQ(cap.n, 2);
	ATF_CHECK_EQ(be16(cap.buf[1] + 16), 256);	/* data only */
	/* This one fails ... */
	failures = 1;
	export_flow(ex, &f, FLOW_END_EOF, NOW);
	export_flush(ex, NOW);
	ATF_CHECK_EQ(export_stats(ex)->es_senderrors, 1);
	/* ... the timer does not send templates alone ... */
	export_tick(ex, NOW + 5000);
	ATF_REQUIRE_EQ(cap.n, 3);
	/* ... and the next records come after the templates. */
	export_flow(ex, &f, FLOW_END_EOF, NOW + 5000);
	export_flush(ex, NOW + 5000);
	ATF_REQUIRE_EQ(cap.n, 4);
	ATF_CHECK_EQ(be16(cap.buf[3] + 16), 2);
	/* Sent, they are owed no more. */
	export_flow(ex, &f, FLOW_END_EOF, NOW + 5000);
	export_flush(ex, NOW + 5000);
	ATF_REQUIRE_EQ(cap.n, 5);
	ATF_CHECK_EQ(be16(cap.buf[4] + 16), 256);
	export_destroy(ex);
}

ATF_TC_WITHOUT_HEAD(tmpl_refresh_time);
ATF_TC_BODY(tmpl_refresh_time, tc)
{
	struct exporter *ex;
	struct flow f;

	ex = mkexp(9, 1472, 1000, 0, 1000);
	flow4(&f, "10.0.0.1", "10.0.0.2", 6);
	export_flow(ex, &f, FLOW_END_EOF, NOW);
	export_flush(ex, NOW);
	export_flow(ex, &f, FLOW_END_EOF, NOW + 999);
	export_flush(ex, NOW + 999);
	export_flow(ex, &f, FLOW_END_EOF, NOW + 1000);
	export_flush(ex, NOW + 1000);
	export_tick(ex, NOW + 1999);
	ATF_REQUIRE_EQ(cap.n, 3);
	ATF_CHECK_EQ(be16(cap.buf[0] + 20), 0);
	ATF_CHECK_EQ(be16(cap.buf[1] + 20), 256);
	ATF_CHECK_EQ(be16(cap.buf[2] + 20), 0);
	/* Nothing pending and due by time: a template-only datagram. */
	export_tick(ex, NOW + 2000);
	ATF_REQUIRE_EQ(cap.n, 4);
	ATF_CHECK_EQ(cap.len[3], 20 + 140);
	ATF_CHECK_EQ(be16(cap.buf[3] + 2), 2);
	ATF_CHECK_EQ(be32(cap.buf[3] + 12), 3);
	export_destroy(ex);
}

ATF_TC_WITHOUT_HEAD(flush_by_tick);
ATF_TC_BODY(flush_by_tick, tc)
{
	struct exporter *ex;
	struct flow f;

	ex = mkexp(10, 1472, 60000, 0, 100);
	flow4(&f, "10.0.0.1", "10.0.0.2", 6);
	export_tick(ex, NOW - 1);
	export_flow(ex, &f, FLOW_END_EOF, NOW);
	export_flow(ex, &f, FLOW_END_EOF, NOW + 50);
	export_tick(ex, NOW + 99);
	ATF_CHECK_EQ(cap.n, 0);
	export_tick(ex, NOW + 100);
	ATF_REQUIRE_EQ(cap.n, 1);
	ATF_CHECK_EQ(export_stats(ex)->es_records, 2);
	export_tick(ex, NOW + 1000);
	ATF_CHECK_EQ(cap.n, 1);
	export_destroy(ex);
}

/*
 * A collector's view of every datagram: lengths never above maxpayload,
 * sets that tile the datagram exactly, one data set a template at most,
 * sequence numbers as each spec wants, and every flow accounted for,
 * once and in its order among the flows of its family.
 */
static void
fill(int version, size_t maxp)
{
	struct exporter *ex;
	struct flow f;
	const uint8_t *d, *s;
	size_t reclen[2], pkoff[2], off, setlen, hdr, nrec, nf, j, k;
	uint64_t now, flows, recs, seq, pk;
	int64_t last[2];
	uint32_t count;
	uint16_t id, tid;
	int i, n, seen[2];

	ex = mkexp(version, maxp, 700, 5, 300);
	flows = 0;
	now = NOW;
	for (i = 0; i < 5000; i++) {
		if (version != 5 && (i * 7) % 3 == 0)
			flow6(&f, "2001:db8::1", "2001:db8::2", 17);
		else
			flow4(&f, "10.0.0.1", "10.0.0.2", 6);
		f.f_packets = i;
		export_flow(ex, &f, FLOW_END_IDLE, now);
		flows++;
		if (i % 97 == 0)
			export_tick(ex, now += 250);
	}
	export_flush(ex, now);
	hdr = version == 5 ? 24 : version == 9 ? 20 : 16;
	reclen[0] = reclen[1] = 0;
	pkoff[0] = pkoff[1] = 0;
	last[0] = last[1] = -1;
	recs = seq = 0;
	for (n = 0; n < cap.n; n++) {
		d = cap.buf[n];
		ATF_REQUIRE_MSG(cap.len[n] <= maxp, "datagram %d: %zu > %zu",
		    n, cap.len[n], maxp);
		ATF_REQUIRE(cap.len[n] >= hdr);
		ATF_REQUIRE_EQ(be16(d), version);
		if (version == 5) {
			count = be16(d + 2);
			ATF_REQUIRE(count >= 1 && count <= 30);
			ATF_REQUIRE_EQ(cap.len[n], 24 + count * 48);
			ATF_REQUIRE_EQ(be32(d + 16), (uint32_t)recs);
			recs += count;
			continue;
		}
		if (version == 9)
			ATF_REQUIRE_EQ(be32(d + 12), (uint32_t)seq++);
		else {
			ATF_REQUIRE_EQ(be16(d + 2), cap.len[n]);
			ATF_REQUIRE_EQ(be32(d + 8), (uint32_t)recs);
		}
		count = 0;
		seen[0] = seen[1] = 0;
		for (off = hdr; off < cap.len[n]; off += setlen) {
			ATF_REQUIRE(off + 4 <= cap.len[n]);
			s = d + off;
			id = be16(s);
			setlen = be16(s + 2);
			ATF_REQUIRE(setlen > 4 && off + setlen <= cap.len[n]);
			if (version == 9)
				ATF_REQUIRE_EQ(setlen % 4, 0);
			if (id == (version == 9 ? 0 : 2)) {
				for (j = 4; j + 4 <= setlen; j += 4 + nf * 4) {
					tid = be16(s + j);
					nf = be16(s + j + 2);
					ATF_REQUIRE(tid == 256 || tid == 257);
					ATF_REQUIRE(j + 4 + nf * 4 <= setlen);
					reclen[tid - 256] = 0;
					for (k = 0; k < nf; k++) {
						if (be16(s + j + 4 + k * 4) ==
						    2)	/* packets */
							pkoff[tid - 256] =
							    reclen[tid - 256];
						reclen[tid - 256] +=
						    be16(s + j + 4 + k * 4 + 2);
					}
					count++;
				}
				continue;
			}
			ATF_REQUIRE(id == 256 || id == 257);
			ATF_REQUIRE(reclen[id - 256] != 0);
			ATF_REQUIRE_MSG(!seen[id - 256], "datagram %d: two "
			    "sets of template %u", n, id);
			seen[id - 256] = 1;
			nrec = (setlen - 4) / reclen[id - 256];
			ATF_REQUIRE(nrec >= 1);
			ATF_REQUIRE((setlen - 4) - nrec * reclen[id - 256] <
			    (version == 9 ? 4 : 1));
			/* Flow i went out as template 257 if i % 3 == 0. */
			for (k = 0; k < nrec; k++) {
				pk = be64(s + 4 + k * reclen[id - 256] +
				    pkoff[id - 256]);
				ATF_REQUIRE(pk < 5000 &&
				    (pk % 3 == 0) == (id == 257));
				ATF_REQUIRE((int64_t)pk > last[id - 256]);
				last[id - 256] = (int64_t)pk;
			}
			recs += nrec;
			count += nrec;
		}
		ATF_REQUIRE_EQ(off, cap.len[n]);
		if (version == 9)
			ATF_REQUIRE_EQ(be16(d + 2), count);
	}
	ATF_CHECK_EQ(recs, flows);
	ATF_CHECK_EQ(export_stats(ex)->es_records, flows);
	ATF_CHECK_EQ(export_stats(ex)->es_datagrams, (uint64_t)cap.n);
	export_destroy(ex);
}

ATF_TC_WITHOUT_HEAD(maxpayload_never_exceeded);
ATF_TC_BODY(maxpayload_never_exceeded, tc)
{
	static const size_t v5[] = { 72, 119, 1472 };
	size_t i, m;

	for (i = 0; i < sizeof(v5) / sizeof(v5[0]); i++)
		fill(5, v5[i]);
	/* Every remainder mod 4 and many record mixes near the limit. */
	for (m = 240; m < 340; m++)
		fill(9, m);
	for (m = 1440; m <= 1472; m++)
		fill(9, m);
	for (m = 244; m < 300; m++)
		fill(10, m);
	fill(10, 1472);
	fill(10, 65535);
	cap_reset();
}

static int
udp_bind(int af, uint16_t *port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int s;

	memset(&ss, 0, sizeof(ss));
	if (af == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if ((s = socket(af, SOCK_DGRAM, 0)) == -1)
		return (-1);
	if (bind(s, (struct sockaddr *)&ss, len) == -1 ||
	    getsockname(s, (struct sockaddr *)&ss, &len) == -1) {
		close(s);
		return (-1);
	}
	*port = ntohs(af == AF_INET ? sin->sin_port : sin6->sin6_port);
	return (s);
}

/* What collector_summary() writes on standard error, as a string. */
static char *
summary_text(const struct collectors *cs)
{
	FILE *tmp;
	char *text;
	long len;
	int saved;

	ATF_REQUIRE((tmp = tmpfile()) != NULL);
	fflush(stderr);
	ATF_REQUIRE((saved = dup(STDERR_FILENO)) != -1);
	ATF_REQUIRE(dup2(fileno(tmp), STDERR_FILENO) != -1);
	collector_summary(cs);
	fflush(stderr);
	ATF_REQUIRE(dup2(saved, STDERR_FILENO) != -1);
	close(saved);
	len = ftell(tmp);
	ATF_REQUIRE(len >= 0);
	ATF_REQUIRE((text = calloc(1, (size_t)len + 1)) != NULL);
	rewind(tmp);
	ATF_REQUIRE_EQ(fread(text, 1, (size_t)len, tmp), (size_t)len);
	fclose(tmp);
	return (text);
}

ATF_TC_WITHOUT_HEAD(collector_parse_good);
ATF_TC_BODY(collector_parse_good, tc)
{
	const char *want = "flowprobe: collector 127.0.0.1:9995: "
	    "0 datagrams sent, 0 failed\n"
	    "flowprobe: collector 127.0.0.1:2055: 0 datagrams sent, 0 failed\n";
	struct collectors cs;
	char err[256], *buf;
	uint16_t port;
	int s;

	memset(&cs, 0, sizeof(cs));
	ATF_REQUIRE_EQ(collector_add(&cs, "127.0.0.1", err, sizeof(err)), 0);
	ATF_REQUIRE_EQ(collector_add(&cs, "127.0.0.1:2055", err, sizeof(err)),
	    0);
	ATF_CHECK_EQ(cs.cs_inet6, 0);
	ATF_REQUIRE_EQ(collector_add(&cs, "localhost:4739", err, sizeof(err)),
	    0);
	if ((s = udp_bind(AF_INET6, &port)) != -1) {
		close(s);
		ATF_REQUIRE_EQ_MSG(collector_add(&cs, "[::1]:9995", err,
		    sizeof(err)), 0, "%s", err);
		ATF_REQUIRE_EQ(collector_add(&cs, "[::1]", err, sizeof(err)),
		    0);
		ATF_REQUIRE_EQ(collector_add(&cs, "::1", err, sizeof(err)), 0);
		ATF_CHECK_EQ(cs.cs_inet6, 1);
	}
	buf = summary_text(&cs);
	ATF_CHECK_MSG(strncmp(buf, want, strlen(want)) == 0, "%s", buf);
	if (cs.cs_count == 6)
		ATF_CHECK(strstr(buf, "\nflowprobe: collector [::1]:9995: "
		    "0 datagrams sent, 0 failed\n") != NULL);
	free(buf);
	collector_close_all(&cs);
	ATF_CHECK_EQ(cs.cs_count, 0);
}

ATF_TC_WITHOUT_HEAD(collector_parse_bad);
ATF_TC_BODY(collector_parse_bad, tc)
{
	static const struct {
		const char	*spec;
		int		 err;
	} bad[] = {
		{ "", EINVAL },
		{ "host:0", EINVAL },
		{ "host:99999", EINVAL },
		{ "host:", EINVAL },
		{ ":9995", EINVAL },
		{ "[::1", EINVAL },
		{ "[::1]x", EINVAL },
		{ "[::1]:", EINVAL },
		{ "[]:9995", EINVAL },
		{ "[localhost]:9995", EINVAL },
		{ "2001:db8::zz", EINVAL },
		{ "127.0.0.1:no-such-service-here", EINVAL },
		{ "no.such.host.invalid", EADDRNOTAVAIL },
		{ "no.such.host.invalid:9995", EADDRNOTAVAIL },
	};
	struct collectors cs;
	char err[256];
	size_t i;

	memset(&cs, 0, sizeof(cs));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		errno = 0;
		ATF_CHECK_EQ_MSG(collector_add(&cs, bad[i].spec, err,
		    sizeof(err)), -1, "%s accepted", bad[i].spec);
		ATF_CHECK_EQ_MSG(errno, bad[i].err, "%s: errno %d",
		    bad[i].spec, errno);
		ATF_CHECK_MSG(err[0] != '\0', "%s: no message", bad[i].spec);
	}
	ATF_CHECK_EQ(cs.cs_count, 0);
	for (i = 0; i < EXPORT_MAXCOLLECTORS; i++)
		ATF_REQUIRE_EQ(collector_add(&cs, "127.0.0.1", err,
		    sizeof(err)), 0);
	errno = 0;
	ATF_CHECK_EQ(collector_add(&cs, "127.0.0.1", err, sizeof(err)), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	collector_close_all(&cs);
}

ATF_TC_WITHOUT_HEAD(collector_loopback_send);
ATF_TC_BODY(collector_loopback_send, tc)
{
	static const uint8_t msg[] = "flowprobe datagram";
	struct collectors cs;
	struct pollfd pfd;
	uint8_t buf[64];
	char spec[32], err[256];
	uint16_t port;
	ssize_t n;

	memset(&cs, 0, sizeof(cs));
	ATF_REQUIRE((pfd.fd = udp_bind(AF_INET, &port)) != -1);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	ATF_REQUIRE_EQ_MSG(collector_add(&cs, spec, err, sizeof(err)), 0,
	    "%s", err);
	ATF_CHECK_EQ(collector_send(msg, sizeof(msg), &cs), 0);
	pfd.events = POLLIN;
	ATF_REQUIRE_EQ(poll(&pfd, 1, 2000), 1);
	n = recv(pfd.fd, buf, sizeof(buf), 0);
	ATF_REQUIRE_EQ(n, (ssize_t)sizeof(msg));
	ATF_CHECK(memcmp(buf, msg, sizeof(msg)) == 0);
	ATF_CHECK_EQ(collector_failures(&cs), 0);
	collector_close_all(&cs);
	close(pfd.fd);
}

ATF_TC_WITHOUT_HEAD(collector_one_refuses);
ATF_TC_BODY(collector_one_refuses, tc)
{
	static const uint8_t msg[] = "datagram";
	struct collectors cs;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	uint8_t buf[64];
	char spec[32], line[80], err[256], *out;
	uint16_t port, dead;
	int s, i, got, rv;

	memset(&cs, 0, sizeof(cs));
	/* A port that was free a moment ago: nobody listens there. */
	ATF_REQUIRE((s = udp_bind(AF_INET, &dead)) != -1);
	close(s);
	ATF_REQUIRE((s = udp_bind(AF_INET, &port)) != -1);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", dead);
	ATF_REQUIRE(collector_add(&cs, spec, err, sizeof(err)) == 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	ATF_REQUIRE(collector_add(&cs, spec, err, sizeof(err)) == 0);
	rv = 0;
	for (i = 0; i < 5; i++) {
		if (collector_send(msg, sizeof(msg), &cs) == -1)
			rv = -1;
		nanosleep(&ts, NULL);
	}
	ATF_CHECK_EQ(rv, -1);
	got = 0;
	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) ==
	    (ssize_t)sizeof(msg))
		got++;
	ATF_CHECK_EQ(got, 5);
	ATF_CHECK(collector_failures(&cs) >= 1);
	out = summary_text(&cs);
	snprintf(line, sizeof(line), "collector 127.0.0.1:%u: 5 datagrams "
	    "sent, 0 failed\n", port);
	ATF_CHECK_MSG(strstr(out, line) != NULL, "%s", out);
	free(out);
	collector_close_all(&cs);
	close(s);
}

/* A collector that comes back gets the very next datagram. */
ATF_TC_WITHOUT_HEAD(collector_recovers);
ATF_TC_BODY(collector_recovers, tc)
{
	static const uint8_t msg[] = "datagram";
	struct collectors cs;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	struct sockaddr_in sin;
	uint8_t buf[64];
	char spec[32], err[256];
	uint16_t port;
	uint64_t failed;
	int s, i;

	memset(&cs, 0, sizeof(cs));
	ATF_REQUIRE((s = udp_bind(AF_INET, &port)) != -1);
	close(s);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	ATF_REQUIRE(collector_add(&cs, spec, err, sizeof(err)) == 0);
	for (i = 0; i < 3; i++) {
		collector_send(msg, sizeof(msg), &cs);
		nanosleep(&ts, NULL);
	}
	failed = collector_failures(&cs);
	ATF_REQUIRE(failed >= 1);
	ATF_REQUIRE((s = socket(AF_INET, SOCK_DGRAM, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		atf_tc_skip("port %u taken meanwhile", port);
	collector_send(msg, sizeof(msg), &cs);
	ATF_CHECK_EQ(recv(s, buf, sizeof(buf), MSG_DONTWAIT),
	    (ssize_t)sizeof(msg));
	ATF_CHECK_EQ(collector_send(msg, sizeof(msg), &cs), 0);
	ATF_CHECK_EQ(recv(s, buf, sizeof(buf), MSG_DONTWAIT),
	    (ssize_t)sizeof(msg));
	ATF_CHECK(collector_failures(&cs) <= failed + 1);
	collector_close_all(&cs);
	close(s);
}

static char *
print_one(const struct flow *f, enum flow_end reason)
{
	char *buf;
	size_t len;
	FILE *fp;

	setenv("TZ", "UTC", 1);
	tzset();
	ATF_REQUIRE((fp = open_memstream(&buf, &len)) != NULL);
	export_print_flow(fp, f, reason);
	fclose(fp);
	return (buf);
}

ATF_TC_WITHOUT_HEAD(print_tcp4);
ATF_TC_BODY(print_tcp4, tc)
{
	struct flow f;
	char *s;

	flow4(&f, "10.0.0.1", "10.0.0.2", 6);
	f.f_first = 1700000000000ULL;
	f.f_last = f.f_first + 1500;
	s = print_one(&f, FLOW_END_EOF);
	ATF_CHECK_STREQ(s, "2023-11-14 22:13:20.000 1.500 TCP 10.0.0.1:1234 "
	    "-> 10.0.0.2:80 10 4000 ...AP.SF end\n");
	free(s);
}

ATF_TC_WITHOUT_HEAD(print_udp6);
ATF_TC_BODY(print_udp6, tc)
{
	struct flow f;
	char *s;

	flow6(&f, "2001:db8::1", "2001:db8::2", 17);
	f.f_first = 1700000000250ULL;
	f.f_last = f.f_first + 12345;
	s = print_one(&f, FLOW_END_IDLE);
	ATF_CHECK_STREQ(s, "2023-11-14 22:13:20.250 12.345 UDP "
	    "[2001:db8::1]:5353 -> [2001:db8::2]:53 3 300 ........ idle "
	    "vlan 42\n");
	free(s);
}

ATF_TC_WITHOUT_HEAD(print_icmp);
ATF_TC_BODY(print_icmp, tc)
{
	struct flow f;
	char *s;

	flow4(&f, "10.0.0.1", "10.0.0.2", 1);
	f.f_key.k_sport = 0;
	f.f_key.k_dport = 8 * 256 + 0;
	f.f_tcpflags = 0;
	f.f_packets = 1;
	f.f_octets = 84;
	f.f_first = f.f_last = 1700000000007ULL;
	s = print_one(&f, FLOW_END_FORCED);
	ATF_CHECK_STREQ(s, "2023-11-14 22:13:20.007 0.000 ICMP 10.0.0.1:0 "
	    "-> 10.0.0.2:8.0 1 84 ........ forced\n");
	free(s);
	f.f_key.k_proto = 47;
	f.f_tcpflags = 0xc2;
	s = print_one(&f, FLOW_END_RESOURCES);
	ATF_CHECK(strstr(s, " 47 10.0.0.1:0 -> 10.0.0.2:2048 1 84 CE....S. "
	    "evicted\n") != NULL);
	free(s);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, v5_bytes);
	ATF_TP_ADD_TC(tp, v5_saturate);
	ATF_TP_ADD_TC(tp, v5_sequence);
	ATF_TP_ADD_TC(tp, v5_capacity_by_payload);
	ATF_TP_ADD_TC(tp, v5_ipv6_unexportable);
	ATF_TP_ADD_TC(tp, create_bad_conf);
	ATF_TP_ADD_TC(tp, v9_first_datagram);
	ATF_TP_ADD_TC(tp, v9_sequence_and_sets);
	ATF_TP_ADD_TC(tp, ipfix_header_and_sequence);
	ATF_TP_ADD_TC(tp, table_agreement_v9);
	ATF_TP_ADD_TC(tp, table_agreement_ipfix);
	ATF_TP_ADD_TC(tp, tmpl_refresh_count);
	ATF_TP_ADD_TC(tp, tmpl_refresh_time);
	ATF_TP_ADD_TC(tp, tmpl_after_failure);
	ATF_TP_ADD_TC(tp, flush_by_tick);
	ATF_TP_ADD_TC(tp, maxpayload_never_exceeded);
	ATF_TP_ADD_TC(tp, collector_parse_good);
	ATF_TP_ADD_TC(tp, collector_parse_bad);
	ATF_TP_ADD_TC(tp, collector_loopback_send);
	ATF_TP_ADD_TC(tp, collector_one_refuses);
	ATF_TP_ADD_TC(tp, collector_recovers);
	ATF_TP_ADD_TC(tp, print_tcp4);
	ATF_TP_ADD_TC(tp, print_udp6);
	ATF_TP_ADD_TC(tp, print_icmp);
	return (atf_no_error());
}
