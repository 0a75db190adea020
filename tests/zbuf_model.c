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
 * The FreeBSD kernel side of a zero-copy bpf descriptor, in user space:
 * the store/hold/free slots, catchpacket(), the ioctls the consumer and
 * the backend use, poll readiness, and a thread that plays a numbered
 * packet sequence.  It follows freebsd-bpf.md (b) step by step, with
 * its own record layouts (the amd64 ones, from the C types) so that a
 * mistake in zbuf.c's offsets is not repeated here.
 */

#include <sys/time.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zbuf_model.h"

#define NONE		(-1)
#define ALIGNMENT	sizeof(long)	/* BPF_ALIGNMENT */
#define WORDALIGN(x)	(((x) + ALIGNMENT - 1) & ~(ALIGNMENT - 1))
#define ETHER_HDRLEN	14		/* bif_hdrlen of DLT_EN10MB */
#define MAXINSNS	512
#define SEQ_MAXPKT	1600

enum { IDLE, WAITING, TIMED_OUT };

/* The record headers as the amd64 kernel lays them out. */
struct model_ts {
	int64_t		 bt_sec;
	uint64_t	 bt_frac;
};
struct model_xhdr {
	struct model_ts	 bh_tstamp;
	uint32_t	 bh_caplen;
	uint32_t	 bh_datalen;
	uint16_t	 bh_hdrlen;
};
struct model_hdr {
	struct timeval	 bh_tstamp;
	uint32_t	 bh_caplen;
	uint32_t	 bh_datalen;
	uint16_t	 bh_hdrlen;
};
struct model_zhdr {		/* struct bpf_zbuf_header */
	uint32_t	 kernel_gen;
	uint32_t	 kernel_len;
	uint32_t	 user_gen;
	uint32_t	 pad[5];
};

struct model {
	pthread_mutex_t	 m_mtx;		/* the descriptor lock */
	pthread_cond_t	 m_cv;		/* selwakeup */
	int		 m_bufmode;
	int		 m_bufalloc;	/* BIOCSBLEN allocated buffers */
	uint8_t		*m_zbuf[2];	/* A, B */
	int		 m_assigned[2];
	size_t		 m_buflen;
	size_t		 m_bufsize;	/* buflen - 32 */
	int		 m_sbuf, m_hbuf, m_fbuf;
	size_t		 m_slen, m_hlen;
	int		 m_state;
	int		 m_rtout;
	unsigned int	 m_immediate;
	unsigned int	 m_tstamp;
	int		 m_attached;
	int		 m_detached;
	int		 m_promisc;
	int		 m_locked;
	char		 m_ifname[16];
	struct model_counters m_c;

	/* the kernel thread */
	pthread_t	 m_thread;
	int		 m_running;
	struct model_script *m_script;
	uint64_t	 m_sent;	/* atomic: numbered packets offered */
	uint64_t	 m_dropped;	/* atomic: ... and dropped */
	uint64_t	 m_sentinels;	/* extra packets after the sequence */
	uint64_t	 m_sentinel_drops;
	int		 m_stop;	/* atomic */
};

static struct model_zhdr *zhdr(struct model *, int);
static uint8_t	*zdata(struct model *, int);
static void	 m_rotate(struct model *);
static void	 m_bufheld(struct model *);
static void	 m_buffull(struct model *);
static int	 m_canfreebuf(struct model *);
static void	 m_reclaim(struct model *);
static int	 m_canwritebuf(struct model *);
static void	 m_wakeup(struct model *);
static void	 m_reset(struct model *);
static int	 m_ready(struct model *);
static short	 m_pollstate(struct model *, short);
static int	 m_allowed_locked(unsigned long);
static int	 m_ioctl(struct model *, unsigned long, void *);
static size_t	 m_stamp(struct model *, uint8_t *, uint32_t, uint32_t,
		    uint16_t, uint64_t);
static void	*m_thread(void *);

static struct model_zhdr *
zhdr(struct model *m, int i)
{
	return ((struct model_zhdr *)(void *)m->m_zbuf[i]);
}

static uint8_t *
zdata(struct model *m, int i)
{
	return (m->m_zbuf[i] + MODEL_ZBUF_HDRLEN);
}

/* bpf_zerocopy.c: the new hold buffer goes to user space, once. */
static void
m_bufheld(struct model *m)
{
	struct model_zhdr *h = zhdr(m, m->m_hbuf);

	if (m->m_assigned[m->m_hbuf])
		return;
	m->m_assigned[m->m_hbuf] = 1;
	h->kernel_len = (uint32_t)m->m_hlen;
	__atomic_add_fetch(&h->kernel_gen, 1, __ATOMIC_RELEASE);
}

