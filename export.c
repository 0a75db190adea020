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
 * This file owns the export stage: it packs finished flows into NetFlow v5,
 * v9 (RFC 3954) or IPFIX (RFC 7011) datagrams, hands each datagram to a
 * send callback, and provides that callback for UDP collectors.  It also
 * prints flows as text when there is no collector.  It reads no clock and
 * knows nothing of capture: time always comes in as an argument.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowprobe.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* NetFlow v5 wire sizes. */
#define V5_HDRLEN	24
#define V5_RECLEN	48
#define V5_MAXRECS	30	/* collectors assume no more per datagram */

#define V9_HDRLEN	20
#define IPFIX_HDRLEN	16
#define SET_HDRLEN	4
#define TMPL_HDRLEN	4	/* template ID, field count */
#define FIELD_SPECLEN	4	/* IE ID, length */

#define V9_TMPLSET_ID	0
#define IPFIX_TMPLSET_ID 2
#define TMPL_ID_IPV4	256
#define TMPL_ID_IPV6	257

/* Both the IPFIX message length and a set length are 16 bits. */
#define MAX_PAYLOAD	65535

/* Information element IDs (RFC 3954 section 8, IANA IPFIX registry). */
#define IE_OCTETS	1
#define IE_PACKETS	2
#define IE_PROTO	4
#define IE_TOS		5
#define IE_TCPFLAGS	6
#define IE_SPORT	7
#define IE_SRC4		8
#define IE_INPUT	10
#define IE_DPORT	11
#define IE_DST4		12
#define IE_ICMPTYPE	32
#define IE_OUTPUT	14
#define IE_LAST_UPTIME	21
#define IE_FIRST_UPTIME	22
#define IE_SRC6		27
#define IE_DST6		28
#define IE_VLAN		58
#define IE_IPVER	60
#define IE_ENDREASON	136
#define IE_START_MS	152
#define IE_END_MS	153

struct ie {
	uint16_t	 ie_id;
	uint16_t	 ie_len;
};

/*
 * Stores one record of a template at p: the flow, why it ended, and the
 * exporter's sysUptime 0.  The caller has checked that the record fits.
 */
typedef void	 tmpl_write_fn(uint8_t *, const struct flow *, enum flow_end,
		    uint64_t);

struct tmpl {
	uint16_t	 t_id;
	uint16_t	 t_nies;
	const struct ie	*t_ies;
	tmpl_write_fn	*t_write;
};

/*
 * A template as the pending datagram has it: its record and writer, and
 * its data set, one at most a datagram.
 */
struct ex_set {
	size_t		 s_reclen;
	tmpl_write_fn	*s_write;
	uint8_t		*s_start;	/* the set's header, or NULL: none */
	uint8_t		*s_end;		/* where its next record goes */
	size_t		 s_room;	/* see export_flow() */
};

static void	 put16(uint8_t *, uint16_t);
static void	 put32(uint8_t *, uint32_t);
static void	 put64(uint8_t *, uint64_t);
static void	 wr_v9_4(uint8_t *, const struct flow *, enum flow_end,
		    uint64_t);
static void	 wr_v9_6(uint8_t *, const struct flow *, enum flow_end,
		    uint64_t);
static inline void wr_v9(uint8_t *, const struct flow *, uint64_t,
		    uint8_t);
static void	 wr_ipfix_4(uint8_t *, const struct flow *, enum flow_end,
		    uint64_t);
static void	 wr_ipfix_6(uint8_t *, const struct flow *, enum flow_end,
		    uint64_t);
static inline void wr_ipfix(uint8_t *, const struct flow *, enum flow_end,
		    uint8_t);
static size_t	 ex_pad(const struct exporter *, size_t);
static size_t	 tmpl_reclen(const struct tmpl *);
static size_t	 tmpl_setlen(const struct tmpl *);
static void	 tmpl_setwrite(uint8_t *, const struct tmpl *, uint16_t);
static size_t	 ex_min_payload(const struct exporter *);
static int	 ex_tmpl_due(const struct exporter *, uint64_t);
static void	 ex_begin(struct exporter *, uint64_t, int);
static void	 ex_close_sets(struct exporter *);
static int	 ex_fits(const struct exporter *, const struct ex_set *);
static void	 ex_open_set(struct exporter *, struct ex_set *);
static void	 ex_send_pending(struct exporter *, uint64_t);
static void	 wr_v5(uint8_t *, const struct flow *, enum flow_end,
		    uint64_t);
static void	 ex_open_v5(struct exporter *, uint64_t);
/* Out of line: its register saves would otherwise cost every record. */
static void	 ex_flow_slow(struct exporter *, struct ex_set *,
		    const struct flow *, enum flow_end, uint64_t) FP_NOINLINE;
static inline void ex_put(struct exporter *, struct ex_set *,
		    const struct flow *, enum flow_end);
static int	 col_parse(const char *, char *, size_t, char *, size_t,
		    int *, char *, size_t);
static void	 col_name(const struct sockaddr *, socklen_t, char *, size_t);
static const char *proto_name(uint8_t, char *, size_t);
static void	 print_addr(const struct fp_key *, const uint8_t *, char *,
		    size_t);

/*
 * The one description of each record layout: the template sets are built
 * from these tables.  Records are written by a function per template
 * (wr_v9_4() and the like) that stores the same fields in the same order
 * at fixed offsets, since walking the table cost several hundred
 * instructions per record.  The table_agreement cases in
 * tests/export_test.c decode a record with the template actually sent, so
 * a writer that drifts from its table fails there.
 */
