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
 * entries: moving a flow in its list touches two neighbours, and 8-byte
 * links are far likelier than whole entries to be in cache.
 */
#define LINK_LRU	0	/* idle or ending list */
#define LINK_BORN	1	/* creation list */
#define LINK_MAX	2

/*
 * The lists, in the order expiry breaks ties.  Idle and ending are
 * ordered by last update, creation by first packet: each by its deadline.
 *
 * Idle and ending are kept in that order lazily: moving a flow on every
 * packet costs a quarter of its update and two neighbours' links.  Each
 * is an ordered part, the flows last updated before fc_epoch, then a
 * recent part from fc_recent on: the flows updated since, in the order
 * of their first update since.  A flow moves only when it leaves the
 * ordered part, once per epoch at most.  The head of an ordered part is
 * its list's earliest deadline, since every recent flow came later; a
 * list whose ordered part is empty has nothing due before the epoch
 * plus its timeout.  Only when that has passed, or the exact answer is
 * wanted, are the recent parts sorted into place and a new epoch begun
 * (fc_settle()): about once a timeout.  Flows last updated in the same
 * millisecond may leave in another order than their packets came.  A
 * sort of a large table would stall capture, so with many flows held
 * every update moves its flow to the tail, as a plain LRU list does:
 * the recent parts stay in order and a settle only moves the marks.
 */
#define FCL_IDLE	0	/* no FIN/RST seen yet */
#define FCL_ENDING	1	/* FIN or RST seen */
#define FCL_BORN	2	/* every flow, by creation */
#define FCL_MAX		3

/*
 * Packets and TCP flags share a word: the OR of the flags in the low 8
 * bits, where one OR adds a packet's and one test reads FIN and RST,
 * and packets above.  Reaching 2^56 packets in a single flow would take
 * years of CPU time.
 */
#define PF_SHIFT	8
#define PF_ONE		(UINT64_C(1) << PF_SHIFT)	/* one packet */

/*
 * The cache keys on the words the decoder packed (struct fp_packed): an
 * IPv4 key is words 0 and 4 alone, so IPv4 packets hash and compare two
 * words, and nothing reads words 1-3 of a packet or an entry.  The input
 * interface is the cache's own (fc_conf), not a key field: a probe
 * captures on one.  A 40-byte key makes a 72-byte entry.
 */
struct fc_key {
	uint64_t	 k_w[PK_WORDS];
};

/*
 * Packets a batch walks in each pass, enough for the first prefetches
 * to land before the last pass needs them; the flows held from which
 * batches and flushes prefetch at all (below, entries, links and the
 * buckets in use are a few MB, which the caches hold) and batches keep
 * the lists in order as they go (see the lists); and how far ahead of
 * its update a packet's list neighbours are fetched.
 */
#define FC_BATCH	64
#define FC_PREFETCH_MIN	65536
#define FC_AHEAD	8

struct fc_entry {
	struct fc_key	 e_key;
	uint64_t	 e_first;
	uint64_t	 e_octets;
	uint64_t	 e_pf;		/* packets << PF_SHIFT | tcpflags */
	uint32_t	 e_lastoff;	/* last - first, always < fc_active */
	uint32_t	 e_hnext;	/* hash chain, or free list */
};

_Static_assert(sizeof(struct fc_entry) == 72, "entries are 72 bytes");

/* What a key's bucket is worked out from: NH's words, then a multiplier. */
#define FC_HASHWORDS	7
struct fc_hash {
	uint64_t	 h_k[FC_HASHWORDS];	/* from the seed */
	uint32_t	 h_shift;	/* 64 - log2(buckets) */
};

struct fc_link {
	uint32_t	 k_prev;
	uint32_t	 k_next;
};

struct flowcache {
	struct fc_entry	*fc_pool;	/* fc_max + 1 entries */
	/*
	 * fc_max + 1 links, then one sentinel per list: a list is a ring
	 * through its sentinel, so linking and unlinking never branch.
	 */
	struct fc_link	*fc_link[LINK_MAX];
	uint32_t	*fc_bucket;
	struct fc_hash	 fc_hash;
	uint32_t	 fc_max;
	uint32_t	 fc_ifindex;	/* of every flow */
	uint32_t	 fc_used;	/* entries ever handed out */
	uint32_t	 fc_free;	/* entries handed back */
	uint64_t	 fc_inactive;
	uint64_t	 fc_active;
	uint64_t	 fc_tcpend;
	uint64_t	 fc_endwait;	/* idle wait after FIN or RST */
	uint64_t	 fc_maxcount;	/* packets or octets per record */
	uint64_t	 fc_now;	/* latest time seen */
	uint64_t	 fc_epoch;	/* lasts before it are in order */
	uint32_t	 fc_recent[FCL_MAX]; /* first unordered, or sentinel */
	int		 fc_unsorted;	/* a recent part may be out of order */
	flow_emit_fn	*fc_emit;
	void		*fc_arg;
	struct fc_stats	 fc_stats;
};

