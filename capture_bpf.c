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
 * The capture backend for /dev/bpf.  This file owns the descriptor: the
 * setup in the order the kernel demands, zero-copy buffers where
 * BIOCSETZBUF exists and is enabled, buffered read(2) otherwise, the
 * statistics, BIOCLOCK and the Capsicum limits.  The consumer protocol
 * and the record walk live in zbuf.c, which this file only feeds.
 */

#if __has_include(<net/bpf.h>)

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#if __has_include(<sys/capsicum.h>)
#include <sys/capsicum.h>
#elif __has_include(<sys/capability.h>)
#include <sys/capability.h>
#endif

#include <net/if.h>
#include <net/bpf.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"

#define BPF_DEVICE	"/dev/bpf"
#define ZBUF_WANT	(2 * 1024 * 1024)	/* each of A and B */
#define BUFFERED_WANT	(2 * 1024 * 1024)	/* clamped to maxbufsize */
#define BUFFERED_READS	4	/* per dispatch: the loop has timers too */

#ifdef BPF_ALIGNMENT
#define CAPTURE_ALIGN	BPF_ALIGNMENT
#else
#define CAPTURE_ALIGN	sizeof(long)
#endif

struct capture {
	int		 c_fd;
	int		 c_zerocopy;
	int		 c_linktype;
	uint8_t		*c_zbuf[2];	/* mmap'd A and B */
	size_t		 c_zlen;
	uint8_t		*c_rbuf;	/* buffered: the read(2) buffer */
	size_t		 c_rlen;
	struct zbuf	 c_zb;		/* consumer state, or the walker */
	u_int		 c_lastrecv;	/* last BIOCGSTATS, for deltas */
	u_int		 c_lastdrop;
	uint64_t	 c_recv;
	uint64_t	 c_drop;
	char		 c_ifname[IFNAMSIZ];
};

static int	 bpf_fail(struct capture *, char *, size_t, const char *);
static int	 bpf_open(struct capture *, char *, size_t);
static int	 bpf_tstamp(struct capture *);
static int	 bpf_attach(struct capture *, const struct capture_conf *,
		    char *, size_t);
static int	 bpf_gone(struct capture *);
static int	 buffered_setup(struct capture *, char *, size_t);
static int	 buffered_dispatch(struct capture *, short,
		    capture_frames_fn *, void *);
#ifdef BIOCSETZBUF
static int	 zc_setup(struct capture *, char *, size_t, int *);
static int	 zc_rotate(void *);
static int	 zc_warned;
#endif

/* One message naming the step; errno is kept for the caller. */
static int
bpf_fail(struct capture *c, char *errbuf, size_t errlen, const char *what)
{
	int saved = errno;

	snprintf(errbuf, errlen, "%s %s: %s", what, c->c_ifname,
	    strerror(saved));
	errno = saved;
	return (-1);
}

/*
 * Read-only: a descriptor without FREAD starts on the writers' list and
 * sees nothing.  Non-blocking, so that a buffered read(2) returns what
 * the store buffer holds instead of waiting for it to fill; set now,
 * because FIONBIO is refused after BIOCLOCK.
 */