/*
 * v9 also carries ICMP_TYPE: nfdump takes ICMP type and code from it
 * and not from the destination port when reading v9.
 */
static const struct ie v9_ies4[] = {
	{ IE_SRC4, 4 }, { IE_DST4, 4 }, { IE_SPORT, 2 }, { IE_DPORT, 2 },
	{ IE_PROTO, 1 }, { IE_TOS, 1 }, { IE_TCPFLAGS, 1 }, { IE_INPUT, 4 },
	{ IE_OUTPUT, 4 }, { IE_VLAN, 2 }, { IE_OCTETS, 8 },
	{ IE_PACKETS, 8 }, { IE_FIRST_UPTIME, 4 }, { IE_LAST_UPTIME, 4 },
	{ IE_IPVER, 1 }, { IE_ICMPTYPE, 2 }
};
static const struct ie v9_ies6[] = {
	{ IE_SRC6, 16 }, { IE_DST6, 16 }, { IE_SPORT, 2 }, { IE_DPORT, 2 },
	{ IE_PROTO, 1 }, { IE_TOS, 1 }, { IE_TCPFLAGS, 1 }, { IE_INPUT, 4 },
	{ IE_OUTPUT, 4 }, { IE_VLAN, 2 }, { IE_OCTETS, 8 },
	{ IE_PACKETS, 8 }, { IE_FIRST_UPTIME, 4 }, { IE_LAST_UPTIME, 4 },
	{ IE_IPVER, 1 }, { IE_ICMPTYPE, 2 }
};
/* IPFIX: tcpControlBits is unsigned16; absolute times, as nfdump needs. */
static const struct ie ipfix_ies4[] = {
	{ IE_SRC4, 4 }, { IE_DST4, 4 }, { IE_SPORT, 2 }, { IE_DPORT, 2 },
	{ IE_PROTO, 1 }, { IE_TOS, 1 }, { IE_TCPFLAGS, 2 }, { IE_INPUT, 4 },
	{ IE_OUTPUT, 4 }, { IE_VLAN, 2 }, { IE_OCTETS, 8 },
	{ IE_PACKETS, 8 }, { IE_START_MS, 8 }, { IE_END_MS, 8 },
	{ IE_ENDREASON, 1 }, { IE_IPVER, 1 }
};
static const struct ie ipfix_ies6[] = {
	{ IE_SRC6, 16 }, { IE_DST6, 16 }, { IE_SPORT, 2 }, { IE_DPORT, 2 },
	{ IE_PROTO, 1 }, { IE_TOS, 1 }, { IE_TCPFLAGS, 2 }, { IE_INPUT, 4 },
	{ IE_OUTPUT, 4 }, { IE_VLAN, 2 }, { IE_OCTETS, 8 },
	{ IE_PACKETS, 8 }, { IE_START_MS, 8 }, { IE_END_MS, 8 },
	{ IE_ENDREASON, 1 }, { IE_IPVER, 1 }
};

/* Index 0 is the IPv4 template, 1 the IPv6 one. */
static const struct tmpl v9_tmpls[2] = {
	{ TMPL_ID_IPV4, NITEMS(v9_ies4), v9_ies4, wr_v9_4 },
	{ TMPL_ID_IPV6, NITEMS(v9_ies6), v9_ies6, wr_v9_6 }
};
static const struct tmpl ipfix_tmpls[2] = {
	{ TMPL_ID_IPV4, NITEMS(ipfix_ies4), ipfix_ies4, wr_ipfix_4 },
	{ TMPL_ID_IPV6, NITEMS(ipfix_ies6), ipfix_ies6, wr_ipfix_6 }
};

struct exporter {
	struct export_conf	 ex_conf;
	uint64_t		 ex_boot;	/* sysUptime 0 */
	export_send_fn		*ex_send;
	void			*ex_arg;
	const struct tmpl	*ex_tmpls;	/* NULL for v5 */
	size_t			 ex_hdrlen;
	size_t			 ex_align;	/* v9 pads data sets */
	size_t			 ex_limit;	/* payload the sets may fill */
	size_t			 ex_maxrec;	/* the longer of the two */
	uint32_t		 ex_v5max;	/* v5 records per datagram */
	uint8_t			*ex_tmplset;	/* built once, copied as is */
	size_t			 ex_tmplsetlen;

	/*
	 * The pending datagram; ex_len == 0 means none.  It has one data
	 * set of each template at most, however the families mix, so that
	 * a change of family costs no set header and no padding: the set
	 * opened first follows the templates, the other is built in the
	 * second half of ex_buf and moved down behind it as the datagram
	 * goes.  Records of a template keep their order; a collector has
	 * no use for the order of records of different templates.
	 */
	uint8_t			*ex_buf;	/* 2 * ec_maxpayload */
	size_t			 ex_len;	/* as sent, less padding */
	struct ex_set		 ex_sets[2];	/* by template */
	uint32_t		 ex_data;	/* data records */
	int			 ex_hastmpl;	/* has the templates */
	uint64_t		 ex_started;	/* first record's time */

	uint64_t		 ex_seq;	/* see ex_send_pending */
	int			 ex_tmplsent;	/* templates ever sent */
	int			 ex_tmplowed;	/* a send failed: resend them */
	uint64_t		 ex_tmpllast;	/* ... last time when */
	uint32_t		 ex_sincetmpl;	/* datagrams since */
	int			 ex_warned6;
	struct export_stats	 ex_stats;
};

struct collector {
	int		 c_fd;
	int		 c_failing;	/* last send failed; warned */
	uint64_t	 c_sent;
	uint64_t	 c_failed;
	char		 c_name[160];	/* numeric "[host]:port" */
};

