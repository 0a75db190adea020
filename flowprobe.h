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
 * Types shared between the stages of the pipeline, capture -> decode ->
 * flow cache -> export, and the prototypes of each stage grouped by the
 * file that owns them.  Only flowprobe.c sees every stage.
 *
 * Time is one unit everywhere below: milliseconds since the Unix epoch,
 * taken from the capture (packet timestamps when reading a file).  No
 * stage reads a clock of its own.
 */

#ifndef FLOWPROBE_H
#define FLOWPROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Hints for the hot paths, each where the compiler's own choice was
 * measured to cost: always or never inline, which way a test usually
 * goes, and a fetch ahead of use.
 */
#if defined(__GNUC__) || defined(__clang__)
#define FP_INLINE	inline __attribute__((__always_inline__))
#define FP_NOINLINE	__attribute__((__noinline__))
#define FP_USUALLY(e)	__builtin_expect((e) != 0, 1)
#define FP_RARELY(e)	__builtin_expect((e) != 0, 0)
#define FP_PREFETCH(p)	__builtin_prefetch(p)
#else
#define FP_INLINE	inline
#define FP_NOINLINE
#define FP_USUALLY(e)	(e)
#define FP_RARELY(e)	(e)
#define FP_PREFETCH(p)	((void)0)
#endif

/* Link types, numbered as in pcap savefiles (LINKTYPE_*). */
#define LINK_NULL	0	/* BSD loopback, host-order AF */
#define LINK_ETHERNET	1
#define LINK_RAW_BSD	12	/* DLT_RAW on most BSDs */
#define LINK_RAW_OPENBSD 14	/* DLT_RAW on OpenBSD */
#define LINK_RAW	101	/* LINKTYPE_RAW */
#define LINK_LOOP	108	/* OpenBSD loopback, network-order AF */
#define LINK_LINUX_SLL	113
#define LINK_IPV4	228
#define LINK_IPV6	229
#define LINK_LINUX_SLL2	276

/*
 * One captured frame as a capture backend hands it over: as it was on
 * the wire, VLAN tags included (a backend whose kernel strips them puts
 * them back).
 */
struct fp_frame {
	const uint8_t	*fr_data;	/* fr_caplen readable bytes; NULL
					   only when fr_caplen is 0 */
	uint32_t	 fr_caplen;	/* bytes captured */
	uint32_t	 fr_wirelen;	/* bytes on the wire, >= fr_caplen */
	uint64_t	 fr_time;	/* ms since the epoch */
};

/*
 * The flow key.  The decoder zeroes the whole structure (padding
 * included) before filling it.  IPv4 addresses sit in the first 4 bytes
 * of the 16, the rest zero.  The flow cache keys on every field but the
 * input interface, which is the cache's own: flows from two interfaces
 * would merge, and a probe captures on one.
 */
struct fp_key {
	uint8_t		 k_src[16];
	uint8_t		 k_dst[16];
	uint32_t	 k_ifindex;	/* input interface */
	uint16_t	 k_sport;	/* host order; 0 without ports */
	uint16_t	 k_dport;	/* ICMP: type * 256 + code */
	uint16_t	 k_vlan;	/* outermost VLAN ID, 0 if none */
	uint8_t		 k_proto;	/* IP protocol of the transport */
	uint8_t		 k_tos;		/* IPv4 ToS, IPv6 traffic class */
	uint8_t		 k_ipver;	/* 4 or 6 */
	uint8_t		 k_pad[3];
};

/* What the decoder extracts from one frame. */
struct fp_pkt {
	struct fp_key	 p_key;
	uint32_t	 p_octets;	/* IP-layer bytes from the IP header;
					   the cache wants at least 1 */
	uint8_t		 p_tcpflags;	/* TCP flags byte, 0 if not TCP */
	uint8_t		 p_l4trunc;	/* transport header cut by snaplen */
};

/*
 * A decoded packet as the flow cache takes it: the key packed into words
 * that hash and compare whole, written straight by the decoder's fast
 * path.  Words 0-3 hold the IPv6 source then destination; an IPv4 key
 * has its source then destination in word 0, and its words 1-3 are never
 * read (decode_pack() zeroes them, the fast path leaves them as they were).
 * Word 4 holds the ports (the transport's first four bytes as they were
 * on the wire, copied into the low half as memcpy(3) lays them out; 0
 * without ports), then VLAN, IP version, protocol and ToS.  Words never
 * leave the process: decode_pack() and decode_unpack() convert, so an
 * IPv4 fp_key's address bytes 4-15, zero from the decoder, are not kept.
 */
