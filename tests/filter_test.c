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
 * Tests of the -F filter loader and the snap length clamp.  Each case
 * writes a program text to a file in the test's working directory and
 * checks what filter_load() makes of it: the exact instructions, or the
 * exact message, errno and an empty result.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <atf-c.h>

#include "capture.h"

#define FILE_NAME	"t.bpf"
#define GUARD		8		/* sentinel slots past maxinsns */

/*
 * "tcpdump -ddd udp" on Ethernet, as libpcap 1.10 prints it: IPv6 next
 * header 17, or IPv6 fragment header then 17, or IPv4 protocol 17.
 */
#define UDP_TEXT	"12\n" UDP_BODY
#define UDP_BODY							\
	"40 0 0 12\n"							\
	"21 0 5 34525\n"						\
	"48 0 0 20\n"							\
	"21 6 0 17\n"							\
	"21 0 6 44\n"							\
	"48 0 0 54\n"							\
	"21 3 4 17\n"							\
	"21 0 3 2048\n"							\
	"48 0 0 23\n"							\
	"21 0 1 17\n"							\
	"6 0 0 262144\n"						\
	"6 0 0 0\n"

static const struct fp_insn udp_prog[] = {
	{ 0x28, 0, 0, 12 },		/* ldh [12] */
	{ 0x15, 0, 5, 0x86dd },		/* jeq #0x86dd */
	{ 0x30, 0, 0, 20 },		/* ldb [20] */
	{ 0x15, 6, 0, 17 },		/* jeq #17 */
	{ 0x15, 0, 6, 44 },		/* jeq #44 (fragment) */
	{ 0x30, 0, 0, 54 },		/* ldb [54] */
	{ 0x15, 3, 4, 17 },		/* jeq #17 */
	{ 0x15, 0, 3, 0x800 },		/* jeq #0x800 */
	{ 0x30, 0, 0, 23 },		/* ldb [23] */
	{ 0x15, 0, 1, 17 },		/* jeq #17 */
	{ 0x06, 0, 0, 262144 },		/* ret #262144 */
	{ 0x06, 0, 0, 0 },		/* ret #0 */
};
#define UDP_LEN	(sizeof(udp_prog) / sizeof(udp_prog[0]))

static const struct fp_insn sentinel = { 0xdead, 0xbe, 0xef, 0xfeedface };

static void	 write_bytes(const char *, size_t);
static void	 write_text(const char *);
static void	 fill(struct fp_insn *, size_t);
static void	 check_sentinels(const struct fp_insn *, size_t, size_t);
static void	 check_udp(const struct fp_insn *, size_t);
static void	 accept_text(const char *, size_t);
static void	 reject_text(const char *, const char *);
static void	 reject_limit(const char *, size_t, const char *);

static void
write_bytes(const char *buf, size_t len)
{
	FILE *fp;

	fp = fopen(FILE_NAME, "w");
	ATF_REQUIRE(fp != NULL);
	ATF_REQUIRE(fwrite(buf, 1, len, fp) == len);
	ATF_REQUIRE(fclose(fp) == 0);
}

static void
write_text(const char *text)
{
	write_bytes(text, strlen(text));
}

static void
fill(struct fp_insn *insns, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		insns[i] = sentinel;
}

/* insns[from..to) must still hold the sentinel. */
static void
check_sentinels(const struct fp_insn *insns, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		ATF_CHECK_MSG(memcmp(&insns[i], &sentinel,
		    sizeof(sentinel)) == 0, "slot %zu was written", i);
}

static void
check_udp(const struct fp_insn *insns, size_t n)
{
	size_t i;

	ATF_REQUIRE_EQ(n, UDP_LEN);
	for (i = 0; i < UDP_LEN; i++) {
		ATF_CHECK_EQ_MSG(insns[i].code, udp_prog[i].code, "insn %zu",
		    i);
		ATF_CHECK_EQ_MSG(insns[i].jt, udp_prog[i].jt, "insn %zu", i);
		ATF_CHECK_EQ_MSG(insns[i].jf, udp_prog[i].jf, "insn %zu", i);
		ATF_CHECK_EQ_MSG(insns[i].k, udp_prog[i].k, "insn %zu", i);
	}
}

