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
 * libFuzzer target for pcapfile.c.  The input is a whole savefile: it is
 * written to one temporary file per process, opened with pcapfile_open()
 * and read to the end with pcapfile_next().  Each frame handed out is
 * compared byte for byte with the record it must come from, which also
 * touches every captured byte, and the reader's promises (lengths, a
 * failure or the end repeated on every later call) trap when broken.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowprobe.h"
#include "fuzz/fuzzfile.h"

#define FZ_FILEHDR	24
#define FZ_RECHDR	16
#define FZ_MAXCAPLEN	262144
#define FZ_BATCH	16

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	 lockstep(size_t);



int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzzfile_open("fuzz_pcapfile");
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcapfile *pf;
	struct fp_frame fr;
	char errbuf[256];
	size_t off;
	int linktype, rv;

	fuzzfile_store(data, size);
	errbuf[0] = '\0';
	pf = pcapfile_open(fuzzfile_path, errbuf, sizeof(errbuf));
	if (pf == NULL) {
		/* One message, always. */
		if (errbuf[0] == '\0' || errno == 0)
			__builtin_trap();
		return (0);
	}
	if (size < FZ_FILEHDR)
		__builtin_trap();
	linktype = pcapfile_linktype(pf);
	if (linktype < 0 || linktype > 0xffff)
		__builtin_trap();

	for (off = FZ_FILEHDR;; off += FZ_RECHDR + fr.fr_caplen) {
		memset(&fr, 0, sizeof(fr));
		errbuf[0] = '\0';
		rv = pcapfile_next(pf, &fr, errbuf, sizeof(errbuf));
		if (rv != 1)
			break;
		if (fr.fr_caplen > FZ_MAXCAPLEN ||
		    fr.fr_wirelen < fr.fr_caplen ||
		    off + FZ_RECHDR + fr.fr_caplen > size)
			__builtin_trap();
		if (fr.fr_caplen > 0 && (fr.fr_data == NULL ||
		    memcmp(fr.fr_data, data + off + FZ_RECHDR,
		    fr.fr_caplen) != 0))
			__builtin_trap();
	}
	if (rv == 0) {
		/* The end is where the last record ended, and it stays. */
		if (off != size || pcapfile_next(pf, &fr, errbuf,
		    sizeof(errbuf)) != 0)
			__builtin_trap();
	} else if (rv == -1) {
		if (errbuf[0] == '\0' || pcapfile_next(pf, &fr, errbuf,
		    sizeof(errbuf)) != -1)
			__builtin_trap();
	} else
		__builtin_trap();
	pcapfile_close(pf);
	lockstep(1 + size % FZ_BATCH);
	return (0);
}

/*
 * pcapfile_read() in batches of n and pcapfile_next() one at a time, on
 * two opens of the same file: the same frames, and the same end.
 */
static void
lockstep(size_t n)
{
	struct pcapfile *one, *many;
	struct fp_frame fr, batch[FZ_BATCH];
	char errbuf[256];
	int i, got, rv;

	one = pcapfile_open(fuzzfile_path, errbuf, sizeof(errbuf));
	many = pcapfile_open(fuzzfile_path, errbuf, sizeof(errbuf));
	if (one == NULL || many == NULL)
		__builtin_trap();
	for (;;) {
		got = pcapfile_read(many, batch, n, errbuf, sizeof(errbuf));
		if (got < -1 || got > (int)n)
			__builtin_trap();
		if (got <= 0) {
			if (pcapfile_next(one, &fr, errbuf, sizeof(errbuf)) !=
			    got)
				__builtin_trap();
			break;
		}
		for (i = 0; i < got; i++) {
			rv = pcapfile_next(one, &fr, errbuf, sizeof(errbuf));
			if (rv != 1 || fr.fr_caplen != batch[i].fr_caplen ||
			    fr.fr_wirelen != batch[i].fr_wirelen ||
			    fr.fr_time != batch[i].fr_time ||
			    (fr.fr_caplen > 0 && memcmp(fr.fr_data,
			    batch[i].fr_data, fr.fr_caplen) != 0))
				__builtin_trap();
		}
	}
	pcapfile_close(one);
	pcapfile_close(many);
}