static int
bpf_open(struct capture *c, char *errbuf, size_t errlen)
{
	if ((c->c_fd = open(BPF_DEVICE, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) ==
	    -1) {
		snprintf(errbuf, errlen, "%s: %s", BPF_DEVICE, strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Wall-clock stamps in nanoseconds: bpf_xhdr, whose layout is the same
 * on every architecture.  Must precede BIOCSETIF, as the format is not
 * serialised against capture.  Without BIOCSTSTAMP the kernel's own
 * struct bpf_hdr is what we get: its stamp is a struct timeval or, on
 * OpenBSD and macOS, two 32-bit words.
 */
static int
bpf_tstamp(struct capture *c)
{
#ifdef BIOCSTSTAMP
	u_int ts = BPF_T_NANOTIME;

	if (ioctl(c->c_fd, BIOCSTSTAMP, &ts) == 0)
		return (ZBUF_TS_NANO);
	return (ZBUF_TS_MICRO);		/* the default, BPF_T_MICROTIME */
#else
	(void)c;
	if (offsetof(struct bpf_hdr, bh_caplen) == 8)
		return (ZBUF_TS_MICRO32);
	return (ZBUF_TS_MICRO);
#endif
}

/*
 * The steps after the buffers: interface, promiscuous mode (only once
 * attached), the read filter, the link type.  The filter is never a
 * lone "ret #snaplen": with net.bpf.optimize_writers=1 the kernel takes
 * that for libpcap's snaplen step and leaves the descriptor deaf.
 */
static int
bpf_attach(struct capture *c, const struct capture_conf *cc, char *errbuf,
    size_t errlen)
{
	struct bpf_insn dflt[2], *insns;
	struct bpf_program prog;
	struct ifreq ifr;
	u_int dlt;
	size_t i;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, cc->cc_ifname, sizeof(ifr.ifr_name));
	if (ioctl(c->c_fd, BIOCSETIF, &ifr) == -1)
		return (bpf_fail(c, errbuf, errlen, "BIOCSETIF"));
	if (cc->cc_promisc && ioctl(c->c_fd, BIOCPROMISC, NULL) == -1)
		return (bpf_fail(c, errbuf, errlen, "BIOCPROMISC"));

	if (cc->cc_filter != NULL) {
		if (cc->cc_filterlen == 0 ||
		    cc->cc_filterlen > CAPTURE_MAXINSNS) {
			errno = EINVAL;
			return (bpf_fail(c, errbuf, errlen, "filter for"));
		}
		if ((insns = calloc(cc->cc_filterlen, sizeof(*insns))) ==
		    NULL)
			return (bpf_fail(c, errbuf, errlen, "filter for"));
		for (i = 0; i < cc->cc_filterlen; i++) {
			insns[i].code = cc->cc_filter[i].code;
			insns[i].jt = cc->cc_filter[i].jt;
			insns[i].jf = cc->cc_filter[i].jf;
			insns[i].k = cc->cc_filter[i].k;
		}
		prog.bf_len = (u_int)cc->cc_filterlen;
		prog.bf_insns = insns;
	} else {
		/* A = packet length; accept cc_snaplen bytes of it. */
		memset(dflt, 0, sizeof(dflt));
		dflt[0].code = BPF_LD | BPF_W | BPF_LEN;
		dflt[1].code = BPF_RET | BPF_K;
		dflt[1].k = cc->cc_snaplen;
		insns = NULL;
		prog.bf_len = 2;
		prog.bf_insns = dflt;
	}
	rc = ioctl(c->c_fd, BIOCSETF, &prog);
	free(insns);
	if (rc == -1)
		return (bpf_fail(c, errbuf, errlen, "BIOCSETF"));

	/* pcap LINKTYPE_ and BSD DLT_ numbers agree for what we decode. */
	if (ioctl(c->c_fd, BIOCGDLT, &dlt) == -1)
		return (bpf_fail(c, errbuf, errlen, "BIOCGDLT"));
	c->c_linktype = (int)dlt;
	return (0);
}

/* Has the interface gone?  BIOCGETIF fails with EINVAL once detached. */
#if __has_include(<sys/pledge.h>)
/*
 * Under pledge("stdio bpf") BIOCGETIF would kill the process: there a
 * detached descriptor shows as POLLHUP or a read(2) error instead.
 */
static int
bpf_gone(struct capture *c)
{
	(void)c;
	return (0);
}
#else
static int
bpf_gone(struct capture *c)
{
	struct ifreq ifr;

	return (ioctl(c->c_fd, BIOCGETIF, &ifr) == -1 && errno == EINVAL);
}
#endif

#ifdef BIOCSETZBUF
/*
 * Zero-copy setup, in the only order the kernel accepts: the mode
 * before any buffer exists, the size limit (a size_t), two page-aligned
 * read-write buffers of one size, BIOCSETZBUF once, then the stamp
 * format and the interface.  *unavail is set when the kernel refuses
 * the mode itself (net.bpf.zerocopy_enable=0, EINVAL).
 */
static int
zc_setup(struct capture *c, char *errbuf, size_t errlen, int *unavail)
{
	struct bpf_zbuf bz;
	u_int mode = BPF_BUFMODE_ZBUF;
	size_t zmax, page, len;
	int i;

	*unavail = 0;
	if (ioctl(c->c_fd, BIOCSETBUFMODE, &mode) == -1) {
		*unavail = errno == EINVAL || errno == EOPNOTSUPP ||
		    errno == ENOTTY;
		return (bpf_fail(c, errbuf, errlen, "BIOCSETBUFMODE"));
	}
	if (ioctl(c->c_fd, BIOCGETZMAX, &zmax) == -1)
		return (bpf_fail(c, errbuf, errlen, "BIOCGETZMAX"));
	page = (size_t)getpagesize();
	len = zmax < ZBUF_WANT ? zmax : ZBUF_WANT;
	len -= len % page;
	if (len < page) {
		errno = ENOMEM;
		return (bpf_fail(c, errbuf, errlen, "BIOCGETZMAX"));
	}
	c->c_zlen = len;
	for (i = 0; i < 2; i++) {
		c->c_zbuf[i] = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_ANON | MAP_PRIVATE, -1, 0);
		if (c->c_zbuf[i] == MAP_FAILED) {
			c->c_zbuf[i] = NULL;
			return (bpf_fail(c, errbuf, errlen, "mmap for"));
		}
		memset(c->c_zbuf[i], 0, ZBUF_HDRLEN);	/* as bpf(4) asks */
	}
	memset(&bz, 0, sizeof(bz));
	bz.bz_bufa = c->c_zbuf[0];
	bz.bz_bufb = c->c_zbuf[1];
	bz.bz_buflen = len;
	if (ioctl(c->c_fd, BIOCSETZBUF, &bz) == -1)
		return (bpf_fail(c, errbuf, errlen, "BIOCSETZBUF"));
	if (zbuf_init(&c->c_zb, c->c_zbuf[0], c->c_zbuf[1], len,
	    bpf_tstamp(c), CAPTURE_ALIGN) == -1)
		return (bpf_fail(c, errbuf, errlen, "zero-copy buffers for"));
	c->c_zerocopy = 1;
	return (0);
}

/*
 * On a poll timeout: is the interface still there, and hand over the
 * partial store buffer either way, so that nothing caught before a
 * departure is lost.  What BIOCROTZBUF writes back is not used (P4).
 */
static int
zc_rotate(void *arg)
{
	struct capture *c = arg;
	struct bpf_zbuf bz;
	int gone, rc;

	gone = bpf_gone(c);
	rc = ioctl(c->c_fd, BIOCROTZBUF, &bz);
	if (gone) {
		errno = ENXIO;
		return (-1);
	}
	return (rc);
}
#endif /* BIOCSETZBUF */

/*
 * Buffered mode: the buffer size first (it allocates, and must precede
 * BIOCSETIF), then what the kernel granted, which read(2) must ask for
 * exactly.
 */
static int
buffered_setup(struct capture *c, char *errbuf, size_t errlen)
{
	u_int blen = BUFFERED_WANT;

	if (ioctl(c->c_fd, BIOCSBLEN, &blen) == -1)
		return (bpf_fail(c, errbuf, errlen, "BIOCSBLEN"));
	if (ioctl(c->c_fd, BIOCGBLEN, &blen) == -1)
		return (bpf_fail(c, errbuf, errlen, "BIOCGBLEN"));
	c->c_rlen = blen;
	if ((c->c_rbuf = malloc(c->c_rlen)) == NULL)
		return (bpf_fail(c, errbuf, errlen, "buffer for"));
	if (zbuf_init(&c->c_zb, NULL, NULL, 0, bpf_tstamp(c),
	    CAPTURE_ALIGN) == -1)
		return (bpf_fail(c, errbuf, errlen, "records of"));
	return (0);
}

struct capture *
capture_open(const struct capture_conf *cc, char *errbuf, size_t errlen)
{
	struct capture *c;
	int saved;
#ifdef BIOCSETZBUF
	int unavail;
#endif

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(errbuf, errlen, "%s", strerror(errno));
		return (NULL);
	}
	c->c_fd = -1;
	if (strlen(cc->cc_ifname) >= sizeof(c->c_ifname)) {
		snprintf(errbuf, errlen, "%s: interface name too long",
		    cc->cc_ifname);
		free(c);
		errno = ENXIO;
		return (NULL);
	}
	strlcpy(c->c_ifname, cc->cc_ifname, sizeof(c->c_ifname));
	if (bpf_open(c, errbuf, errlen) == -1)
		goto fail;
#ifdef BIOCSETZBUF
	if (zc_setup(c, errbuf, errlen, &unavail) == 0) {
		if (bpf_attach(c, cc, errbuf, errlen) == -1)
			goto fail;
		return (c);
	}
	if (!unavail)
		goto fail;
	if (!zc_warned) {
		log_warnx("zero-copy BPF unavailable (sysctl "
		    "net.bpf.zerocopy_enable=1 enables it); using buffered "
		    "read(2)");
		zc_warned = 1;
	}
	/* The mode cannot change once chosen: start over. */
	close(c->c_fd);
	if (bpf_open(c, errbuf, errlen) == -1)
		goto fail;
#endif
	if (buffered_setup(c, errbuf, errlen) == -1 ||
	    bpf_attach(c, cc, errbuf, errlen) == -1)
		goto fail;
	return (c);
fail:
	saved = errno;
	capture_close(c);
	errno = saved;
	return (NULL);
}

const char *
capture_mode(const struct capture *c)
{
	return (c->c_zerocopy ? "zero-copy BPF" : "buffered BPF");
}

int
capture_linktype(const struct capture *c)
{
	return (c->c_linktype);
}

int
capture_fd(const struct capture *c)
{
	return (c->c_fd);
}

/*
 * Non-blocking reads until the kernel has nothing: each returns the
 * hold buffer, or rotates out a partial store buffer.  Readable with
 * nothing to read, or a timeout, is when to ask whether the interface
 * is gone: a detached bpf reports POLLIN forever (P7).
 */
static int
buffered_dispatch(struct capture *c, short revents, capture_frames_fn *fn,
    void *arg)
{
	ssize_t n;
	int frames, i;

	if ((revents & POLLNVAL) != 0) {
		errno = EBADF;
		return (-1);
	}
	frames = 0;
	for (i = 0; i < BUFFERED_READS; i++) {
		if ((n = read(c->c_fd, c->c_rbuf, c->c_rlen)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return (-1);
		}
		if (n == 0)
			break;
		frames += zbuf_walk(&c->c_zb, c->c_rbuf, (size_t)n, fn, arg);
	}
	if ((revents & POLLHUP) != 0 || (frames == 0 && bpf_gone(c))) {
		errno = ENXIO;
		return (-1);
	}
	return (frames);
}

int
capture_dispatch(struct capture *c, short revents, capture_frames_fn *fn,
    void *arg)
{
#ifdef BIOCSETZBUF
	if (c->c_zerocopy)
		return (zbuf_dispatch(&c->c_zb, revents, zc_rotate, c, fn,
		    arg));
#endif
	return (buffered_dispatch(c, revents, fn, arg));
}

/*
 * The kernel's counters are u_int truncations of 64-bit ones: add the
 * difference since the last reading, which u_int arithmetic gets right
 * across a wrap.
 */
int
capture_stats(struct capture *c, struct capture_stats *cs)
{
	struct bpf_stat bs;

	if (ioctl(c->c_fd, BIOCGSTATS, &bs) == -1)
		return (-1);
	c->c_recv += (u_int)(bs.bs_recv - c->c_lastrecv);
	c->c_drop += (u_int)(bs.bs_drop - c->c_lastdrop);
	c->c_lastrecv = bs.bs_recv;
	c->c_lastdrop = bs.bs_drop;
	cs->cs_received = c->c_recv;
	cs->cs_dropped = c->c_drop;
	return (0);
}

/*
 * BIOCLOCK: from now on the kernel refuses every setup ioctl.  Then,
 * with Capsicum, the descriptor keeps only read, poll/kevent and the
 * ioctls the loop issues.  A kernel without Capsicum (ENOSYS) runs on.
 */
int
capture_lock(struct capture *c, char *errbuf, size_t errlen)
{
#ifdef CAP_RIGHTS_VERSION
	static const unsigned long cmds[] = {
		BIOCGSTATS,
		BIOCGETIF,
#ifdef BIOCROTZBUF
		BIOCROTZBUF,
#endif
	};
	cap_rights_t rights;
#endif

#ifdef BIOCLOCK
	if (ioctl(c->c_fd, BIOCLOCK) == -1)
		return (bpf_fail(c, errbuf, errlen, "BIOCLOCK"));
#endif
#ifdef CAP_RIGHTS_VERSION
	cap_rights_init(&rights, CAP_IOCTL, CAP_EVENT, CAP_READ);
	if (cap_rights_limit(c->c_fd, &rights) == -1 && errno != ENOSYS)
		return (bpf_fail(c, errbuf, errlen, "cap_rights_limit"));
	if (cap_ioctls_limit(c->c_fd, cmds, sizeof(cmds) / sizeof(cmds[0])) ==
	    -1 && errno != ENOSYS)
		return (bpf_fail(c, errbuf, errlen, "cap_ioctls_limit"));
#endif
	(void)c;
	(void)errbuf;
	(void)errlen;
	return (0);
}

/* The kernel holds the buffer pages until the descriptor is gone. */
void
capture_close(struct capture *c)
{
	int i;

	if (c == NULL)
		return;
	if (c->c_fd != -1)
		close(c->c_fd);
	for (i = 0; i < 2; i++)
		if (c->c_zbuf[i] != NULL)
			munmap(c->c_zbuf[i], c->c_zlen);
	free(c->c_rbuf);
	free(c);
}

#else /* !__has_include(<net/bpf.h>) */

/* No /dev/bpf here: capture_tpacket.c is the backend. */
typedef int	 capture_bpf_absent;

#endif