/* The text loads, with want instructions. */
static void
accept_text(const char *text, size_t want)
{
	struct fp_insn insns[CAPTURE_MAXINSNS];
	char errbuf[256];
	size_t n;

	write_text(text);
	errbuf[0] = '\0';
	ATF_REQUIRE_MSG(filter_load(FILE_NAME, insns, CAPTURE_MAXINSNS, &n,
	    errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
	ATF_CHECK_EQ(n, want);
}

/* The text is refused with EINVAL, no instructions and exactly msg. */
static void
reject_limit(const char *text, size_t maxinsns, const char *msg)
{
	struct fp_insn insns[CAPTURE_MAXINSNS + GUARD];
	char errbuf[256];
	size_t n;

	write_text(text);
	fill(insns, CAPTURE_MAXINSNS + GUARD);
	n = 12345;
	errno = 0;
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, insns, maxinsns, &n, errbuf,
	    sizeof(errbuf)), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_EQ(n, 0);
	ATF_CHECK_STREQ(errbuf, msg);
	check_sentinels(insns, maxinsns, CAPTURE_MAXINSNS + GUARD);
}

static void
reject_text(const char *text, const char *msg)
{
	reject_limit(text, CAPTURE_MAXINSNS, msg);
}

ATF_TC_WITHOUT_HEAD(load_tcpdump_udp);
ATF_TC_BODY(load_tcpdump_udp, tc)
{
	struct fp_insn insns[CAPTURE_MAXINSNS];
	char errbuf[256];
	size_t n;

	write_text(UDP_TEXT);
	ATF_REQUIRE_MSG(filter_load(FILE_NAME, insns, CAPTURE_MAXINSNS, &n,
	    errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
	check_udp(insns, n);
}

ATF_TC_WITHOUT_HEAD(load_trailing_blank_lines);
ATF_TC_BODY(load_trailing_blank_lines, tc)
{
	accept_text(UDP_TEXT "\n\n  \n\t\n", UDP_LEN);
}

ATF_TC_WITHOUT_HEAD(load_no_final_newline);
ATF_TC_BODY(load_no_final_newline, tc)
{
	accept_text("1\n6 0 0 96", 1);
}

ATF_TC_WITHOUT_HEAD(load_tabs_and_runs_of_blanks);
ATF_TC_BODY(load_tabs_and_runs_of_blanks, tc)
{
	accept_text("1\n6\t0  0 \t96\n", 1);
}

ATF_TC_WITHOUT_HEAD(load_extremes);
ATF_TC_BODY(load_extremes, tc)
{
	/* jt/jf 255 into a long run of rets, k 2^32-1, leading zeros. */
	char text[8192];
	size_t i, len;

	len = (size_t)snprintf(text, sizeof(text),
	    "258\n0040 0 0 12\n21 255 255 4294967295\n");
	for (i = 0; i < 256; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "6 0 0 %zu\n", i);
	ATF_REQUIRE(len < sizeof(text));
	accept_text(text, 258);
}

ATF_TC_WITHOUT_HEAD(load_exactly_512);
ATF_TC_BODY(load_exactly_512, tc)
{
	char text[8192];
	size_t i, len;

	len = (size_t)snprintf(text, sizeof(text), "512\n");
	for (i = 0; i < 511; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "0 0 0 %zu\n", i);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "22 0 0 0\n");
	ATF_REQUIRE(len < sizeof(text));
	accept_text(text, 512);
}

ATF_TC_WITHOUT_HEAD(load_scratch_memory);
ATF_TC_BODY(load_scratch_memory, tc)
{
	/* ldx 4*([14]&0xf); stx M[15]; ld M[15]; ldx M[15]; ret a */
	accept_text("5\n177 0 0 14\n3 0 0 15\n96 0 0 15\n97 0 0 15\n"
	    "22 0 0 0\n", 5);
}

ATF_TC_WITHOUT_HEAD(load_missing_file);
ATF_TC_BODY(load_missing_file, tc)
{
	struct fp_insn insns[4];
	char errbuf[256], want[256];
	size_t n;

	n = 1;
	errno = 0;
	ATF_REQUIRE_EQ(filter_load("nonexistent.bpf", insns, 4, &n, errbuf,
	    sizeof(errbuf)), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_EQ(n, 0);
	snprintf(want, sizeof(want), "nonexistent.bpf: %s", strerror(ENOENT));
	ATF_CHECK_STREQ(errbuf, want);
}

ATF_TC_WITHOUT_HEAD(load_unreadable);
ATF_TC_BODY(load_unreadable, tc)
{
	struct fp_insn insns[4];
	char errbuf[256];
	size_t n;

	/*
	 * A directory opens but cannot be read (EISDIR on Linux and
	 * FreeBSD): the read's errno, not EINVAL, so that the caller exits
	 * EX_NOINPUT rather than EX_DATAERR.
	 */
	errno = 0;
	ATF_REQUIRE_EQ(filter_load(".", insns, 4, &n, errbuf,
	    sizeof(errbuf)), -1);
	ATF_CHECK(errno != 0 && errno != EINVAL);
	ATF_CHECK(strncmp(errbuf, ".: ", 3) == 0);
}

ATF_TC_WITHOUT_HEAD(reject_empty_file);
ATF_TC_BODY(reject_empty_file, tc)
{
	reject_text("", "t.bpf: empty file");
}

ATF_TC_WITHOUT_HEAD(reject_blank_first_line);
ATF_TC_BODY(reject_blank_first_line, tc)
{
	reject_text("\n" UDP_TEXT, "t.bpf: line 1: blank line where the "
	    "instruction count was expected");
}

ATF_TC_WITHOUT_HEAD(reject_count_zero);
ATF_TC_BODY(reject_count_zero, tc)
{
	reject_text("0\n", "t.bpf: line 1: instruction count 0 is out of "
	    "range 1..512");
}

ATF_TC_WITHOUT_HEAD(reject_count_513);
ATF_TC_BODY(reject_count_513, tc)
{
	reject_text("513\n6 0 0 0\n", "t.bpf: line 1: instruction count 513 "
	    "is out of range 1..512");
}

ATF_TC_WITHOUT_HEAD(reject_count_huge);
ATF_TC_BODY(reject_count_huge, tc)
{
	reject_text("99999999999999999999\n", "t.bpf: line 1: instruction "
	    "count 99999999999999999999 is out of range 1..512");
}

ATF_TC_WITHOUT_HEAD(reject_count_junk);
ATF_TC_BODY(reject_count_junk, tc)
{
	reject_text("1 6 0 0 0\n", "t.bpf: line 1: junk after the "
	    "instruction count: \" 6 0 0 0\"");
}

ATF_TC_WITHOUT_HEAD(reject_count_above_caller_limit);
ATF_TC_BODY(reject_count_above_caller_limit, tc)
{
	reject_limit(UDP_TEXT, 4, "t.bpf: line 1: instruction count 12 is "
	    "out of range 1..4");
}

ATF_TC_WITHOUT_HEAD(reject_fewer_lines_than_count);
ATF_TC_BODY(reject_fewer_lines_than_count, tc)
{
	reject_text("13\n" UDP_BODY, "t.bpf: 12 instructions, but line 1 "
	    "says 13");
}

ATF_TC_WITHOUT_HEAD(reject_fewer_then_blank);
ATF_TC_BODY(reject_fewer_then_blank, tc)
{
	reject_text("13\n" UDP_BODY "\n\n", "t.bpf: 12 instructions, but "
	    "line 1 says 13");
}

ATF_TC_WITHOUT_HEAD(reject_more_lines_than_count);
ATF_TC_BODY(reject_more_lines_than_count, tc)
{
	reject_text("11\n" UDP_BODY, "t.bpf: line 13: more lines than "
	    "the 11 instructions line 1 announces");
}

ATF_TC_WITHOUT_HEAD(reject_line_after_trailing_blank);
ATF_TC_BODY(reject_line_after_trailing_blank, tc)
{
	reject_text(UDP_TEXT "\n6 0 0 0\n", "t.bpf: line 15: more lines than "
	    "the 12 instructions line 1 announces");
}

ATF_TC_WITHOUT_HEAD(reject_blank_line_inside);
ATF_TC_BODY(reject_blank_line_inside, tc)
{
	reject_text("2\n6 0 0 0\n\n6 0 0 0\n", "t.bpf: line 3: blank line "
	    "inside the program");
}

ATF_TC_WITHOUT_HEAD(reject_bad_number);
ATF_TC_BODY(reject_bad_number, tc)
{
	reject_text("1\n6 0 0 0x40\n", "t.bpf: line 2: k \"0x40\" is not an "
	    "unsigned decimal number");
}

ATF_TC_WITHOUT_HEAD(reject_negative);
ATF_TC_BODY(reject_negative, tc)
{
	reject_text("2\n21 -1 0 5\n6 0 0 0\n", "t.bpf: line 2: jt \"-1\" is "
	    "not an unsigned decimal number");
}

ATF_TC_WITHOUT_HEAD(reject_plus_sign);
ATF_TC_BODY(reject_plus_sign, tc)
{
	reject_text("1\n+6 0 0 0\n", "t.bpf: line 2: code \"+6\" is not an "
	    "unsigned decimal number");
}

ATF_TC_WITHOUT_HEAD(reject_k_too_large);
ATF_TC_BODY(reject_k_too_large, tc)
{
	reject_text("1\n6 0 0 4294967296\n", "t.bpf: line 2: k 4294967296 is "
	    "out of range 0..4294967295");
}

ATF_TC_WITHOUT_HEAD(reject_jf_too_large);
ATF_TC_BODY(reject_jf_too_large, tc)
{
	reject_text("1\n21 0 256 0\n", "t.bpf: line 2: jf 256 is out of "
	    "range 0..255");
}

ATF_TC_WITHOUT_HEAD(reject_code_too_large);
ATF_TC_BODY(reject_code_too_large, tc)
{
	reject_text("1\n65536 0 0 0\n", "t.bpf: line 2: code 65536 is out of "
	    "range 0..65535");
}

ATF_TC_WITHOUT_HEAD(reject_junk_after_line);
ATF_TC_BODY(reject_junk_after_line, tc)
{
	reject_text("1\n6 0 0 0 # accept\n", "t.bpf: line 2: junk after the "
	    "4 fields: \" # accept\"");
}

ATF_TC_WITHOUT_HEAD(reject_crlf);
ATF_TC_BODY(reject_crlf, tc)
{
	reject_text("1\r\n6 0 0 0\r\n", "t.bpf: line 1: instruction count "
	    "\"1\\x0d\" is not an unsigned decimal number");
}

ATF_TC_WITHOUT_HEAD(reject_trailing_blank);
ATF_TC_BODY(reject_trailing_blank, tc)
{
	reject_text("1\n6 0 0 0 \n", "t.bpf: line 2: junk after the 4 "
	    "fields: \" \"");
}

ATF_TC_WITHOUT_HEAD(reject_leading_blank);
ATF_TC_BODY(reject_leading_blank, tc)
{
	reject_text("1\n 6 0 0 0\n", "t.bpf: line 2: code: blank where a "
	    "number was expected");
}

ATF_TC_WITHOUT_HEAD(reject_missing_field);
ATF_TC_BODY(reject_missing_field, tc)
{
	reject_text("1\n6 0 0\n", "t.bpf: line 2: 3 fields where 4 (code jt "
	    "jf k) were expected");
}

ATF_TC_WITHOUT_HEAD(reject_nul_byte);
ATF_TC_BODY(reject_nul_byte, tc)
{
	static const char text[] = "1\n6 0 0 1\0002\n";
	char errbuf[256];
	struct fp_insn insns[1];
	size_t n;

	write_bytes(text, sizeof(text) - 1);
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, insns, 1, &n, errbuf,
	    sizeof(errbuf)), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_STREQ(errbuf, "t.bpf: line 2: k \"1\\x002\" is not an "
	    "unsigned decimal number");
}

ATF_TC_WITHOUT_HEAD(reject_long_line);
ATF_TC_BODY(reject_long_line, tc)
{
	char text[256];

	snprintf(text, sizeof(text), "1\n6 0 0 %080d\n", 0);
	reject_text(text, "t.bpf: line 2: line longer than 64 characters");
}

ATF_TC_WITHOUT_HEAD(reject_unknown_opcode);
ATF_TC_BODY(reject_unknown_opcode, tc)
{
	/* BPF_ALU|BPF_MOD|BPF_K: Linux has it, FreeBSD refuses it. */
	reject_text("2\n148 0 0 3\n22 0 0 0\n", "t.bpf: line 2: opcode 148 "
	    "(0x94) is not a classic BPF instruction both kernels accept");
}

ATF_TC_WITHOUT_HEAD(reject_opcode_above_255);
ATF_TC_BODY(reject_opcode_above_255, tc)
{
	/* ret #0 with a high byte set: no kernel masks it off. */
	reject_text("1\n262 0 0 0\n", "t.bpf: line 2: opcode 262 (0x106) is "
	    "not a classic BPF instruction both kernels accept");
}

ATF_TC_WITHOUT_HEAD(reject_jump_out_of_range);
ATF_TC_BODY(reject_jump_out_of_range, tc)
{
	/* jeq at pc 1 of 3: jt 0 lands on pc 2, jf 1 on pc 3, past the end. */
	reject_text("3\n40 0 0 12\n21 0 1 2048\n6 0 0 0\n", "t.bpf: line 3: "
	    "jump by 1 lands past the last instruction (line 4)");
}

ATF_TC_WITHOUT_HEAD(reject_ja_out_of_range);
ATF_TC_BODY(reject_ja_out_of_range, tc)
{
	reject_text("2\n5 0 0 1\n6 0 0 0\n", "t.bpf: line 2: jump by 1 lands "
	    "past the last instruction (line 3)");
}

ATF_TC_WITHOUT_HEAD(reject_no_final_ret);
ATF_TC_BODY(reject_no_final_ret, tc)
{
	reject_text("2\n6 0 0 0\n40 0 0 12\n", "t.bpf: line 3: the last "
	    "instruction is not a return");
}

ATF_TC_WITHOUT_HEAD(reject_division_by_zero);
ATF_TC_BODY(reject_division_by_zero, tc)
{
	reject_text("3\n40 0 0 12\n52 0 0 0\n22 0 0 0\n", "t.bpf: line 3: "
	    "division by constant zero");
}

ATF_TC_WITHOUT_HEAD(reject_shift_32);
ATF_TC_BODY(reject_shift_32, tc)
{
	reject_text("2\n100 0 0 32\n22 0 0 0\n", "t.bpf: line 2: shift by 32 "
	    "is not below 32");
}

ATF_TC_WITHOUT_HEAD(reject_scratch_index);
ATF_TC_BODY(reject_scratch_index, tc)
{
	reject_text("2\n2 0 0 16\n6 0 0 0\n", "t.bpf: line 2: scratch memory "
	    "index 16 is not below 16");
}

ATF_TC_WITHOUT_HEAD(reject_scratch_unwritten);
ATF_TC_BODY(reject_scratch_unwritten, tc)
{
	/* M[0] is stored on the jt path only; the jf path reads it unset. */
	reject_text("5\n0 0 0 1\n21 0 1 1\n2 0 0 0\n96 0 0 0\n22 0 0 0\n",
	    "t.bpf: line 5: scratch memory M[0] may be read before it is "
	    "written");
}

ATF_TC_WITHOUT_HEAD(reject_absolute_load_wraps);
ATF_TC_BODY(reject_absolute_load_wraps, tc)
{
	reject_text("2\n32 0 0 4294967293\n22 0 0 0\n", "t.bpf: line 2: "
	    "4-byte load at offset 4294967293 ends past 32 bits");
}

ATF_TC_WITHOUT_HEAD(never_writes_past_maxinsns);
ATF_TC_BODY(never_writes_past_maxinsns, tc)
{
	struct fp_insn insns[4 + GUARD];
	char errbuf[256];
	size_t n;

	/* Exactly maxinsns: loads, and the guard behind it is intact. */
	write_text("4\n6 0 0 1\n6 0 0 2\n6 0 0 3\n6 0 0 4\n");
	fill(insns, 4 + GUARD);
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, insns, 4, &n, errbuf,
	    sizeof(errbuf)), 0);
	ATF_CHECK_EQ(n, 4);
	ATF_CHECK_EQ(insns[3].k, 4);
	check_sentinels(insns, 4, 4 + GUARD);

	/* A count within the limit but more lines after it. */
	write_text("4\n6 0 0 1\n6 0 0 2\n6 0 0 3\n6 0 0 4\n6 0 0 5\n"
	    "6 0 0 6\n");
	fill(insns, 4 + GUARD);
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, insns, 4, &n, errbuf,
	    sizeof(errbuf)), -1);
	check_sentinels(insns, 4, 4 + GUARD);

	/* A count above the limit: refused before any slot is written. */
	write_text("6\n6 0 0 1\n6 0 0 2\n6 0 0 3\n6 0 0 4\n6 0 0 5\n"
	    "6 0 0 6\n");
	fill(insns, 4 + GUARD);
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, insns, 4, &n, errbuf,
	    sizeof(errbuf)), -1);
	check_sentinels(insns, 0, 4 + GUARD);

	/* maxinsns 0 takes nothing at all. */
	fill(insns, 4 + GUARD);
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, insns, 0, &n, errbuf,
	    sizeof(errbuf)), -1);
	check_sentinels(insns, 0, 4 + GUARD);
}

