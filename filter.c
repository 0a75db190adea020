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
 * This file owns the -F filter: it reads a classic BPF program written in
 * "tcpdump -ddd" form, refuses anything either kernel would refuse (so a
 * bad file fails at start-up with a line number, not as a bare EINVAL from
 * BIOCSETF or SO_ATTACH_FILTER), and caps the program's accept length at
 * the snap length so that a user filter still copies only headers.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"

/*
 * Classic BPF opcode fields, with the values every <net/bpf.h> and
 * <linux/filter.h> share (they come from the 1992 BPF paper's encoding).
 * Spelled out here so that this file needs no platform header.
 */
#define BPF_CLASS(c)	((c) & 0x07)
#define BPF_LD		0x00
#define BPF_LDX		0x01
#define BPF_ST		0x02
#define BPF_STX		0x03
#define BPF_ALU		0x04
#define BPF_JMP		0x05
#define BPF_RET		0x06
#define BPF_MISC	0x07

#define BPF_SIZE(c)	((c) & 0x18)
#define BPF_W		0x00	/* ld/ldx size */
#define BPF_H		0x08
#define BPF_B		0x10

#define BPF_IMM		0x00	/* ld/ldx mode */
#define BPF_ABS		0x20
#define BPF_IND		0x40
#define BPF_MEM		0x60
#define BPF_LEN		0x80
#define BPF_MSH		0xa0

#define BPF_ADD		0x00	/* alu operation */
#define BPF_SUB		0x10
#define BPF_MUL		0x20
#define BPF_DIV		0x30
#define BPF_OR		0x40
#define BPF_AND		0x50
#define BPF_LSH		0x60
#define BPF_RSH		0x70
#define BPF_NEG		0x80
#define BPF_MOD		0x90	/* Linux only: FreeBSD refuses it */
#define BPF_XOR		0xa0	/* Linux only: FreeBSD refuses it */

#define BPF_JA		0x00	/* jmp operation */
#define BPF_JEQ		0x10
#define BPF_JGT		0x20
#define BPF_JGE		0x30
#define BPF_JSET	0x40

#define BPF_K		0x00	/* operand source */
#define BPF_X		0x08
#define BPF_A		0x10	/* ret operand */

#define BPF_TAX		0x00	/* misc operation */
#define BPF_TXA		0x80

#define BPF_MEMWORDS	16	/* scratch memory cells M[0..15] */

/*
 * The longest valid line, "65535 255 255 4294967295", has 24 characters;
 * anything much longer is not a program line and is refused unread.
 */
#define FL_LINELEN	64
#define FL_QUOTELEN	24	/* input echoed in a message, at most */
#define FL_NFIELDS	4

enum fl_line {
	FL_LINE = 0,		/* a line is in the buffer */
	FL_EOF,
	FL_IOERR,
	FL_LONG
};

struct fl_ctx {
	FILE		*fl_fp;
	const char	*fl_path;
	size_t		 fl_lineno;	/* of the line last read */
	char		*fl_errbuf;
	size_t		 fl_errlen;
	char		 fl_line[FL_LINELEN];
	size_t		 fl_len;	/* bytes in fl_line, no newline */
};

struct fl_field {
	const char	*ff_name;
	uint32_t	 ff_max;
};

static const struct fl_field fl_fields[FL_NFIELDS] = {
	{ "code",	UINT16_MAX },
	{ "jt",		UINT8_MAX },
	{ "jf",		UINT8_MAX },
	{ "k",		UINT32_MAX },
};

static int	 fl_fail(struct fl_ctx *, size_t, int, const char *, ...)
		    __attribute__((__format__(__printf__, 4, 5)));
static enum fl_line fl_read(struct fl_ctx *);
static int	 fl_next(struct fl_ctx *, int *);
static int	 fl_blank(const struct fl_ctx *);
static void	 fl_quote(char *, size_t, const char *, size_t);
static int	 fl_number(struct fl_ctx *, size_t *, const char *, uint32_t,
		    uint32_t, uint32_t *);
