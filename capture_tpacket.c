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
 * The Linux capture backend (capture.h): an AF_PACKET socket whose
 * TPACKET_V3 receive ring is mapped into the process, so that frames are
 * read where the kernel wrote them.  This file owns the socket setup, the
 * walk of the ring's blocks in ring order with every record header checked
 * against its block, putting back the VLAN tag the kernel stripped on
 * receive, and the socket's statistics.  It is compiled empty where
 * <net/bpf.h> exists.
 */

#if __has_include(<linux/if_packet.h>) && !__has_include(<net/bpf.h>)
#include <linux/if_packet.h>
#endif

#ifdef TPACKET3_HDRLEN

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <linux/filter.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"

/*
 * The ring: TP_BLOCKNR blocks of TP_BLOCKSIZE bytes.  Header-only
 * records take about 350 bytes, so a block holds some 3,000 of them and
 * the ring about 200,000: a fraction of a second at line rate, long
 * enough to ride out a slow export.  A quiet link still delivers: the
 * kernel retires a block that has waited TP_RETIRE_MS, full or not.
 */
#define TP_BLOCKSIZE	(1U << 20)
#define TP_BLOCKNR	64
#define TP_BLOCKNR_MIN	4		/* fewer when memory is short */
#define TP_RETIRE_MS	100
#define TP_MAXSNAPLEN	262144		/* libpcap's MAXIMUM_SNAPLEN */

/*
 * Linux strips the outer VLAN tag of a received frame into the record's
 * header, where BPF leaves it in the frame.  The walk puts it back, so
 * that every backend hands over frames as they were on the wire: the
 * addresses move TP_TAGLEN bytes towards the header, into room the
 * socket asks the kernel to leave (PACKET_RESERVE), and the tag follows.
 */
#define TP_TAGLEN	4
#define TP_ADDRLEN	(2 * ETH_ALEN)	/* destination and source */

/* The kernel and the walk share each block's status word. */
_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t),
    "block_status must be usable as an atomic");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic int must be lock-free");

struct capture {
	int		 cp_fd;
	int		 cp_ifindex;
	int		 cp_linktype;
	int		 cp_skipout;	/* drop PACKET_OUTGOING in the walk */
	int		 cp_down;	/* ENETDOWN seen: watch for departure */
	uint8_t		*cp_ring;
	size_t		 cp_ringlen;
	uint32_t	 cp_blocksize;
	uint32_t	 cp_blocknr;
	uint32_t	 cp_next;	/* next block to walk, in ring order */
	uint32_t	 cp_snaplen;
	uint64_t	 cp_received;	/* PACKET_STATISTICS, accumulated */
	uint64_t	 cp_drops;
	uint64_t	 cp_badrec;	/* records that did not fit */
	uint64_t	 cp_skipped;	/* outgoing copies on lo, not packets */
};

static struct capture *tp_fail(struct capture *, int, char *, size_t,
		    const char *, ...) __attribute__((__format__(__printf__,
		    5, 6)));
static int	 tp_linktype(int, const char *, int *, int *, char *,
		    size_t);
static int	 tp_filter(struct capture *, const struct capture_conf *,
		    char *, size_t);
static int	 tp_ring(struct capture *, char *, size_t);
static int	 tp_walk(struct capture *, uint8_t *, capture_frames_fn *,
		    void *);
static const uint8_t *tp_retag(uint8_t *, const struct tpacket3_hdr *,
		    uint32_t);
static int	 tp_error(struct capture *);
static int	 tp_gone(const struct capture *);

/* Closes what was opened, leaves one message and errno: NULL. */
static struct capture *
tp_fail(struct capture *cp, int error, char *errbuf, size_t errlen,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	capture_close(cp);
	errno = error;
	return (NULL);
}

/*
 * The link type from the hardware type.  Loopback is Ethernet-framed on
 * Linux (zero addresses); anything else flowprobe would misread.
 */
static int
tp_linktype(int fd, const char *ifname, int *linktype, int *hatype,
    char *errbuf, size_t errlen)
{
	struct ifreq ifr;

	/* The caller checked that the name fits, NUL included. */
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1) {
		if (errno == ENODEV) {
			snprintf(errbuf, errlen, "%s: no such interface",
			    ifname);
			errno = ENXIO;
		} else
			snprintf(errbuf, errlen, "%s: SIOCGIFHWADDR: %s",
			    ifname, strerror(errno));
		return (-1);
	}
	*hatype = ifr.ifr_hwaddr.sa_family;
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		*linktype = LINK_ETHERNET;
		return (0);
	default:
		snprintf(errbuf, errlen, "%s: hardware type %u is not "
		    "supported (Ethernet and loopback are)", ifname,
		    (unsigned)ifr.ifr_hwaddr.sa_family);
		errno = EOPNOTSUPP;
		return (-1);
	}
}