ATF_TC_WITHOUT_HEAD(deterministic);
ATF_TC_BODY(deterministic, tc)
{
	struct fp_insn a[CAPTURE_MAXINSNS], b[CAPTURE_MAXINSNS];
	char ea[256], eb[256];
	size_t na, nb;
	int erra, errb;

	/* Same file, fresh and dirty buffers: the same program. */
	write_text(UDP_TEXT);
	memset(a, 0, sizeof(a));
	fill(b, CAPTURE_MAXINSNS);
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, a, CAPTURE_MAXINSNS, &na, ea,
	    sizeof(ea)), 0);
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, b, CAPTURE_MAXINSNS, &nb, eb,
	    sizeof(eb)), 0);
	ATF_REQUIRE_EQ(na, nb);
	ATF_CHECK(memcmp(a, b, na * sizeof(a[0])) == 0);
	check_udp(a, na);

	/* Same bad file: the same message and errno every time. */
	write_text("2\n6 0 0 0\n6 0 0 x\n");
	errno = 0;
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, a, CAPTURE_MAXINSNS, &na, ea,
	    sizeof(ea)), -1);
	erra = errno;
	errno = 0;
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, b, CAPTURE_MAXINSNS, &nb, eb,
	    sizeof(eb)), -1);
	errb = errno;
	ATF_CHECK_EQ(erra, errb);
	ATF_CHECK_STREQ(ea, eb);
}

