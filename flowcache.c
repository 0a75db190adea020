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
 * This file owns the flow table: a keyed hash of fixed-size entries, the
 * idle, TCP-end and active timers, and the hard cap on flows held.  All
 * memory is taken once by flowcache_create(); packets never allocate.
 * Finished flows leave through the caller's callback with an IPFIX
 * flowEndReason.  It knows nothing of NetFlow or of capture.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowprobe.h"

/* TCP flags byte bits this file looks at. */
#define TH_FIN		0x01
#define TH_SYN		0x02
#define TH_RST		0x04
#define TH_ACK		0x10

/*
 * Entries are named by index into the pool; index 0 is never used, so
 * that 0 is the null link and calloc()ed buckets are already empty.
 */
#define FC_NIL		0
#define FC_MAXFLOWS	(UINT32_C(1) << 31)	/* buckets fit in uint32_t */

/*
 * The two pairs of list links every held entry has, kept apart from the
 * entries: moving a flow to the tail of its list touches two neighbours,
 * and 8-byte links are far likelier than whole entries to be in cache.
 */
#define LINK_LRU	0	/* idle or ending list */
#define LINK_BORN	1	/* creation list */
#define LINK_MAX	2

/*
 * The lists, in the order expiry breaks ties.  Idle and ending are
 * ordered by last update, creation by first packet: each by its deadline.
 */
#define FCL_IDLE	0	/* no FIN/RST seen yet */
#define FCL_ENDING	1	/* FIN or RST seen */
#define FCL_BORN	2	/* every flow, by creation */
#define FCL_MAX		3

/*
 * Packets and TCP flags share a word: packets in the low 56 bits, the
 * OR of the flags in the top 8.  One update adds 1, so reaching 2^56
 * packets in a single flow would take years of CPU time.
 */
#define PF_SHIFT	56
#define PF_PACKETS	((UINT64_C(1) << PF_SHIFT) - 1)

/*
 * The cache holds keys packed into five words: the two addresses as the
 * decoder wrote them, then ports, VLAN, IP version, protocol and ToS in
 * one.  The input interface is the cache's own (fc_conf), not a key
 * field: a probe captures on one.  A 40-byte key makes a 72-byte entry.
 */
#define FC_KEYWORDS	5

struct fc_key {
	uint64_t	 k_w[FC_KEYWORDS];
};

/*
 * Packets a batch walks in each pass, enough for the first prefetches
 * to land before the last pass needs them; and how far ahead of its
 * update a packet's list neighbours are fetched.
 */
#define FC_BATCH	64
#define FC_AHEAD	8

#if defined(__GNUC__) || defined(__clang__)
#define FC_PREFETCH(p)	__builtin_prefetch(p)
#else
#define FC_PREFETCH(p)	((void)0)
#endif

_Static_assert(sizeof(((struct fp_key *)0)->k_src) == 16 &&
    sizeof(((struct fp_key *)0)->k_dst) == 16, "addresses are two words");

struct fc_entry {
	struct fc_key	 e_key;
	uint64_t	 e_first;
	uint64_t	 e_octets;
	uint64_t	 e_pf;		/* packets | tcpflags << PF_SHIFT */
	uint32_t	 e_lastoff;	/* last - first, always < fc_active */
	uint32_t	 e_hnext;	/* hash chain, or free list */
};

_Static_assert(sizeof(struct fc_entry) == 72, "entries are 72 bytes");

struct fc_link {
	uint32_t	 k_prev;
	uint32_t	 k_next;
};

struct fc_list {
	uint32_t	 l_head;	/* oldest */
	uint32_t	 l_tail;
};

