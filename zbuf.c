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
 * This file owns the user side of FreeBSD's zero-copy BPF: the
 * generation handshake on the two shared buffer headers, the strict A
 * then B order, what to do on a poll timeout, and the walk over BPF
 * records, which buffered read(2) mode shares.  It makes no system call
 * and includes no platform header, so it builds and is tested anywhere;
 * the kernel writes these buffers, so every header is checked first.
 */

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "capture.h"

/*
 * struct bpf_zbuf_header.  The kernel owns a buffer while kernel_gen ==
 * user_gen and hands it over by bumping kernel_gen; we give it back by
 * copying kernel_gen to user_gen.  kernel_len counts data bytes after
 * the header.  The counters are 32 bits and wrap, so only != is sound.
 */
struct zb_header {
	uint32_t	 zh_kernel_gen;
	uint32_t	 zh_kernel_len;
	uint32_t	 zh_user_gen;
	uint32_t	 zh_pad[5];
};

/*
 * The record headers, by byte offset.  bpf_hdr and bpf_xhdr differ only
 * in the stamp in front: bpf_xhdr's struct bpf_ts is {int64, uint64}, 16
 * bytes everywhere; bpf_hdr's struct timeval is FreeBSD's {time_t, long}
 * (16 bytes on LP64, so the same offsets) or, on OpenBSD and macOS, two
 * 32-bit words.  caplen, datalen and hdrlen follow the stamp; the kernel
 * counts the header as ending at hdrlen (SIZEOF_BPF_HDR), not at sizeof.
 */
struct zb_timeval {
	time_t		 tv_sec;
	long		 tv_usec;
};
#define ZB_BT_SIZE	16
#define ZB_TV32_SIZE	8
#define ZB_CAPLEN	0	/* offsets after the stamp */
#define ZB_DATALEN	4
#define ZB_HDRLEN	8
#define ZB_FIXED	10	/* caplen, datalen, hdrlen */

_Static_assert(sizeof(struct zb_header) == ZBUF_HDRLEN,
    "struct bpf_zbuf_header is 32 bytes on every architecture");

static size_t	 zb_stampsize(int);
static uint64_t	 zb_stamp_ms(int, const uint8_t *);
static struct zb_header *zb_header(const struct zbuf *, unsigned int);
static int	 zb_owned(const struct zbuf *, unsigned int, uint32_t *);
static int	 zb_consume(struct zbuf *, unsigned int, uint32_t,
		    capture_frames_fn *, void *);
static int	 zb_drain(struct zbuf *, capture_frames_fn *, void *);

static size_t
zb_stampsize(int tsformat)
{
	switch (tsformat) {
	case ZBUF_TS_MICRO:
		return (sizeof(struct zb_timeval));
	case ZBUF_TS_MICRO32:
		return (ZB_TV32_SIZE);
	case ZBUF_TS_NANO:
	case ZBUF_TS_BIN:
		return (ZB_BT_SIZE);
	default:
		return (0);
	}
}

/*
 * A record's time stamp as ms since the epoch.  Unsigned arithmetic: a
 * nonsense stamp gives a nonsense time, never undefined behaviour.
 */
static uint64_t
zb_stamp_ms(int tsformat, const uint8_t *p)
{
	struct zb_timeval tv;
	int64_t sec;
	uint64_t frac;
	uint32_t s32, us32;

	switch (tsformat) {
	case ZBUF_TS_MICRO:
		memcpy(&tv, p, sizeof(tv));
		if (tv.tv_sec < 0 || tv.tv_usec < 0)
			return (0);
		return ((uint64_t)tv.tv_sec * 1000 +
		    (uint64_t)tv.tv_usec / 1000);
	case ZBUF_TS_MICRO32:
		memcpy(&s32, p, sizeof(s32));
		memcpy(&us32, p + sizeof(s32), sizeof(us32));
		return ((uint64_t)s32 * 1000 + us32 / 1000);
	case ZBUF_TS_NANO:
	case ZBUF_TS_BIN:
		memcpy(&sec, p, sizeof(sec));
		memcpy(&frac, p + sizeof(sec), sizeof(frac));
		if (sec < 0)
			return (0);
		if (tsformat == ZBUF_TS_NANO)
			frac /= 1000000;
		else	/* 2^-64 s: the top 32 bits are enough for ms */
			frac = ((frac >> 32) * 1000) >> 32;
		return ((uint64_t)sec * 1000 + frac);
	default:
		return (0);
	}
}