/* ROTATE_BUFFERS() */
static void
m_rotate(struct model *m)
{
	m->m_hbuf = m->m_sbuf;
	m->m_hlen = m->m_slen;
	m->m_sbuf = m->m_fbuf;
	m->m_slen = 0;
	m->m_fbuf = NONE;
	m->m_c.mc_rotations++;
	m_bufheld(m);
}

/* Store full and nothing free: hand it over, no wakeup (P2). */
static void
m_buffull(struct model *m)
{
	struct model_zhdr *h = zhdr(m, m->m_sbuf);

	if (m->m_assigned[m->m_sbuf])
		return;
	m->m_assigned[m->m_sbuf] = 1;
	h->kernel_len = (uint32_t)m->m_slen;
	__atomic_add_fetch(&h->kernel_gen, 1, __ATOMIC_RELEASE);
	m->m_c.mc_buffull++;
}

static int
m_canfreebuf(struct model *m)
{
	struct model_zhdr *h;

	if (m->m_hbuf == NONE)
		return (0);
	h = zhdr(m, m->m_hbuf);
	return (h->kernel_gen ==
	    __atomic_load_n(&h->user_gen, __ATOMIC_ACQUIRE));
}

static void
m_reclaim(struct model *m)
{
	m->m_fbuf = m->m_hbuf;
	m->m_hbuf = NONE;
	m->m_hlen = 0;
	m->m_assigned[m->m_fbuf] = 0;
	m->m_c.mc_reclaims++;
}

static int
m_canwritebuf(struct model *m)
{
	return (!m->m_assigned[m->m_sbuf]);
}

static void
m_wakeup(struct model *m)
{
	if (m->m_state == WAITING)
		m->m_state = IDLE;
	m->m_c.mc_wakeups++;
	pthread_cond_broadcast(&m->m_cv);
}

/* reset_d(): BIOCFLUSH, BIOCSETF, BIOCSETIF. */
static void
m_reset(struct model *m)
{
	if (m->m_bufmode == MODEL_BUFMODE_ZBUF && m->m_zbuf[0] != NULL) {
		if (m->m_hbuf != NONE && m_canfreebuf(m))
			m_reclaim(m);
		if (m_canwritebuf(m))
			m->m_slen = 0;
	}
	m->m_c.mc_rcount = 0;
	m->m_c.mc_dcount = 0;
	m->m_c.mc_fcount = 0;
}

static int
m_ready(struct model *m)
{
	if (m->m_hbuf != NONE && !m_canfreebuf(m) && m->m_hlen != 0)
		return (1);
	if ((m->m_immediate || m->m_state == TIMED_OUT) && m->m_slen != 0)
		return (1);
	return (0);
}

/* bpfpoll(): a detached descriptor masks POLLHUP with the events. */
static short
m_pollstate(struct model *m, short events)
{
	if (m->m_detached)
		return (events & (POLLHUP | POLLIN | POLLRDNORM | POLLOUT |
		    POLLWRNORM));
	if ((events & (POLLIN | POLLRDNORM)) != 0 && m_ready(m))
		return (events & (POLLIN | POLLRDNORM));
	return (0);
}

struct model *
model_create(void)
{
	struct model *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	pthread_mutex_init(&m->m_mtx, NULL);
	pthread_cond_init(&m->m_cv, NULL);
	m->m_bufmode = MODEL_BUFMODE_BUFFER;
	m->m_bufsize = 4096;		/* net.bpf.bufsize */
	m->m_sbuf = m->m_hbuf = m->m_fbuf = NONE;
	m->m_state = IDLE;
	return (m);
}

void
model_destroy(struct model *m)
{
	if (m == NULL)
		return;
	model_stop(m);
	pthread_cond_destroy(&m->m_cv);
	pthread_mutex_destroy(&m->m_mtx);
	free(m);
}

/* The allow-list of a BIOCLOCKed descriptor. */
static int
m_allowed_locked(unsigned long cmd)
{
	switch (cmd) {
	case MODEL_BIOCGBLEN:
	case MODEL_BIOCFLUSH:
	case MODEL_BIOCGDLT:
	case MODEL_BIOCGETIF:
	case MODEL_BIOCGRTIMEOUT:
	case MODEL_BIOCGSTATS:
	case MODEL_BIOCVERSION:
	case MODEL_BIOCSTSTAMP:
	case MODEL_BIOCFEEDBACK:
	case MODEL_BIOCLOCK:
	case MODEL_BIOCSRTIMEOUT:
	case MODEL_BIOCIMMEDIATE:
	case MODEL_BIOCROTZBUF:
		return (1);
	default:
		return (0);
	}
}