struct flowcache {
	struct fc_entry	*fc_pool;	/* fc_max + 1 entries */
	struct fc_link	*fc_link[LINK_MAX]; /* fc_max + 1 each */
	uint32_t	*fc_bucket;
	uint32_t	 fc_shift;	/* 64 - log2(buckets) */
	uint32_t	 fc_max;
	uint32_t	 fc_ifindex;	/* of every flow */
	uint32_t	 fc_used;	/* entries ever handed out */
	uint32_t	 fc_free;	/* entries handed back */
	uint64_t	 fc_inactive;
	uint64_t	 fc_active;
	uint64_t	 fc_tcpend;
	uint64_t	 fc_endwait;	/* idle wait after FIN or RST */
	uint64_t	 fc_maxcount;	/* packets or octets per record */
	uint64_t	 fc_k[8];	/* hash key, from the seed */
	uint64_t	 fc_now;	/* latest time seen */
	struct fc_list	 fc_list[FCL_MAX];
	flow_emit_fn	*fc_emit;
	void		*fc_arg;
	struct fc_stats	 fc_stats;
};

static uint64_t	 fc_splitmix(uint64_t *, uint64_t);
static inline void fc_pack(const struct fp_key *, struct fc_key *);
static void	 fc_unpack(const struct flowcache *, const struct fc_key *,
		    struct fp_key *);
static inline uint32_t fc_bucket_of(const struct flowcache *,
		    const struct fc_key *);
static inline uint32_t fc_lookup(const struct flowcache *, uint32_t,
		    const struct fc_key *);
static inline void fc_update(struct flowcache *, const struct fp_pkt *,
		    const struct fc_key *, uint32_t);
static uint32_t	 fc_update_slow(struct flowcache *, const struct fp_pkt *,
		    const struct fc_key *, uint32_t, uint32_t);
static inline void fc_list_append(struct flowcache *, int, uint32_t);
static inline void fc_list_remove(struct flowcache *, int, uint32_t);
static uint64_t	 fc_add(uint64_t, uint64_t);
static uint64_t	 fc_last(const struct fc_entry *);
static inline int fc_lru_list(uint64_t);
static uint64_t	 fc_head_deadline(const struct flowcache *, int,
		    enum flow_end *);
static uint64_t	 fc_deadline(const struct flowcache *,
		    const struct fc_entry *, enum flow_end *);
static int	 fc_next_due(const struct flowcache *, uint64_t *,
		    enum flow_end *);
static int	 fc_expire_one(struct flowcache *, uint64_t);
static void	 fc_end(struct flowcache *, uint32_t, enum flow_end);
static void	 fc_emit(struct flowcache *, uint32_t, enum flow_end);
static uint32_t	 fc_new(struct flowcache *, const struct fc_key *, uint32_t,
		    uint64_t);

/*
 * emit is called from inside update, expire and flush with a flow that
 * lives only for the call; it must not call back into this cache.
 * Flows still held at destroy are not emitted: flush first.
 */
struct flowcache *
flowcache_create(const struct fc_conf *conf, flow_emit_fn *emit, void *arg)
{
	/* Odd constants (digits of pi) so that no two words share a key. */
	struct flowcache *fc;
	uint64_t nbuckets, sm;
	size_t i;

	if (conf == NULL || emit == NULL || conf->fc_maxflows == 0 ||
	    conf->fc_maxflows > FC_MAXFLOWS) {
		errno = EINVAL;
		return (NULL);
	}
	if ((fc = calloc(1, sizeof(*fc))) == NULL)
		return (NULL);
	/* At least two buckets: a shift by 64 would be undefined. */
	for (nbuckets = 2, i = 63; nbuckets < conf->fc_maxflows;
	    nbuckets <<= 1, i--)
		continue;
	fc->fc_shift = (uint32_t)i;
	fc->fc_max = conf->fc_maxflows;
	fc->fc_pool = calloc((size_t)fc->fc_max + 1, sizeof(*fc->fc_pool));
	fc->fc_bucket = calloc((size_t)nbuckets, sizeof(*fc->fc_bucket));
	for (i = 0; i < LINK_MAX; i++)
		fc->fc_link[i] = calloc((size_t)fc->fc_max + 1,
		    sizeof(*fc->fc_link[i]));
	if (fc->fc_pool == NULL || fc->fc_bucket == NULL ||
	    fc->fc_link[LINK_LRU] == NULL || fc->fc_link[LINK_BORN] == NULL) {
		flowcache_destroy(fc);
		errno = ENOMEM;
		return (NULL);
	}
	fc->fc_ifindex = conf->fc_ifindex;
	fc->fc_inactive = conf->fc_inactive;
	fc->fc_active = conf->fc_active;
	fc->fc_tcpend = conf->fc_tcpend;
	fc->fc_endwait = conf->fc_tcpend <= conf->fc_inactive ?
	    conf->fc_tcpend : conf->fc_inactive;
	fc->fc_maxcount = conf->fc_maxcount != 0 ? conf->fc_maxcount :
	    UINT64_MAX;
	/* Key words that look independent to whoever lacks the seed. */
	sm = conf->fc_seed[0] ^
	    (conf->fc_seed[1] << 32 | conf->fc_seed[1] >> 32);
	for (i = 0; i < 8; i++)
		fc->fc_k[i] = fc_splitmix(&sm, conf->fc_seed[1]);
	fc->fc_k[6] |= 1;
	fc->fc_emit = emit;
	fc->fc_arg = arg;
	return (fc);
}