static uint64_t	 fc_splitmix(uint64_t *, uint64_t);
static inline size_t fc_bucket_of(const struct fc_hash *,
		    const uint64_t *);
static inline struct fc_entry *fc_lookup(const struct flowcache *,
		    size_t, const uint64_t *);
static FP_INLINE void fc_update(struct flowcache *,
		    const struct fp_packed *, size_t, uint64_t, int, int);
static FP_INLINE uint64_t fc_update_run(struct flowcache *,
		    const struct fc_hash *, const struct fp_packed *,
		    const struct fp_packed *, uint64_t, int);
static void	 fc_update_slow(struct flowcache *,
		    const struct fp_packed *, uint32_t, uint32_t);
static FP_NOINLINE void fc_update_held(struct flowcache *,
		    const struct fp_packed *, uint32_t, uint32_t);
static void	 fc_list_init(struct flowcache *);
static inline uint32_t fc_sentinel(const struct flowcache *, int);
static inline struct fc_link *fc_links(const struct flowcache *, int);
static inline uint32_t fc_head(const struct flowcache *, int);
static inline uint32_t fc_ordered_head(const struct flowcache *, int);
static inline void fc_list_append(struct flowcache *, int, uint32_t);
static inline void fc_list_remove(struct flowcache *, int, uint32_t);
static FP_NOINLINE void fc_lru_place(struct flowcache *, int, uint32_t,
		    uint64_t);
static FP_INLINE void fc_lru_insert(struct flowcache *, int, uint32_t,
		    uint64_t);
static void	 fc_relist(struct flowcache *, uint32_t, int, int, uint64_t);
static void	 fc_settle(struct flowcache *);
static void	 fc_sort_recent(struct flowcache *, int);
static uint64_t	 fc_add(uint64_t, uint64_t);
static uint64_t	 fc_last(const struct fc_entry *);
static inline int fc_lru_list(uint64_t);
static uint64_t	 fc_quiet_deadline(const struct flowcache *, int, uint64_t,
		    enum flow_end *);
static uint64_t	 fc_head_deadline(const struct flowcache *, int,
		    enum flow_end *);
static uint64_t	 fc_deadline(const struct flowcache *,
		    const struct fc_entry *, enum flow_end *);
static int	 fc_next_due(struct flowcache *, uint64_t, uint64_t *,
		    enum flow_end *);
static int	 fc_expire_one(struct flowcache *, uint64_t);
static void	 fc_end(struct flowcache *, uint32_t, enum flow_end);
static FP_INLINE void fc_emit(struct flowcache *, uint32_t, enum flow_end);
static FP_INLINE void fc_emit_all(struct flowcache *, enum flow_end, int);
static inline int fc_full(const struct flowcache *);
static void	 fc_make_room(struct flowcache *, uint64_t);
static FP_INLINE void fc_new(struct flowcache *, const struct fp_packed *,
		    uint32_t, uint64_t);

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
	fc->fc_hash.h_shift = (uint32_t)i;
	fc->fc_max = conf->fc_maxflows;
	fc->fc_pool = calloc((size_t)fc->fc_max + 1, sizeof(*fc->fc_pool));
	fc->fc_bucket = calloc((size_t)nbuckets, sizeof(*fc->fc_bucket));
	for (i = 0; i < LINK_MAX; i++)
		fc->fc_link[i] = calloc((size_t)fc->fc_max + 1 + FCL_MAX,
		    sizeof(*fc->fc_link[i]));
	if (fc->fc_pool == NULL || fc->fc_bucket == NULL ||
	    fc->fc_link[LINK_LRU] == NULL || fc->fc_link[LINK_BORN] == NULL) {
		flowcache_destroy(fc);
		errno = ENOMEM;
		return (NULL);
	}
	fc_list_init(fc);
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
	for (i = 0; i < FC_HASHWORDS; i++)
		fc->fc_hash.h_k[i] = fc_splitmix(&sm, conf->fc_seed[1]);
	/* The last multiplies: odd, so that it loses no bits. */
	fc->fc_hash.h_k[FC_HASHWORDS - 1] |= 1;
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