static int	 fl_count(struct fl_ctx *, size_t, size_t *);
static int	 fl_insn(struct fl_ctx *, struct fp_insn *);
static int	 fl_rest(struct fl_ctx *, size_t, size_t);
static int	 fl_known(uint16_t);
static int	 fl_validate(struct fl_ctx *, const struct fp_insn *, size_t);
static int	 fl_memory(struct fl_ctx *, const struct fp_insn *, size_t);

/*
 * Formats "path: line N: message" (no line part when line is 0), sets
 * errno and returns -1, so that every failure is one statement.
 */
static int
fl_fail(struct fl_ctx *fl, size_t line, int error, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (fl->fl_errbuf != NULL && fl->fl_errlen > 0) {
		if (line != 0)
			len = snprintf(fl->fl_errbuf, fl->fl_errlen,
			    "%s: line %zu: ", fl->fl_path, line);
		else
			len = snprintf(fl->fl_errbuf, fl->fl_errlen, "%s: ",
			    fl->fl_path);
		if (len >= 0 && (size_t)len < fl->fl_errlen) {
			va_start(ap, fmt);
			vsnprintf(fl->fl_errbuf + len,
			    fl->fl_errlen - (size_t)len, fmt, ap);
			va_end(ap);
		}
	}
	errno = error;
	return (-1);
}

/*
 * Reads one line into fl_line without its newline.  getc() rather than
 * fgets() so that a NUL byte in the file is just another bad character
 * and not the end of the string.  A last line without a newline counts.
 */
static enum fl_line
fl_read(struct fl_ctx *fl)
{
	int c;

	fl->fl_len = 0;
	for (;;) {
		c = getc(fl->fl_fp);
		if (c == EOF) {
			if (ferror(fl->fl_fp))
				return (FL_IOERR);
			if (fl->fl_len == 0)
				return (FL_EOF);
			break;
		}
		if (c == '\n')
			break;
		if (fl->fl_len == sizeof(fl->fl_line))
			return (FL_LONG);
		fl->fl_line[fl->fl_len++] = (char)c;
	}
	fl->fl_lineno++;
	return (FL_LINE);
}

/*
 * fl_read() with its failures turned into messages.  Returns 0 with *eof
 * set or cleared, or -1.
 */
static int
fl_next(struct fl_ctx *fl, int *eof)
{
	int error;

	*eof = 0;
	errno = 0;
	switch (fl_read(fl)) {
	case FL_LINE:
		return (0);
	case FL_EOF:
		*eof = 1;
		return (0);
	case FL_IOERR:
		error = errno != 0 ? errno : EIO;
		return (fl_fail(fl, fl->fl_lineno + 1, error, "%s",
		    strerror(error)));
	case FL_LONG:
		return (fl_fail(fl, fl->fl_lineno + 1, EINVAL,
		    "line longer than %d characters", FL_LINELEN));
	}
	/* NOTREACHED */
	return (fl_fail(fl, 0, EINVAL, "internal error"));
}

/* Empty, or only spaces and tabs: what an editor may leave at the end. */
static int
fl_blank(const struct fl_ctx *fl)
{
	size_t i;

	for (i = 0; i < fl->fl_len; i++)
		if (fl->fl_line[i] != ' ' && fl->fl_line[i] != '\t')
			return (0);
	return (1);
}

/*
 * Copies hostile input into a message: printable ASCII as is, anything
 * else as \xNN, cut at FL_QUOTELEN input bytes, so that no control
 * character from the file reaches the terminal.
 */
static void
fl_quote(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i, o;
	unsigned char c;
	int n;

	o = 0;
	dst[0] = '\0';
	for (i = 0; i < srclen && i < FL_QUOTELEN; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f)
			n = snprintf(dst + o, dstlen - o, "%c", c);
		else
			n = snprintf(dst + o, dstlen - o, "\\x%02x", c);
		if (n < 0 || (size_t)n >= dstlen - o)
			return;
		o += (size_t)n;
	}
	if (srclen > FL_QUOTELEN && o + 4 <= dstlen)
		memcpy(dst + o, "...", 4);
}

