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
 * libFuzzer target for filter.c.  The input is a -F file: it is written
 * to one temporary file per process and loaded twice, with the full
 * instruction limit and with a limit of 4 into exactly sized arrays.  A
 * program that loads is then run by a small classic BPF interpreter on
 * two packets; a jump out of the program, an unknown opcode or a read of
 * a scratch cell never written would mean filter_load() let through what
 * a kernel refuses, and traps.  filter_clamp_snaplen() is checked last.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "fuzz/fuzzfile.h"

#define FZ_SMALL	4	/* the second, tight limit */
#define FZ_SNAPLEN	256
#define FZ_MEMWORDS	16

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 load(struct fp_insn *, size_t, size_t *);
static int	 pktload(const uint8_t *, size_t, uint32_t, uint32_t,
		    uint32_t *);
static uint32_t	 run(const struct fp_insn *, size_t, const uint8_t *,
		    size_t);


/* An Ethernet, IPv4, TCP port 80 frame for the interpreter. */
static const uint8_t packet[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
	0xbb, 0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x06, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00,
	0x02, 0x04, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x50, 0x02, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzzfile_open("fuzz_filter");
	return (0);
}

/* filter_load() and the promises of its failure path. */
static int
load(struct fp_insn *insns, size_t max, size_t *n)
{
	char errbuf[256];
	int rv;

	errbuf[0] = '\0';
	*n = 12345;
	errno = 0;
	rv = filter_load(fuzzfile_path, insns, max, n, errbuf, sizeof(errbuf));
	if (rv == 0) {
		if (*n < 1 || *n > max || *n > CAPTURE_MAXINSNS)
			__builtin_trap();
	} else if (rv == -1) {
		if (*n != 0 || errno == 0 ||
		    strncmp(errbuf, fuzzfile_path, strlen(fuzzfile_path)) != 0)
			__builtin_trap();
	} else
		__builtin_trap();
	return (rv);
}

/* A packet load as the kernels do it: out of bounds fails. */
static int
pktload(const uint8_t *p, size_t len, uint32_t off, uint32_t size,
    uint32_t *v)
{
	uint32_t i;

	if (off > len || size > len - off)
		return (-1);
	*v = 0;
	for (i = 0; i < size; i++)
		*v = *v << 8 | p[off + i];
	return (0);
}

/*
 * Classic BPF, as both kernels run it.  Traps on anything the validator
 * promised cannot happen; a failed packet load or a division by a zero
 * X register returns 0, as the kernels do.
 */