/* One packet, at now: a batch of one (see fc_update_held() for rules). */
void
flowcache_update(struct flowcache *fc, const struct fp_pkt *pkt,
    uint64_t now)
{
	struct fp_packed pk;

	decode_pack(pkt, now, &pk);
	flowcache_update_batch(fc, &pk, 1);
}

/*
 * With many flows held, a batch goes in three passes, so that the
 * memory each packet needs is on its way while the others are worked
 * on: hash every key and prefetch its bucket; then prefetch the entry
 * each bucket names, both of its cache lines, and its list links; then
 * update, prefetching the links of the list neighbours of the entry
 * FC_AHEAD packets on, which its move to the tail will touch.  With a
 * table far larger than the caches, most of a packet's cost is these
 * misses; taken one after the other they would add up.  A stale index
 * only wastes a prefetch: every index read here is one the pool has.
 *
 * With few flows held, the table stays in the caches and the passes
 * would cost more instructions than the misses they hide: one pass,
 * and flows stay where they are in the recent parts of their lists
 * (see the lists), which are sorted when that matters.  With many, a
 * sort would walk the whole table at once, so the flows keep their
 * order as they go, the sort has nothing to do and capture never
 * stalls on it.
 */
void
flowcache_update_batch(struct flowcache *restrict fc,
    const struct fp_packed *pkts, size_t n)
{
	const struct fc_link *lru = fc->fc_link[LINK_LRU];
	const struct fp_packed *end;
	struct fc_hash hash;
	uint32_t b[FC_BATCH], idx[FC_BATCH], j;
	uint64_t now;
	size_t i, m;

	fc->fc_stats.fs_packets += n;
	/* The clock never runs backwards. */
	now = fc->fc_now;
	if (fc->fc_stats.fs_active < FC_PREFETCH_MIN) {
		fc->fc_unsorted = 1;
		/* A copy the slow path's calls cannot change. */
		hash = fc->fc_hash;
		end = pkts + n;
		/* 64-bit counters (v9, IPFIX) have no limit to test. */
		if (fc->fc_maxcount == UINT64_MAX)
			now = fc_update_run(fc, &hash, pkts, end, now, 0);
		else
			now = fc_update_run(fc, &hash, pkts, end, now, 1);
		fc->fc_now = now;
		return;
	}
	/* Grown past the one-pass size: sort now, while that is cheap. */
	if (fc->fc_unsorted)
		fc_settle(fc);
	for (; n > 0; pkts += m, n -= m) {
		m = n < FC_BATCH ? n : FC_BATCH;
		for (i = 0; i < m; i++) {
			b[i] = (uint32_t)fc_bucket_of(&fc->fc_hash,
			    pkts[i].pk_key);
			FP_PREFETCH(&fc->fc_bucket[b[i]]);
		}
		for (i = 0; i < m; i++) {
			idx[i] = fc->fc_bucket[b[i]];
			FP_PREFETCH(&fc->fc_pool[idx[i]]);
			FP_PREFETCH((const char *)&fc->fc_pool[idx[i]] + 64);
			FP_PREFETCH(&lru[idx[i]]);
		}
		for (i = 0; i < m; i++) {
			if (i + FC_AHEAD < m) {
				j = idx[i + FC_AHEAD];
				FP_PREFETCH(&lru[lru[j].k_prev]);
				FP_PREFETCH(&lru[lru[j].k_next]);
			}
			if (pkts[i].pk_time > now)
				now = pkts[i].pk_time;
			fc_update(fc, &pkts[i], b[i], now, 1, 1);
		}
	}
	fc->fc_now = now;
}

/* One pass; limited is a constant at each call, so its test goes. */
static FP_INLINE uint64_t
fc_update_run(struct flowcache *restrict fc, const struct fc_hash *hash,
    const struct fp_packed *pk, const struct fp_packed *end, uint64_t now,
    int limited)
{
	for (; pk < end; pk++) {
		if (pk->pk_time > now)
			now = pk->pk_time;
		fc_update(fc, pk, fc_bucket_of(hash, pk->pk_key), now, 0,
		    limited);
	}
	return (now);
}