/*
 * Byte stores rather than htonl() and memcpy(): no alignment is needed
 * and compilers usually turn each into one byte-swapped store.
 */
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
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/*
 * The record writers, one per template, each a straight run of stores at
 * the offsets the template's table gives: the addresses, then the fields
 * both address families share, written inline (wr_v9(), wr_ipfix()) so
 * that a record costs one call.
 */
static void
wr_v9_4(uint8_t *p, const struct flow *f, enum flow_end reason,
    uint64_t boot)
{
	(void)reason;
	memcpy(p, f->f_key.k_src, 4);
	memcpy(p + 4, f->f_key.k_dst, 4);
	wr_v9(p + 8, f, boot, 4);
}

static void
wr_v9_6(uint8_t *p, const struct flow *f, enum flow_end reason,
    uint64_t boot)
{
	(void)reason;
	memcpy(p, f->f_key.k_src, 16);
	memcpy(p + 16, f->f_key.k_dst, 16);
	wr_v9(p + 32, f, boot, 6);
}

/* ipver is the template's: export_flow() picks it by IP version. */
static inline void
wr_v9(uint8_t *p, const struct flow *f, uint64_t boot, uint8_t ipver)
{
	const struct fp_key *k = &f->f_key;

	put16(p, k->k_sport);
	put16(p + 2, k->k_dport);
	p[4] = k->k_proto;
	p[5] = k->k_tos;
	p[6] = f->f_tcpflags;
	put32(p + 7, k->k_ifindex);
	put32(p + 11, 0);	/* output: flowprobe does not route */
	put16(p + 15, k->k_vlan);
	put64(p + 17, f->f_octets);
	put64(p + 25, f->f_packets);
	/* v9 times are sysUptime-relative and wrap at 2^32 ms, by design. */
	put32(p + 33, (uint32_t)(f->f_first - boot));
	put32(p + 37, (uint32_t)(f->f_last - boot));
	p[41] = ipver;
	put16(p + 42, k->k_proto == 1 || k->k_proto == 58 ? k->k_dport : 0);
}

static void
wr_ipfix_4(uint8_t *p, const struct flow *f, enum flow_end reason,
    uint64_t boot)
{
	(void)boot;
	memcpy(p, f->f_key.k_src, 4);
	memcpy(p + 4, f->f_key.k_dst, 4);
	wr_ipfix(p + 8, f, reason, 4);
}

static void
wr_ipfix_6(uint8_t *p, const struct flow *f, enum flow_end reason,
    uint64_t boot)
{
	(void)boot;
	memcpy(p, f->f_key.k_src, 16);
	memcpy(p + 16, f->f_key.k_dst, 16);
	wr_ipfix(p + 32, f, reason, 6);
}

static inline void
wr_ipfix(uint8_t *p, const struct flow *f, enum flow_end reason,
    uint8_t ipver)
{
	const struct fp_key *k = &f->f_key;

	put16(p, k->k_sport);
	put16(p + 2, k->k_dport);
	p[4] = k->k_proto;
	p[5] = k->k_tos;
	put16(p + 6, f->f_tcpflags);
	put32(p + 8, k->k_ifindex);
	put32(p + 12, 0);	/* output: flowprobe does not route */
	put16(p + 16, k->k_vlan);
	put64(p + 18, f->f_octets);
	put64(p + 26, f->f_packets);
	put64(p + 34, f->f_first);
	put64(p + 42, f->f_last);
	p[50] = (uint8_t)reason;
	p[51] = ipver;
}

/* A data set's length once padded. */
static size_t
ex_pad(const struct exporter *ex, size_t len)
{
	return ((len + ex->ex_align - 1) / ex->ex_align * ex->ex_align);
}

static size_t
tmpl_reclen(const struct tmpl *t)
{
	size_t i, len;

	len = 0;
	for (i = 0; i < t->t_nies; i++)
		len += t->t_ies[i].ie_len;
	return (len);
}

/* The length of a template set holding both templates of tmpls. */
static size_t
tmpl_setlen(const struct tmpl *tmpls)
{
	return (SET_HDRLEN + 2 * TMPL_HDRLEN +
	    (tmpls[0].t_nies + tmpls[1].t_nies) * FIELD_SPECLEN);
}

static void
tmpl_setwrite(uint8_t *buf, const struct tmpl *tmpls, uint16_t setid)
{
	const struct tmpl *t;
	uint8_t *p;
	size_t i;
	int j;

	p = buf + SET_HDRLEN;
	for (j = 0; j < 2; j++) {
		t = &tmpls[j];
		put16(p, t->t_id);
		put16(p + 2, t->t_nies);
		p += TMPL_HDRLEN;
		for (i = 0; i < t->t_nies; i++) {
			put16(p, t->t_ies[i].ie_id);
			put16(p + 2, t->t_ies[i].ie_len);
			p += FIELD_SPECLEN;
		}
	}
	put16(buf, setid);
	put16(buf + 2, p - buf);
}

/* The first datagram must hold the header, both templates and any record. */
static size_t
ex_min_payload(const struct exporter *ex)
{
	if (ex->ex_tmpls == NULL)
		return (V5_HDRLEN + V5_RECLEN);
	return (ex->ex_hdrlen + tmpl_setlen(ex->ex_tmpls) +
	    ex_pad(ex, SET_HDRLEN + ex->ex_maxrec));
}