ATF_TC_WITHOUT_HEAD(short_errbuf);
ATF_TC_BODY(short_errbuf, tc)
{
	struct fp_insn insns[4];
	char errbuf[10];
	size_t n;

	memset(errbuf, 'X', sizeof(errbuf));
	write_text("0\n");
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, insns, 4, &n, errbuf,
	    sizeof(errbuf)), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_STREQ(errbuf, "t.bpf: li");
	ATF_REQUIRE_EQ(filter_load(FILE_NAME, insns, 4, &n, NULL, 0), -1);
	ATF_CHECK_EQ(errno, EINVAL);
}

ATF_TC_WITHOUT_HEAD(clamp_ret_k);
ATF_TC_BODY(clamp_ret_k, tc)
{
	struct fp_insn insns[UDP_LEN];

	memcpy(insns, udp_prog, sizeof(insns));
	filter_clamp_snaplen(insns, UDP_LEN, CAPTURE_SNAPLEN);
	ATF_CHECK_EQ(insns[10].code, 0x06);
	ATF_CHECK_EQ(insns[10].k, CAPTURE_SNAPLEN);
	/* Nothing else moved: ret #0 and the loads' offsets stay. */
	ATF_CHECK_EQ(insns[11].k, 0);
	ATF_CHECK(memcmp(insns, udp_prog, 10 * sizeof(insns[0])) == 0);
}