/*
 * Attaches the filter, or one that accepts everything, so that the kernel
 * copies only the first cp_snaplen bytes of each packet into the ring.  A
 * -F filter comes with its accept lengths capped (filter_clamp_snaplen);
 * one that returns "a" may still ask for more, which the walk cuts.
 */
static int
tp_filter(struct capture *cp, const struct capture_conf *cc, char *errbuf,
    size_t errlen)
{
	struct sock_filter insns[CAPTURE_MAXINSNS];
	struct sock_fprog prog;
	size_t i, n;

	if (cc->cc_filter == NULL || cc->cc_filterlen == 0) {
		insns[0].code = BPF_RET | BPF_K;
		insns[0].jt = insns[0].jf = 0;
		insns[0].k = cp->cp_snaplen;
		n = 1;
	} else {
		n = cc->cc_filterlen;
		if (n > CAPTURE_MAXINSNS) {
			snprintf(errbuf, errlen, "filter has %zu "
			    "instructions, more than %d", n,
			    CAPTURE_MAXINSNS);
			errno = EINVAL;
			return (-1);
		}
		for (i = 0; i < n; i++) {
			insns[i].code = cc->cc_filter[i].code;
			insns[i].jt = cc->cc_filter[i].jt;
			insns[i].jf = cc->cc_filter[i].jf;
			insns[i].k = cc->cc_filter[i].k;
		}
	}
	prog.len = (unsigned short)n;
	prog.filter = insns;
	if (setsockopt(cp->cp_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog)) == -1) {
		snprintf(errbuf, errlen, "SO_ATTACH_FILTER: %s%s",
		    strerror(errno), errno == EINVAL ?
		    " (the kernel rejected the filter program)" : "");
		return (-1);
	}
	return (0);
}

/*
 * Asks for the ring, with fewer blocks if kernel memory is short, and
 * maps it.  In TPACKET_V3 a record may use the whole block; the frame
 * size only has to hold one header-only record.
 */
static int
tp_ring(struct capture *cp, char *errbuf, size_t errlen)
{
	struct tpacket_req3 req;
	uint32_t frame;
	void *ring;

	frame = TPACKET_ALIGN(TPACKET3_HDRLEN + 2 * TPACKET_ALIGNMENT +
	    TP_TAGLEN + cp->cp_snaplen);
	memset(&req, 0, sizeof(req));
	req.tp_block_size = TP_BLOCKSIZE;
	while (req.tp_block_size < frame)
		req.tp_block_size *= 2;
	req.tp_frame_size = frame;
	req.tp_retire_blk_tov = TP_RETIRE_MS;
	for (req.tp_block_nr = TP_BLOCKNR;; req.tp_block_nr /= 2) {
		req.tp_frame_nr = req.tp_block_size / frame *
		    req.tp_block_nr;
		if (setsockopt(cp->cp_fd, SOL_PACKET, PACKET_RX_RING, &req,
		    sizeof(req)) == 0)
			break;
		if (errno != ENOMEM || req.tp_block_nr <= TP_BLOCKNR_MIN) {
			snprintf(errbuf, errlen, "PACKET_RX_RING (%u blocks "
			    "of %u bytes): %s", req.tp_block_nr,
			    req.tp_block_size, strerror(errno));
			return (-1);
		}
	}
	cp->cp_blocksize = req.tp_block_size;
	cp->cp_blocknr = req.tp_block_nr;
	cp->cp_ringlen = (size_t)req.tp_block_size * req.tp_block_nr;
	ring = mmap(NULL, cp->cp_ringlen, PROT_READ | PROT_WRITE, MAP_SHARED,
	    cp->cp_fd, 0);
	if (ring == MAP_FAILED) {
		snprintf(errbuf, errlen, "mmap of the %zu-byte ring: %s",
		    cp->cp_ringlen, strerror(errno));
		return (-1);
	}
	cp->cp_ring = ring;
	return (0);
}

