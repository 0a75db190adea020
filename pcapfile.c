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
 * This file owns the reading of classic pcap savefiles, from a file or
 * from standard input, without libpcap.  The file is hostile: every
 * length is checked before it is used, and a record is handed out only
 * once all of its captured bytes are in the buffer.  Frames point into
 * one large read buffer, so there is no copy and no system call per
 * packet.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowprobe.h"

#define PF_FILEHDR	24		/* magic .. linktype */
#define PF_RECHDR	16		/* ts_sec, ts_frac, incl, orig */
#define PF_MAXCAPLEN	262144		/* libpcap's MAXIMUM_SNAPLEN */
#define PF_FILL		(1024 * 1024)
/* Room for one full fill plus a maximal record left over from the last. */
#define PF_BUFSIZE	(PF_FILL + PF_RECHDR + PF_MAXCAPLEN)

#define PF_MAGIC_USEC	0xa1b2c3d4U
#define PF_MAGIC_NSEC	0xa1b23c4dU
#define PF_MAGIC_PCAPNG	0x0a0d0d0aU	/* same in both byte orders */

/* Bits 16-25 of the link type field are reserved; 26-31 describe FCS. */
#define PF_LT_RESERVED	0x03ff0000U
#define PF_LT_TYPE	0x0000ffffU

enum pf_state {
	PF_RUNNING = 0,
	PF_EOF,
	PF_FAILED
};

struct pcapfile {
	int		 pf_fd;
	int		 pf_closefd;	/* 0 for standard input */
	int		 pf_be;		/* file written big-endian */
	int		 pf_nsec;	/* ts_frac is in nanoseconds */
	int		 pf_linktype;
	enum pf_state	 pf_state;
	int		 pf_eof;	/* read(2) returned 0 */
	int		 pf_errno;	/* of the failure, for repeated calls */
	uint8_t		*pf_buf;
	size_t		 pf_bufsize;	/* at most PF_BUFSIZE */
	size_t		 pf_pos;	/* next unparsed byte */
	size_t		 pf_end;	/* one past the last byte read */
	uint64_t	 pf_off;	/* file offset of pf_buf[0] */
	uint64_t	 pf_recno;	/* records handed out */
	char		 pf_name[256];	/* for messages */
	char		 pf_msg[512];	/* the failure, for repeated calls */
};

static inline uint32_t pf_get32(const uint8_t *, int);
static FP_INLINE size_t pf_records(struct pcapfile *, struct fp_frame *,
		    size_t, int, int);
static FP_INLINE void pf_frame(const uint8_t *, uint32_t, int, int,
		    struct fp_frame *);
static uint16_t	 pf_get16(const uint8_t *, int);
static int	 pf_fill(struct pcapfile *, size_t);
static int	 pf_header(struct pcapfile *, char *, size_t);
static int	 pf_fail(struct pcapfile *, int, char *, size_t,
		    const char *, ...)
		    __attribute__((__format__(__printf__, 5, 6)));

static inline uint32_t
pf_get32(const uint8_t *p, int be)
{
	if (be)
		return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3]);
	return ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0]);
}

static uint16_t
pf_get16(const uint8_t *p, int be)
{
	if (be)
		return ((uint16_t)(p[0] << 8 | p[1]));
	return ((uint16_t)(p[1] << 8 | p[0]));
}

/*
 * Make at least need bytes available from pf_pos, unless the input ends
 * first.  Unparsed bytes move to the front only here, that is once per
 * buffer, when a record straddles the end of what has been read.  Each
 * read(2) asks for all the free space, so a regular file costs one call
 * per PF_FILL bytes, while a slow pipe is parsed as soon as a record is
 * complete.
 */
