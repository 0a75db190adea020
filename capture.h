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
 * The one interface between flowprobe and a platform's packet capture.
 * Each backend (capture_bpf.c, capture_tpacket.c) implements it under a
 * feature test, so exactly one of them is linked into any build; the
 * savefile reader is not a backend, it has its own loop in flowprobe.c.
 * Filters are classic BPF on every platform: BSD's struct bpf_insn and
 * Linux's struct sock_filter share this layout.
 */

#ifndef CAPTURE_H
#define CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "flowprobe.h"

/* Default bytes kept of each packet: the headers flowprobe decodes. */
#define CAPTURE_SNAPLEN		256
#define CAPTURE_MAXINSNS	512	/* FreeBSD's net.bpf.maxinsns */

/* A classic BPF instruction, as the kernels take it. */
struct fp_insn {
	uint16_t	 code;
	uint8_t		 jt;
	uint8_t		 jf;
	uint32_t	 k;
};

struct capture_conf {
	const char		*cc_ifname;
	int			 cc_promisc;	/* make the interface promisc */
	uint32_t		 cc_snaplen;	/* bytes kept per packet */
	const struct fp_insn	*cc_filter;	/* NULL: accept all */
	size_t			 cc_filterlen;
};

struct capture_stats {
	uint64_t	 cs_received;	/* packets the kernel saw for us */
	uint64_t	 cs_dropped;	/* ... and could not hand over */
};

/*
 * Frames go to the caller in batches of 1 to CAPTURE_BATCH, each
 * before the buffer under it is given back: one call, and one decode
 * loop, for many frames.  Batches never span buffers.
 */
#define CAPTURE_BATCH		256
typedef void	 capture_frames_fn(const struct fp_frame *, size_t, void *);

struct capture;

/*
 * Opens and configures the capture on cc_ifname, ready to deliver.  On
 * failure returns NULL with one message in errbuf and errno set (ENXIO:
 * no such interface; EPERM/EACCES: not allowed).
 */
struct capture	*capture_open(const struct capture_conf *, char *, size_t);

/* "zero-copy BPF", "buffered BPF", "TPACKET_V3": for the summary. */
const char	*capture_mode(const struct capture *);
int		 capture_linktype(const struct capture *);
int		 capture_fd(const struct capture *);	/* poll(2) for POLLIN */

/*
 * Hands fn every frame the kernel holds for us now, oldest first, in
 * batches, and gives each buffer back as soon as it is walked and its
 * last batch handed over; never blocks.  revents is what poll(2)
 * reported for capture_fd(), 0 after a poll timeout: the backend then
 * pushes out a partly filled buffer (BIOCROTZBUF), so that a quiet link
 * still delivers.  Frame data is valid only during fn.  Returns the
 * frames handed over, or -1 with errno set: ENXIO when the interface
 * went away, anything else on failure.
 */
int		 capture_dispatch(struct capture *, short, capture_frames_fn *,
		    void *);

/* Cumulative, 64-bit, never reset by reading. */
int		 capture_stats(struct capture *, struct capture_stats *);

/*
 * Locks the descriptor down once setup is done: BIOCLOCK and Capsicum
 * rights limited to what capture_dispatch and capture_stats still use.
 * A no-op where the platform has no such thing.
 */
int		 capture_lock(struct capture *, char *, size_t);

void		 capture_close(struct capture *);

/* filter.c */
int		 filter_load(const char *, struct fp_insn *, size_t, size_t *,
		    char *, size_t);
void		 filter_clamp_snaplen(struct fp_insn *, size_t, uint32_t);

/* zbuf.c */
/*
 * The zero-copy BPF consumer, and the record walker that buffered
 * read(2) mode shares.  No system call and no platform header: the
 * backend supplies the two buffers and, for a poll timeout, a callback
 * that issues BIOCROTZBUF.
 */
#define ZBUF_HDRLEN	32	/* struct bpf_zbuf_header before the data */

/* Record header formats: what BIOCSTSTAMP chose, or the system's bpf_hdr. */
#define ZBUF_TS_MICRO	0	/* bpf_hdr, struct timeval {time_t, long} */
#define ZBUF_TS_MICRO32	1	/* bpf_hdr, two 32-bit words (OpenBSD, macOS) */
#define ZBUF_TS_NANO	2	/* bpf_xhdr, bt_frac in nanoseconds */
#define ZBUF_TS_BIN	3	/* bpf_xhdr, bt_frac in 2^-64 seconds */

struct zbuf_stats {
	uint64_t	 zs_buffers;	/* buffers walked and handed back */
	uint64_t	 zs_frames;	/* frames handed to the callback */
	uint64_t	 zs_badrecords;	/* walks ended by a bad record header */
	uint64_t	 zs_badbuffers;	/* kernel_len past the end: skipped */
	uint64_t	 zs_disorder;	/* B owned while A was due: resynced */
	uint64_t	 zs_rotations;	/* rotate calls after a poll timeout */
};

/* Consumer state; the backend embeds it, nothing else touches it. */
struct zbuf {
	uint8_t		*zb_buf[2];	/* A and B; both NULL: walker only */
	size_t		 zb_buflen;	/* each, header included */
	unsigned int	 zb_next;	/* 0: A is due, 1: B */
	int		 zb_tsformat;	/* ZBUF_TS_* */
	size_t		 zb_align;	/* BPF_ALIGNMENT, a power of two */
	struct zbuf_stats zb_stats;
};

/*
 * BIOCROTZBUF on a poll timeout.  Returns 0, or -1 with errno: ENXIO
 * when the interface is gone (it should still have asked the kernel to
 * rotate, so that the last partial buffer is not lost).  What the ioctl
 * wrote back is never used: the shared headers are read again instead.
 */
typedef int	 zbuf_rotate_fn(void *);

int		 zbuf_init(struct zbuf *, void *, void *, size_t, int, size_t);
int		 zbuf_walk(struct zbuf *, const uint8_t *, size_t,
		    capture_frames_fn *, void *);
int		 zbuf_pending(const struct zbuf *);
int		 zbuf_read(struct zbuf *, capture_frames_fn *, void *);
int		 zbuf_dispatch(struct zbuf *, short, zbuf_rotate_fn *, void *,
		    capture_frames_fn *, void *);

#endif /* !CAPTURE_H */