ATF_TC_WITHOUT_HEAD(clamp_ret_zero_stays);
ATF_TC_BODY(clamp_ret_zero_stays, tc)
{
	struct fp_insn insn = { 0x06, 0, 0, 0 };

	filter_clamp_snaplen(&insn, 1, 96);
	ATF_CHECK_EQ(insn.k, 0);
}

ATF_TC_WITHOUT_HEAD(clamp_ret_a_untouched);
ATF_TC_BODY(clamp_ret_a_untouched, tc)
{
	/* ret a: k is unused by the kernels, and must not be rewritten. */
	struct fp_insn insn = { 0x16, 0, 0, 262144 };

	filter_clamp_snaplen(&insn, 1, 96);
	ATF_CHECK_EQ(insn.code, 0x16);
	ATF_CHECK_EQ(insn.k, 262144);
}

ATF_TC_WITHOUT_HEAD(clamp_small_ret_stays);
ATF_TC_BODY(clamp_small_ret_stays, tc)
{
	struct fp_insn insns[2] = { { 0x06, 0, 0, 64 }, { 0x06, 0, 0, 96 } };

	filter_clamp_snaplen(insns, 2, 96);
	ATF_CHECK_EQ(insns[0].k, 64);
	ATF_CHECK_EQ(insns[1].k, 96);
}