void
flowcache_destroy(struct flowcache *fc)
{
	if (fc == NULL)
		return;
	free(fc->fc_pool);
	free(fc->fc_bucket);
	free(fc->fc_link[LINK_LRU]);
	free(fc->fc_link[LINK_BORN]);
	free(fc);
}

/* One packet, at now: a batch of one (see fc_update_slow() for rules). */
void
flowcache_update(struct flowcache *fc, const struct fp_pkt *pkt,
    uint64_t now)
{
	struct fp_pkt p;

	p = *pkt;
	p.p_time = now;
	flowcache_update_batch(fc, &p, 1);
}

/*
 * A batch in three passes, so that the memory each packet needs is on
 * its way while the others are worked on: hash every key and prefetch
 * its bucket; then prefetch the entry each bucket names (both of its
 * cache lines) and its list links; then update, prefetching the links
 * of the list neighbours of the entry FC_AHEAD packets on, which the
 * move to the tail of its list will touch.  With a table far larger
 * than the caches, most of a packet's cost is these misses; taken one
 * after the other they would add up.  A stale index only wastes a
 * prefetch: every index read here is one the pool has.
 */
void
flowcache_update_batch(struct flowcache *fc, const struct fp_pkt *pkts,
    size_t n)
{
	const struct fc_link *lru = fc->fc_link[LINK_LRU];
	struct fc_key key[FC_BATCH];
	uint32_t b[FC_BATCH], idx[FC_BATCH], j;
	size_t i, m;

	for (; n > 0; pkts += m, n -= m) {
		m = n < FC_BATCH ? n : FC_BATCH;
		for (i = 0; i < m; i++) {
			fc_pack(&pkts[i].p_key, &key[i]);
			b[i] = fc_bucket_of(fc, &key[i]);
			FC_PREFETCH(&fc->fc_bucket[b[i]]);
		}
		for (i = 0; i < m; i++) {
			idx[i] = fc->fc_bucket[b[i]];
			FC_PREFETCH(&fc->fc_pool[idx[i]]);
			FC_PREFETCH((const char *)&fc->fc_pool[idx[i]] + 64);
			FC_PREFETCH(&lru[idx[i]]);
		}
		for (i = 0; i < m; i++) {
			if (i + FC_AHEAD < m) {
				j = idx[i + FC_AHEAD];
				FC_PREFETCH(&lru[lru[j].k_prev]);
				FC_PREFETCH(&lru[lru[j].k_next]);
			}
			fc_update(fc, &pkts[i], &key[i], b[i]);
		}
	}
}

/*
 * The common case inline: a packet of a held flow that is not due.
 * Everything else (a new flow, one whose timers ran out, a new
 * connection on the ports of an ended one, counters about to pass what
 * the record carries) takes fc_update_slow().
 */