#define PK_WORDS	5
#define PK_VLAN_SHIFT	32
#define PK_VER_SHIFT	44
#define PK_PROTO_SHIFT	48
#define PK_TOS_SHIFT	56
/* The version is 4 or 6: one bit tells them apart (4 is 0100, 6 0110). */
#define PK_IS_IPV4(w4)	(((w4) >> (PK_VER_SHIFT + 1) & 1) == 0)

struct fp_packed {
	uint64_t	 pk_key[PK_WORDS];
	uint64_t	 pk_time;	/* ms since the epoch */
	uint32_t	 pk_octets;	/* >= 1; the decoder's >= 20 */
	uint8_t		 pk_tcpflags;
};

/* decode_frame() verdicts. */
enum decode_result {
	DECODE_OK = 0,		/* p filled in; meter it */
	DECODE_NOTIP,		/* not IPv4/IPv6 (ARP, LLDP, ...): skip */
	DECODE_TRUNCATED,	/* capture ends inside a header needed */
	DECODE_INVALID,		/* header fields contradict each other */
	DECODE_UNSUPPORTED	/* link type flowprobe does not decode */
};

/* Flow end reasons, numbered as IPFIX flowEndReason (RFC 7011/IANA). */
enum flow_end {
	FLOW_END_IDLE = 1,	/* inactive timeout */
	FLOW_END_ACTIVE = 2,	/* active timeout */
	FLOW_END_EOF = 3,	/* end of flow: TCP FIN or RST seen */
	FLOW_END_FORCED = 4,	/* end of input, shutdown */
	FLOW_END_RESOURCES = 5,	/* evicted: the cache was full */
	FLOW_END_MAX
};

/* A metered flow as the cache hands it to export. */
struct flow {
	struct fp_key	 f_key;
	uint64_t	 f_packets;
	uint64_t	 f_octets;
	uint64_t	 f_first;	/* ms since the epoch */
	uint64_t	 f_last;
	uint8_t		 f_tcpflags;	/* OR of every packet's flags */
};

typedef void	 flow_emit_fn(const struct flow *, enum flow_end, void *);

/* decode.c */
int		 decode_frame(int, const struct fp_frame *, uint32_t,
		    struct fp_pkt *);
size_t		 decode_frames(int, const struct fp_frame *, size_t,
		    struct fp_packed *, uint64_t *);
void		 decode_pack(const struct fp_pkt *, uint64_t,
		    struct fp_packed *);
void		 decode_unpack(const uint64_t *, struct fp_key *);

/* pcapfile.c */
struct pcapfile;
struct pcapfile	*pcapfile_open(const char *, char *, size_t);
int		 pcapfile_linktype(const struct pcapfile *);
int		 pcapfile_fd(const struct pcapfile *);
int		 pcapfile_next(struct pcapfile *, struct fp_frame *, char *,
		    size_t);
int		 pcapfile_read(struct pcapfile *, struct fp_frame *, size_t,
		    char *, size_t);
void		 pcapfile_close(struct pcapfile *);

/* flowcache.c */
struct fc_conf {
	uint32_t	 fc_maxflows;	/* hard limit on flows held */
	uint32_t	 fc_ifindex;	/* input interface, of every flow */
	uint32_t	 fc_inactive;	/* ms without packets before export */
	uint32_t	 fc_active;	/* ms after first packet */
	uint32_t	 fc_tcpend;	/* ms after a FIN or RST */
	uint64_t	 fc_maxcount;	/* most packets or octets a record
					   may carry; 0: no limit */
	uint64_t	 fc_seed[2];	/* hash key */
};
struct fc_stats {
	uint64_t	 fs_packets;	/* packets metered */
	uint64_t	 fs_created;	/* flows created */
	uint64_t	 fs_ended[FLOW_END_MAX]; /* flows emitted, by reason */
	uint32_t	 fs_active;	/* flows held now */
	uint32_t	 fs_peak;	/* most flows held at once */
};
struct flowcache;
struct flowcache *flowcache_create(const struct fc_conf *, flow_emit_fn *,
		    void *);
void		 flowcache_update(struct flowcache *, const struct fp_pkt *,
		    uint64_t);
