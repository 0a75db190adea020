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
 * Tests of the savefile reader.  Each case builds a small, often broken,
 * savefile byte by byte in memory, writes it to the test's working
 * directory (or a pipe) and checks what pcapfile_open() and
 * pcapfile_next() make of it.
 */

#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "flowprobe.h"

#define MAGIC_USEC	0xa1b2c3d4U
#define MAGIC_NSEC	0xa1b23c4dU
#define FILE_NAME	"t.pcap"

/* A savefile under construction. */
struct sf {
	uint8_t	*s_buf;
	size_t	 s_len;
	size_t	 s_cap;
	int	 s_be;
};

static void	 sf_bytes(struct sf *, const void *, size_t);
static void	 sf_u16(struct sf *, uint16_t);
static void	 sf_u32(struct sf *, uint32_t);
static void	 sf_hdr(struct sf *, int, uint32_t, uint16_t, uint16_t,
		    uint32_t);
static void	 sf_rec(struct sf *, uint32_t, uint32_t, uint32_t, uint32_t,
		    const uint8_t *);
static void	 sf_fill(uint8_t *, size_t, uint32_t);
static void	 sf_write(const struct sf *);
static struct pcapfile *sf_open(const struct sf *);
static void	 check_magic(uint32_t, int);
static void	 check_rejected(const struct sf *, const char *);
static uint32_t	 big_len(uint32_t);
static void	 big_file(struct sf *);
static void	 big_check(struct pcapfile *);

static void
sf_bytes(struct sf *s, const void *p, size_t len)
{
	if (s->s_len + len > s->s_cap) {
		s->s_cap = (s->s_len + len) * 2;
		s->s_buf = realloc(s->s_buf, s->s_cap);
		ATF_REQUIRE(s->s_buf != NULL);
	}
	memcpy(s->s_buf + s->s_len, p, len);
	s->s_len += len;
}

static void
sf_u16(struct sf *s, uint16_t v)
{
	uint8_t b[2];

	if (s->s_be) {
		b[0] = v >> 8;
		b[1] = v & 0xff;
	} else {
		b[0] = v & 0xff;
		b[1] = v >> 8;
	}
	sf_bytes(s, b, sizeof(b));
}

static void
sf_u32(struct sf *s, uint32_t v)
{
	if (s->s_be) {
		sf_u16(s, v >> 16);
		sf_u16(s, v & 0xffff);
	} else {
		sf_u16(s, v & 0xffff);
		sf_u16(s, v >> 16);
	}
}

static void
sf_hdr(struct sf *s, int be, uint32_t magic, uint16_t major, uint16_t minor,
    uint32_t linktype)
{
	memset(s, 0, sizeof(*s));
	s->s_be = be;
	sf_u32(s, magic);
	sf_u16(s, major);
	sf_u16(s, minor);
	sf_u32(s, 0);		/* thiszone */
	sf_u32(s, 0);		/* sigfigs */
	sf_u32(s, 262144);	/* snaplen */
	sf_u32(s, linktype);
}

/* data may be NULL when incl is 0, or to append incl bytes of 0x5a. */
static void
sf_rec(struct sf *s, uint32_t sec, uint32_t frac, uint32_t incl,
    uint32_t orig, const uint8_t *data)
{
	uint8_t *filler;

	sf_u32(s, sec);
	sf_u32(s, frac);
	sf_u32(s, incl);
	sf_u32(s, orig);
	if (data != NULL)
		sf_bytes(s, data, incl);
	else if (incl > 0) {
		ATF_REQUIRE((filler = malloc(incl)) != NULL);
		memset(filler, 0x5a, incl);
		sf_bytes(s, filler, incl);
		free(filler);
	}
}

/* A byte pattern that differs between records and within one. */
static void
sf_fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static void
sf_write(const struct sf *s)
{
	FILE *f;

	ATF_REQUIRE((f = fopen(FILE_NAME, "wb")) != NULL);
	ATF_REQUIRE(s->s_len == 0 || fwrite(s->s_buf, s->s_len, 1, f) == 1);
	ATF_REQUIRE(fclose(f) == 0);
}

static struct pcapfile *
sf_open(const struct sf *s)
{
	struct pcapfile *pf;
	char errbuf[256];

	sf_write(s);
	pf = pcapfile_open(FILE_NAME, errbuf, sizeof(errbuf));
	ATF_REQUIRE_MSG(pf != NULL, "%s", errbuf);
	return (pf);
}