static uint32_t
run(const struct fp_insn *insns, size_t n, const uint8_t *p, size_t len)
{
	const struct fp_insn *in;
	uint32_t a, x, v, mem[FZ_MEMWORDS], src;
	size_t pc, steps;
	uint16_t valid;

	a = x = 0;
	valid = 0;
	memset(mem, 0, sizeof(mem));
	for (pc = 0, steps = 0;; pc++, steps++) {
		if (pc >= n || steps > n)
			__builtin_trap();
		in = &insns[pc];
		src = (in->code & 0x08) != 0 ? x : in->k;
		switch (in->code) {
		case 0x00:	/* ld #k */
			a = in->k;
			break;
		case 0x20:	/* ld [k] */
		case 0x28:	/* ldh [k] */
		case 0x30:	/* ldb [k] */
		case 0x40:	/* ld [x + k] */
		case 0x48:	/* ldh [x + k] */
		case 0x50:	/* ldb [x + k] */
			v = in->code & 0x40 ? x + in->k : in->k;
			if ((in->code & 0x40) != 0 && v < in->k)
				return (0);	/* x + k wrapped */
			if (pktload(p, len, v, (in->code & 0x18) == 0x00 ? 4 :
			    (in->code & 0x18) == 0x08 ? 2 : 1, &a) == -1)
				return (0);
			break;
		case 0x60:	/* ld M[k] */
		case 0x61:	/* ldx M[k] */
			if (in->k >= FZ_MEMWORDS ||
			    (valid & (1U << in->k)) == 0)
				__builtin_trap();
			if (in->code == 0x60)
				a = mem[in->k];
			else
				x = mem[in->k];
			break;
		case 0x80:	/* ld len */
			a = (uint32_t)len;
			break;
		case 0x01:	/* ldx #k */
			x = in->k;
			break;
		case 0x81:	/* ldx len */
			x = (uint32_t)len;
			break;
		case 0xb1:	/* ldxb 4 * ([k] & 0xf) */
			if (pktload(p, len, in->k, 1, &v) == -1)
				return (0);
			x = (v & 0x0f) * 4;
			break;
		case 0x02:	/* st M[k] */
		case 0x03:	/* stx M[k] */
			if (in->k >= FZ_MEMWORDS)
				__builtin_trap();
			mem[in->k] = in->code == 0x02 ? a : x;
			valid |= (uint16_t)(1U << in->k);
			break;
		case 0x04: case 0x0c:	/* add */
			a += src;
			break;
		case 0x14: case 0x1c:	/* sub */
			a -= src;
			break;
		case 0x24: case 0x2c:	/* mul */
			a *= src;
			break;
		case 0x34: case 0x3c:	/* div */
			if (src == 0)
				return (0);
			a /= src;
			break;
		case 0x44: case 0x4c:	/* or */
			a |= src;
			break;
		case 0x54: case 0x5c:	/* and */
			a &= src;
			break;
		case 0x64: case 0x6c:	/* lsh */
			a = src < 32 ? a << src : 0;
			break;
		case 0x74: case 0x7c:	/* rsh */
			a = src < 32 ? a >> src : 0;
			break;
		case 0x84:	/* neg */
			a = 0U - a;
			break;
		case 0x05:	/* ja */
			if (in->k >= n - pc)
				__builtin_trap();
			pc += in->k;
			break;
		case 0x15: case 0x1d:	/* jeq */
			pc += a == src ? in->jt : in->jf;
			break;
		case 0x25: case 0x2d:	/* jgt */
			pc += a > src ? in->jt : in->jf;
			break;
		case 0x35: case 0x3d:	/* jge */
			pc += a >= src ? in->jt : in->jf;
			break;
		case 0x45: case 0x4d:	/* jset */
			pc += (a & src) != 0 ? in->jt : in->jf;
			break;
		case 0x06:	/* ret #k */
			return (in->k);
		case 0x16:	/* ret a */
			return (a);
		case 0x07:	/* tax */
			x = a;
			break;
		case 0x87:	/* txa */
			a = x;
			break;
		default:
			__builtin_trap();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_insn *big, *small, *copy;
	size_t n, nsmall, i;
	int rv, rvsmall;

	fuzzfile_store(data, size);
	/* Exactly sized, so that ASan sees a store past the limit. */
	if ((big = malloc(CAPTURE_MAXINSNS * sizeof(*big))) == NULL ||
	    (small = malloc(FZ_SMALL * sizeof(*small))) == NULL ||
	    (copy = malloc(CAPTURE_MAXINSNS * sizeof(*copy))) == NULL)
		abort();
	rv = load(big, CAPTURE_MAXINSNS, &n);
	rvsmall = load(small, FZ_SMALL, &nsmall);

	/* A tighter limit only adds refusals. */
	if (rv == -1 && rvsmall == 0)
		__builtin_trap();
	if (rv == 0 && n <= FZ_SMALL && (rvsmall != 0 || nsmall != n ||
	    memcmp(big, small, n * sizeof(*big)) != 0))
		__builtin_trap();
	if (rv == -1)
		goto out;

	(void)run(big, n, packet, sizeof(packet));
	(void)run(big, n, data, size);

	memcpy(copy, big, n * sizeof(*big));
	filter_clamp_snaplen(big, n, 0);
	if (memcmp(copy, big, n * sizeof(*big)) != 0)
		__builtin_trap();
	filter_clamp_snaplen(big, n, FZ_SNAPLEN);
	for (i = 0; i < n; i++) {
		if (big[i].code == 0x06) {
			if (big[i].k > FZ_SNAPLEN || (copy[i].k <= FZ_SNAPLEN &&
			    big[i].k != copy[i].k))
				__builtin_trap();
		} else if (memcmp(&big[i], &copy[i], sizeof(big[i])) != 0)
			__builtin_trap();
	}
out:
	free(big);
	free(small);
	free(copy);
	return (0);
}
