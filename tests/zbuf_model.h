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
 * A user-space model of the FreeBSD kernel side of one zero-copy bpf
 * descriptor (bpf.c, bpf_zerocopy.c), as ../shared/docs/freebsd-bpf.md
 * (b) describes it, for driving the real consumer in zbuf.c on Linux.
 * ioctls take FreeBSD's amd64 numbers, never ones built with Linux's
 * _IOW, whose direction bits differ (P10).
 */

#ifndef ZBUF_MODEL_H
#define ZBUF_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* FreeBSD's _IOC: VOID, OUT (kernel to user), IN; length in bits 16-28. */
#define MODEL_IOC_VOID	0x20000000UL
#define MODEL_IOC_OUT	0x40000000UL
#define MODEL_IOC_IN	0x80000000UL
#define MODEL_IOC(dir, grp, nr, len) \
	((dir) | (((unsigned long)(len) & 0x1fff) << 16) | \
	((unsigned long)(grp) << 8) | (nr))

/* amd64 values, from freebsd-bpf.md (c). */
#define MODEL_BIOCGBLEN		0x40044266UL
#define MODEL_BIOCSBLEN		0xc0044266UL
#define MODEL_BIOCSETF		0x80104267UL
#define MODEL_BIOCFLUSH		0x20004268UL
#define MODEL_BIOCPROMISC	0x20004269UL
#define MODEL_BIOCGDLT		0x4004426aUL
#define MODEL_BIOCGETIF		0x4020426bUL
#define MODEL_BIOCSETIF		0x8020426cUL
#define MODEL_BIOCSRTIMEOUT	0x8010426dUL
#define MODEL_BIOCGRTIMEOUT	0x4010426eUL
#define MODEL_BIOCGSTATS	0x4008426fUL
#define MODEL_BIOCIMMEDIATE	0x80044270UL
#define MODEL_BIOCVERSION	0x40044271UL
#define MODEL_BIOCLOCK		0x2000427aUL
#define MODEL_BIOCFEEDBACK	0x8004427cUL
#define MODEL_BIOCGETBUFMODE	0x4004427dUL
#define MODEL_BIOCSETBUFMODE	0x8004427eUL
#define MODEL_BIOCGETZMAX	0x4008427fUL
#define MODEL_BIOCROTZBUF	0x40184280UL
#define MODEL_BIOCSETZBUF	0x80184281UL
#define MODEL_BIOCSETFNR	0x80104282UL
#define MODEL_BIOCGTSTAMP	0x40044283UL
#define MODEL_BIOCSTSTAMP	0x80044284UL

#define MODEL_BUFMODE_BUFFER	1
#define MODEL_BUFMODE_ZBUF	2
#define MODEL_T_MICROTIME	0x0000
#define MODEL_T_NANOTIME	0x0001
#define MODEL_T_BINTIME		0x0002
#define MODEL_T_NONE		0x0003
#define MODEL_PAGE		4096
#define MODEL_MAX_PAGES		512	/* BPF_MAX_PAGES */
#define MODEL_ZBUF_HDRLEN	32

/* Argument layouts of the amd64 kernel. */
struct model_zbuf {		/* struct bpf_zbuf */
	void		*bz_bufa;
	void		*bz_bufb;
	size_t		 bz_buflen;
};
struct model_stat {		/* struct bpf_stat */
	unsigned int	 bs_recv;
	unsigned int	 bs_drop;
};
struct model_ifreq {		/* struct ifreq: 32 bytes */
	char		 ifr_name[16];
	uint8_t		 ifr_data[16];
};
struct model_insn {		/* struct bpf_insn */
	uint16_t	 code;
	uint8_t		 jt;
	uint8_t		 jf;
	uint32_t	 k;
};
struct model_program {		/* struct bpf_program */
	unsigned int	 bf_len;
	struct model_insn *bf_insns;
};

/* What became of a packet offered with model_deliver(). */
enum model_fate {
	MODEL_STORED,		/* written into the store buffer */
	MODEL_FILTERED,		/* snaplen 0: not for this descriptor */
	MODEL_DROPPED		/* no room, or detached: dcount++ */
};

/* Kernel-private counters and events, for assertions. */
struct model_counters {
	uint64_t	 mc_rcount;	/* reached the tap */
	uint64_t	 mc_fcount;	/* passed the filter */
	uint64_t	 mc_dcount;	/* dropped */
	uint64_t	 mc_rotations;	/* ROTATE, from any path */
	uint64_t	 mc_buffull;	/* store assigned without a wakeup (P2) */
	uint64_t	 mc_reclaims;
	uint64_t	 mc_wakeups;
};

/* A packet sequence for the kernel thread; packet i carries i. */
struct model_script {
	uint32_t	 ms_count;	/* packets numbered 0 .. count-1 */
	uint32_t	 ms_snaplen;
	uint32_t	 ms_burst;	/* pause after this many packets */
	uint32_t	 ms_pause_us;
	uint32_t	 ms_idle_every;	/* a quiet spell after this many */
	uint32_t	 ms_idle_us;
	/* per-packet outcome, indexed by number; written by the thread */
	uint8_t		*ms_fate;
};

struct model;

struct model	*model_create(void);
void		 model_destroy(struct model *);
int		 sim_ioctl(struct model *, unsigned long, void *);
enum model_fate	 model_deliver(struct model *, const uint8_t *, uint32_t,
		    uint32_t, uint64_t);
short		 model_poll(struct model *, short);
short		 model_wait(struct model *, short, int);
void		 model_timer(struct model *);
void		 model_detach(struct model *);
void		 model_set_gen(struct model *, unsigned int, uint32_t);
void		 model_counters(struct model *, struct model_counters *);
int		 model_start(struct model *, struct model_script *);
uint64_t	 model_progress(struct model *, uint64_t *);
void		 model_stop(struct model *);
uint64_t	 model_sentinels(struct model *, uint64_t *);

#endif /* !ZBUF_MODEL_H */