static inline void
fc_update(struct flowcache *fc, const struct fp_pkt *pkt,
    const struct fc_key *key, uint32_t b)
{
	uint64_t now, age, pf, wait;
	struct fc_entry *e;
	uint32_t idx;
	int from, to;

	now = pkt->p_time;
	if (now < fc->fc_now)
		now = fc->fc_now;
	fc->fc_now = now;
	fc->fc_stats.fs_packets++;

	if ((idx = fc_lookup(fc, b, key)) == FC_NIL) {
		fc_update_slow(fc, pkt, key, b, idx);
		return;
	}
	e = &fc->fc_pool[idx];
	pf = e->e_pf;
	from = fc_lru_list(pf);
	wait = from == FCL_ENDING ? fc->fc_endwait : fc->fc_inactive;
	/* now >= last >= first: the clock never runs backwards. */
	age = now - e->e_first;
	if (age >= fc->fc_active || age - e->e_lastoff >= wait ||
	    (from == FCL_ENDING &&
	    (pkt->p_tcpflags & (TH_SYN | TH_ACK)) == TH_SYN) ||
	    e->e_octets + pkt->p_octets > fc->fc_maxcount ||
	    (pf & PF_PACKETS) >= fc->fc_maxcount) {
		fc_update_slow(fc, pkt, key, b, idx);
		return;
	}
	e->e_lastoff = (uint32_t)age;
	e->e_pf = pf = (pf + 1) | (uint64_t)pkt->p_tcpflags << PF_SHIFT;
	e->e_octets += pkt->p_octets;
	/*
	 * To the tail of its list, the first FIN or RST to the ending list.
	 * A busy flow often is the tail already: leave its neighbours alone,
	 * they may not be in the cache.
	 */
	to = fc_lru_list(pf);
	if (to != from || fc->fc_list[from].l_tail != idx) {
		fc_list_remove(fc, from, idx);
		fc_list_append(fc, to, idx);
	}
}

/*
 * TCP end rule: a flow that has seen FIN or RST ends tcpend ms after its
 * LAST packet, not after the FIN, so the ACK closing the connection lands
 * in the same record.  A SYN without ACK on such a flow is a new
 * connection reusing the ports, so the old one ends at once.
 *
 * A flow that is due for more than one reason ends for the one whose
 * deadline came first, as flowcache_expire() would have seen it: the
 * record is then the same however often the caller expires.
 */
static uint32_t
fc_update_slow(struct flowcache *fc, const struct fp_pkt *pkt,
    const struct fc_key *key, uint32_t b, uint32_t idx)
{
	struct fc_entry *e;
	enum flow_end reason;
	uint64_t now = fc->fc_now;
	uint8_t flags = pkt->p_tcpflags;
	int end;

	if (idx != FC_NIL) {
		e = &fc->fc_pool[idx];
		end = fc_deadline(fc, e, &reason) <= now;
		if (!end && fc_lru_list(e->e_pf) == FCL_ENDING &&
		    (flags & (TH_SYN | TH_ACK)) == TH_SYN) {
			reason = FLOW_END_EOF;
			end = 1;
		}
		/*
		 * A record whose counters would pass what the export format
		 * carries ends here and the flow goes on in a new one, as a
		 * long flow does at the active timeout.
		 */
		if (!end && (e->e_octets + pkt->p_octets > fc->fc_maxcount ||
		    (e->e_pf & PF_PACKETS) >= fc->fc_maxcount)) {
			reason = FLOW_END_ACTIVE;
			end = 1;
		}
		if (end)
			fc_end(fc, idx, reason);
		else {
			/* Not due after all: the fast path's test is wider. */
			fc_list_remove(fc, fc_lru_list(e->e_pf), idx);
			e->e_lastoff = (uint32_t)(now - e->e_first);
			e->e_pf = (e->e_pf + 1) | (uint64_t)flags << PF_SHIFT;
			e->e_octets += pkt->p_octets;
			fc_list_append(fc, fc_lru_list(e->e_pf), idx);
			return (idx);
		}
	}
	idx = fc_new(fc, key, b, now);
	e = &fc->fc_pool[idx];
	e->e_pf = 1 | (uint64_t)flags << PF_SHIFT;
	e->e_octets = pkt->p_octets;
	fc_list_append(fc, fc_lru_list(e->e_pf), idx);
	return (idx);
}