struct capture *
capture_open(const struct capture_conf *cc, char *errbuf, size_t errlen)
{
	struct capture *cp;
	struct packet_mreq mr;
	struct sockaddr_ll sll;
	unsigned int ifindex, reserve;
	int hatype, version;

	if (cc->cc_ifname == NULL ||
	    strlen(cc->cc_ifname) >= IF_NAMESIZE ||
	    (ifindex = if_nametoindex(cc->cc_ifname)) == 0) {
		snprintf(errbuf, errlen, "%s: no such interface",
		    cc->cc_ifname != NULL ? cc->cc_ifname : "(null)");
		errno = ENXIO;
		return (NULL);
	}
	if ((cp = calloc(1, sizeof(*cp))) == NULL) {
		snprintf(errbuf, errlen, "%s", strerror(errno));
		return (NULL);
	}
	cp->cp_fd = -1;
	cp->cp_ifindex = (int)ifindex;
	cp->cp_snaplen = cc->cc_snaplen;
	if (cp->cp_snaplen == 0)
		cp->cp_snaplen = CAPTURE_SNAPLEN;
	if (cp->cp_snaplen > TP_MAXSNAPLEN)
		cp->cp_snaplen = TP_MAXSNAPLEN;

	/*
	 * Protocol 0: the socket receives nothing until bind(2) below, so
	 * no packet reaches it before the filter and the ring are in place.
	 */
	cp->cp_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (cp->cp_fd == -1)
		return (tp_fail(cp, errno, errbuf, errlen,
		    "socket(AF_PACKET): %s%s", strerror(errno),
		    errno == EPERM ? " (needs root or CAP_NET_RAW)" : ""));
	if (tp_linktype(cp->cp_fd, cc->cc_ifname, &cp->cp_linktype, &hatype,
	    errbuf, errlen) == -1) {
		capture_close(cp);
		return (NULL);
	}
	version = TPACKET_V3;
	if (setsockopt(cp->cp_fd, SOL_PACKET, PACKET_VERSION, &version,
	    sizeof(version)) == -1)
		return (tp_fail(cp, errno, errbuf, errlen,
		    "PACKET_VERSION TPACKET_V3: %s", strerror(errno)));
	reserve = TP_TAGLEN;
	if (setsockopt(cp->cp_fd, SOL_PACKET, PACKET_RESERVE, &reserve,
	    sizeof(reserve)) == -1)
		return (tp_fail(cp, errno, errbuf, errlen,
		    "PACKET_RESERVE: %s", strerror(errno)));
	if (tp_filter(cp, cc, errbuf, errlen) == -1) {
		capture_close(cp);
		return (NULL);
	}

	/*
	 * On lo every packet passes twice, leaving and arriving: keep only
	 * the arrival.  Elsewhere both directions are traffic to meter, as
	 * BPF sees them.  Kernels before 4.20 lack the option; the walk
	 * then skips outgoing records itself.
	 */
	if (hatype == ARPHRD_LOOPBACK) {
#ifdef PACKET_IGNORE_OUTGOING
		const int on = 1;

		cp->cp_skipout = setsockopt(cp->cp_fd, SOL_PACKET,
		    PACKET_IGNORE_OUTGOING, &on, sizeof(on)) == -1;
#else
		cp->cp_skipout = 1;
#endif
	}
	if (tp_ring(cp, errbuf, errlen) == -1) {
		capture_close(cp);
		return (NULL);
	}
	if (cc->cc_promisc) {
		memset(&mr, 0, sizeof(mr));
		mr.mr_ifindex = cp->cp_ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(cp->cp_fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP,
		    &mr, sizeof(mr)) == -1)
			return (tp_fail(cp, errno, errbuf, errlen,
			    "%s: promiscuous mode: %s", cc->cc_ifname,
			    strerror(errno)));
	}

	/* A link that is down is no error: capture starts when it is up. */
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = cp->cp_ifindex;
	if (bind(cp->cp_fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		if (errno == ENODEV || errno == ENXIO)
			return (tp_fail(cp, ENXIO, errbuf, errlen,
			    "%s: no such interface", cc->cc_ifname));
		return (tp_fail(cp, errno, errbuf, errlen, "%s: bind: %s",
		    cc->cc_ifname, strerror(errno)));
	}
	return (cp);
}

const char *
capture_mode(const struct capture *cp)
{
	(void)cp;
	return ("TPACKET_V3");
}

int
capture_linktype(const struct capture *cp)
{
	return (cp->cp_linktype);
}

int
capture_fd(const struct capture *cp)
{
	return (cp->cp_fd);
}