ATF_TC_WITHOUT_HEAD(clamp_only_ret);
ATF_TC_BODY(clamp_only_ret, tc)
{
	/* ld #262144 and jeq #262144 carry big k's that are not lengths. */
	struct fp_insn insns[2] = { { 0x00, 0, 0, 262144 },
	    { 0x15, 0, 0, 262144 } };

	filter_clamp_snaplen(insns, 2, 96);
	ATF_CHECK_EQ(insns[0].k, 262144);
	ATF_CHECK_EQ(insns[1].k, 262144);
}

ATF_TC_WITHOUT_HEAD(clamp_snaplen_zero_is_no_cap);
ATF_TC_BODY(clamp_snaplen_zero_is_no_cap, tc)
{
	struct fp_insn insn = { 0x06, 0, 0, 262144 };

	filter_clamp_snaplen(&insn, 1, 0);
	ATF_CHECK_EQ(insn.k, 262144);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, load_tcpdump_udp);
	ATF_TP_ADD_TC(tp, load_trailing_blank_lines);
	ATF_TP_ADD_TC(tp, load_no_final_newline);
	ATF_TP_ADD_TC(tp, load_tabs_and_runs_of_blanks);
	ATF_TP_ADD_TC(tp, load_extremes);
	ATF_TP_ADD_TC(tp, load_exactly_512);
	ATF_TP_ADD_TC(tp, load_scratch_memory);
	ATF_TP_ADD_TC(tp, load_missing_file);
	ATF_TP_ADD_TC(tp, load_unreadable);
	ATF_TP_ADD_TC(tp, reject_empty_file);
	ATF_TP_ADD_TC(tp, reject_blank_first_line);
	ATF_TP_ADD_TC(tp, reject_count_zero);
	ATF_TP_ADD_TC(tp, reject_count_513);
	ATF_TP_ADD_TC(tp, reject_count_huge);
	ATF_TP_ADD_TC(tp, reject_count_junk);
	ATF_TP_ADD_TC(tp, reject_count_above_caller_limit);
	ATF_TP_ADD_TC(tp, reject_fewer_lines_than_count);
	ATF_TP_ADD_TC(tp, reject_fewer_then_blank);
	ATF_TP_ADD_TC(tp, reject_more_lines_than_count);
	ATF_TP_ADD_TC(tp, reject_line_after_trailing_blank);
	ATF_TP_ADD_TC(tp, reject_blank_line_inside);
	ATF_TP_ADD_TC(tp, reject_bad_number);
	ATF_TP_ADD_TC(tp, reject_negative);
	ATF_TP_ADD_TC(tp, reject_plus_sign);
	ATF_TP_ADD_TC(tp, reject_k_too_large);
	ATF_TP_ADD_TC(tp, reject_jf_too_large);
	ATF_TP_ADD_TC(tp, reject_code_too_large);
	ATF_TP_ADD_TC(tp, reject_junk_after_line);
	ATF_TP_ADD_TC(tp, reject_crlf);
	ATF_TP_ADD_TC(tp, reject_trailing_blank);
	ATF_TP_ADD_TC(tp, reject_leading_blank);
	ATF_TP_ADD_TC(tp, reject_missing_field);
	ATF_TP_ADD_TC(tp, reject_nul_byte);
	ATF_TP_ADD_TC(tp, reject_long_line);
	ATF_TP_ADD_TC(tp, reject_unknown_opcode);
	ATF_TP_ADD_TC(tp, reject_opcode_above_255);
	ATF_TP_ADD_TC(tp, reject_jump_out_of_range);
	ATF_TP_ADD_TC(tp, reject_ja_out_of_range);
	ATF_TP_ADD_TC(tp, reject_no_final_ret);
	ATF_TP_ADD_TC(tp, reject_division_by_zero);
	ATF_TP_ADD_TC(tp, reject_shift_32);
	ATF_TP_ADD_TC(tp, reject_scratch_index);
	ATF_TP_ADD_TC(tp, reject_scratch_unwritten);
	ATF_TP_ADD_TC(tp, reject_absolute_load_wraps);
	ATF_TP_ADD_TC(tp, never_writes_past_maxinsns);
	ATF_TP_ADD_TC(tp, deterministic);
	ATF_TP_ADD_TC(tp, short_errbuf);
	ATF_TP_ADD_TC(tp, clamp_ret_k);
	ATF_TP_ADD_TC(tp, clamp_ret_zero_stays);
	ATF_TP_ADD_TC(tp, clamp_ret_a_untouched);
	ATF_TP_ADD_TC(tp, clamp_small_ret_stays);
	ATF_TP_ADD_TC(tp, clamp_only_ret);
	ATF_TP_ADD_TC(tp, clamp_snaplen_zero_is_no_cap);

	return (atf_no_error());
}