/*
 * The common case inline: a packet without FIN or RST of a held flow
 * that is not due and has seen neither.  Everything else (a new flow,
 * one whose timers ran out, one ending, whose next SYN may be a new
 * connection on the same ports, the packet that makes it end, an octet
 * count about to pass what the record carries) takes fc_update_slow().
 * The packet count needs no test of its own: every packet carries at
 * least one octet (the decoder's an IP header), so packets never
 * outnumber octets; nor does the octet count unless limited, since no
 * count reaches UINT64_MAX.  In order, the flow goes to the tail of its
 * list unless it is there; else only out of the ordered part.
 */
static FP_INLINE void
fc_update(struct flowcache *restrict fc, const struct fp_packed *pk,
    size_t b, uint64_t now, int inorder, int limited)
{
	struct fc_entry *e;
	uint64_t age, first, pf;
	uint32_t lastoff;

	if (FP_RARELY((e = fc_lookup(fc, b, pk->pk_key)) == NULL)) {
		fc->fc_now = now;
		fc_update_slow(fc, pk, (uint32_t)b, FC_NIL);
		return;
	}
	/* The word as it will be: its flags are the ones to test. */
	pf = (e->e_pf + PF_ONE) | pk->pk_tcpflags;
	first = e->e_first;
	lastoff = e->e_lastoff;
	/* now >= last >= first: the clock never runs backwards. */
	age = now - first;
	if (FP_RARELY(fc_lru_list(pf) == FCL_ENDING ||
	    age >= fc->fc_active ||
	    age - lastoff >= fc->fc_inactive ||
	    (limited && e->e_octets + pk->pk_octets > fc->fc_maxcount))) {
		fc->fc_now = now;
		fc_update_slow(fc, pk, (uint32_t)b,
		    (uint32_t)(e - fc->fc_pool));
		return;
	}
	e->e_lastoff = (uint32_t)age;
	e->e_pf = pf;
	e->e_octets += pk->pk_octets;
	if (FP_RARELY(first + lastoff < fc->fc_epoch) || (inorder &&
	    &fc->fc_pool[fc->fc_link[LINK_LRU][fc_sentinel(fc,
	    FCL_IDLE)].k_prev] != e))
		fc_relist(fc, (uint32_t)(e - fc->fc_pool), FCL_IDLE,
		    FCL_IDLE, now);
}

/* What fc_update() leaves: the rules are fc_update_held()'s. */
static void
fc_update_slow(struct flowcache *fc, const struct fp_packed *pk, uint32_t b,
    uint32_t idx)
{
	/*
	 * The common case, a new flow with an entry free for it, calls
	 * nothing, so that it need not save and restore registers.
	 */
	if (idx == FC_NIL && !fc_full(fc))
		fc_new(fc, pk, b, fc->fc_now);
	else
		fc_update_held(fc, pk, b, idx);
}

/*
 * A packet of a held flow that may end, or a new flow in a full cache.
 *
 * TCP end rule: a flow that has seen FIN or RST ends tcpend ms after its
 * LAST packet, not after the FIN, so the ACK closing the connection lands
 * in the same record.  A SYN without ACK on such a flow is a new
 * connection reusing the ports, so the old one ends at once.
 *
 * A flow that is due for more than one reason ends for the one whose
 * deadline came first, as flowcache_expire() would have seen it: the
 * record is then the same however often the caller expires.
 */