/*
 * Sets zb up for buffers a and b, each buflen bytes with the 32-byte
 * header in front, records stamped as tsformat and aligned to align.
 * With a and b both NULL only zbuf_walk() is used (buffered mode).
 */
int
zbuf_init(struct zbuf *zb, void *a, void *b, size_t buflen, int tsformat,
    size_t align)
{
	memset(zb, 0, sizeof(*zb));
	if (zb_stampsize(tsformat) == 0 || align == 0 ||
	    (align & (align - 1)) != 0) {
		errno = EINVAL;
		return (-1);
	}
	if (a != NULL || b != NULL) {
		/* The headers are read with atomics: 4-byte alignment. */
		if (a == NULL || b == NULL || a == b ||
		    buflen <= ZBUF_HDRLEN || buflen > UINT32_MAX ||
		    (uintptr_t)a % sizeof(uint32_t) != 0 ||
		    (uintptr_t)b % sizeof(uint32_t) != 0) {
			errno = EINVAL;
			return (-1);
		}
	}
	zb->zb_buf[0] = a;
	zb->zb_buf[1] = b;
	zb->zb_buflen = buflen;
	zb->zb_next = 0;	/* the kernel always fills A first */
	zb->zb_tsformat = tsformat;
	zb->zb_align = align;
	return (0);
}

/*
 * Hands fn every record in data[0, len): a read(2) result or the data
 * of a zero-copy buffer, in batches.  Each header is copied out and
 * checked before its packet is touched; the first that does not fit
 * ends the walk and is counted, since nothing after it can be trusted
 * to be a record.  Returns the frames handed over.
 */
int
zbuf_walk(struct zbuf *zb, const uint8_t *data, size_t len,
    capture_frames_fn *fn, void *arg)
{
	struct fp_frame fr[CAPTURE_BATCH], *f;
	size_t off, rest, stamp, minhdr, step;
	uint32_t caplen, datalen;
	uint16_t hdrlen;
	int frames;

	stamp = zb_stampsize(zb->zb_tsformat);
	minhdr = stamp + ZB_FIXED;
	frames = 0;
	f = fr;
	/* The last record is not padded: step past the end, so test <. */
	for (off = 0; off < len; off += step) {
		rest = len - off;
		if (rest < minhdr) {
			zb->zb_stats.zs_badrecords++;
			break;
		}
		memcpy(&caplen, data + off + stamp + ZB_CAPLEN,
		    sizeof(caplen));
		memcpy(&datalen, data + off + stamp + ZB_DATALEN,
		    sizeof(datalen));
		memcpy(&hdrlen, data + off + stamp + ZB_HDRLEN,
		    sizeof(hdrlen));
		if (hdrlen < minhdr || hdrlen > rest ||
		    caplen > rest - hdrlen || caplen > datalen) {
			zb->zb_stats.zs_badrecords++;
			break;
		}
		f->fr_data = data + off + hdrlen;
		f->fr_caplen = caplen;
		f->fr_wirelen = datalen;
		f->fr_time = zb_stamp_ms(zb->zb_tsformat, data + off);
		if (++f == fr + CAPTURE_BATCH) {
			fn(fr, CAPTURE_BATCH, arg);
			frames += CAPTURE_BATCH;
			f = fr;
		}
		step = ((size_t)hdrlen + caplen + zb->zb_align - 1) &
		    ~(zb->zb_align - 1);
	}
	if (f > fr) {
		fn(fr, (size_t)(f - fr), arg);
		frames += (int)(f - fr);
	}
	zb->zb_stats.zs_frames += (uint64_t)frames;
	return (frames);
}

static struct zb_header *
zb_header(const struct zbuf *zb, unsigned int i)
{
	return ((struct zb_header *)(void *)zb->zb_buf[i]);
}

/*
 * Is buffer i ours?  The acquire load orders every later read of the
 * buffer after the kernel's last write to it; *gen gets the generation
 * to acknowledge.
 */
static int
zb_owned(const struct zbuf *zb, unsigned int i, uint32_t *gen)
{
	struct zb_header *h = zb_header(zb, i);
	uint32_t kgen;

	kgen = __atomic_load_n(&h->zh_kernel_gen, __ATOMIC_ACQUIRE);
	if (gen != NULL)
		*gen = kgen;
	return (kgen != __atomic_load_n(&h->zh_user_gen, __ATOMIC_RELAXED));
}

/*
 * Walks buffer i, owned at generation gen, then hands it back.  The
 * release store comes after the last read: from then on the kernel may
 * write the buffer again, and no frame pointer outlives the walk.
 */