/* Two records: values, times and bytes must come back the same. */
static void
check_magic(uint32_t magic, int be)
{
	struct sf s;
	struct pcapfile *pf;
	struct fp_frame fr;
	uint8_t a[60], b[3];
	char errbuf[256];
	uint32_t frac1, frac2;

	sf_fill(a, sizeof(a), 1);
	sf_fill(b, sizeof(b), 2);
	/* .123456789 s and .999999 s, in the file's unit. */
	frac1 = magic == MAGIC_NSEC ? 123456789 : 123456;
	frac2 = magic == MAGIC_NSEC ? 999999999 : 999999;
	sf_hdr(&s, be, magic, 2, 4, LINK_ETHERNET);
	sf_rec(&s, 1700000000, frac1, sizeof(a), 1514, a);
	sf_rec(&s, 4000000000U, frac2, sizeof(b), sizeof(b), b);
	pf = sf_open(&s);
	ATF_CHECK_EQ(pcapfile_linktype(pf), LINK_ETHERNET);

	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_CHECK_EQ(fr.fr_caplen, sizeof(a));
	ATF_CHECK_EQ(fr.fr_wirelen, 1514);
	ATF_CHECK_EQ(fr.fr_time, 1700000000123ULL);
	ATF_CHECK(memcmp(fr.fr_data, a, sizeof(a)) == 0);

	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_CHECK_EQ(fr.fr_caplen, sizeof(b));
	ATF_CHECK_EQ(fr.fr_wirelen, sizeof(b));
	/* Past 2038: ts_sec is unsigned. */
	ATF_CHECK_EQ(fr.fr_time, 4000000000999ULL);
	ATF_CHECK(memcmp(fr.fr_data, b, sizeof(b)) == 0);

	ATF_CHECK_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 0);
	ATF_CHECK_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 0);
	pcapfile_close(pf);
	free(s.s_buf);
}

/* pcapfile_open() must fail with EINVAL and a message holding msg. */
static void
check_rejected(const struct sf *s, const char *msg)
{
	char errbuf[256];

	sf_write(s);
	errno = 0;
	ATF_REQUIRE(pcapfile_open(FILE_NAME, errbuf, sizeof(errbuf)) == NULL);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_MSG(strstr(errbuf, msg) != NULL, "message: %s", errbuf);
	ATF_CHECK_MSG(strstr(errbuf, FILE_NAME) != NULL, "message: %s",
	    errbuf);
}

ATF_TC_WITHOUT_HEAD(usec_le);
ATF_TC_BODY(usec_le, tc)
{
	check_magic(MAGIC_USEC, 0);
}

ATF_TC_WITHOUT_HEAD(usec_be);
ATF_TC_BODY(usec_be, tc)
{
	check_magic(MAGIC_USEC, 1);
}

ATF_TC_WITHOUT_HEAD(nsec_le);
ATF_TC_BODY(nsec_le, tc)
{
	check_magic(MAGIC_NSEC, 0);
}

ATF_TC_WITHOUT_HEAD(nsec_be);
ATF_TC_BODY(nsec_be, tc)
{
	check_magic(MAGIC_NSEC, 1);
}