static int
pf_fill(struct pcapfile *pf, size_t need)
{
	ssize_t n;

	if (pf->pf_end - pf->pf_pos >= need || pf->pf_eof)
		return (0);
	if (pf->pf_pos > 0) {
		memmove(pf->pf_buf, pf->pf_buf + pf->pf_pos,
		    pf->pf_end - pf->pf_pos);
		pf->pf_off += pf->pf_pos;
		pf->pf_end -= pf->pf_pos;
		pf->pf_pos = 0;
	}
	while (pf->pf_end < need && !pf->pf_eof) {
		n = read(pf->pf_fd, pf->pf_buf + pf->pf_end,
		    pf->pf_bufsize - pf->pf_end);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0)
			pf->pf_eof = 1;
		else
			pf->pf_end += (size_t)n;
	}
	return (0);
}

/* Records a failure that every later call repeats; returns -1. */
static int
pf_fail(struct pcapfile *pf, int error, char *errbuf, size_t errlen,
    const char *fmt, ...)
{
	va_list ap;
	int len;

	len = snprintf(pf->pf_msg, sizeof(pf->pf_msg), "%s: ", pf->pf_name);
	if (len < 0 || (size_t)len >= sizeof(pf->pf_msg))
		len = 0;
	va_start(ap, fmt);
	vsnprintf(pf->pf_msg + len, sizeof(pf->pf_msg) - (size_t)len, fmt,
	    ap);
	va_end(ap);
	pf->pf_state = PF_FAILED;
	pf->pf_errno = error;
	if (errlen > 0)
		snprintf(errbuf, errlen, "%s", pf->pf_msg);
	errno = error;
	return (-1);
}

static int
pf_header(struct pcapfile *pf, char *errbuf, size_t errlen)
{
	const uint8_t *h;
	uint32_t magic, lt;
	uint16_t major, minor;
	int error;

	if (pf_fill(pf, PF_FILEHDR) == -1) {
		error = errno;
		return (pf_fail(pf, error, errbuf, errlen, "%s",
		    strerror(error)));
	}
	h = pf->pf_buf;
	if (pf->pf_end >= 4 && pf_get32(h, 0) == PF_MAGIC_PCAPNG)
		return (pf_fail(pf, EINVAL, errbuf, errlen,
		    "pcapng is not supported; convert it with "
		    "editcap -F pcap"));
	if (pf->pf_end < PF_FILEHDR)
		return (pf_fail(pf, EINVAL, errbuf, errlen,
		    "not a pcap savefile"));

	/* The magic, read little-endian, tells the byte order. */
	magic = pf_get32(h, 0);
	if (magic == PF_MAGIC_USEC || magic == PF_MAGIC_NSEC)
		pf->pf_be = 0;
	else {
		magic = pf_get32(h, 1);
		if (magic != PF_MAGIC_USEC && magic != PF_MAGIC_NSEC)
			return (pf_fail(pf, EINVAL, errbuf, errlen,
			    "not a pcap savefile"));
		pf->pf_be = 1;
	}
	pf->pf_nsec = magic == PF_MAGIC_NSEC;

	major = pf_get16(h + 4, pf->pf_be);
	minor = pf_get16(h + 6, pf->pf_be);
	if (major != 2 || minor > 4)
		return (pf_fail(pf, EINVAL, errbuf, errlen,
		    "unsupported savefile version %u.%u", (unsigned)major,
		    (unsigned)minor));

	/* thiszone, sigfigs and snaplen are unreliable and unused. */
	lt = pf_get32(h + 20, pf->pf_be);
	if ((lt & PF_LT_RESERVED) != 0)
		return (pf_fail(pf, EINVAL, errbuf, errlen,
		    "link type field 0x%08" PRIx32 " has reserved bits set",
		    lt));
	pf->pf_linktype = (int)(lt & PF_LT_TYPE);
	pf->pf_pos = PF_FILEHDR;
	return (0);
}