/*
 * Parses the unsigned decimal at *pos in the current line, stopping at a
 * space, a tab or the end of the line, into min..max.  Digits only: no
 * sign, no blank before it, no hex; leading zeros are harmless.
 */
static int
fl_number(struct fl_ctx *fl, size_t *pos, const char *name, uint32_t min,
    uint32_t max, uint32_t *val)
{
	char quoted[FL_QUOTELEN * 4 + 4];
	const char *s;
	uint64_t v;
	size_t i, j, start;
	int digits;

	s = fl->fl_line;
	start = *pos;
	for (i = start; i < fl->fl_len && s[i] != ' ' && s[i] != '\t'; i++)
		continue;
	fl_quote(quoted, sizeof(quoted), s + start, i - start);
	if (i == start)
		return (fl_fail(fl, fl->fl_lineno, EINVAL,
		    "%s: blank where a number was expected", name));

	v = 0;
	digits = 1;
	for (j = start; j < i; j++) {
		if (s[j] < '0' || s[j] > '9') {
			digits = 0;
			break;
		}
		v = v * 10 + (uint64_t)(s[j] - '0');
		if (v > UINT32_MAX)
			v = (uint64_t)UINT32_MAX + 1;	/* > any maximum */
	}
	if (digits == 0)
		return (fl_fail(fl, fl->fl_lineno, EINVAL,
		    "%s \"%s\" is not an unsigned decimal number", name,
		    quoted));
	if (v < min || v > max)
		return (fl_fail(fl, fl->fl_lineno, EINVAL,
		    "%s %s is out of range %lu..%lu", name, quoted,
		    (unsigned long)min, (unsigned long)max));
	*pos = i;
	*val = (uint32_t)v;
	return (0);
}

/* Line 1: the instruction count alone, 1..limit. */
static int
fl_count(struct fl_ctx *fl, size_t limit, size_t *count)
{
	char quoted[FL_QUOTELEN * 4 + 4];
	uint32_t v;
	size_t pos;
	int eof;

	if (fl_next(fl, &eof) == -1)
		return (-1);
	if (eof != 0)
		return (fl_fail(fl, 0, EINVAL, "empty file"));
	if (fl->fl_len == 0)
		return (fl_fail(fl, fl->fl_lineno, EINVAL,
		    "blank line where the instruction count was expected"));
	pos = 0;
	/* limit is at most CAPTURE_MAXINSNS, so the cast keeps it whole. */
	if (fl_number(fl, &pos, "instruction count", 1, (uint32_t)limit,
	    &v) == -1)
		return (-1);
	if (pos != fl->fl_len) {
		fl_quote(quoted, sizeof(quoted), fl->fl_line + pos,
		    fl->fl_len - pos);
		return (fl_fail(fl, fl->fl_lineno, EINVAL,
		    "junk after the instruction count: \"%s\"", quoted));
	}
	*count = v;
	return (0);
}

/* One "code jt jf k" line, fields separated by spaces or tabs. */
static int
fl_insn(struct fl_ctx *fl, struct fp_insn *insn)
{
	char quoted[FL_QUOTELEN * 4 + 4];
	uint32_t v[FL_NFIELDS];
	size_t f, pos;

	pos = 0;
	for (f = 0; f < FL_NFIELDS; f++) {
		if (f > 0) {
			if (pos == fl->fl_len)
				return (fl_fail(fl, fl->fl_lineno, EINVAL,
				    "%zu fields where 4 (code jt jf k) were "
				    "expected", f));
			while (pos < fl->fl_len && (fl->fl_line[pos] == ' ' ||
			    fl->fl_line[pos] == '\t'))
				pos++;
			if (pos == fl->fl_len)
				return (fl_fail(fl, fl->fl_lineno, EINVAL,
				    "junk after field %zu: trailing blanks",
				    f));
		}
		if (fl_number(fl, &pos, fl_fields[f].ff_name, 0,
		    fl_fields[f].ff_max, &v[f]) == -1)
			return (-1);
	}
	if (pos != fl->fl_len) {
		fl_quote(quoted, sizeof(quoted), fl->fl_line + pos,
		    fl->fl_len - pos);
		return (fl_fail(fl, fl->fl_lineno, EINVAL,
		    "junk after the 4 fields: \"%s\"", quoted));
	}
	insn->code = (uint16_t)v[0];
	insn->jt = (uint8_t)v[1];
	insn->jf = (uint8_t)v[2];
	insn->k = v[3];
	return (0);
}