void
flowcache_expire(struct flowcache *fc, uint64_t now)
{
	(void)flowcache_expire_some(fc, now, SIZE_MAX);
}

/*
 * At most max of the flows due, earliest first; how many ended.  Those
 * left stay due: the next call, or their next packet, ends them for the
 * same reason and with the same record.
 */
size_t
flowcache_expire_some(struct flowcache *fc, uint64_t now, size_t max)
{
	size_t n;

	if (now < fc->fc_now)
		now = fc->fc_now;
	fc->fc_now = now;
	for (n = 0; n < max && fc_expire_one(fc, now); n++)
		continue;
	return (n);
}

void
flowcache_flush(struct flowcache *fc, enum flow_end reason)
{
	const struct fc_link *born;
	size_t nbuckets;
	uint32_t idx, next;

	/* fs_ended is indexed by reason: keep a bad one in range. */
	if (reason < FLOW_END_IDLE || reason >= FLOW_END_MAX)
		reason = FLOW_END_FORCED;
	/*
	 * With many flows held, emit them all in creation order (mostly the
	 * pool's own order, so the walk streams) and then empty the table
	 * at once, rather than unlink each from its chain and its lists.
	 */
	nbuckets = (size_t)1 << (64 - fc->fc_shift);
	if (fc->fc_stats.fs_active < nbuckets / 16) {
		while (fc->fc_list[FCL_BORN].l_head != FC_NIL)
			fc_end(fc, fc->fc_list[FCL_BORN].l_head, reason);
		return;
	}
	born = fc->fc_link[LINK_BORN];
	for (idx = fc->fc_list[FCL_BORN].l_head; idx != FC_NIL; idx = next) {
		next = born[idx].k_next;
		FC_PREFETCH(&fc->fc_pool[born[next].k_next]);
		fc_emit(fc, idx, reason);
	}
	memset(fc->fc_bucket, 0, nbuckets * sizeof(*fc->fc_bucket));
	memset(fc->fc_list, 0, sizeof(fc->fc_list));
	fc->fc_used = 0;
	fc->fc_free = FC_NIL;
	fc->fc_stats.fs_active = 0;
}

uint64_t
flowcache_next_expiry(const struct flowcache *fc)
{
	uint64_t when;
	enum flow_end reason;

	(void)fc_next_due(fc, &when, &reason);
	return (when);
}

const struct fc_stats *
flowcache_stats(const struct flowcache *fc)
{
	return (&fc->fc_stats);
}

/* SplitMix64's output function, keyed further by k. */
static uint64_t
fc_splitmix(uint64_t *state, uint64_t k)
{
	uint64_t z;

	z = (*state += UINT64_C(0x9e3779b97f4a7c15)) ^ k;
	z = (z ^ z >> 30) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ z >> 27) * UINT64_C(0x94d049bb133111eb);
	return (z ^ z >> 31);
}

/*
 * NH, the hash under UMAC (RFC 4418): the key's words, each added to its
 * own secret word, multiplied in pairs and summed.  For any two keys a
 * sender picks, they collide with probability about 2^-64 (2^-32 with
 * 32-bit halves) over the secret, so a crafted flood cannot pile up in
 * a bucket.  A multiply by a secret odd word then spreads the sum into
 * the top bits, which pick the bucket.
 */