struct exporter *
export_create(const struct export_conf *conf, uint64_t boot_ms,
    export_send_fn *send_fn, void *arg)
{
	struct exporter *ex;
	int i;

	if (conf == NULL || send_fn == NULL ||
	    (conf->ec_version != 5 && conf->ec_version != 9 &&
	    conf->ec_version != 10)) {
		errno = EINVAL;
		return (NULL);
	}
	if ((ex = calloc(1, sizeof(*ex))) == NULL)
		return (NULL);
	ex->ex_conf = *conf;
	/*
	 * On a whole second, so that v9's uptime below never goes negative,
	 * and one second back, so that no time is 0: nfdump takes a record
	 * whose FIRST and LAST are both 0 as one without times.
	 */
	ex->ex_boot = boot_ms - boot_ms % 1000 - 1000;
	ex->ex_send = send_fn;
	ex->ex_arg = arg;
	ex->ex_align = 1;
	switch (conf->ec_version) {
	case 5:
		ex->ex_hdrlen = V5_HDRLEN;
		/*
		 * IPv6 has no v5 record, but a length of 0 would pass
		 * export_flow()'s test with nothing pending.
		 */
		ex->ex_sets[0].s_reclen = ex->ex_sets[1].s_reclen = V5_RECLEN;
		ex->ex_sets[0].s_write = wr_v5;
		break;
	case 9:
		ex->ex_tmpls = v9_tmpls;
		ex->ex_hdrlen = V9_HDRLEN;
		ex->ex_align = 4;	/* RFC 3954 section 5.3 */
		break;
	default:
		ex->ex_tmpls = ipfix_tmpls;
		ex->ex_hdrlen = IPFIX_HDRLEN;
		break;
	}
	if (ex->ex_tmpls != NULL) {
		for (i = 0; i < 2; i++) {
			ex->ex_sets[i].s_reclen = tmpl_reclen(&ex->ex_tmpls[i]);
			ex->ex_sets[i].s_write = ex->ex_tmpls[i].t_write;
		}
	}
	ex->ex_maxrec = ex->ex_sets[0].s_reclen > ex->ex_sets[1].s_reclen ?
	    ex->ex_sets[0].s_reclen : ex->ex_sets[1].s_reclen;
	if (conf->ec_maxpayload < ex_min_payload(ex) ||
	    conf->ec_maxpayload > MAX_PAYLOAD) {
		free(ex);
		errno = EINVAL;
		return (NULL);
	}
	/* The longest datagram whose sets all end padded. */
	ex->ex_limit = conf->ec_maxpayload / ex->ex_align * ex->ex_align;
	ex->ex_v5max = (conf->ec_maxpayload - V5_HDRLEN) / V5_RECLEN;
	if (ex->ex_v5max > V5_MAXRECS)
		ex->ex_v5max = V5_MAXRECS;
	if ((ex->ex_buf = malloc(2 * conf->ec_maxpayload)) == NULL) {
		free(ex);
		return (NULL);
	}
	if (ex->ex_tmpls != NULL) {
		ex->ex_tmplsetlen = tmpl_setlen(ex->ex_tmpls);
		if ((ex->ex_tmplset = malloc(ex->ex_tmplsetlen)) == NULL) {
			free(ex->ex_buf);
			free(ex);
			return (NULL);
		}
		tmpl_setwrite(ex->ex_tmplset, ex->ex_tmpls,
		    conf->ec_version == 9 ? V9_TMPLSET_ID : IPFIX_TMPLSET_ID);
	}
	return (ex);
}

/*
 * Templates go first, then again once ec_tmpl_count datagrams (counting
 * the one that carried them) or ec_tmpl_ms have gone by; 0 disables either
 * trigger.  A clock that went backwards counts as due: an early template
 * costs little, a missing one makes the collector drop data.
 */
static int
ex_tmpl_due(const struct exporter *ex, uint64_t now)
{
	const struct export_conf *c = &ex->ex_conf;

	if (ex->ex_tmpls == NULL)
		return (0);
	if (!ex->ex_tmplsent || ex->ex_tmplowed)
		return (1);
	if (c->ec_tmpl_count != 0 && ex->ex_sincetmpl >= c->ec_tmpl_count)
		return (1);
	if (c->ec_tmpl_ms != 0 &&
	    (now < ex->ex_tmpllast || now - ex->ex_tmpllast >= c->ec_tmpl_ms))
		return (1);
	return (0);
}

/*
 * Starts a datagram: room for the header, which ex_send_pending() writes
 * whole, then the template set if due.
 */
static void
ex_begin(struct exporter *ex, uint64_t now, int force_tmpl)
{
	ex->ex_len = ex->ex_hdrlen;
	ex->ex_sets[0].s_start = ex->ex_sets[1].s_start = NULL;
	ex->ex_sets[0].s_room = ex->ex_sets[1].s_room = 0;
	ex->ex_data = 0;
	ex->ex_hastmpl = 0;
	ex->ex_started = now;
	if (!force_tmpl && !ex_tmpl_due(ex, now))
		return;
	memcpy(ex->ex_buf + ex->ex_len, ex->ex_tmplset, ex->ex_tmplsetlen);
	ex->ex_len += ex->ex_tmplsetlen;
	ex->ex_hastmpl = 1;
	ex->ex_tmplsent = 1;
	ex->ex_tmplowed = 0;
	ex->ex_tmpllast = now;
}

/*
 * Pads each data set and fills in its length, moving the one built
 * apart down behind the other: the datagram as it goes out.  v5 has no
 * sets.
 */