static int
m_ioctl(struct model *m, unsigned long cmd, void *arg)
{
	struct model_zbuf *bz;
	struct model_program *fp;
	struct model_stat *bs;
	struct model_ifreq *ifr;
	struct timeval *tv;
	size_t len;
	unsigned int v;
	int i;

	/* Every ioctl stops the read timeout. */
	m->m_state = IDLE;
	if (m->m_locked && !m_allowed_locked(cmd))
		return (EPERM);
	switch (cmd) {
	case MODEL_BIOCGBLEN:
		*(unsigned int *)arg = (unsigned int)m->m_bufsize;
		return (0);
	case MODEL_BIOCSBLEN:
		if (m->m_bufmode != MODEL_BUFMODE_BUFFER)
			return (EOPNOTSUPP);
		if (m->m_attached)
			return (EINVAL);
		m->m_bufsize = *(unsigned int *)arg;
		m->m_bufalloc = 1;
		return (0);
	case MODEL_BIOCSETF:
	case MODEL_BIOCSETFNR:
		fp = arg;
		if (fp->bf_len > MAXINSNS ||
		    (fp->bf_len != 0 && fp->bf_insns == NULL))
			return (EINVAL);
		if (cmd == MODEL_BIOCSETF)
			m_reset(m);
		return (0);
	case MODEL_BIOCFLUSH:
		m_reset(m);
		return (0);
	case MODEL_BIOCPROMISC:
		if (!m->m_attached || m->m_detached)
			return (EINVAL);
		m->m_promisc = 1;
		return (0);
	case MODEL_BIOCGDLT:
	case MODEL_BIOCGETIF:
		if (!m->m_attached || m->m_detached)
			return (EINVAL);
		if (cmd == MODEL_BIOCGDLT)
			*(unsigned int *)arg = 1;	/* DLT_EN10MB */
		else {
			ifr = arg;
			memcpy(ifr->ifr_name, m->m_ifname,
			    sizeof(ifr->ifr_name));
		}
		return (0);
	case MODEL_BIOCSETIF:
		ifr = arg;
		if (m->m_bufmode == MODEL_BUFMODE_ZBUF && m->m_sbuf == NONE)
			return (EINVAL);
		if (ifr->ifr_name[0] == '\0')
			return (ENXIO);
		memcpy(m->m_ifname, ifr->ifr_name, sizeof(m->m_ifname));
		m->m_ifname[sizeof(m->m_ifname) - 1] = '\0';
		m->m_attached = 1;
		m->m_detached = 0;
		m_reset(m);
		return (0);
	case MODEL_BIOCSRTIMEOUT:
		tv = arg;
		m->m_rtout = tv->tv_sec != 0 || tv->tv_usec != 0;
		return (0);
	case MODEL_BIOCGSTATS:
		/* u_int truncations of the 64-bit counters (P11) */
		bs = arg;
		bs->bs_recv = (unsigned int)m->m_c.mc_rcount;
		bs->bs_drop = (unsigned int)m->m_c.mc_dcount;
		return (0);
	case MODEL_BIOCIMMEDIATE:
		m->m_immediate = *(unsigned int *)arg;
		return (0);
	case MODEL_BIOCLOCK:
		m->m_locked = 1;
		return (0);
	case MODEL_BIOCGETBUFMODE:
		*(unsigned int *)arg = (unsigned int)m->m_bufmode;
		return (0);
	case MODEL_BIOCSETBUFMODE:
		v = *(unsigned int *)arg;
		if (m->m_bufalloc || m->m_zbuf[0] != NULL || m->m_attached)
			return (EBUSY);
		if (v != MODEL_BUFMODE_BUFFER && v != MODEL_BUFMODE_ZBUF)
			return (EINVAL);
		m->m_bufmode = (int)v;
		return (0);
	case MODEL_BIOCGETZMAX:
		if (m->m_bufmode != MODEL_BUFMODE_ZBUF)
			return (EOPNOTSUPP);
		*(size_t *)arg = (size_t)MODEL_MAX_PAGES * MODEL_PAGE;
		return (0);
	case MODEL_BIOCROTZBUF:
		if (m->m_bufmode != MODEL_BUFMODE_ZBUF)
			return (EOPNOTSUPP);
		bz = arg;
		memset(bz, 0, sizeof(*bz));
		/* No reclaim here, and no wakeup: P1. */
		if (m->m_hbuf == NONE && m->m_slen != 0) {
			m_rotate(m);
			bz->bz_bufa = m->m_zbuf[m->m_hbuf];
			bz->bz_buflen = m->m_hlen;	/* data only: P4 */
		}
		return (0);
	case MODEL_BIOCSETZBUF:
		if (m->m_bufmode != MODEL_BUFMODE_ZBUF)
			return (EOPNOTSUPP);
		bz = arg;
		len = bz->bz_buflen;
		if (bz->bz_bufa == NULL || bz->bz_bufb == NULL || len == 0)
			return (EINVAL);
		if (m->m_zbuf[0] != NULL || m->m_attached)
			return (EINVAL);
		if ((uintptr_t)bz->bz_bufa % MODEL_PAGE != 0 ||
		    (uintptr_t)bz->bz_bufb % MODEL_PAGE != 0 ||
		    len % MODEL_PAGE != 0 ||
		    len / MODEL_PAGE > MODEL_MAX_PAGES)
			return (EINVAL);
		m->m_zbuf[0] = bz->bz_bufa;
		m->m_zbuf[1] = bz->bz_bufb;
		m->m_buflen = len;
		m->m_bufsize = len - MODEL_ZBUF_HDRLEN;
		for (i = 0; i < 2; i++) {
			memset(m->m_zbuf[i], 0, MODEL_ZBUF_HDRLEN);
			m->m_assigned[i] = 0;
		}
		m->m_sbuf = 0;
		m->m_fbuf = 1;
		m->m_hbuf = NONE;
		m->m_slen = m->m_hlen = 0;
		return (0);
	case MODEL_BIOCGTSTAMP:
		*(unsigned int *)arg = m->m_tstamp;
		return (0);
	case MODEL_BIOCSTSTAMP:
		v = *(unsigned int *)arg;
		if ((v & ~0x0303U) != 0)
			return (EINVAL);
		m->m_tstamp = v;
		return (0);
	default:
		return (EINVAL);
	}
}

