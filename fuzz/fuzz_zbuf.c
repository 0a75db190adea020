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
 * libFuzzer target for zbuf.c: two zero-copy buffers whose shared
 * headers (generations, kernel_len) and records come from the input, as
 * a hostile or buggy kernel could write them, then consumed with
 * zbuf_read() and zbuf_dispatch(); and the same bytes walked as one
 * buffered read(2) result.  Every frame handed out must lie inside the
 * bytes the kernel vouched for, and each of its bytes is read.
 *
 * Input: [tsformat] [align | revents | rotate] [L hi] [L lo]
 *        [buffer A: 32-byte header + L bytes] [buffer B: the same]
 * Short input is padded with zeros; headers are in host byte order.
 */

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

#define FZ_PREFIX	4
#define ZH_KGEN		0	/* struct bpf_zbuf_header offsets */
#define ZH_KLEN		4
#define ZH_UGEN		8

/* Byte 1. */
#define FZ_ALIGN(b)	((size_t)1 << ((b) & 0x03))
#define FZ_REVENTS(b)	(((b) >> 2) & 0x07)
#define FZ_ROTHANDS	0x20	/* rotate hands the due buffer over */
#define FZ_ROTFAILS	0x40	/* rotate fails with ENXIO */

struct fz_ctx {
	const uint8_t	*c_lo[2];	/* where frames may lie */
	const uint8_t	*c_hi[2];
	int		 c_nranges;
	uint64_t	 c_frames;	/* frames handed out */
	uint8_t		*c_buf[2];	/* for the rotate callback */
	const struct zbuf *c_zb;
	int		 c_rotflags;
};

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint32_t	 hget(const uint8_t *, size_t);
static void	 hput(uint8_t *, size_t, uint32_t);
static void	 ranges(struct fz_ctx *, size_t);
static void	 onframes(const struct fp_frame *, size_t, void *);
static int	 onrotate(void *);

static const short revents_tab[8] = {
	0, POLLIN, POLLIN, POLLHUP, POLLERR, POLLIN | POLLHUP, POLLNVAL,
	POLLIN | POLLERR
};

static volatile uint8_t sink;

static uint32_t
hget(const uint8_t *buf, size_t off)
{
	uint32_t v;

	memcpy(&v, buf + off, sizeof(v));
	return (v);
}

static void
hput(uint8_t *buf, size_t off, uint32_t v)
{
	memcpy(buf + off, &v, sizeof(v));
}

/* A frame may lie only in the kernel_len bytes after each header. */
static void
ranges(struct fz_ctx *c, size_t buflen)
{
	uint32_t klen;
	int i;

	for (i = 0; i < 2; i++) {
		klen = hget(c->c_buf[i], ZH_KLEN);
		if (klen > buflen - ZBUF_HDRLEN)
			klen = 0;
		c->c_lo[i] = c->c_buf[i] + ZBUF_HDRLEN;
		c->c_hi[i] = c->c_lo[i] + klen;
	}
	c->c_nranges = 2;
}

static void
onframes(const struct fp_frame *fr, size_t n, void *arg)
{
	struct fz_ctx *c = arg;
	uint8_t sum;
	uint32_t i;
	int r;

	if (n == 0 || n > CAPTURE_BATCH)
		__builtin_trap();
	for (; n > 0; n--, fr++) {
		if (fr->fr_caplen > fr->fr_wirelen)
			__builtin_trap();
		for (r = 0; r < c->c_nranges; r++)
			if (fr->fr_data >= c->c_lo[r] &&
			    fr->fr_data <= c->c_hi[r] && fr->fr_caplen <=
			    (size_t)(c->c_hi[r] - fr->fr_data))
				break;
		if (r == c->c_nranges)
			__builtin_trap();
		sum = 0;
		for (i = 0; i < fr->fr_caplen; i++)
			sum ^= fr->fr_data[i];
		sink = sum;
		c->c_frames++;
	}
}

/*
 * BIOCROTZBUF as a kernel would answer it: perhaps hand over the buffer
 * that is due (again, with the data it holds), perhaps report that the
 * interface is gone.
 */
static int
onrotate(void *arg)
{
	struct fz_ctx *c = arg;
	uint8_t *h;

	if ((c->c_rotflags & FZ_ROTHANDS) != 0) {
		h = c->c_buf[c->c_zb->zb_next];
		if (hget(h, ZH_KGEN) == hget(h, ZH_UGEN))
			hput(h, ZH_KGEN, hget(h, ZH_UGEN) + 1);
	}
	if ((c->c_rotflags & FZ_ROTFAILS) != 0) {
		errno = ENXIO;
		return (-1);
	}
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_ctx c;
	struct zbuf zb;
	size_t buflen, off, n, align;
	uint64_t before;
	short revents;
	int tsformat, i, rv;

	if (size < FZ_PREFIX)
		return (0);
	tsformat = data[0] % 5;		/* 4 is not a format */
	align = FZ_ALIGN(data[1]);
	revents = revents_tab[FZ_REVENTS(data[1])];
	buflen = ZBUF_HDRLEN + (size_t)(data[2] << 8 | data[3]);

	/* Buffered mode: the whole input after the prefix is one read. */
	memset(&c, 0, sizeof(c));
	if (zbuf_init(&zb, NULL, NULL, 0, tsformat, align) == -1) {
		if (tsformat != 4)
			__builtin_trap();
		return (0);
	}
	c.c_lo[0] = data + FZ_PREFIX;
	c.c_hi[0] = data + size;
	c.c_nranges = 1;
	rv = zbuf_walk(&zb, data + FZ_PREFIX, size - FZ_PREFIX, onframes, &c);
	if (rv < 0 || (uint64_t)rv != c.c_frames ||
	    zb.zb_stats.zs_frames != c.c_frames ||
	    zb.zb_stats.zs_badrecords > 1)
		__builtin_trap();

	/* Zero-copy mode: exactly sized buffers, so ASan sees over-reads. */
	for (i = 0, off = FZ_PREFIX; i < 2; i++) {
		if ((c.c_buf[i] = calloc(1, buflen)) == NULL)
			abort();
		n = off < size ? size - off : 0;
		if (n > buflen)
			n = buflen;
		if (n > 0)
			memcpy(c.c_buf[i], data + off, n);
		off += buflen;
	}
	if (zbuf_init(&zb, c.c_buf[0], c.c_buf[1], buflen, tsformat,
	    align) == -1) {
		/* Only a buffer with no room after its header is refused. */
		if (buflen > ZBUF_HDRLEN)
			__builtin_trap();
		goto out;
	}
	c.c_zb = &zb;
	c.c_rotflags = data[1];
	ranges(&c, buflen);
	c.c_frames = 0;

	rv = zbuf_read(&zb, onframes, &c);
	if (rv < 0 || (uint64_t)rv != c.c_frames || zbuf_pending(&zb))
		__builtin_trap();

	/* The rotation may hand a buffer over again: new limits. */
	before = c.c_frames;
	rv = zbuf_dispatch(&zb, revents, onrotate, &c, onframes, &c);
	if (rv == -1) {
		if ((revents & (POLLHUP | POLLERR | POLLNVAL)) == 0 &&
		    (c.c_rotflags & FZ_ROTFAILS) == 0)
			__builtin_trap();
	} else if ((uint64_t)rv != c.c_frames - before ||
	    (revents & (POLLHUP | POLLERR | POLLNVAL)) != 0)
		__builtin_trap();
	if (zbuf_pending(&zb) || zb.zb_stats.zs_frames != c.c_frames)
		__builtin_trap();
out:
	free(c.c_buf[0]);
	free(c.c_buf[1]);
	return (0);
}