static int
zb_consume(struct zbuf *zb, unsigned int i, uint32_t gen,
    capture_frames_fn *fn, void *arg)
{
	struct zb_header *h = zb_header(zb, i);
	uint32_t klen;
	int frames;

	/* Read once: the walk must not see it change under its checks. */
	klen = __atomic_load_n(&h->zh_kernel_len, __ATOMIC_RELAXED);
	frames = 0;
	if (klen > zb->zb_buflen - ZBUF_HDRLEN)
		zb->zb_stats.zs_badbuffers++;
	else
		frames = zbuf_walk(zb, zb->zb_buf[i] + ZBUF_HDRLEN, klen,
		    fn, arg);
	__atomic_store_n(&h->zh_user_gen, gen, __ATOMIC_RELEASE);
	zb->zb_stats.zs_buffers++;
	zb->zb_next = i ^ 1;
	return (frames);
}

/*
 * Takes what the kernel has handed over, at most both buffers, the due
 * one first.  Both headers are read every time, because a buffer can
 * become ours without a wakeup (P2) or while poll says not ready (P3).
 */
static int
zb_drain(struct zbuf *zb, capture_frames_fn *fn, void *arg)
{
	unsigned int i, n;
	uint32_t gen;
	int frames;

	frames = 0;
	for (n = 0; n < 2; n++) {
		i = zb->zb_next;
		if (!zb_owned(zb, i, &gen)) {
			/*
			 * The kernel hands A, B, A, ... strictly, so the
			 * other buffer owned instead means something reset
			 * the order under us: follow it rather than stall.
			 */
			i ^= 1;
			if (!zb_owned(zb, i, &gen))
				break;
			zb->zb_stats.zs_disorder++;
		}
		frames += zb_consume(zb, i, gen, fn, arg);
	}
	return (frames);
}

/* Is a buffer ours right now?  Then do not sleep in poll. */
int
zbuf_pending(const struct zbuf *zb)
{
	if (zb->zb_buf[0] == NULL)
		return (0);
	return (zb_owned(zb, 0, NULL) || zb_owned(zb, 1, NULL));
}

/* Walks and hands back every buffer we own now; never blocks. */
int
zbuf_read(struct zbuf *zb, capture_frames_fn *fn, void *arg)
{
	if (zb->zb_buf[0] == NULL) {
		errno = EINVAL;
		return (-1);
	}
	return (zb_drain(zb, fn, arg));
}

/*
 * One pass of the consume loop, given what poll(2) reported for the bpf
 * descriptor (0: it timed out).
 * - Data: take what is ours.  Readable but nothing ours: as a timeout.
 * - Timeout: take what is ours (P3), then rotate so that a partly
 *   filled store buffer on a quiet link is handed over, then look again.
 *   The rotation is refused while an acknowledged buffer awaits the next
 *   packet to be reclaimed (P1); that costs one ioctl per timeout, never
 *   a spin, because nothing here relies on BIOCIMMEDIATE (P6).
 * - Hangup: the interface left (P7).  Take what is ours, ask for the
 *   partial buffer and take it too, then fail with ENXIO: poll would
 *   report the hangup forever.
 * Returns the frames handed over, or -1 with errno set.
 */
int
zbuf_dispatch(struct zbuf *zb, short revents, zbuf_rotate_fn *rotate,
    void *rarg, capture_frames_fn *fn, void *arg)
{
	uint64_t buffers;
	int frames, rc, saved;

	if (zb->zb_buf[0] == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if ((revents & POLLNVAL) != 0) {
		errno = EBADF;
		return (-1);
	}
	buffers = zb->zb_stats.zs_buffers;
	frames = zb_drain(zb, fn, arg);
	/*
	 * Readable with nothing ours is what a detached descriptor reports
	 * when only POLLIN was asked for (bpfpoll masks POLLHUP with the
	 * events): carry on as on a timeout, whose callback checks.
	 */
	if (revents != 0 && (revents & (POLLHUP | POLLERR)) == 0 &&
	    zb->zb_stats.zs_buffers != buffers)
		return (frames);

	zb->zb_stats.zs_rotations++;
	rc = rotate(rarg);
	saved = errno;
	frames += zb_drain(zb, fn, arg);
	if ((revents & (POLLHUP | POLLERR)) != 0) {
		errno = (revents & POLLHUP) != 0 ? ENXIO : EIO;
		return (-1);
	}
	if (rc == -1) {
		errno = saved;
		return (-1);
	}
	return (frames);
}