/*
 * Hands over the records of one block the kernel has retired, in
 * batches, the last before the block goes back.  Nothing in a record is
 * trusted: its header must lie in the block, its data between the header
 * and the block's end, and each step must move forward, or the rest of
 * the block is counted as bad and skipped.  A record whose stripped tag
 * has no room to go back is bad too: the kernel left none.
 */
static int
tp_walk(struct capture *cp, uint8_t *blk, capture_frames_fn *fn, void *arg)
{
	const struct tpacket_block_desc *bd;
	const struct tpacket3_hdr *h;
	const struct sockaddr_ll *sll;
	struct fp_frame fr[CAPTURE_BATCH], *f;
	uint8_t *frame;
	uint32_t blklen, npkts, off, k, snap, mac, next, status, snaplen;
	int n, skipout, tagged;

	bd = (const struct tpacket_block_desc *)blk;
	blklen = bd->hdr.bh1.blk_len;
	npkts = bd->hdr.bh1.num_pkts;
	off = bd->hdr.bh1.offset_to_first_pkt;
	snaplen = cp->cp_snaplen;
	skipout = cp->cp_skipout;
	n = 0;
	f = fr;
	/*
	 * The first record starts past the descriptor, within the block, and
	 * every step moves forward within it: each record's own test is then
	 * only of its alignment and the room for its header.
	 */
	if (blklen > cp->cp_blocksize || off < sizeof(*bd) || off > blklen)
		off = blklen = 0;	/* fails the first record's test */
	for (k = 0; k < npkts; k++) {
		if ((off & 3) != 0 || blklen - off < sizeof(*h))
			break;
		h = (const struct tpacket3_hdr *)(blk + off);
		snap = h->tp_snaplen;
		mac = h->tp_mac;
		status = h->tp_status;
		/* The sockaddr_ll lies between the header and tp_mac. */
		sll = (const struct sockaddr_ll *)((const uint8_t *)h +
		    TPACKET_ALIGN(sizeof(*h)));
		tagged = (status & TP_STATUS_VLAN_VALID) != 0 &&
		    snap >= TP_ADDRLEN;
		if (mac < TPACKET3_HDRLEN || mac > blklen - off ||
		    snap > blklen - off - mac || snap > h->tp_len ||
		    (tagged && (mac - TPACKET3_HDRLEN < TP_TAGLEN ||
		    h->tp_len > UINT32_MAX - TP_TAGLEN))) {
			cp->cp_badrec++;
		} else if (skipout && sll->sll_pkttype == PACKET_OUTGOING) {
			/* Already seen arriving (lo). */
			cp->cp_skipped++;
		} else {
			frame = blk + off + mac;
			f->fr_data = tagged ? tp_retag(frame, h, status) :
			    frame;
			f->fr_wirelen = h->tp_len;
			if (tagged) {
				snap += TP_TAGLEN;
				f->fr_wirelen += TP_TAGLEN;
			}
			f->fr_caplen = snap < snaplen ? snap : snaplen;
			f->fr_time = (uint64_t)h->tp_sec * 1000 +
			    h->tp_nsec / 1000000;
			if (++f == fr + CAPTURE_BATCH) {
				fn(fr, CAPTURE_BATCH, arg);
				n += CAPTURE_BATCH;
				f = fr;
			}
		}
		/* The last record's is 0, and the walk ends anyway. */
		next = h->tp_next_offset;
		if (next < sizeof(*h) || next > blklen - off) {
			k++;
			break;
		}
		off += next;
	}
	if (f > fr) {
		fn(fr, (size_t)(f - fr), arg);
		n += (int)(f - fr);
	}
	if (k < npkts)
		cp->cp_badrec += npkts - k;
	return (n);
}

/*
 * The frame at frame with its stripped tag back in place, TP_TAGLEN bytes
 * earlier.  The TPID is the one the kernel saw when it says so (802.1ad
 * outer tags; kernels before 3.14 do not), else 802.1Q's; the TCI is
 * whole, priority bits included.  status is the record's, as tested.
 */
static const uint8_t *
tp_retag(uint8_t *frame, const struct tpacket3_hdr *h, uint32_t status)
{
	uint8_t *tagged;
	uint16_t tpid;

	tpid = ETH_P_8021Q;
#ifdef TP_STATUS_VLAN_TPID_VALID
	if ((status & TP_STATUS_VLAN_TPID_VALID) != 0)
		tpid = h->hv1.tp_vlan_tpid;
#else
	(void)status;
#endif
	tagged = frame - TP_TAGLEN;
	memmove(tagged, frame, TP_ADDRLEN);
	tagged[TP_ADDRLEN] = tpid >> 8;
	tagged[TP_ADDRLEN + 1] = tpid & 0xff;
	tagged[TP_ADDRLEN + 2] = h->hv1.tp_vlan_tci >> 8;
	tagged[TP_ADDRLEN + 3] = h->hv1.tp_vlan_tci & 0xff;
	return (tagged);
}