/*
 * After a blank line at blankline (0: none) with got of count instructions
 * read: only blank lines may follow.  Decides between "too few
 * instructions" and "blank line inside the program" or "too many".
 */
static int
fl_rest(struct fl_ctx *fl, size_t got, size_t count)
{
	size_t blankline;
	int eof;

	blankline = got < count ? fl->fl_lineno : 0;
	for (;;) {
		if (fl_next(fl, &eof) == -1)
			return (-1);
		if (eof != 0)
			break;
		if (fl_blank(fl) != 0)
			continue;
		if (blankline != 0)
			return (fl_fail(fl, blankline, EINVAL,
			    "blank line inside the program"));
		return (fl_fail(fl, fl->fl_lineno, EINVAL,
		    "more lines than the %zu instructions line 1 announces",
		    count));
	}
	if (got < count)
		return (fl_fail(fl, 0, EINVAL,
		    "%zu instructions, but line 1 says %zu", got, count));
	return (0);
}

/*
 * The opcodes both kernels take: FreeBSD's bpf_validate() code map and
 * Linux's chk_code_allowed() agree on all of these.  BPF_MOD and BPF_XOR
 * (libpcap's "%" and "^") are Linux-only, so they are refused here: the
 * same -F file must mean the same thing on every platform.
 */
static int
fl_known(uint16_t code)
{
	switch (code) {
	case BPF_LD | BPF_W | BPF_IMM:
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
	case BPF_LD | BPF_W | BPF_IND:
	case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
	case BPF_LD | BPF_W | BPF_MEM:
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_IMM:
	case BPF_LDX | BPF_W | BPF_MEM:
	case BPF_LDX | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_B | BPF_MSH:
	case BPF_ST:
	case BPF_STX:
	case BPF_ALU | BPF_ADD | BPF_K:
	case BPF_ALU | BPF_SUB | BPF_K:
	case BPF_ALU | BPF_MUL | BPF_K:
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_OR | BPF_K:
	case BPF_ALU | BPF_AND | BPF_K:
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_K:
	case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_X:
	case BPF_ALU | BPF_NEG:
	case BPF_JMP | BPF_JA:
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_X:
	case BPF_RET | BPF_K:
	case BPF_RET | BPF_A:
	case BPF_MISC | BPF_TAX:
	case BPF_MISC | BPF_TXA:
		return (1);
	}
	return (0);
}

/*
 * The structural checks of FreeBSD's bpf_validate() and Linux's
 * bpf_check_classic(), the stricter of the two wherever they differ, so
 * that neither kernel refuses a program this accepts.  Instruction i sits
 * on line i + 2 of the file.  Checked, in this order for each instruction:
 *  - the opcode is one of fl_known()'s (this also refuses codes > 0xff);
 *  - a jump lands inside the program: jumps are unsigned, hence forward,
 *    and pc + 1 + k (ja) or pc + 1 + max(jt, jf) must be < n;
 *  - ld/ldx/st/stx on scratch memory use an index < BPF_MEMWORDS (16);
 *  - "div #0" is refused (division by a constant zero);
 *  - "lsh/rsh #k" with k >= 32 is refused (Linux);
 *  - an absolute load (ld [k], ldh [k], ldb [k], ldx 4*([k]&0xf)) must
 *    end within 32 bits: k + size - 1 <= 0xffffffff.  Linux's ancillary
 *    offsets (k >= 0xfffff000) pass and are left to that kernel to judge;
 * then for the whole program:
 *  - the last instruction is a return (ret #k or ret a);
 *  - no scratch cell is read on a path where it was not written first
 *    (Linux's check_load_and_stores(), done by fl_memory()).
 */