static void
ex_close_sets(struct exporter *ex)
{
	struct ex_set *s;
	uint8_t *end, *apart;
	size_t len, padded;
	int first, i;

	if (ex->ex_tmpls == NULL)
		return;
	/* The set in place first: it starts where the templates end. */
	s = &ex->ex_sets[0];
	apart = ex->ex_buf + ex->ex_conf.ec_maxpayload;
	first = s->s_start == NULL || s->s_start >= apart;
	if ((end = ex->ex_sets[first].s_start) == NULL)
		return;
	for (i = 0; i < 2; i++) {
		s = &ex->ex_sets[i == 0 ? first : 1 - first];
		if (s->s_start == NULL)
			continue;
		len = (size_t)(s->s_end - s->s_start);
		if (s->s_start != end)
			memcpy(end, s->s_start, len);
		/* At most align - 1 bytes: no call to memset(3) for them. */
		for (padded = ex_pad(ex, len); len < padded; len++)
			end[len] = 0;
		put16(end + 2, (uint16_t)len);
		end += len;
	}
	ex->ex_len = (size_t)(end - ex->ex_buf);
}

/*
 * Would one more record of set s fit, in a new set if it has none yet?
 * Exact, padding included; export_flow()'s test is coarser.
 */
static int
ex_fits(const struct exporter *ex, const struct ex_set *s)
{
	const struct ex_set *o;
	size_t len, set;
	int i;

	len = ex->ex_len + s->s_reclen;
	if (s->s_start == NULL)
		len += SET_HDRLEN;
	for (i = 0; i < 2; i++) {
		o = &ex->ex_sets[i];
		set = o->s_start != NULL ? (size_t)(o->s_end - o->s_start) :
		    o == s ? SET_HDRLEN : 0;
		if (o == s)
			set += s->s_reclen;
		len += ex_pad(ex, set) - set;
	}
	return (len <= ex->ex_limit);
}

/*
 * The data set of s in the pending datagram: after the templates if it
 * is the first, else in the second half of ex_buf.
 */
static void
ex_open_set(struct exporter *ex, struct ex_set *s)
{
	int t;

	t = (int)(s - ex->ex_sets);
	if (ex->ex_sets[1 - t].s_start == NULL)
		s->s_start = ex->ex_buf + ex->ex_len;
	else
		s->s_start = ex->ex_buf + ex->ex_conf.ec_maxpayload;
	put16(s->s_start, ex->ex_tmpls[t].t_id);
	s->s_end = s->s_start + SET_HDRLEN;
	ex->ex_len += SET_HDRLEN;
	/*
	 * The datagram and every set in it are a multiple of ex_align
	 * long once padded: with ex_len up to align - 1 short of ex_limit,
	 * the padding of both sets still fits.
	 */
	s->s_room = ex->ex_limit - (ex->ex_align - 1);
}

/*
 * Fills in the header and sends.  Sequence numbers follow each spec: v5
 * counts flow records, v9 datagrams, IPFIX data records, all sent before
 * this datagram.
 */
static void
ex_send_pending(struct exporter *ex, uint64_t now)
{
	const struct export_conf *c = &ex->ex_conf;
	uint8_t *h = ex->ex_buf;
	uint32_t uptime = (uint32_t)(now - ex->ex_boot);
	uint32_t secs = (uint32_t)(now / 1000);	/* XXX 2106 */

	/*
	 * A v9 header has whole seconds only, and collectors take boot time
	 * as unix_secs - sysUptime: give the uptime of that whole second, or
	 * every time is off by the milliseconds dropped.
	 */
	if (c->ec_version == 9)
		uptime = (uint32_t)(now - now % 1000 - ex->ex_boot);

	if (ex->ex_len == 0)
		return;
	ex_close_sets(ex);
	switch (c->ec_version) {
	case 5:
		put16(h, 5);
		put16(h + 2, ex->ex_data);
		put32(h + 4, uptime);
		put32(h + 8, secs);
		put32(h + 12, (uint32_t)(now % 1000) * 1000000);
		put32(h + 16, (uint32_t)ex->ex_seq);
		h[20] = (c->ec_domain >> 8) & 0xff;
		h[21] = c->ec_domain & 0xff;
		put16(h + 22, 0);
		ex->ex_seq += ex->ex_data;
		break;
	case 9:
		put16(h, 9);
		/* v9 counts the two template records too. */
		put16(h + 2, ex->ex_data + (ex->ex_hastmpl ? 2 : 0));
		put32(h + 4, uptime);
		put32(h + 8, secs);
		put32(h + 12, (uint32_t)ex->ex_seq);
		put32(h + 16, c->ec_domain);
		ex->ex_seq++;
		break;
	default:
		put16(h, 10);
		put16(h + 2, ex->ex_len);
		put32(h + 4, secs);
		put32(h + 8, (uint32_t)ex->ex_seq);
		put32(h + 12, c->ec_domain);
		ex->ex_seq += ex->ex_data;
		break;
	}
	if (ex->ex_hastmpl) {
		ex->ex_stats.es_templates++;
		ex->ex_sincetmpl = 1;
	} else
		ex->ex_sincetmpl++;
	ex->ex_stats.es_datagrams++;
	ex->ex_stats.es_records += ex->ex_data;
	/*
	 * A collector that refused or dropped a datagram may be one that
	 * restarted and lost our templates: it could decode nothing until
	 * the next refresh, so the next datagram carries them.
	 */
	if (ex->ex_send(ex->ex_buf, ex->ex_len, ex->ex_arg) == -1) {
		ex->ex_stats.es_senderrors++;
		ex->ex_tmplowed = 1;
	}
	ex->ex_len = 0;
	ex->ex_sets[0].s_room = ex->ex_sets[1].s_room = 0;
}