void		 flowcache_update_batch(struct flowcache *,
		    const struct fp_packed *, size_t);
void		 flowcache_expire(struct flowcache *, uint64_t);
size_t		 flowcache_expire_some(struct flowcache *, uint64_t, size_t);
void		 flowcache_flush(struct flowcache *, enum flow_end);
uint64_t	 flowcache_next_expiry(struct flowcache *);
const struct fc_stats *flowcache_stats(const struct flowcache *);
void		 flowcache_destroy(struct flowcache *);

/* export.c */
#define EXPORT_MAXCOLLECTORS	8
#define EXPORT_DEFAULT_PORT	"9995"
#define EXPORT_MTU		1500
struct export_conf {
	int		 ec_version;	/* 5, 9 or 10 */
	uint32_t	 ec_domain;	/* source ID / observation domain */
	uint32_t	 ec_tmpl_ms;	/* template refresh interval */
	uint32_t	 ec_tmpl_count;	/* ... or every this many datagrams */
	uint32_t	 ec_flush_ms;	/* longest a record waits to be sent */
	size_t		 ec_maxpayload;	/* UDP payload limit */
};
struct export_stats {
	uint64_t	 es_records;	/* flow records sent */
	uint64_t	 es_datagrams;	/* datagrams built */
	uint64_t	 es_templates;	/* template sets sent */
	uint64_t	 es_unexportable; /* IPv6 flows with v5 */
	uint64_t	 es_senderrors;	/* failed sends, all collectors */
};
/* Receives each finished datagram; returns 0, or -1 if sending failed. */
typedef int	 export_send_fn(const uint8_t *, size_t, void *);
struct exporter;
struct exporter	*export_create(const struct export_conf *, uint64_t,
		    export_send_fn *, void *);
void		 export_flow(struct exporter *, const struct flow *,
		    enum flow_end, uint64_t);
void		 export_tick(struct exporter *, uint64_t);
void		 export_flush(struct exporter *, uint64_t);
size_t		 export_min_records(const struct exporter *);
const struct export_stats *export_stats(const struct exporter *);
void		 export_destroy(struct exporter *);
size_t		 export_maxpayload(int);
void		 export_print_flow(FILE *, const struct flow *, enum flow_end);
const char	*export_reason_name(enum flow_end);

/* export.c: collectors, each sent to on its own connected UDP socket */
struct collector;
struct collectors {
	struct collector *cs_list[EXPORT_MAXCOLLECTORS];
	int		 cs_count;
	int		 cs_inet6;	/* one or more is IPv6 */
};
int		 collector_add(struct collectors *, const char *, char *,
		    size_t);
int		 collector_send(const uint8_t *, size_t, void *);
void		 collector_summary(const struct collectors *);
int		 collector_fd(const struct collectors *, int);
uint64_t	 collector_failures(const struct collectors *);
void		 collector_close_all(struct collectors *);

/* options.c */
struct options {
	struct fc_conf	 o_fcc;
	struct export_conf o_ecc;
	const char	*o_file;	/* -r */
	const char	*o_ifname;	/* -i */
	uint32_t	 o_ifindex;	/* 0: the interface's own */
	int		 o_promisc;
	uint32_t	 o_snaplen;
	const char	*o_filterfile;	/* -F */
	const char	*o_collectors[EXPORT_MAXCOLLECTORS];
	int		 o_ncollectors;
	uint64_t	 o_maxpackets;	/* -c; 0: no limit */
	uint32_t	 o_window;	/* -w seconds; 0: none */
	uint32_t	 o_rate;	/* -R datagrams/s; 0: unpaced */
	uint32_t	 o_burst;	/* -R :datagrams at once; 0: 2 ms
					   worth, at least 8 */
	const char	*o_user;	/* -u */
	int		 o_daemon;
	int		 o_quiet;
};
int		 options_parse(int, char *[], struct options *, char *,
		    size_t);

/* sandbox.c */
struct sandbox_conf {
	const char	*sb_user;	/* if root, become; NULL: nobody */
	int		 sb_readfd;	/* savefile being read, or -1 */
	const struct collectors *sb_cs;	/* connected export sockets */
};
int		 sandbox_enter(const struct sandbox_conf *, char *, size_t);

/* log.c */
void		 log_syslog(void);
void		 log_warn(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2)));
void		 log_warnx(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2)));
void		 log_info(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2)));

#endif /* !FLOWPROBE_H */