int
sim_ioctl(struct model *m, unsigned long cmd, void *arg)
{
	int error;

	pthread_mutex_lock(&m->m_mtx);
	error = m_ioctl(m, cmd, arg);
	pthread_mutex_unlock(&m->m_mtx);
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
}

/*
 * Writes the record header for the chosen stamp format at p (unless
 * NULL) and returns SIZEOF_BPF_HDR for it.  The kernel
 * copies the whole struct; the packet then overwrites its tail.
 */
static size_t
m_stamp(struct model *m, uint8_t *p, uint32_t caplen, uint32_t datalen,
    uint16_t hdrlen, uint64_t ns)
{
	struct model_xhdr xh;
	struct model_hdr h;
	unsigned int fmt = m->m_tstamp & 0x3;

	if (fmt == MODEL_T_NANOTIME || fmt == MODEL_T_BINTIME) {
		memset(&xh, 0, sizeof(xh));
		xh.bh_tstamp.bt_sec = (int64_t)(ns / 1000000000);
		if (fmt == MODEL_T_NANOTIME)
			xh.bh_tstamp.bt_frac = ns % 1000000000;
		else
			xh.bh_tstamp.bt_frac = (uint64_t)(((unsigned __int128)
			    (ns % 1000000000) << 64) / 1000000000);
		xh.bh_caplen = caplen;
		xh.bh_datalen = datalen;
		xh.bh_hdrlen = hdrlen;
		if (p != NULL)
			memcpy(p, &xh, sizeof(xh));
		return (offsetof(struct model_xhdr, bh_hdrlen) + 2);
	}
	memset(&h, 0, sizeof(h));
	if (fmt == MODEL_T_MICROTIME) {
		h.bh_tstamp.tv_sec = (time_t)(ns / 1000000000);
		h.bh_tstamp.tv_usec = (suseconds_t)(ns % 1000000000 / 1000);
	}
	h.bh_caplen = caplen;
	h.bh_datalen = datalen;
	h.bh_hdrlen = hdrlen;
	if (p != NULL)
		memcpy(p, &h, sizeof(h));
	return (offsetof(struct model_hdr, bh_hdrlen) + 2);
}