#ifdef __SIZEOF_INT128__
static inline uint32_t
fc_bucket_of(const struct flowcache *fc, const struct fc_key *key)
{
	typedef unsigned __int128 u128;
	const uint64_t *k = fc->fc_k, *w = key->k_w;
	u128 s;
	uint64_t h;

	/* Five words: the last is paired with a zero, as NH pads. */
	s = (u128)(w[0] + k[0]) * (w[1] + k[1]) +
	    (u128)(w[2] + k[2]) * (w[3] + k[3]) +
	    (u128)(w[4] + k[4]) * k[5];
	h = (uint64_t)(s >> 64) ^ (uint64_t)s;
	return ((uint32_t)((h * fc->fc_k[6]) >> fc->fc_shift));
}
#else
static inline uint64_t
fc_nh(uint64_t w, uint64_t k)
{
	return ((uint64_t)(uint32_t)(w + k) *
	    (uint32_t)((w >> 32) + (k >> 32)));
}

static inline uint32_t
fc_bucket_of(const struct flowcache *fc, const struct fc_key *key)
{
	const uint64_t *k = fc->fc_k, *w = key->k_w;
	uint64_t h;

	h = fc_nh(w[0], k[0]) + fc_nh(w[1], k[1]) + fc_nh(w[2], k[2]) +
	    fc_nh(w[3], k[3]) + fc_nh(w[4], k[4]);
	h ^= h >> 32;
	return ((uint32_t)((h * fc->fc_k[6]) >> fc->fc_shift));
}
#endif

/*
 * The addresses are copied as they are, byte for byte; the other fields
 * go into the fifth word by value, so its layout is this file's alone.
 */
static inline void
fc_pack(const struct fp_key *k, struct fc_key *key)
{
	memcpy(&key->k_w[0], k->k_src, 16);
	memcpy(&key->k_w[2], k->k_dst, 16);
	key->k_w[4] = (uint64_t)k->k_sport | (uint64_t)k->k_dport << 16 |
	    (uint64_t)(k->k_vlan & 0x0fff) << 32 |
	    (uint64_t)(k->k_ipver & 0x0f) << 44 |
	    (uint64_t)k->k_proto << 48 | (uint64_t)k->k_tos << 56;
}

static void
fc_unpack(const struct flowcache *fc, const struct fc_key *key,
    struct fp_key *k)
{
	uint64_t w = key->k_w[4];

	memset(k, 0, sizeof(*k));
	memcpy(k->k_src, &key->k_w[0], 16);
	memcpy(k->k_dst, &key->k_w[2], 16);
	k->k_ifindex = fc->fc_ifindex;
	k->k_sport = (uint16_t)w;
	k->k_dport = (uint16_t)(w >> 16);
	k->k_vlan = (uint16_t)(w >> 32 & 0x0fff);
	k->k_ipver = (uint8_t)(w >> 44 & 0x0f);
	k->k_proto = (uint8_t)(w >> 48);
	k->k_tos = (uint8_t)(w >> 56);
}

static inline uint32_t
fc_lookup(const struct flowcache *fc, uint32_t b, const struct fc_key *key)
{
	const struct fc_entry *e;
	uint32_t idx;

	for (idx = fc->fc_bucket[b]; idx != FC_NIL; idx = e->e_hnext) {
		e = &fc->fc_pool[idx];
		if (((e->e_key.k_w[0] ^ key->k_w[0]) |
		    (e->e_key.k_w[1] ^ key->k_w[1]) |
		    (e->e_key.k_w[2] ^ key->k_w[2]) |
		    (e->e_key.k_w[3] ^ key->k_w[3]) |
		    (e->e_key.k_w[4] ^ key->k_w[4])) == 0)
			return (idx);
	}
	return (FC_NIL);
}

static inline void
fc_list_append(struct flowcache *fc, int list, uint32_t idx)
{
	struct fc_list *l = &fc->fc_list[list];
	struct fc_link *k;

	k = fc->fc_link[list == FCL_BORN ? LINK_BORN : LINK_LRU];
	k[idx].k_prev = l->l_tail;
	k[idx].k_next = FC_NIL;
	if (l->l_tail == FC_NIL)
		l->l_head = idx;
	else
		k[l->l_tail].k_next = idx;
	l->l_tail = idx;
}