/*
 * The interface is gone once the socket is bound to none: the kernel
 * sets the bound index to -1 when it unregisters the device.
 */
static int
tp_gone(const struct capture *cp)
{
	struct sockaddr_ll sll;
	socklen_t len;

	len = sizeof(sll);
	if (getsockname(cp->cp_fd, (struct sockaddr *)&sll, &len) == -1)
		return (1);
	return (sll.sll_ifindex != cp->cp_ifindex);
}

/*
 * POLLERR: the socket error says why.  ENETDOWN comes when the link goes
 * down, and also just before the device is unregistered; only the latter
 * ends the capture, and it may come a moment after the error, so the
 * check is repeated on every call while the link is down.
 */
static int
tp_error(struct capture *cp)
{
	socklen_t len;
	int error;

	error = 0;
	len = sizeof(error);
	if (getsockopt(cp->cp_fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		return (-1);
	switch (error) {
	case 0:
		return (0);
	case ENETDOWN:
		cp->cp_down = 1;
		return (0);
	case ENODEV:
	case ENXIO:
		errno = ENXIO;
		return (-1);
	default:
		errno = error;
		return (-1);
	}
}

int
capture_dispatch(struct capture *cp, short revents, capture_frames_fn *fn,
    void *arg)
{
	_Atomic uint32_t *status;
	uint8_t *blk;
	uint32_t i;
	int n;

	if ((revents & POLLNVAL) != 0) {
		errno = EBADF;
		return (-1);
	}

	/* What the kernel still holds is delivered before any error. */
	n = 0;
	for (i = 0; i < cp->cp_blocknr; i++) {
		blk = cp->cp_ring + (size_t)cp->cp_next * cp->cp_blocksize;
		status = (_Atomic uint32_t *)&((struct tpacket_block_desc *)
		    blk)->hdr.bh1.block_status;
		/* Acquire: the records are read only after the status. */
		if ((atomic_load_explicit(status, memory_order_acquire) &
		    TP_STATUS_USER) == 0)
			break;
		n += tp_walk(cp, blk, fn, arg);
		/* Release: every read of the block is done before this. */
		atomic_store_explicit(status, TP_STATUS_KERNEL,
		    memory_order_release);
		cp->cp_next = (cp->cp_next + 1) % cp->cp_blocknr;
		cp->cp_down = 0;
	}

	if ((revents & (POLLERR | POLLHUP)) != 0 && tp_error(cp) == -1)
		return (-1);
	if (cp->cp_down != 0 && tp_gone(cp)) {
		errno = ENXIO;
		return (-1);
	}
	return (n);
}

/* The kernel resets its counters on every read: accumulate them. */
int
capture_stats(struct capture *cp, struct capture_stats *cs)
{
	struct tpacket_stats_v3 st;
	socklen_t len;

	memset(&st, 0, sizeof(st));
	len = sizeof(st);
	if (getsockopt(cp->cp_fd, SOL_PACKET, PACKET_STATISTICS, &st,
	    &len) == -1)
		return (-1);
	cp->cp_received += st.tp_packets;	/* includes tp_drops */
	cp->cp_drops += st.tp_drops;
	cs->cs_received = cp->cp_received > cp->cp_skipped ?
	    cp->cp_received - cp->cp_skipped : 0;
	cs->cs_dropped = cp->cp_drops + cp->cp_badrec;
	return (0);
}

/* Linux has no BIOCLOCK; the sandbox, not the descriptor, limits us. */
int
capture_lock(struct capture *cp, char *errbuf, size_t errlen)
{
	(void)cp;
	(void)errbuf;
	(void)errlen;
	return (0);
}

void
capture_close(struct capture *cp)
{
	int saved;

	if (cp == NULL)
		return;
	saved = errno;
	if (cp->cp_ring != NULL)
		munmap(cp->cp_ring, cp->cp_ringlen);
	if (cp->cp_fd != -1)
		close(cp->cp_fd);
	free(cp);
	errno = saved;
}

#else /* !TPACKET3_HDRLEN */

/* ISO C wants a declaration in every translation unit. */
extern int	 capture_tpacket_absent;

#endif /* TPACKET3_HDRLEN */