struct pcapfile *
pcapfile_open(const char *path, char *errbuf, size_t errlen)
{
	struct pcapfile *pf;
	struct stat st;
	size_t fill;
	int error;

	if ((pf = calloc(1, sizeof(*pf))) == NULL) {
		error = errno;
		if (errlen > 0)
			snprintf(errbuf, errlen, "%s: %s", path,
			    strerror(error));
		errno = error;
		return (NULL);
	}
	if (strcmp(path, "-") == 0) {
		snprintf(pf->pf_name, sizeof(pf->pf_name), "stdin");
		pf->pf_fd = STDIN_FILENO;
	} else {
		snprintf(pf->pf_name, sizeof(pf->pf_name), "%s", path);
		if ((pf->pf_fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
			error = errno;
			pf_fail(pf, error, errbuf, errlen, "%s",
			    strerror(error));
			goto fail;
		}
		pf->pf_closefd = 1;
	}
	/*
	 * A small regular file needs no more than its size, yet always room
	 * for the largest record, should the file grow while it is read.
	 */
	fill = PF_FILL;
	if (fstat(pf->pf_fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size < PF_FILL)
		fill = (size_t)st.st_size;
	pf->pf_bufsize = fill + PF_FILEHDR + PF_RECHDR + PF_MAXCAPLEN;
	if (pf->pf_bufsize > PF_BUFSIZE)
		pf->pf_bufsize = PF_BUFSIZE;
	if ((pf->pf_buf = malloc(pf->pf_bufsize)) == NULL) {
		error = errno;
		pf_fail(pf, error, errbuf, errlen, "%s", strerror(error));
		goto fail;
	}
	if (pf_header(pf, errbuf, errlen) == -1)
		goto fail;
	return (pf);

fail:
	error = pf->pf_errno;
	pcapfile_close(pf);
	errno = error;
	return (NULL);
}

int
pcapfile_linktype(const struct pcapfile *pf)
{
	return (pf->pf_linktype);
}

/* For the sandbox, which leaves this descriptor only reading. */
int
pcapfile_fd(const struct pcapfile *pf)
{
	return (pf->pf_fd);
}

int
pcapfile_next(struct pcapfile *pf, struct fp_frame *fr, char *errbuf,
    size_t errlen)
{
	const uint8_t *h;
	uint64_t recoff, recno;
	uint32_t incl;
	int error;

	if (pf->pf_state == PF_EOF)
		return (0);
	if (pf->pf_state == PF_FAILED) {
		if (errlen > 0)
			snprintf(errbuf, errlen, "%s", pf->pf_msg);
		errno = pf->pf_errno;
		return (-1);
	}

	recno = pf->pf_recno + 1;
	if (pf_fill(pf, PF_RECHDR) == -1)
		goto readerr;
	recoff = pf->pf_off + pf->pf_pos;
	if (pf->pf_end - pf->pf_pos < PF_RECHDR) {
		if (pf->pf_end == pf->pf_pos) {
			pf->pf_state = PF_EOF;
			return (0);
		}
		return (pf_fail(pf, EINVAL, errbuf, errlen,
		    "truncated record %" PRIu64 " at offset %" PRIu64,
		    recno, recoff));
	}

	h = pf->pf_buf + pf->pf_pos;
	incl = pf_get32(h + 8, pf->pf_be);
	if (incl > PF_MAXCAPLEN)
		return (pf_fail(pf, EINVAL, errbuf, errlen,
		    "record %" PRIu64 " at offset %" PRIu64 ": captured "
		    "length %" PRIu32 " is impossible", recno, recoff, incl));
	if (pf_fill(pf, PF_RECHDR + (size_t)incl) == -1)
		goto readerr;
	if (pf->pf_end - pf->pf_pos < PF_RECHDR + (size_t)incl)
		return (pf_fail(pf, EINVAL, errbuf, errlen,
		    "truncated record %" PRIu64 " at offset %" PRIu64,
		    recno, recoff));

	/* The fill may have moved the record to the front. */
	h = pf->pf_buf + pf->pf_pos;
	pf_frame(h, incl, pf->pf_be, pf->pf_nsec, fr);
	pf->pf_pos += PF_RECHDR + (size_t)incl;
	pf->pf_recno = recno;
	return (1);

readerr:
	error = errno;
	return (pf_fail(pf, error, errbuf, errlen,
	    "record %" PRIu64 " at offset %" PRIu64 ": %s", recno,
	    pf->pf_off + pf->pf_pos, strerror(error)));
}

/*
 * Up to max frames, for a caller that meters in batches: the records
 * already whole in the buffer, taken in a loop without the refill and
 * failure checks.  Anything else (the first record after a refill, the
 * end of the file, a bad record) goes one at a time through
 * pcapfile_next(), whose return this returns when no record was whole.
 * The frames stay valid until the next call.  A max of 0 reads nothing.
 */
int
pcapfile_read(struct pcapfile *pf, struct fp_frame *fr, size_t max,
    char *errbuf, size_t errlen)
{
	size_t n;

	if (max == 0)
		return (0);
	if (pf->pf_state != PF_RUNNING)
		return (pcapfile_next(pf, fr, errbuf, errlen));
	/*
	 * The record walk, inlined once per byte order and resolution, each
	 * then a constant: a compiler left to judge (clang) would keep one
	 * copy testing both per record, and divide by a variable.
	 */
	if (pf->pf_be)
		n = pf->pf_nsec ? pf_records(pf, fr, max, 1, 1) :
		    pf_records(pf, fr, max, 1, 0);
	else
		n = pf->pf_nsec ? pf_records(pf, fr, max, 0, 1) :
		    pf_records(pf, fr, max, 0, 0);
	if (n == 0)
		return (pcapfile_next(pf, fr, errbuf, errlen));
	pf->pf_recno += n;
	return ((int)n);
}

/*
 * A record whose incl captured bytes are all at h + PF_RECHDR.  A wire
 * length short of the capture is a writer's slip, made on every record
 * if on one: the capture is the wire.
 */
static FP_INLINE void
pf_frame(const uint8_t *h, uint32_t incl, int be, int nsec,
    struct fp_frame *fr)
{
	uint32_t frac, orig;

	orig = pf_get32(h + 12, be);
	if (FP_RARELY(orig < incl))
		orig = incl;
	frac = pf_get32(h + 4, be);
	/* Some writers round up into a full second; keep time monotonic. */
	if (nsec)
		frac = (frac >= 1000000000U ? 999999999U : frac) / 1000000U;
	else
		frac = (frac >= 1000000U ? 999999U : frac) / 1000U;
	*fr = (struct fp_frame){
		.fr_data = h + PF_RECHDR,
		.fr_caplen = incl,
		.fr_wirelen = orig,
		.fr_time = (uint64_t)pf_get32(h, be) * 1000 + frac,
	};
}

static FP_INLINE size_t
pf_records(struct pcapfile *pf, struct fp_frame *fr, size_t max, int be,
    int nsec)
{
	const uint8_t *h, *last;
	struct fp_frame *f, *fend;
	size_t incl;

	/* The last place a record header fits, if it fits at all. */
	if (pf->pf_end - pf->pf_pos < PF_RECHDR)
		return (0);
	h = pf->pf_buf + pf->pf_pos;
	last = pf->pf_buf + pf->pf_end - PF_RECHDR;
	for (f = fr, fend = fr + max; f < fend && h <= last; f++) {
		incl = pf_get32(h + 8, be);
		if (incl > PF_MAXCAPLEN || (size_t)(last - h) < incl)
			break;
		pf_frame(h, (uint32_t)incl, be, nsec, f);
		h += PF_RECHDR + incl;
	}
	pf->pf_pos = (size_t)(h - pf->pf_buf);
	return ((size_t)(f - fr));
}

void
pcapfile_close(struct pcapfile *pf)
{
	if (pf == NULL)
		return;
	if (pf->pf_closefd)
		(void)close(pf->pf_fd);
	free(pf->pf_buf);
	free(pf);
}