/*
 * A packet reaches the tap: bpf_mtap() then catchpacket().  snaplen is
 * what the read filter returned (0: rejected).  ns stamps it.
 */
enum model_fate
model_deliver(struct model *m, const uint8_t *pkt, uint32_t pktlen,
    uint32_t snaplen, uint64_t ns)
{
	struct model_xhdr scratch;
	uint8_t *data;
	size_t hdrlen, totlen, curlen, hsize;
	uint32_t caplen;
	int do_wakeup;

	pthread_mutex_lock(&m->m_mtx);
	if (m->m_detached || !m->m_attached || m->m_zbuf[0] == NULL) {
		m->m_c.mc_dcount++;
		pthread_mutex_unlock(&m->m_mtx);
		return (MODEL_DROPPED);
	}
	m->m_c.mc_rcount++;
	if (snaplen == 0) {
		pthread_mutex_unlock(&m->m_mtx);
		return (MODEL_FILTERED);
	}
	m->m_c.mc_fcount++;

	/* catchpacket() */
	if (m->m_fbuf == NONE && m_canfreebuf(m))
		m_reclaim(m);
	hdrlen = WORDALIGN(m_stamp(m, NULL, 0, 0, 0, 0) + ETHER_HDRLEN) -
	    ETHER_HDRLEN;
	totlen = hdrlen + (snaplen < pktlen ? snaplen : pktlen);
	if (totlen > m->m_bufsize)
		totlen = m->m_bufsize;		/* truncated to fit: P5 */
	curlen = WORDALIGN(m->m_slen);
	do_wakeup = 0;
	if (curlen + totlen > m->m_bufsize || !m_canwritebuf(m)) {
		if (m->m_fbuf == NONE) {
			m_buffull(m);
			m->m_c.mc_dcount++;
			pthread_mutex_unlock(&m->m_mtx);
			return (MODEL_DROPPED);
		}
		m_rotate(m);
		do_wakeup = 1;
		curlen = 0;
	} else {
		if (m->m_immediate || m->m_state == TIMED_OUT)
			do_wakeup = 1;
		memset(zdata(m, m->m_sbuf) + m->m_slen, 0,
		    curlen - m->m_slen);
	}
	caplen = (uint32_t)(totlen - hdrlen);
	data = zdata(m, m->m_sbuf);
	/* The whole struct, as the kernel copies it, cut at the buffer end. */
	m_stamp(m, (uint8_t *)&scratch, caplen, pktlen, (uint16_t)hdrlen, ns);
	hsize = sizeof(struct model_hdr);
	if ((m->m_tstamp & 0x3) == MODEL_T_NANOTIME ||
	    (m->m_tstamp & 0x3) == MODEL_T_BINTIME)
		hsize = sizeof(struct model_xhdr);
	if (hsize > m->m_bufsize - curlen)
		hsize = m->m_bufsize - curlen;
	memcpy(data + curlen, &scratch, hsize);
	memcpy(data + curlen + hdrlen, pkt, caplen);
	m->m_slen = curlen + totlen;
	if (do_wakeup)
		m_wakeup(m);
	pthread_mutex_unlock(&m->m_mtx);
	return (MODEL_STORED);
}

/* poll(2) without sleeping; arms the read timeout like bpfpoll(). */
short
model_poll(struct model *m, short events)
{
	short r;

	pthread_mutex_lock(&m->m_mtx);
	r = m_pollstate(m, events);
	if (r == 0 && m->m_rtout && m->m_state == IDLE)
		m->m_state = WAITING;
	pthread_mutex_unlock(&m->m_mtx);
	return (r);
}

/* poll(2) that sleeps up to ms until a wakeup makes it readable. */
short
model_wait(struct model *m, short events, int ms)
{
	struct timespec ts;
	short r;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_mutex_lock(&m->m_mtx);
	while ((r = m_pollstate(m, events)) == 0) {
		if (pthread_cond_timedwait(&m->m_cv, &m->m_mtx, &ts) ==
		    ETIMEDOUT) {
			r = m_pollstate(m, events);
			break;
		}
	}
	pthread_mutex_unlock(&m->m_mtx);
	return (r);
}

/* The read-timeout callout fires. */
void
model_timer(struct model *m)
{
	pthread_mutex_lock(&m->m_mtx);
	if (m->m_state == WAITING) {
		m->m_state = TIMED_OUT;
		if (m->m_slen != 0)
			m_wakeup(m);
	}
	pthread_mutex_unlock(&m->m_mtx);
}