static inline void
fc_list_remove(struct flowcache *fc, int list, uint32_t idx)
{
	struct fc_list *l = &fc->fc_list[list];
	struct fc_link *k;

	k = fc->fc_link[list == FCL_BORN ? LINK_BORN : LINK_LRU];
	if (k[idx].k_prev == FC_NIL)
		l->l_head = k[idx].k_next;
	else
		k[k[idx].k_prev].k_next = k[idx].k_next;
	if (k[idx].k_next == FC_NIL)
		l->l_tail = k[idx].k_prev;
	else
		k[k[idx].k_next].k_prev = k[idx].k_prev;
}

/* Saturating, so that hostile timestamps cannot wrap a deadline. */
static uint64_t
fc_add(uint64_t t, uint64_t ms)
{
	return (t > UINT64_MAX - ms ? UINT64_MAX : t + ms);
}

static uint64_t
fc_last(const struct fc_entry *e)
{
	return (e->e_first + e->e_lastoff);
}

/*
 * The LRU list a flow belongs on, by its packets-and-flags word: ending
 * once it has seen FIN or RST.
 */
static inline int
fc_lru_list(uint64_t pf)
{
	if ((pf >> PF_SHIFT & (TH_FIN | TH_RST)) != 0)
		return (FCL_ENDING);
	return (FCL_IDLE);
}

/*
 * When the head of a list is due, and why; UINT64_MAX for an empty list.
 * On the ending list an inactive timeout shorter than tcpend still wins,
 * as it does for any flow.
 */
static uint64_t
fc_head_deadline(const struct flowcache *fc, int list, enum flow_end *reason)
{
	const struct fc_entry *e;
	uint32_t idx;

	if ((idx = fc->fc_list[list].l_head) == FC_NIL)
		return (UINT64_MAX);
	e = &fc->fc_pool[idx];
	if (list == FCL_BORN) {
		*reason = FLOW_END_ACTIVE;
		return (fc_add(e->e_first, fc->fc_active));
	}
	if (list == FCL_ENDING && fc->fc_tcpend <= fc->fc_inactive) {
		*reason = FLOW_END_EOF;
		return (fc_add(fc_last(e), fc->fc_tcpend));
	}
	*reason = FLOW_END_IDLE;
	return (fc_add(fc_last(e), fc->fc_inactive));
}

/*
 * One flow's earliest deadline and its reason.  Ties go the way
 * fc_next_due() breaks them: the end of the flow (EOF, IDLE) before
 * ACTIVE.
 */
static uint64_t
fc_deadline(const struct flowcache *fc, const struct fc_entry *e,
    enum flow_end *reason)
{
	uint64_t d, t;

	*reason = FLOW_END_IDLE;
	d = fc_add(fc_last(e), fc->fc_inactive);
	if (fc_lru_list(e->e_pf) == FCL_ENDING &&
	    fc->fc_tcpend <= fc->fc_inactive) {
		*reason = FLOW_END_EOF;
		d = fc_add(fc_last(e), fc->fc_tcpend);
	}
	t = fc_add(e->e_first, fc->fc_active);
	if (t < d) {
		*reason = FLOW_END_ACTIVE;
		d = t;
	}
	return (d);
}

/*
 * The list whose head has the earliest deadline, ties going to the lower
 * FCL_*, or -1 when the cache is empty.  Each list is sorted by its own
 * deadline, so the earliest head is the earliest deadline of all: flows
 * leave in deadline order, each for the reason that came first.
 */
static int
fc_next_due(const struct flowcache *fc, uint64_t *when,
    enum flow_end *reason)
{
	enum flow_end r;
	uint64_t d;
	int best, i;