ATF_TC_WITHOUT_HEAD(version_2_1_accepted);
ATF_TC_BODY(version_2_1_accepted, tc)
{
	struct sf s;
	struct pcapfile *pf;

	sf_hdr(&s, 0, MAGIC_USEC, 2, 1, LINK_RAW);
	pf = sf_open(&s);
	ATF_CHECK_EQ(pcapfile_linktype(pf), LINK_RAW);
	pcapfile_close(pf);
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(version_1_4_rejected);
ATF_TC_BODY(version_1_4_rejected, tc)
{
	struct sf s;

	sf_hdr(&s, 1, MAGIC_USEC, 1, 4, LINK_ETHERNET);
	check_rejected(&s, "unsupported savefile version 1.4");
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(version_2_5_rejected);
ATF_TC_BODY(version_2_5_rejected, tc)
{
	struct sf s;

	sf_hdr(&s, 0, MAGIC_NSEC, 2, 5, LINK_ETHERNET);
	check_rejected(&s, "unsupported savefile version 2.5");
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(pcapng_rejected);
ATF_TC_BODY(pcapng_rejected, tc)
{
	struct sf s;

	/* A section header block's opening words. */
	sf_hdr(&s, 0, 0x0a0d0d0aU, 28, 0, 0x1a2b3c4dU);
	check_rejected(&s,
	    "pcapng is not supported; convert it with editcap -F pcap");
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(not_pcap);
ATF_TC_BODY(not_pcap, tc)
{
	struct sf s;

	memset(&s, 0, sizeof(s));
	sf_bytes(&s, "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n", 37);
	check_rejected(&s, "not a pcap savefile");
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(short_file);
ATF_TC_BODY(short_file, tc)
{
	struct sf s;

	/* A good header cut one byte short. */
	sf_hdr(&s, 0, MAGIC_USEC, 2, 4, LINK_ETHERNET);
	s.s_len = 23;
	check_rejected(&s, "not a pcap savefile");
	s.s_len = 0;
	check_rejected(&s, "not a pcap savefile");
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(missing_file);
ATF_TC_BODY(missing_file, tc)
{
	char errbuf[256];

	errno = 0;
	ATF_REQUIRE(pcapfile_open("nonexistent.pcap", errbuf,
	    sizeof(errbuf)) == NULL);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK(strstr(errbuf, "nonexistent.pcap") != NULL);
}

/* open(2) succeeds, read(2) fails: not a content error. */
ATF_TC_WITHOUT_HEAD(read_error);
ATF_TC_BODY(read_error, tc)
{
	char errbuf[256];

	errno = 0;
	ATF_REQUIRE(pcapfile_open(".", errbuf, sizeof(errbuf)) == NULL);
	ATF_CHECK_EQ(errno, EISDIR);
	ATF_CHECK_MSG(strstr(errbuf, ".: ") == errbuf, "message: %s", errbuf);
}

ATF_TC_WITHOUT_HEAD(linktype_reserved_rejected);
ATF_TC_BODY(linktype_reserved_rejected, tc)
{
	struct sf s;

	sf_hdr(&s, 0, MAGIC_USEC, 2, 4, 0x00010000U | LINK_ETHERNET);
	check_rejected(&s, "reserved bits");
	free(s.s_buf);
	sf_hdr(&s, 1, MAGIC_USEC, 2, 4, 0x02000000U | LINK_ETHERNET);
	check_rejected(&s, "reserved bits");
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(linktype_fcs_ignored);
ATF_TC_BODY(linktype_fcs_ignored, tc)
{
	struct sf s;
	struct pcapfile *pf;

	/* FCS present, 4 bytes (0x1 << 28 | 0x1 << 26), on link type 276. */
	sf_hdr(&s, 1, MAGIC_USEC, 2, 4, 0x14000000U | LINK_LINUX_SLL2);
	pf = sf_open(&s);
	ATF_CHECK_EQ(pcapfile_linktype(pf), LINK_LINUX_SLL2);
	pcapfile_close(pf);
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(caplen_max_accepted);
ATF_TC_BODY(caplen_max_accepted, tc)
{
	struct sf s;
	struct pcapfile *pf;
	struct fp_frame fr;
	char errbuf[256];

	sf_hdr(&s, 0, MAGIC_USEC, 2, 4, LINK_ETHERNET);
	sf_rec(&s, 1, 0, 262144, 262144, NULL);
	pf = sf_open(&s);
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_CHECK_EQ(fr.fr_caplen, 262144);
	ATF_CHECK(fr.fr_data[0] == 0x5a && fr.fr_data[262143] == 0x5a);
	ATF_CHECK_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 0);
	pcapfile_close(pf);
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(caplen_impossible);
ATF_TC_BODY(caplen_impossible, tc)
{
	struct sf s;
	struct pcapfile *pf;
	struct fp_frame fr;
	char errbuf[256];

	sf_hdr(&s, 1, MAGIC_USEC, 2, 4, LINK_ETHERNET);
	sf_rec(&s, 1, 0, 100, 100, NULL);
	sf_rec(&s, 2, 0, 40, 100, NULL);
	sf_rec(&s, 3, 0, 262145, 262145, NULL);
	sf_rec(&s, 4, 0, 40, 40, NULL);
	pf = sf_open(&s);
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_CHECK_EQ(fr.fr_time, 1000);
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_CHECK_EQ(fr.fr_time, 2000);
	errno = 0;
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	/* 24 + (16 + 100) + (16 + 40) */
	ATF_CHECK_STREQ(errbuf, FILE_NAME ": record 3 at offset 196: "
	    "captured length 262145 is impossible");
	/* The reader does not resynchronise after garbage. */
	errbuf[0] = '\0';
	ATF_CHECK_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), -1);
	ATF_CHECK(strstr(errbuf, "record 3") != NULL);
	pcapfile_close(pf);
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(truncated_header);
ATF_TC_BODY(truncated_header, tc)
{
	struct sf s;
	struct pcapfile *pf;
	struct fp_frame fr;
	char errbuf[256];

	sf_hdr(&s, 0, MAGIC_NSEC, 2, 4, LINK_ETHERNET);
	sf_rec(&s, 1, 0, 60, 60, NULL);
	sf_rec(&s, 2, 0, 60, 60, NULL);
	s.s_len -= 60 + 1;	/* one byte of the second header missing */
	pf = sf_open(&s);
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_CHECK_EQ(fr.fr_caplen, 60);
	errno = 0;
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_STREQ(errbuf, FILE_NAME ": truncated record 2 at offset 100");
	pcapfile_close(pf);
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(truncated_data);
ATF_TC_BODY(truncated_data, tc)
{
	struct sf s;
	struct pcapfile *pf;
	struct fp_frame fr;
	char errbuf[256];

	sf_hdr(&s, 1, MAGIC_USEC, 2, 4, LINK_ETHERNET);
	sf_rec(&s, 1, 0, 60, 60, NULL);
	sf_rec(&s, 2, 0, 60, 60, NULL);
	sf_rec(&s, 3, 0, 1000, 1000, NULL);
	s.s_len -= 1;
	pf = sf_open(&s);
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	errno = 0;
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_STREQ(errbuf, FILE_NAME ": truncated record 3 at offset 176");
	pcapfile_close(pf);
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(frac_clamped);
ATF_TC_BODY(frac_clamped, tc)
{
	struct sf s;
	struct pcapfile *pf;
	struct fp_frame fr;
	char errbuf[256];

	sf_hdr(&s, 0, MAGIC_USEC, 2, 4, LINK_ETHERNET);
	sf_rec(&s, 10, 1000000, 0, 0, NULL);
	sf_rec(&s, 11, 0xffffffffU, 0, 0, NULL);
	pf = sf_open(&s);
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_CHECK_EQ(fr.fr_time, 10999);
	ATF_CHECK_EQ(fr.fr_caplen, 0);
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_CHECK_EQ(fr.fr_time, 11999);
	pcapfile_close(pf);
	free(s.s_buf);

	sf_hdr(&s, 1, MAGIC_NSEC, 2, 4, LINK_ETHERNET);
	sf_rec(&s, 10, 1000000000, 0, 0, NULL);
	pf = sf_open(&s);
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_CHECK_EQ(fr.fr_time, 10999);
	pcapfile_close(pf);
	free(s.s_buf);
}

ATF_TC_WITHOUT_HEAD(origlen_below_caplen);
ATF_TC_BODY(origlen_below_caplen, tc)
{
	static const uint32_t want[5] = { 70, 60, 80, 60, 90 };
	struct sf s;
	struct pcapfile *pf;
	struct fp_frame fr, batch[6];
	char errbuf[256];
	int got, i, n;

	sf_hdr(&s, 0, MAGIC_USEC, 2, 4, LINK_ETHERNET);
	sf_rec(&s, 1, 0, 60, 10, NULL);
	sf_rec(&s, 1, 0, 60, 0, NULL);
	pf = sf_open(&s);
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_CHECK_EQ(fr.fr_caplen, 60);
	ATF_CHECK_EQ(fr.fr_wirelen, 60);
	ATF_REQUIRE_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 1);
	ATF_CHECK_EQ(fr.fr_wirelen, 60);
	pcapfile_close(pf);
	free(s.s_buf);

	/* Read in batches, such records among good ones come out alike. */
	sf_hdr(&s, 0, MAGIC_USEC, 2, 4, LINK_ETHERNET);
	sf_rec(&s, 1, 0, 60, 70, NULL);
	sf_rec(&s, 1, 0, 60, 10, NULL);
	sf_rec(&s, 1, 0, 60, 80, NULL);
	sf_rec(&s, 1, 0, 60, 0, NULL);
	sf_rec(&s, 1, 0, 60, 90, NULL);
	pf = sf_open(&s);
	for (n = 0; (got = pcapfile_read(pf, batch + n, 6 - n, errbuf,
	    sizeof(errbuf))) > 0; n += got)
		continue;
	ATF_CHECK_EQ_MSG(got, 0, "%s", errbuf);
	ATF_REQUIRE_EQ(n, 5);
	for (i = 0; i < n; i++)
		ATF_CHECK_EQ_MSG(batch[i].fr_wirelen, want[i],
		    "record %d: wire length %u", i + 1, batch[i].fr_wirelen);
	pcapfile_close(pf);
	free(s.s_buf);
}

/*
 * Enough records of awkward sizes that several straddle the end of a
 * 4 MiB fill, some of them maximal.
 */
#define BIG_RECORDS	48

static uint32_t
big_len(uint32_t i)
{
	return (i % 3 == 0 ? 262144 : 100000 + i * 3001);
}

static void
big_file(struct sf *s)
{
	uint8_t *p;
	uint32_t i;

	ATF_REQUIRE((p = malloc(262144)) != NULL);
	sf_hdr(s, 0, MAGIC_USEC, 2, 4, LINK_ETHERNET);
	for (i = 0; i < BIG_RECORDS; i++) {
		sf_fill(p, big_len(i), i);
		sf_rec(s, 1000 + i, i, big_len(i), big_len(i) + 4, p);
	}
	free(p);
	ATF_REQUIRE(s->s_len > 2 * (4 * 1024 * 1024));
}

static void
big_check(struct pcapfile *pf)
{
	struct fp_frame fr;
	uint8_t *p;
	uint32_t i;
	char errbuf[256];

	ATF_REQUIRE((p = malloc(262144)) != NULL);
	for (i = 0; i < BIG_RECORDS; i++) {
		ATF_REQUIRE_EQ_MSG(pcapfile_next(pf, &fr, errbuf,
		    sizeof(errbuf)), 1, "record %u: %s", i + 1, errbuf);
		ATF_REQUIRE_EQ(fr.fr_caplen, big_len(i));
		ATF_CHECK_EQ(fr.fr_wirelen, big_len(i) + 4);
		ATF_CHECK_EQ(fr.fr_time, (1000 + i) * 1000ULL);
		sf_fill(p, big_len(i), i);
		ATF_CHECK_MSG(memcmp(fr.fr_data, p, fr.fr_caplen) == 0,
		    "record %u: bytes differ", i + 1);
	}
	ATF_CHECK_EQ(pcapfile_next(pf, &fr, errbuf, sizeof(errbuf)), 0);
	free(p);
}

ATF_TC_WITHOUT_HEAD(refill_boundary);
ATF_TC_BODY(refill_boundary, tc)
{
	struct sf s;
	struct pcapfile *pf;

	big_file(&s);
	pf = sf_open(&s);
	big_check(pf);
	pcapfile_close(pf);
	free(s.s_buf);
}

/* A pipe hands over odd-sized pieces: records straddle every read. */
ATF_TC_WITHOUT_HEAD(stdin_pipe);
ATF_TC_BODY(stdin_pipe, tc)
{
	struct sf s;
	struct pcapfile *pf;
	size_t off, n;
	pid_t pid;
	int fds[2], status;
	char errbuf[256];

	big_file(&s);
	ATF_REQUIRE(pipe(fds) == 0);
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		close(fds[0]);
		for (off = 0; off < s.s_len; off += n) {
			n = s.s_len - off < 7777 ? s.s_len - off : 7777;
			if (write(fds[1], s.s_buf + off, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	ATF_REQUIRE(dup2(fds[0], STDIN_FILENO) == STDIN_FILENO);
	close(fds[0]);
	pf = pcapfile_open("-", errbuf, sizeof(errbuf));
	ATF_REQUIRE_MSG(pf != NULL, "%s", errbuf);
	big_check(pf);
	pcapfile_close(pf);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(s.s_buf);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, usec_le);
	ATF_TP_ADD_TC(tp, usec_be);
	ATF_TP_ADD_TC(tp, nsec_le);
	ATF_TP_ADD_TC(tp, nsec_be);
	ATF_TP_ADD_TC(tp, version_2_1_accepted);
	ATF_TP_ADD_TC(tp, version_1_4_rejected);
	ATF_TP_ADD_TC(tp, version_2_5_rejected);
	ATF_TP_ADD_TC(tp, pcapng_rejected);
	ATF_TP_ADD_TC(tp, not_pcap);
	ATF_TP_ADD_TC(tp, short_file);
	ATF_TP_ADD_TC(tp, missing_file);
	ATF_TP_ADD_TC(tp, read_error);
	ATF_TP_ADD_TC(tp, linktype_reserved_rejected);
	ATF_TP_ADD_TC(tp, linktype_fcs_ignored);
	ATF_TP_ADD_TC(tp, caplen_max_accepted);
	ATF_TP_ADD_TC(tp, caplen_impossible);
	ATF_TP_ADD_TC(tp, truncated_header);
	ATF_TP_ADD_TC(tp, truncated_data);
	ATF_TP_ADD_TC(tp, frac_clamped);
	ATF_TP_ADD_TC(tp, origlen_below_caplen);
	ATF_TP_ADD_TC(tp, refill_boundary);
	ATF_TP_ADD_TC(tp, stdin_pipe);
	return (atf_no_error());
}