static int
fl_validate(struct fl_ctx *fl, const struct fp_insn *insns, size_t n)
{
	const struct fp_insn *p;
	uint32_t off, size;
	size_t i, line;

	for (i = 0; i < n; i++) {
		p = &insns[i];
		line = i + 2;
		if (fl_known(p->code) == 0)
			return (fl_fail(fl, line, EINVAL,
			    "opcode %u (0x%02x) is not a classic BPF "
			    "instruction both kernels accept", p->code,
			    p->code));
		if (BPF_CLASS(p->code) == BPF_JMP) {
			if (p->code == (BPF_JMP | BPF_JA))
				off = p->k;
			else
				off = p->jt > p->jf ? p->jt : p->jf;
			/* i < n, so n - i - 1 cannot wrap. */
			if (off >= n - i - 1)
				return (fl_fail(fl, line, EINVAL,
				    "jump by %lu lands past the last "
				    "instruction (line %zu)",
				    (unsigned long)off, n + 1));
			continue;
		}
		switch (p->code) {
		case BPF_LD | BPF_W | BPF_MEM:
		case BPF_LDX | BPF_W | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (p->k >= BPF_MEMWORDS)
				return (fl_fail(fl, line, EINVAL,
				    "scratch memory index %lu is not below %d",
				    (unsigned long)p->k, BPF_MEMWORDS));
			break;
		case BPF_ALU | BPF_DIV | BPF_K:
			if (p->k == 0)
				return (fl_fail(fl, line, EINVAL,
				    "division by constant zero"));
			break;
		case BPF_ALU | BPF_LSH | BPF_K:
		case BPF_ALU | BPF_RSH | BPF_K:
			if (p->k >= 32)
				return (fl_fail(fl, line, EINVAL,
				    "shift by %lu is not below 32",
				    (unsigned long)p->k));
			break;
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
		case BPF_LDX | BPF_B | BPF_MSH:
			if (BPF_SIZE(p->code) == BPF_W)
				size = 4;
			else if (BPF_SIZE(p->code) == BPF_H)
				size = 2;
			else
				size = 1;
			if (p->k > UINT32_MAX - (size - 1))
				return (fl_fail(fl, line, EINVAL,
				    "%lu-byte load at offset %lu ends past "
				    "32 bits", (unsigned long)size,
				    (unsigned long)p->k));
			break;
		}
	}
	if (BPF_CLASS(insns[n - 1].code) != BPF_RET)
		return (fl_fail(fl, n + 1, EINVAL,
		    "the last instruction is not a return"));
	return (fl_memory(fl, insns, n));
}

/*
 * Linux refuses a program that may read a scratch cell before writing it
 * (FreeBSD would read a stale value).  One forward pass, as the kernel
 * does it: a bit per cell written on every path to here; a jump ANDs its
 * set into each target's mask, and the instruction after a jump is only
 * reached through its own mask.  Jump targets were checked by the caller.
 */