static void
fc_update_held(struct flowcache *fc, const struct fp_packed *pk, uint32_t b,
    uint32_t idx)
{
	struct fc_entry *e;
	enum flow_end reason;
	uint64_t now = fc->fc_now;
	uint8_t flags = pk->pk_tcpflags;
	int end, from;

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
		if (!end && (e->e_octets + pk->pk_octets > fc->fc_maxcount ||
		    e->e_pf >> PF_SHIFT >= fc->fc_maxcount)) {
			reason = FLOW_END_ACTIVE;
			end = 1;
		}
		if (end)
			fc_end(fc, idx, reason);
		else {
			/* Not due after all: the fast path's test is wider. */
			from = fc_lru_list(e->e_pf);
			e->e_lastoff = (uint32_t)(now - e->e_first);
			e->e_pf = (e->e_pf + PF_ONE) | flags;
			e->e_octets += pk->pk_octets;
			fc_relist(fc, idx, from, fc_lru_list(e->e_pf), now);
			return;
		}
	}
	if (fc_full(fc))
		fc_make_room(fc, now);
	fc_new(fc, pk, b, now);
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
	size_t nbuckets;
	uint32_t idx;

	/* fs_ended is indexed by reason: keep a bad one in range. */
	if (reason < FLOW_END_IDLE || reason >= FLOW_END_MAX)
		reason = FLOW_END_FORCED;
	/*
	 * With many flows held, emit them all in creation order (mostly the
	 * pool's own order, so the walk streams) and then empty the table
	 * at once, rather than unlink each from its chain and its lists.
	 */
	nbuckets = (size_t)1 << (64 - fc->fc_hash.h_shift);
	if (fc->fc_stats.fs_active < nbuckets / 16) {
		while ((idx = fc_head(fc, FCL_BORN)) != FC_NIL)
			fc_end(fc, idx, reason);
		return;
	}
	/* As in a batch, prefetch only a table too large for the caches. */
	if (fc->fc_stats.fs_active >= FC_PREFETCH_MIN)
		fc_emit_all(fc, reason, 1);
	else
		fc_emit_all(fc, reason, 0);
	memset(fc->fc_bucket, 0, nbuckets * sizeof(*fc->fc_bucket));
	fc_list_init(fc);
	fc->fc_used = 0;
	fc->fc_free = FC_NIL;
	fc->fc_stats.fs_active = 0;
}