	best = -1;
	*when = UINT64_MAX;
	for (i = 0; i < FCL_MAX; i++) {
		if (fc->fc_list[i].l_head == FC_NIL)
			continue;
		d = fc_head_deadline(fc, i, &r);
		if (best == -1 || d < *when) {
			best = i;
			*when = d;
			*reason = r;
		}
	}
	return (best);
}

static int
fc_expire_one(struct flowcache *fc, uint64_t now)
{
	enum flow_end reason;
	uint64_t when;
	int list;

	if ((list = fc_next_due(fc, &when, &reason)) == -1 || when > now)
		return (0);
	fc_end(fc, fc->fc_list[list].l_head, reason);
	return (1);
}

/*
 * Unlink and free the entry, then emit it: the callback sees a cache
 * that is already consistent, though it must still not call into it
 * (a whole-table flush emits first and empties the table after).
 */
static void
fc_end(struct flowcache *fc, uint32_t idx, enum flow_end reason)
{
	struct fc_entry *e = &fc->fc_pool[idx];
	uint32_t *pp;

	pp = &fc->fc_bucket[fc_bucket_of(fc, &e->e_key)];
	while (*pp != idx)
		pp = &fc->fc_pool[*pp].e_hnext;
	*pp = e->e_hnext;
	fc_list_remove(fc, fc_lru_list(e->e_pf), idx);
	fc_list_remove(fc, FCL_BORN, idx);
	e->e_hnext = fc->fc_free;
	fc->fc_free = idx;
	fc->fc_stats.fs_active--;
	fc_emit(fc, idx, reason);
}

/* The entry as a record, to the callback; its fields are still intact. */
static void
fc_emit(struct flowcache *fc, uint32_t idx, enum flow_end reason)
{
	const struct fc_entry *e = &fc->fc_pool[idx];
	struct flow f;

	fc_unpack(fc, &e->e_key, &f.f_key);
	f.f_packets = e->e_pf & PF_PACKETS;
	f.f_octets = e->e_octets;
	f.f_first = e->e_first;
	f.f_last = fc_last(e);
	f.f_tcpflags = (uint8_t)(e->e_pf >> PF_SHIFT);
	fc->fc_stats.fs_ended[reason]++;
	fc->fc_emit(&f, reason, fc->fc_arg);
}

/*
 * A zeroed entry for the key in bucket b, on the creation list only.  A
 * full cache first ends whatever its timers already made due; only when
 * nothing is due does the least recently updated flow go, as RESOURCES.
 */
static uint32_t
fc_new(struct flowcache *fc, const struct fc_key *key, uint32_t b,
    uint64_t now)
{
	struct fc_entry *e;
	uint32_t idle, ending, idx;

	if (fc->fc_free == FC_NIL && fc->fc_used == fc->fc_max &&
	    !fc_expire_one(fc, now)) {
		idle = fc->fc_list[FCL_IDLE].l_head;
		ending = fc->fc_list[FCL_ENDING].l_head;
		if (idle == FC_NIL || (ending != FC_NIL &&
		    fc_last(&fc->fc_pool[ending]) <
		    fc_last(&fc->fc_pool[idle])))
			idle = ending;
		fc_end(fc, idle, FLOW_END_RESOURCES);
	}
	if (fc->fc_free != FC_NIL) {
		idx = fc->fc_free;
		fc->fc_free = fc->fc_pool[idx].e_hnext;
	} else
		idx = ++fc->fc_used;

	e = &fc->fc_pool[idx];
	memset(e, 0, sizeof(*e));
	e->e_key = *key;
	e->e_first = now;
	e->e_hnext = fc->fc_bucket[b];
	fc->fc_bucket[b] = idx;
	fc_list_append(fc, FCL_BORN, idx);

	fc->fc_stats.fs_created++;
	if (++fc->fc_stats.fs_active > fc->fc_stats.fs_peak)
		fc->fc_stats.fs_peak = fc->fc_stats.fs_active;
	return (idx);
}
