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
 * mkseeds turns savefiles into starting inputs for the fuzz targets
 * whose input is not a savefile: "decode" writes each of the first
 * frames with fuzz_decode.c's 3-byte prefix, "zbuf" packs the frames of
 * each file into the two zero-copy buffers fuzz_zbuf.c expects, with
 * sound headers, so that the fuzzer starts from records that walk.  It
 * is run by fuzz/run.sh and reads the files with flowprobe's own reader.
 */

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "flowprobe.h"

#define MS_FRAMES	32	/* decode seeds per savefile */
#define MS_FRAMELEN	512	/* bytes kept of each: headers */
#define MS_ZBUFDATA	4096	/* L: data bytes after each zbuf header */
#define MS_ZBUFHDR	32
#define MS_ZBUFALIGN	8	/* BPF_ALIGNMENT on LP64 */

/* The order of fuzz_decode.c's table; the last entry is unsupported. */
static const int linktypes[] = {
	LINK_NULL, LINK_ETHERNET, LINK_RAW_BSD, LINK_RAW_OPENBSD, LINK_RAW,
	LINK_LOOP, LINK_LINUX_SLL, LINK_IPV4, LINK_IPV6, LINK_LINUX_SLL2
};
#define MS_NLINKTYPES	(sizeof(linktypes) / sizeof(linktypes[0]))

static void	 usage(void) __attribute__((__noreturn__));
static void	 put(const char *, const char *, int, const uint8_t *,
		    size_t);
static void	 decode_seeds(const char *, const char *, int);
static size_t	 zbuf_fill(struct pcapfile *, uint8_t *, int);
static void	 zbuf_seed(const char *, const char *, int);

static void
usage(void)
{
	fprintf(stderr, "usage: mkseeds decode|zbuf outdir file ...\n");
	exit(EX_USAGE);
}

static void
put(const char *outdir, const char *tag, int n, const uint8_t *p,
    size_t len)
{
	char path[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s-%d", outdir, tag, n);
	if ((fp = fopen(path, "w")) == NULL)
		err(EX_CANTCREAT, "%s", path);
	if (fwrite(p, 1, len, fp) != len || fclose(fp) == EOF)
		err(EX_IOERR, "%s", path);
}

/* [link type index] [wire - caplen, 15 bits] [frame] */
static void
decode_seeds(const char *outdir, const char *file, int fileno)
{
	uint8_t buf[3 + MS_FRAMELEN];
	struct pcapfile *pf;
	struct fp_frame fr;
	char errbuf[256], tag[32];
	size_t i, len;
	uint32_t extra;
	int n;

	if ((pf = pcapfile_open(file, errbuf, sizeof(errbuf))) == NULL)
		return;		/* the broken ones seed fuzz_pcapfile */
	for (i = 0; i < MS_NLINKTYPES; i++)
		if (linktypes[i] == pcapfile_linktype(pf))
			break;
	snprintf(tag, sizeof(tag), "d%d", fileno);
	for (n = 0; n < MS_FRAMES; n++) {
		if (pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)) != 1)
			break;
		len = fr.fr_caplen < MS_FRAMELEN ? fr.fr_caplen : MS_FRAMELEN;
		extra = fr.fr_wirelen - (uint32_t)len;
		if (extra > 0x7fff)
			extra = 0x7fff;
		buf[0] = (uint8_t)i;
		buf[1] = (uint8_t)(extra >> 8);
		buf[2] = (uint8_t)extra;
		memcpy(buf + 3, fr.fr_data, len);
		put(outdir, tag, n, buf, 3 + len);
	}
	pcapfile_close(pf);
}

/*
 * One buffer: a header the kernel has handed over (kernel_gen 1,
 * user_gen 0) and as many records as fit, at most 256 bytes of each.
 */
static size_t
zbuf_fill(struct pcapfile *pf, uint8_t *buf, int tsformat)
{
	struct fp_frame fr;
	char errbuf[256];
	size_t off, stamp, hdrlen, caplen;
	uint32_t v;
	uint16_t h;

	stamp = tsformat == 1 ? 8 : 16;		/* ZBUF_TS_MICRO32: 8 */
	hdrlen = stamp + 10;
	off = 0;
	while (pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)) == 1) {
		caplen = fr.fr_caplen < 256 ? fr.fr_caplen : 256;
		if (off + hdrlen + caplen > MS_ZBUFDATA)
			break;
		memset(buf + MS_ZBUFHDR + off, 0, stamp);
		v = (uint32_t)(fr.fr_time / 1000);
		memcpy(buf + MS_ZBUFHDR + off, &v, sizeof(v));
		v = (uint32_t)caplen;
		memcpy(buf + MS_ZBUFHDR + off + stamp, &v, sizeof(v));
		v = fr.fr_wirelen;
		memcpy(buf + MS_ZBUFHDR + off + stamp + 4, &v, sizeof(v));
		h = (uint16_t)hdrlen;
		memcpy(buf + MS_ZBUFHDR + off + stamp + 8, &h, sizeof(h));
		memcpy(buf + MS_ZBUFHDR + off + hdrlen, fr.fr_data, caplen);
		off += (hdrlen + caplen + MS_ZBUFALIGN - 1) &
		    ~(size_t)(MS_ZBUFALIGN - 1);
	}
	if (off > MS_ZBUFDATA)
		off = MS_ZBUFDATA;	/* the last record is not padded */
	v = 1;
	memcpy(buf, &v, sizeof(v));			/* kernel_gen */
	v = (uint32_t)off;
	memcpy(buf + 4, &v, sizeof(v));			/* kernel_len */
	return (off);
}

/* [tsformat] [align 8, revents] [L] [buffer A] [buffer B] */
static void
zbuf_seed(const char *outdir, const char *file, int fileno)
{
	static uint8_t buf[4 + 2 * (MS_ZBUFHDR + MS_ZBUFDATA)];
	struct pcapfile *pf;
	char errbuf[256];
	int tsformat;

	if ((pf = pcapfile_open(file, errbuf, sizeof(errbuf))) == NULL)
		return;
	memset(buf, 0, sizeof(buf));
	tsformat = fileno % 4;
	buf[0] = (uint8_t)tsformat;
	buf[1] = (uint8_t)(3 | (fileno % 8) << 2);
	buf[2] = MS_ZBUFDATA >> 8;
	buf[3] = MS_ZBUFDATA & 0xff;
	(void)zbuf_fill(pf, buf + 4, tsformat);
	(void)zbuf_fill(pf, buf + 4 + MS_ZBUFHDR + MS_ZBUFDATA, tsformat);
	put(outdir, "z", fileno, buf, sizeof(buf));
	pcapfile_close(pf);
}

int
main(int argc, char *argv[])
{
	int i;

	if (argc < 3)
		usage();
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[1], "decode") == 0)
			decode_seeds(argv[2], argv[i], i);
		else if (strcmp(argv[1], "zbuf") == 0)
			zbuf_seed(argv[2], argv[i], i);
		else
			usage();
	}
	return (0);
}