uint64_t
flowcache_next_expiry(struct flowcache *fc)
{
	uint64_t when;
	enum flow_end reason;

	(void)fc_next_due(fc, UINT64_MAX, &when, &reason);
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
 * the top bits, which pick the bucket.  The bucket fits in 32 bits but
 * comes back as a size_t, so that the one-pass update, which indexes
 * with it at once, widens nothing.
 */
#ifdef __SIZEOF_INT128__
static inline size_t
fc_bucket_of(const struct fc_hash *hash, const uint64_t *w)
{
	typedef unsigned __int128 u128;
	const uint64_t *k = hash->h_k;
	u128 s;
	uint64_t h;

	/* Five words: the last is paired with a zero, as NH pads. */
	if (PK_IS_IPV4(w[4]))
		s = (u128)(w[0] + k[0]) * (w[4] + k[4]);
	else
		s = (u128)(w[0] + k[0]) * (w[1] + k[1]) +
		    (u128)(w[2] + k[2]) * (w[3] + k[3]) +
		    (u128)(w[4] + k[4]) * k[5];
	h = (uint64_t)(s >> 64) ^ (uint64_t)s;
	return ((size_t)((h * k[6]) >> hash->h_shift));
}
#else
static inline uint64_t
fc_nh(uint64_t w, uint64_t k)
{
	return ((uint64_t)(uint32_t)(w + k) *
	    (uint32_t)((w >> 32) + (k >> 32)));
}

static inline size_t
fc_bucket_of(const struct fc_hash *hash, const uint64_t *w)
{
	const uint64_t *k = hash->h_k;
	uint64_t h;

	if (PK_IS_IPV4(w[4]))
		h = fc_nh(w[0], k[0]) + fc_nh(w[4], k[4]);
	else
		h = fc_nh(w[0], k[0]) + fc_nh(w[1], k[1]) +
		    fc_nh(w[2], k[2]) + fc_nh(w[3], k[3]) +
		    fc_nh(w[4], k[4]);
	h ^= h >> 32;
	return ((size_t)((h * k[6]) >> hash->h_shift));
}
#endif

/* Word 4 holds the IP version: an IPv4 key is words 0 and 4 alone. */
static inline struct fc_entry *
fc_lookup(const struct flowcache *fc, size_t b, const uint64_t *w)
{
	struct fc_entry *e;
	const uint64_t *k;
	uint32_t idx;

	if (PK_IS_IPV4(w[4])) {
		for (idx = fc->fc_bucket[b]; idx != FC_NIL; idx = e->e_hnext) {
			e = &fc->fc_pool[idx];
			if (((e->e_key.k_w[0] ^ w[0]) |
			    (e->e_key.k_w[4] ^ w[4])) == 0)
				return (e);
		}
		return (NULL);
	}
	for (idx = fc->fc_bucket[b]; idx != FC_NIL; idx = e->e_hnext) {
		e = &fc->fc_pool[idx];
		k = e->e_key.k_w;
		if (((k[0] ^ w[0]) | (k[1] ^ w[1]) | (k[2] ^ w[2]) |
		    (k[3] ^ w[3]) | (k[4] ^ w[4])) == 0)
			return (e);
	}
	return (NULL);
}

/* Every list empty: each sentinel its own neighbour. */
static void
fc_list_init(struct flowcache *fc)
{
	struct fc_link *k;
	uint32_t s;
	int list;

	for (list = 0; list < FCL_MAX; list++) {
		k = fc_links(fc, list);
		s = fc_sentinel(fc, list);
		k[s].k_prev = k[s].k_next = s;
		fc->fc_recent[list] = s;
	}
}

static inline uint32_t
fc_sentinel(const struct flowcache *fc, int list)
{
	return (fc->fc_max + 1 + (uint32_t)list);
}

static inline struct fc_link *
fc_links(const struct flowcache *fc, int list)
{
	return (fc->fc_link[list == FCL_BORN ? LINK_BORN : LINK_LRU]);
}

/* The oldest entry of a list's ordered part, or FC_NIL. */
static inline uint32_t
fc_ordered_head(const struct flowcache *fc, int list)
{
	uint32_t idx;

	idx = fc_head(fc, list);
	return (idx == fc->fc_recent[list] ? FC_NIL : idx);
}

/* The oldest entry of a list, or FC_NIL. */
static inline uint32_t
fc_head(const struct flowcache *fc, int list)
{
	uint32_t idx, s;

	s = fc_sentinel(fc, list);
	idx = fc_links(fc, list)[s].k_next;
	return (idx == s ? FC_NIL : idx);
}

static inline void
fc_list_append(struct flowcache *fc, int list, uint32_t idx)
{
	struct fc_link *k = fc_links(fc, list);
	uint32_t s = fc_sentinel(fc, list);

	k[idx].k_prev = k[s].k_prev;
	k[idx].k_next = s;
	k[k[s].k_prev].k_next = idx;
	k[s].k_prev = idx;
}

static inline void
fc_list_remove(struct flowcache *fc, int list, uint32_t idx)
{
	struct fc_link *k = fc_links(fc, list);

	if (fc->fc_recent[list] == idx)
		fc->fc_recent[list] = k[idx].k_next;
	k[k[idx].k_prev].k_next = k[idx].k_next;
	k[k[idx].k_next].k_prev = k[idx].k_prev;
}

/*
 * Into an LRU list by its new last update: at the end of the ordered
 * part if that is still before the epoch (the same millisecond as the
 * last settle), else at the tail, in the recent part.
 */
static void
fc_lru_place(struct flowcache *fc, int list, uint32_t idx, uint64_t last)
{
	fc_lru_insert(fc, list, idx, last);
}

/*
 * fc_lru_place(), inline for a new flow.  The moves the hot path makes
 * keep calling it out of line: inlined into fc_relist(), it changed the
 * register use of the whole loop, which cost more than the calls.
 */
static FP_INLINE void
fc_lru_insert(struct flowcache *fc, int list, uint32_t idx, uint64_t last)
{
	struct fc_link *k = fc->fc_link[LINK_LRU];
	uint32_t at, s;

	s = fc_sentinel(fc, list);
	if (last < fc->fc_epoch)
		at = fc->fc_recent[list];
	else {
		at = s;
		if (fc->fc_recent[list] == s)
			fc->fc_recent[list] = idx;
	}
	k[idx].k_prev = k[at].k_prev;
	k[idx].k_next = at;
	k[k[at].k_prev].k_next = idx;
	k[at].k_prev = idx;
}

static void
fc_relist(struct flowcache *fc, uint32_t idx, int from, int to,
    uint64_t last)
{
	fc_list_remove(fc, from, idx);
	fc_lru_place(fc, to, idx, last);
}

/* The heads are the earliest deadlines again; a new epoch starts. */
static void
fc_settle(struct flowcache *fc)
{
	int list;

	for (list = FCL_IDLE; list <= FCL_ENDING; list++) {
		if (fc->fc_unsorted &&
		    fc->fc_recent[list] != fc_sentinel(fc, list))
			fc_sort_recent(fc, list);
		fc->fc_recent[list] = fc_sentinel(fc, list);
	}
	fc->fc_epoch = fc_add(fc->fc_now, 1);
	fc->fc_unsorted = 0;
}

/*
 * The recent part of a list into order of last update, after the ordered
 * part, whose flows all came before.  A radix sort, a byte of the time
 * since the earliest at a time from the lowest: stable, and one pass when
 * the updates span less than 256 ms, as between two ticks.
 */
static void
fc_sort_recent(struct flowcache *fc, int list)
{
	struct fc_link *k = fc->fc_link[LINK_LRU];
	uint32_t head[256], tail[256];
	uint32_t before, first, idx, next, prev, s;
	uint64_t hi, lo, t;
	unsigned int d, shift;

	s = fc_sentinel(fc, list);
	first = fc->fc_recent[list];
	before = k[first].k_prev;
	lo = UINT64_MAX;
	hi = 0;
	for (idx = first; idx != s; idx = k[idx].k_next) {
		t = fc_last(&fc->fc_pool[idx]);
		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
	}
	shift = 0;
	do {
		memset(head, 0, sizeof(head));
		for (idx = first; idx != s; idx = next) {
			next = k[idx].k_next;
			d = (unsigned int)((fc_last(&fc->fc_pool[idx]) - lo) >>
			    shift & 0xff);
			if (head[d] == FC_NIL)
				head[d] = idx;
			else
				k[tail[d]].k_next = idx;
			tail[d] = idx;
		}
		first = prev = FC_NIL;
		for (d = 0; d < 256; d++) {
			if (head[d] == FC_NIL)
				continue;
			if (first == FC_NIL)
				first = head[d];
			else
				k[prev].k_next = head[d];
			prev = tail[d];
		}
		k[prev].k_next = s;
		shift += 8;
	} while (shift < 64 && (hi - lo) >> shift != 0);

	/* Forward links are in order: the back links follow them. */
	k[before].k_next = first;
	for (prev = before, idx = first; idx != s; prev = idx,
	    idx = k[idx].k_next)
		k[idx].k_prev = prev;
	k[s].k_prev = prev;
	fc->fc_recent[list] = s;
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
	if ((pf & (TH_FIN | TH_RST)) != 0)
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

	if ((idx = fc_head(fc, list)) == FC_NIL)
		return (UINT64_MAX);
	e = &fc->fc_pool[idx];
	if (list == FCL_BORN) {
		*reason = FLOW_END_ACTIVE;
		return (fc_add(e->e_first, fc->fc_active));
	}
	return (fc_quiet_deadline(fc, list, fc_last(e), reason));
}

/*
 * When a flow on LRU list, last updated at last, has been quiet too
 * long, and why.  On the ending list an inactive timeout shorter than
 * tcpend still wins, as it does for any flow.
 */
static uint64_t
fc_quiet_deadline(const struct flowcache *fc, int list, uint64_t last,
    enum flow_end *reason)
{
	if (list == FCL_ENDING) {
		*reason = fc->fc_tcpend <= fc->fc_inactive ? FLOW_END_EOF :
		    FLOW_END_IDLE;
		return (fc_add(last, fc->fc_endwait));
	}
	*reason = FLOW_END_IDLE;
	return (fc_add(last, fc->fc_inactive));
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

	d = fc_quiet_deadline(fc, fc_lru_list(e->e_pf), fc_last(e), reason);
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
 * leave in deadline order, each for the reason that came first.  Exact
 * for deadlines up to now; a later one may be a list's lower bound.
 */
static int
fc_next_due(struct flowcache *fc, uint64_t now, uint64_t *when,
    enum flow_end *reason)
{
	enum flow_end r;
	uint64_t d;
	uint32_t head;
	int best, i;

	for (i = FCL_IDLE; i <= FCL_ENDING; i++)
		if ((head = fc_head(fc, i)) != FC_NIL &&
		    head == fc->fc_recent[i] &&
		    fc_quiet_deadline(fc, i, fc->fc_epoch, &r) <= now) {
			fc_settle(fc);
			break;
		}
	best = -1;
	*when = UINT64_MAX;
	for (i = 0; i < FCL_MAX; i++) {
		if ((head = fc_head(fc, i)) == FC_NIL)
			continue;
		if (i != FCL_BORN && head == fc->fc_recent[i])
			/* Not sorted: no earlier than the epoch allows. */
			d = fc_quiet_deadline(fc, i, fc->fc_epoch, &r);
		else
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

	if ((list = fc_next_due(fc, now, &when, &reason)) == -1 || when > now)
		return (0);
	fc_end(fc, fc_head(fc, list), reason);
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

	pp = &fc->fc_bucket[fc_bucket_of(&fc->fc_hash, e->e_key.k_w)];
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

/*
 * The entry as a record, to the callback; its fields are still intact.
 * Inline: a flush calls it for every flow held, from a loop that has
 * its registers saved already.
 */
static FP_INLINE void
fc_emit(struct flowcache *fc, uint32_t idx, enum flow_end reason)
{
	const struct fc_entry *e = &fc->fc_pool[idx];
	struct flow f;

	/* The counters before the call, so that e need not outlive it. */
	f.f_packets = e->e_pf >> PF_SHIFT;
	f.f_octets = e->e_octets;
	f.f_first = e->e_first;
	f.f_last = fc_last(e);
	f.f_tcpflags = (uint8_t)e->e_pf;
	decode_unpack(e->e_key.k_w, &f.f_key);
	f.f_key.k_ifindex = fc->fc_ifindex;
	fc->fc_stats.fs_ended[reason]++;
	fc->fc_emit(&f, reason, fc->fc_arg);
}

/*
 * Every flow held, in creation order, left where it is.  Inline twice,
 * so that neither loop tests whether to prefetch.
 */
static FP_INLINE void
fc_emit_all(struct flowcache *fc, enum flow_end reason, int prefetch)
{
	const struct fc_link *born = fc->fc_link[LINK_BORN];
	uint32_t end, idx, next;

	end = fc_sentinel(fc, FCL_BORN);
	for (idx = born[end].k_next; idx != end; idx = next) {
		next = born[idx].k_next;
		/* Two ahead, unless that is the sentinel, past the pool. */
		if (prefetch && next != end && born[next].k_next != end)
			FP_PREFETCH(&fc->fc_pool[born[next].k_next]);
		fc_emit(fc, idx, reason);
	}
}

/* Every entry held: a new flow needs one ended first. */
static inline int
fc_full(const struct flowcache *fc)
{
	return (fc->fc_free == FC_NIL && fc->fc_used == fc->fc_max);
}

/*
 * A full cache first ends whatever its timers already made due; only
 * when nothing is due does the least recently updated flow go, as
 * RESOURCES.
 */
static void
fc_make_room(struct flowcache *fc, uint64_t now)
{
	uint32_t idle, ending;

	if (fc_expire_one(fc, now))
		return;
	/*
	 * An ordered flow is older than every recent one: sort only when
	 * neither list has one left, so that a flood of new flows into a
	 * full table sorts about once a table.
	 */
	if (fc_ordered_head(fc, FCL_IDLE) == FC_NIL &&
	    fc_ordered_head(fc, FCL_ENDING) == FC_NIL)
		fc_settle(fc);
	idle = fc_ordered_head(fc, FCL_IDLE);
	ending = fc_ordered_head(fc, FCL_ENDING);
	if (idle == FC_NIL || (ending != FC_NIL &&
	    fc_last(&fc->fc_pool[ending]) < fc_last(&fc->fc_pool[idle])))
		idle = ending;
	fc_end(fc, idle, FLOW_END_RESOURCES);
}

/*
 * A flow for the packet, in bucket b, on its lists; the caller has made
 * sure an entry is free.
 */
static FP_INLINE void
fc_new(struct flowcache *fc, const struct fp_packed *pk, uint32_t b,
    uint64_t now)
{
	struct fc_entry *e;
	uint32_t idx;

	if (fc->fc_free != FC_NIL) {
		idx = fc->fc_free;
		fc->fc_free = fc->fc_pool[idx].e_hnext;
	} else
		idx = ++fc->fc_used;

	/* Nothing held: any epoch up to now keeps the lists' invariant. */
	if (fc->fc_stats.fs_active == 0)
		fc->fc_epoch = now;
	e = &fc->fc_pool[idx];
	memcpy(e->e_key.k_w, pk->pk_key, sizeof(e->e_key.k_w));
	e->e_first = now;
	e->e_octets = pk->pk_octets;
	e->e_pf = PF_ONE | pk->pk_tcpflags;
	e->e_lastoff = 0;
	e->e_hnext = fc->fc_bucket[b];
	fc->fc_bucket[b] = idx;
	fc_list_append(fc, FCL_BORN, idx);

	fc->fc_stats.fs_created++;
	if (++fc->fc_stats.fs_active > fc->fc_stats.fs_peak)
		fc->fc_stats.fs_peak = fc->fc_stats.fs_active;
	fc_lru_insert(fc, fc_lru_list(e->e_pf), idx, now);
}