/*
 * v5 has no sets: records follow the header, 30 at most.  The datagram
 * counts as one set open for template 0, so that its records take the
 * same path as the others.
 */
static void
ex_open_v5(struct exporter *ex, uint64_t now)
{
	ex_send_pending(ex, now);	/* the full one, if any */
	ex_begin(ex, now, 0);
	ex->ex_sets[0].s_end = ex->ex_buf + V5_HDRLEN;
	ex->ex_sets[0].s_room = V5_HDRLEN + ex->ex_v5max * V5_RECLEN;
}

static void
wr_v5(uint8_t *r, const struct flow *f, enum flow_end reason, uint64_t boot)
{
	const struct fp_key *k = &f->f_key;

	(void)reason;
	memset(r, 0, V5_RECLEN);
	memcpy(r, k->k_src, 4);
	memcpy(r + 4, k->k_dst, 4);
	/* nexthop (8) and output (14) stay 0: flowprobe does not route. */
	put16(r + 12, k->k_ifindex > UINT16_MAX ? UINT16_MAX : k->k_ifindex);
	/*
	 * v5 counters are 32 bits: saturate for now.  A later change splits
	 * such flows into several records instead.
	 */
	put32(r + 16, f->f_packets > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)f->f_packets);
	put32(r + 20, f->f_octets > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)f->f_octets);
	put32(r + 24, (uint32_t)(f->f_first - boot));
	put32(r + 28, (uint32_t)(f->f_last - boot));
	put16(r + 32, k->k_sport);
	put16(r + 34, k->k_dport);
	r[37] = f->f_tcpflags;
	r[38] = k->k_proto;
	r[39] = k->k_tos;
}

/* Appends a record to set s; the caller has made room for it. */
static inline void
ex_put(struct exporter *ex, struct ex_set *s, const struct flow *f,
    enum flow_end reason)
{
	uint8_t *p;

	p = s->s_end;
	s->s_end += s->s_reclen;
	ex->ex_len += s->s_reclen;
	ex->ex_data++;
	/* Last, so that the compiler can make the call a jump. */
	s->s_write(p, f, reason, ex->ex_boot);
}

/*
 * The first record of a data set or datagram, one near the end of a
 * datagram, or one v5 cannot carry.
 */
static void
ex_flow_slow(struct exporter *ex, struct ex_set *s, const struct flow *f,
    enum flow_end reason, uint64_t now)
{
	if (ex->ex_tmpls != NULL) {
		if (ex->ex_len != 0 && !ex_fits(ex, s))
			ex_send_pending(ex, now);
		if (ex->ex_len == 0)
			ex_begin(ex, now, 0);
		if (s->s_start == NULL)
			ex_open_set(ex, s);
	} else if (s == &ex->ex_sets[0])
		ex_open_v5(ex, now);
	else {
		ex->ex_stats.es_unexportable++;
		if (!ex->ex_warned6) {
			log_warnx("NetFlow v5 cannot carry IPv6 flows; "
			    "use -V 9 or -V 10");
			ex->ex_warned6 = 1;
		}
		return;
	}
	ex_put(ex, s, f, reason);
}

/*
 * The per-record path.  In the common case, one more record in the
 * template's open data set, it is a compare, three additions and the
 * writer's stores: s_room is how long the datagram may grow by records
 * of the set's template with room left for any padding, 0 while it has
 * no such set, and everything else waits for ex_flow_slow().
 */
void
export_flow(struct exporter *ex, const struct flow *f, enum flow_end reason,
    uint64_t now)
{
	struct ex_set *s;

	s = f->f_key.k_ipver == 6 ? &ex->ex_sets[1] : &ex->ex_sets[0];
	if (ex->ex_len + s->s_reclen <= s->s_room)
		ex_put(ex, s, f, reason);
	else
		ex_flow_slow(ex, s, f, reason, now);
}

void
export_tick(struct exporter *ex, uint64_t now)
{
	if (ex->ex_len != 0 && (now < ex->ex_started ||
	    now - ex->ex_started >= ex->ex_conf.ec_flush_ms))
		ex_send_pending(ex, now);
	/*
	 * Only time can make templates due while nothing is being sent.
	 * Templates owed after a failed send wait for the next records:
	 * sending them alone would retry a dead collector on every tick.
	 */
	if (ex->ex_len == 0 && ex->ex_tmplsent && !ex->ex_tmplowed &&
	    ex->ex_conf.ec_tmpl_ms != 0 && ex_tmpl_due(ex, now)) {
		ex_begin(ex, now, 1);
		ex_send_pending(ex, now);
	}
}

void
export_flush(struct exporter *ex, uint64_t now)
{
	ex_send_pending(ex, now);
}

/*
 * The fewest records a full datagram carries: templates, a set of each
 * template with its padding, and the longest record only.  A sender that
 * budgets datagrams budgets records with it.
 */
size_t
export_min_records(const struct exporter *ex)
{
	size_t room, overhead;

	if (ex->ex_tmpls == NULL)
		return (ex->ex_v5max);
	overhead = ex->ex_hdrlen + ex->ex_tmplsetlen +
	    2 * (SET_HDRLEN + ex->ex_align);
	room = ex->ex_limit > overhead ? ex->ex_limit - overhead : 0;
	return (room / ex->ex_maxrec > 1 ? room / ex->ex_maxrec : 1);
}

const struct export_stats *
export_stats(const struct exporter *ex)
{
	return (&ex->ex_stats);
}

void
export_destroy(struct exporter *ex)
{
	if (ex == NULL)
		return;
	free(ex->ex_buf);
	free(ex->ex_tmplset);
	free(ex);
}