/* The interface departs: bpf_detachd() wakes the reader. */
void
model_detach(struct model *m)
{
	pthread_mutex_lock(&m->m_mtx);
	m->m_detached = 1;
	m_wakeup(m);
	pthread_mutex_unlock(&m->m_mtx);
}

/* Test hook: start both generations of buffer i at gen (for wraps). */
void
model_set_gen(struct model *m, unsigned int i, uint32_t gen)
{
	struct model_zhdr *h;

	pthread_mutex_lock(&m->m_mtx);
	h = zhdr(m, (int)i);
	__atomic_store_n(&h->kernel_gen, gen, __ATOMIC_RELEASE);
	__atomic_store_n(&h->user_gen, gen, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->m_mtx);
}

void
model_counters(struct model *m, struct model_counters *c)
{
	pthread_mutex_lock(&m->m_mtx);
	*c = m->m_c;
	pthread_mutex_unlock(&m->m_mtx);
}

/*
 * The kernel thread: packets 0 .. count-1, each carrying its number in
 * its first 4 bytes and (number + i) & 0xff at byte i after that, with
 * a pause after every burst and now and then a quiet spell, in which
 * only a poll timeout and BIOCROTZBUF hand the data over.  Then one
 * packet every 200 us, numbered on from count, until model_stop(): an
 * acknowledged buffer is reclaimed only by the next packet (P1), so the
 * tail of the sequence may need them.
 */
static void *
m_thread(void *arg)
{
	struct model *m = arg;
	struct model_script *s = m->m_script;
	struct timespec pause, idle, tick;
	uint8_t pkt[SEQ_MAXPKT];
	uint32_t seq, len, i;
	enum model_fate fate;

	pause.tv_sec = 0;
	pause.tv_nsec = (long)s->ms_pause_us * 1000;
	idle.tv_sec = 0;
	idle.tv_nsec = (long)s->ms_idle_us * 1000;
	tick.tv_sec = 0;
	tick.tv_nsec = 200000;
	for (seq = 0;; seq++) {
		if (seq >= s->ms_count &&
		    __atomic_load_n(&m->m_stop, __ATOMIC_ACQUIRE))
			break;
		len = 60 + (seq * 131) % (SEQ_MAXPKT - 60);
		memcpy(pkt, &seq, sizeof(seq));
		for (i = sizeof(seq); i < len; i++)
			pkt[i] = (uint8_t)(seq + i);
		fate = model_deliver(m, pkt, len, s->ms_snaplen,
		    1700000000000000000ULL + (uint64_t)seq * 1000);
		if (seq < s->ms_count) {
			s->ms_fate[seq] = (uint8_t)fate;
			if (fate == MODEL_DROPPED)
				__atomic_add_fetch(&m->m_dropped, 1,
				    __ATOMIC_RELEASE);
			__atomic_store_n(&m->m_sent, (uint64_t)seq + 1,
			    __ATOMIC_RELEASE);
			if (s->ms_burst != 0 && (seq + 1) % s->ms_burst == 0)
				nanosleep(&pause, NULL);
			if (s->ms_idle_every != 0 &&
			    (seq + 1) % s->ms_idle_every == 0)
				nanosleep(&idle, NULL);
		} else {
			m->m_sentinels++;
			if (fate == MODEL_DROPPED)
				m->m_sentinel_drops++;
			nanosleep(&tick, NULL);
		}
	}
	return (NULL);
}

int
model_start(struct model *m, struct model_script *s)
{
	m->m_script = s;
	m->m_stop = 0;
	if (pthread_create(&m->m_thread, NULL, m_thread, m) != 0)
		return (-1);
	m->m_running = 1;
	return (0);
}

/* Numbered packets offered so far; *dropped gets how many were dropped. */
uint64_t
model_progress(struct model *m, uint64_t *dropped)
{
	uint64_t sent;

	sent = __atomic_load_n(&m->m_sent, __ATOMIC_ACQUIRE);
	*dropped = __atomic_load_n(&m->m_dropped, __ATOMIC_ACQUIRE);
	return (sent);
}

void
model_stop(struct model *m)
{
	if (!m->m_running)
		return;
	__atomic_store_n(&m->m_stop, 1, __ATOMIC_RELEASE);
	pthread_join(m->m_thread, NULL);
	m->m_running = 0;
}

/* After model_stop(): extra packets sent, *dropped of them dropped. */
uint64_t
model_sentinels(struct model *m, uint64_t *dropped)
{
	*dropped = m->m_sentinel_drops;
	return (m->m_sentinels);
}