static int
fl_memory(struct fl_ctx *fl, const struct fp_insn *insns, size_t n)
{
	uint16_t masks[CAPTURE_MAXINSNS];
	uint16_t valid;
	const struct fp_insn *p;
	size_t pc;

	for (pc = 0; pc < n; pc++)
		masks[pc] = UINT16_MAX;
	valid = 0;
	for (pc = 0; pc < n; pc++) {
		p = &insns[pc];
		valid &= masks[pc];
		switch (p->code) {
		case BPF_ST:
		case BPF_STX:
			valid |= (uint16_t)(1U << p->k);
			break;
		case BPF_LD | BPF_W | BPF_MEM:
		case BPF_LDX | BPF_W | BPF_MEM:
			if ((valid & (1U << p->k)) == 0)
				return (fl_fail(fl, pc + 2, EINVAL,
				    "scratch memory M[%lu] may be read before "
				    "it is written", (unsigned long)p->k));
			break;
		case BPF_JMP | BPF_JA:
			masks[pc + 1 + p->k] &= valid;
			valid = UINT16_MAX;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_X:
		case BPF_JMP | BPF_JGT | BPF_X:
		case BPF_JMP | BPF_JGE | BPF_X:
		case BPF_JMP | BPF_JSET | BPF_X:
			masks[pc + 1 + p->jt] &= valid;
			masks[pc + 1 + p->jf] &= valid;
			valid = UINT16_MAX;
			break;
		}
	}
	return (0);
}

/*
 * Reads and checks the whole file before reporting success; on failure
 * *ninsns is 0 and insns[0..maxinsns) may hold part of the program, but
 * nothing at or past insns[maxinsns] is ever written: the count is checked
 * against the limit before the first instruction is stored, and a line
 * beyond the count is refused without being stored.  The limit is
 * maxinsns or CAPTURE_MAXINSNS (FreeBSD's net.bpf.maxinsns), the smaller.
 */
int
filter_load(const char *path, struct fp_insn *insns, size_t maxinsns,
    size_t *ninsns, char *errbuf, size_t errlen)
{
	struct fl_ctx fl;
	size_t count, got, limit;
	int eof, error, rv;

	*ninsns = 0;
	eof = 0;
	count = 0;
	memset(&fl, 0, sizeof(fl));
	fl.fl_path = path;
	fl.fl_errbuf = errbuf;
	fl.fl_errlen = errlen;
	if ((fl.fl_fp = fopen(path, "r")) == NULL) {
		error = errno;
		return (fl_fail(&fl, 0, error, "%s", strerror(error)));
	}
	limit = maxinsns < CAPTURE_MAXINSNS ? maxinsns : CAPTURE_MAXINSNS;
	rv = -1;
	if (fl_count(&fl, limit, &count) == -1)
		goto out;
	for (got = 0; got < count; got++) {
		if (fl_next(&fl, &eof) == -1)
			goto out;
		if (eof != 0 || fl_blank(&fl) != 0)
			break;
		if (fl_insn(&fl, &insns[got]) == -1)
			goto out;
	}
	if (eof != 0) {
		fl_fail(&fl, 0, EINVAL, "%zu instructions, but line 1 says %zu",
		    got, count);
		goto out;
	}
	if (fl_rest(&fl, got, count) == -1)
		goto out;
	if (fl_validate(&fl, insns, count) == -1)
		goto out;
	*ninsns = count;
	rv = 0;
out:
	/* fclose() must not clobber the errno of the failure. */
	error = errno;
	fclose(fl.fl_fp);
	errno = error;
	return (rv);
}

/*
 * Caps every "ret #k" accept length at snaplen, so that tcpdump's usual
 * "ret #262144" copies only the headers flowprobe decodes.  "ret #0"
 * (reject) stays 0.  snaplen 0 means no cap, as tcpdump's -s 0 does, and
 * leaves the program alone rather than turning every accept into a
 * reject.  "ret a" returns a value computed per packet and cannot be
 * rewritten here; only the kernel bounds it (by the packet length and the
 * buffer or ring frame size), and the capture backends honour caplen
 * whatever it is.
 */
void
filter_clamp_snaplen(struct fp_insn *insns, size_t n, uint32_t snaplen)
{
	size_t i;

	if (snaplen == 0)
		return;
	for (i = 0; i < n; i++)
		if (insns[i].code == (BPF_RET | BPF_K) && insns[i].k > snaplen)
			insns[i].k = snaplen;
}