size_t
export_maxpayload(int inet6)
{
	return (EXPORT_MTU - 8 - (inet6 ? 40 : 20));
}

const char *
export_reason_name(enum flow_end reason)
{
	switch (reason) {
	case FLOW_END_IDLE:
		return ("idle");
	case FLOW_END_ACTIVE:
		return ("active");
	case FLOW_END_EOF:
		return ("end");
	case FLOW_END_FORCED:
		return ("forced");
	case FLOW_END_RESOURCES:
		return ("evicted");
	default:
		return ("unknown");
	}
}

static const char *
proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 1:
		return ("ICMP");
	case 6:
		return ("TCP");
	case 17:
		return ("UDP");
	case 58:
		return ("ICMP6");
	case 132:
		return ("SCTP");
	default:
		snprintf(buf, len, "%u", proto);
		return (buf);
	}
}

/* "a.b.c.d" or "[v6]" for one of the key's addresses. */
static void
print_addr(const struct fp_key *k, const uint8_t *addr, char *buf,
    size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (k->k_ipver == 6) {
		if (inet_ntop(AF_INET6, addr, a, sizeof(a)) == NULL)
			snprintf(a, sizeof(a), "?");
		snprintf(buf, len, "[%s]", a);
	} else {
		if (inet_ntop(AF_INET, addr, a, sizeof(a)) == NULL)
			snprintf(a, sizeof(a), "?");
		snprintf(buf, len, "%s", a);
	}
}

void
export_print_flow(FILE *fp, const struct flow *f, enum flow_end reason)
{
	const struct fp_key *k = &f->f_key;
	char when[32], src[INET6_ADDRSTRLEN + 2], dst[INET6_ADDRSTRLEN + 2];
	char dport[16], pbuf[8], flags[9], vlan[16];
	const char *names = "CEUAPRSF";
	struct tm tm;
	time_t secs;
	uint64_t dur;
	int i;

	secs = (time_t)(f->f_first / 1000);
	if (localtime_r(&secs, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)secs);
	dur = f->f_last > f->f_first ? f->f_last - f->f_first : 0;
	print_addr(k, k->k_src, src, sizeof(src));
	print_addr(k, k->k_dst, dst, sizeof(dst));
	if (k->k_proto == 1 || k->k_proto == 58)
		snprintf(dport, sizeof(dport), "%u.%u", k->k_dport >> 8,
		    k->k_dport & 0xff);
	else
		snprintf(dport, sizeof(dport), "%u", k->k_dport);
	for (i = 0; i < 8; i++)
		flags[i] = (f->f_tcpflags & (0x80 >> i)) ? names[i] : '.';
	flags[8] = '\0';
	vlan[0] = '\0';
	if (k->k_vlan != 0)
		snprintf(vlan, sizeof(vlan), " vlan %u", k->k_vlan);
	fprintf(fp, "%s.%03u %" PRIu64 ".%03u %s %s:%u -> %s:%s %" PRIu64
	    " %" PRIu64 " %s %s%s\n", when, (unsigned)(f->f_first % 1000),
	    dur / 1000, (unsigned)(dur % 1000),
	    proto_name(k->k_proto, pbuf, sizeof(pbuf)), src, k->k_sport,
	    dst, dport, f->f_packets, f->f_octets, flags,
	    export_reason_name(reason), vlan);
}

/*
 * Splits a collector spec into host and port.  Returns 0, or -1 with a
 * message in errbuf.  *numeric is set when the host must be an IPv6
 * literal (bracketed, or a bare address with several colons).
 */
static int
col_parse(const char *spec, char *host, size_t hostlen, char *port,
    size_t portlen, int *numeric, char *errbuf, size_t errlen)
{
	const char *h, *p, *close, *colon;
	size_t hl;
	unsigned long n;
	char *end;

	*numeric = 0;
	p = NULL;
	if (spec[0] == '[') {
		if ((close = strchr(spec, ']')) == NULL) {
			snprintf(errbuf, errlen, "%s: missing ']'", spec);
			return (-1);
		}
		h = spec + 1;
		hl = close - h;
		if (close[1] == ':')
			p = close + 2;
		else if (close[1] != '\0') {
			snprintf(errbuf, errlen, "%s: junk after ']'", spec);
			return (-1);
		}
		*numeric = 1;
	} else if ((colon = strchr(spec, ':')) != NULL &&
	    strchr(colon + 1, ':') != NULL) {
		/* Several colons and no brackets: a bare IPv6 address. */
		h = spec;
		hl = strlen(spec);
		*numeric = 1;
	} else {
		h = spec;
		hl = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
		if (colon != NULL)
			p = colon + 1;
	}
	if (hl == 0 || hl >= hostlen) {
		snprintf(errbuf, errlen, "%s: bad collector host", spec);
		return (-1);
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (p == NULL)
		p = EXPORT_DEFAULT_PORT;
	if (*p == '\0' || strlen(p) >= portlen) {
		snprintf(errbuf, errlen, "%s: bad collector port", spec);
		return (-1);
	}
	if (p[strspn(p, "0123456789")] == '\0') {
		errno = 0;
		n = strtoul(p, &end, 10);
		if (errno != 0 || n < 1 || n > 65535) {
			snprintf(errbuf, errlen,
			    "%s: port must be 1-65535", spec);
			return (-1);
		}
	}
	snprintf(port, portlen, "%s", p);
	return (0);
}

/* "1.2.3.4:port" or "[v6]:port", numerically, for messages. */
static void
col_name(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
	char host[128], serv[8];

	if (getnameinfo(sa, salen, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, len, "?");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%s", host, serv);
	else
		snprintf(buf, len, "%s:%s", host, serv);
}

int
collector_add(struct collectors *cs, const char *spec, char *errbuf,
    size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	struct collector *c;
	char host[NI_MAXHOST], port[NI_MAXSERV];
	int numeric, error, fd, flags, serrno;

	if (spec == NULL || *spec == '\0') {
		snprintf(errbuf, errlen, "empty collector");
		errno = EINVAL;
		return (-1);
	}
	if (cs->cs_count >= EXPORT_MAXCOLLECTORS) {
		snprintf(errbuf, errlen, "%s: at most %d collectors", spec,
		    EXPORT_MAXCOLLECTORS);
		errno = EINVAL;
		return (-1);
	}
	if (col_parse(spec, host, sizeof(host), port, sizeof(port), &numeric,
	    errbuf, errlen) == -1) {
		errno = EINVAL;
		return (-1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = numeric ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	hints.ai_flags = numeric ? AI_NUMERICHOST : 0;
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(errbuf, errlen, "%s: %s", spec, gai_strerror(error));
		/* A bad literal or port is a usage error, not a DNS one. */
		if (numeric || error == EAI_SERVICE || error == EAI_FAMILY ||
		    error == EAI_SOCKTYPE || error == EAI_BADFLAGS)
			errno = EINVAL;
		else
			errno = EADDRNOTAVAIL;
		return (-1);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		serrno = errno;
		freeaddrinfo(res);
		snprintf(errbuf, errlen, "%s: %s", spec, strerror(serrno));
		errno = serrno;
		return (-1);
	}
	fd = -1;
	serrno = EADDRNOTAVAIL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) == -1) {
			serrno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		serrno = errno;
		close(fd);
		fd = -1;
	}
	if (fd == -1) {
		freeaddrinfo(res);
		free(c);
		snprintf(errbuf, errlen, "%s: %s", spec, strerror(serrno));
		errno = serrno;
		return (-1);
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	/*
	 * Never wait for a collector: with a congested path a blocking
	 * send(2) would stop metering, and SIGTERM with it.  A full socket
	 * buffer fails the send (EAGAIN) and counts as such.
	 */
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		serrno = errno;
		close(fd);
		freeaddrinfo(res);
		free(c);
		snprintf(errbuf, errlen, "%s: %s", spec, strerror(serrno));
		errno = serrno;
		return (-1);
	}
	c->c_fd = fd;
	col_name(ai->ai_addr, ai->ai_addrlen, c->c_name, sizeof(c->c_name));
	if (ai->ai_family == AF_INET6)
		cs->cs_inet6 = 1;
	freeaddrinfo(res);
	cs->cs_list[cs->cs_count++] = c;
	return (0);
}

/*
 * Each collector on its own: one that fails does not stop the others.  A
 * connected UDP socket reports an ICMP port unreachable for the datagram
 * before as ECONNREFUSED on this send, and drops this one; the error is
 * cleared by then, so one retry delivers it if the collector is back.
 * The refused datagram is the one before, so that one moves from sent to
 * failed.  Returns -1 if any collector lost a datagram.
 */
int
collector_send(const uint8_t *buf, size_t len, void *arg)
{
	struct collectors *cs = arg;
	struct collector *c;
	ssize_t n;
	int i, rv, refused;

	rv = 0;
	for (i = 0; i < cs->cs_count; i++) {
		c = cs->cs_list[i];
		refused = 0;
		while ((n = send(c->c_fd, buf, len, 0)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECONNREFUSED || refused)
				break;
			/* The one before was refused, this one dropped. */
			refused = 1;
			if (c->c_sent > 0) {
				c->c_sent--;
				c->c_failed++;
			}
		}
		if (n == (ssize_t)len)
			c->c_sent++;
		else
			c->c_failed++;
		if (n == (ssize_t)len && !refused) {
			if (c->c_failing) {
				log_warnx("collector %s: sending again",
				    c->c_name);
				c->c_failing = 0;
			}
			continue;
		}
		rv = -1;
		if (!c->c_failing) {
			if (n == -1)
				log_warn("collector %s", c->c_name);
			else if (n != (ssize_t)len)
				log_warnx("collector %s: short send",
				    c->c_name);
			else
				log_warnx("collector %s: %s", c->c_name,
				    strerror(ECONNREFUSED));
			c->c_failing = 1;
		}
	}
	return (rv);
}

void
collector_summary(const struct collectors *cs)
{
	const struct collector *c;
	int i;

	for (i = 0; i < cs->cs_count; i++) {
		c = cs->cs_list[i];
		log_info("collector %s: %" PRIu64 " datagrams sent, %" PRIu64
		    " failed", c->c_name, c->c_sent, c->c_failed);
	}
}

/* For the sandbox, which limits each socket to sending. */
int
collector_fd(const struct collectors *cs, int i)
{
	return (i < cs->cs_count ? cs->cs_list[i]->c_fd : -1);
}

uint64_t
collector_failures(const struct collectors *cs)
{
	uint64_t n;
	int i;

	n = 0;
	for (i = 0; i < cs->cs_count; i++)
		n += cs->cs_list[i]->c_failed;
	return (n);
}

void
collector_close_all(struct collectors *cs)
{
	int i;

	for (i = 0; i < cs->cs_count; i++) {
		close(cs->cs_list[i]->c_fd);
		free(cs->cs_list[i]);
		cs->cs_list[i] = NULL;
	}
	cs->cs_count = 0;
	cs->cs_inet6 = 0;
}
