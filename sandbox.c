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
 * Once the capture, the savefile and the export sockets are open, the
 * process gives up everything the packet loop does not need.  This file
 * owns that last step: as root, a chroot to an empty directory and a
 * switch to an unprivileged user; then, where the system has one, a
 * confinement of the system calls left: Capsicum capability mode, or a
 * seccomp filter that makes every call the loop does not make fail.
 */

#include <sys/types.h>
#include <sys/stat.h>

#if __has_include(<sys/capsicum.h>)
#include <sys/capsicum.h>
#define SB_CAPSICUM
#elif __has_include(<linux/seccomp.h>) && __has_include(<linux/filter.h>) && \
    __has_include(<linux/audit.h>) && __has_include(<sys/prctl.h>)
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#endif

/*
 * AddressSanitizer checks for leaks at exit by stopping the process with
 * ptrace(2) and reading /proc, neither of which the sandbox leaves: the
 * check is made before, once, and the one at exit is then skipped.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_LSAN
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define SB_LSAN
#endif
#if defined(SB_LSAN) && __has_include(<sanitizer/lsan_interface.h>)
#include <sanitizer/lsan_interface.h>
#else
#undef SB_LSAN
#endif

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowprobe.h"

/*
 * The filter checks that a call comes from the ABI its numbers were
 * written for: other ABIs number the same calls differently.  Only
 * little-endian ABIs whose libc makes every socket call directly are
 * listed; i386's socketcall(2) multiplexer would need a filter of its
 * own, so there, as on any ABI not named here, no filter is installed.
 */
#ifdef SECCOMP_MODE_FILTER
#if defined(__x86_64__)		/* x32's numbers never match */
#define SB_AUDIT_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && !defined(__AARCH64EB__)
#define SB_AUDIT_ARCH	AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64 && defined(AUDIT_ARCH_RISCV64)
#define SB_AUDIT_ARCH	AUDIT_ARCH_RISCV64
#endif
#endif

#define SB_DEFAULT_USER	"nobody"
#define SB_EMPTYDIR	"/var/empty"
#define SB_TMPDIR	"/tmp/flowprobe.XXXXXX"

static int	 sb_fail(char *, size_t, int, const char *, ...)
		    __attribute__((__format__(__printf__, 4, 5)));
static int	 sb_emptydir_ok(const char *);
static int	 sb_chroot(char *, size_t);
static int	 sb_drop(const char *, char *, size_t);
static int	 sb_confine(const struct sandbox_conf *, char *, size_t);

/* One message in errbuf, errnum's text appended unless 0; errno = errnum. */
static int
sb_fail(char *errbuf, size_t errlen, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
		len = strlen(errbuf);
		if (errnum != 0 && len < errlen)
			(void)snprintf(errbuf + len, errlen - len, ": %s",
			    strerror(errnum));
	}
	errno = errnum;
	return (-1);
}

/*
 * A directory nobody but root could have put anything in: a user who
 * can write to the new root could plant files the probe later trusts.
 */
static int
sb_emptydir_ok(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return (0);
	return (S_ISDIR(st.st_mode) && st.st_uid == 0 &&
	    (st.st_mode & (S_IWGRP | S_IWOTH)) == 0);
}

/*
 * chroot(2) to an empty directory.  Where the system keeps none, a new
 * one is made and removed again once it is our working directory: the
 * chroot still works on it, and a removed directory can never gain an
 * entry, so nothing can be planted there even by root.
 */
static int
sb_chroot(char *errbuf, size_t errlen)
{
	char tmpl[] = SB_TMPDIR;

	if (sb_emptydir_ok(SB_EMPTYDIR)) {
		if (chroot(SB_EMPTYDIR) == -1)
			return (sb_fail(errbuf, errlen, errno, "chroot %s",
			    SB_EMPTYDIR));
	} else {
		if (mkdtemp(tmpl) == NULL)
			return (sb_fail(errbuf, errlen, errno, "mkdtemp %s",
			    SB_TMPDIR));
		if (chdir(tmpl) == -1) {
			(void)rmdir(tmpl);
			return (sb_fail(errbuf, errlen, errno, "chdir %s",
			    tmpl));
		}
		if (rmdir(tmpl) == -1)
			return (sb_fail(errbuf, errlen, errno, "rmdir %s",
			    tmpl));
		if (chroot(".") == -1)
			return (sb_fail(errbuf, errlen, errno, "chroot %s",
			    tmpl));
	}
	if (chdir("/") == -1)
		return (sb_fail(errbuf, errlen, errno, "chdir /"));
	return (0);
}

/*
 * Root only: the user is looked up while /etc/passwd is still in
 * reach, then the root changes, then the groups and the user.  Run by
 * root, setgid(2) and setuid(2) set the real, effective and saved IDs
 * alike (POSIX), so no saved ID is left to win root back; setresuid(2)
 * would say the same more loudly but is missing from some systems and
 * has no header to test for.  The last check proves it.
 */
static int
sb_drop(const char *user, char *errbuf, size_t errlen)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		if (errno != 0)
			return (sb_fail(errbuf, errlen, errno, "user \"%s\"",
			    user));
		(void)sb_fail(errbuf, errlen, 0, "user \"%s\" does not "
		    "exist", user);
		errno = ENOENT;
		return (-1);
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0) {
		(void)sb_fail(errbuf, errlen, 0, "user \"%s\" has uid 0: "
		    "running as it would drop nothing", user);
		errno = EPERM;
		return (-1);
	}

	if (sb_chroot(errbuf, errlen) == -1)
		return (-1);
	if (setgroups(1, &gid) == -1)
		return (sb_fail(errbuf, errlen, errno, "setgroups %lu",
		    (unsigned long)gid));
	if (setgid(gid) == -1)
		return (sb_fail(errbuf, errlen, errno, "setgid %lu",
		    (unsigned long)gid));
	if (setuid(uid) == -1)
		return (sb_fail(errbuf, errlen, errno, "setuid %lu",
		    (unsigned long)uid));
	if (setuid(0) != -1 || getuid() != uid || geteuid() != uid ||
	    getgid() != gid || getegid() != gid) {
		(void)sb_fail(errbuf, errlen, 0, "user \"%s\": root "
		    "privileges are still there after the switch", user);
		errno = EPERM;
		return (-1);
	}
	return (0);
}

#if defined(SB_CAPSICUM)

static int	 sb_limit(int, cap_rights_t *);

/* ENOSYS: a kernel built without Capsicum; run on, as tcpdump does. */
static int
sb_limit(int fd, cap_rights_t *rights)
{
	if (cap_rights_limit(fd, rights) == -1 && errno != ENOSYS)
		return (-1);
	return (0);
}

/*
 * Each descriptor keeps only what the loop does with it.  The capture
 * descriptor was limited by its backend (capture_lock), and syslog(3)
 * keeps the socket LOG_NDELAY opened.
 */
static int
sb_confine(const struct sandbox_conf *sc, char *errbuf, size_t errlen)
{
	cap_rights_t rights;
	int fd, i;

	/* Connected sockets: send(2) needs no name lookup. */
	for (i = 0; sc->sb_cs != NULL &&
	    (fd = collector_fd(sc->sb_cs, i)) != -1; i++) {
		cap_rights_init(&rights, CAP_SEND);
		if (sb_limit(fd, &rights) == -1)
			return (sb_fail(errbuf, errlen, errno,
			    "cap_rights_limit: collector socket"));
	}
	/* pcapfile.c reads with read(2) alone. */
	if (sc->sb_readfd != -1) {
		cap_rights_init(&rights, CAP_READ);
		if (sb_limit(sc->sb_readfd, &rights) == -1)
			return (sb_fail(errbuf, errlen, errno,
			    "cap_rights_limit: savefile"));
	}
	/* stdio asks fstat(2) and, on a tty, TIOCGETA before writing. */
	cap_rights_init(&rights, CAP_WRITE, CAP_FSTAT, CAP_IOCTL);
	if (sb_limit(STDOUT_FILENO, &rights) == -1 ||
	    sb_limit(STDERR_FILENO, &rights) == -1)
		return (sb_fail(errbuf, errlen, errno,
		    "cap_rights_limit: standard output"));
	if (cap_enter() == -1 && errno != ENOSYS)
		return (sb_fail(errbuf, errlen, errno, "cap_enter"));
	return (0);
}

#elif defined(SB_AUDIT_ARCH)

/*
 * The calls the loops make, found by strace(1) over full runs: live
 * capture with export, -w, -c, SIGINT, SIGTERM and SIGUSR1, the
 * interface removed mid-run, text output to a pipe, /dev/null and a
 * tty, -r with a file and with stdin, -D with syslog(3).  A call is
 * listed if libc may make it on a path the probe can take.
 */
static const long sb_allowed[] = {
	SYS_read,		/* the savefile or stdin (-r) */
	SYS_write,		/* printed flows, messages */
	SYS_writev,		/* glibc's last words before abort(3) */
	SYS_sendto,		/* send(2) to collectors, syslog(3) */
#ifdef SYS_poll
	SYS_poll,		/* the live loop */
#endif
#ifdef SYS_ppoll
	SYS_ppoll,		/* poll(3) where the kernel has only ppoll */
#endif
	SYS_getsockopt,		/* PACKET_STATISTICS, SO_ERROR */
	SYS_getsockname,	/* has the interface gone? */
	SYS_close,		/* the descriptors, at the end */
#ifdef SYS_fstat
	SYS_fstat,		/* stdio sizes its buffer at first use */
#endif
#ifdef SYS_newfstatat
	SYS_newfstatat,		/* ... which glibc asks this way */
#endif
	SYS_ftruncate,		/* the pidfile is emptied at the end */
	SYS_brk,		/* malloc(3) */
	SYS_munmap,		/* free(3), the capture ring at the end */
	SYS_mremap,		/* realloc(3) of a large block */
	SYS_madvise,		/* free(3) returning pages */
	SYS_clock_gettime,	/* wall and pacing clocks, where the vDSO
				   cannot */
	SYS_gettimeofday,	/* ... */
	SYS_getpid,		/* syslog(3) with LOG_PID; raise(3) */
	SYS_getuid,		/* who we are: read-only, and what the */
	SYS_geteuid,		/* tests check */
	SYS_getgid,
	SYS_getegid,
	SYS_gettid,		/* raise(3) */
	SYS_rt_sigaction,	/* main's handlers; abort(3) */
	SYS_rt_sigprocmask,	/* raise(3), abort(3) */
	SYS_rt_sigreturn,	/* back from the signal handlers */
	SYS_sigaltstack,	/* sanitizers' threads, at exit */
	SYS_futex,		/* pthread_once(3) wakes waiters, and glibc */
				/* aborts if that fails */
	SYS_restart_syscall,	/* the kernel resumes an interrupted call */
	SYS_exit,
	SYS_exit_group
};

#define SB_NALLOWED	(sizeof(sb_allowed) / sizeof(sb_allowed[0]))
/* The arch check, the list, three argument checks, the default. */
#define SB_MAXINSNS	(4 + 2 * SB_NALLOWED + 3 * 5 + 1)

/* The low 32 bits of an argument: every ABI listed is little-endian. */
#define SB_ARG(i)	((uint32_t)offsetof(struct seccomp_data, args[i]))
#define SB_DENY		(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

#ifdef SECCOMP_RET_KILL_PROCESS
#define SB_KILL		SECCOMP_RET_KILL_PROCESS
#else
#define SB_KILL		SECCOMP_RET_KILL
#endif

static void	 sb_insn(struct sock_filter *, size_t *, uint16_t, uint32_t,
		    uint8_t, uint8_t);
static void	 sb_argcheck(struct sock_filter *, size_t *, long, uint32_t,
		    uint16_t, uint32_t, uint32_t, uint32_t);

static void
sb_insn(struct sock_filter *prog, size_t *n, uint16_t code, uint32_t k,
    uint8_t jt, uint8_t jf)
{
	prog[*n].code = code;
	prog[*n].jt = jt;
	prog[*n].jf = jf;
	prog[*n].k = k;
	(*n)++;
}

/*
 * Call nr is allowed when test(k) holds for argument off: match returns
 * if the test holds, nomatch if not.  Five instructions; the number is
 * loaded again afterwards, since the argument took its place.
 */
static void
sb_argcheck(struct sock_filter *prog, size_t *n, long nr, uint32_t off,
    uint16_t test, uint32_t k, uint32_t match, uint32_t nomatch)
{
	sb_insn(prog, n, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 4);
	sb_insn(prog, n, BPF_LD | BPF_W | BPF_ABS, off, 0, 0);
	sb_insn(prog, n, BPF_JMP | test | BPF_K, k, 0, 1);
	sb_insn(prog, n, BPF_RET | BPF_K, match, 0, 0);
	sb_insn(prog, n, BPF_RET | BPF_K, nomatch, 0, 0);
}

/*
 * Every call not listed fails with EPERM rather than killing the
 * process: a rare libc path that needs one more call must not cost the
 * flows metered so far.  Opening files, making or connecting sockets,
 * exec, fork, ptrace, chmod and kill all fail.  NO_NEW_PRIVS comes
 * first: it lets an unprivileged process install the filter, and no
 * exec can ever gain privileges again.
 */
static int
sb_confine(const struct sandbox_conf *sc, char *errbuf, size_t errlen)
{
	struct sock_filter prog[SB_MAXINSNS];
	struct sock_fprog fprog;
	size_t i, n;

	(void)sc;	/* seccomp filters calls, not descriptors */
	n = 0;
	/* Another ABI's numbers mean other calls: only an exploit asks. */
	sb_insn(prog, &n, BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch), 0, 0);
	sb_insn(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, SB_AUDIT_ARCH, 1, 0);
	sb_insn(prog, &n, BPF_RET | BPF_K, SB_KILL, 0, 0);
	sb_insn(prog, &n, BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr), 0, 0);
	for (i = 0; i < SB_NALLOWED; i++) {
		sb_insn(prog, &n, BPF_JMP | BPF_JEQ | BPF_K,
		    (uint32_t)sb_allowed[i], 0, 1);
		sb_insn(prog, &n, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
	}
	/* malloc(3) maps memory, but never code: no PROT_EXEC. */
	sb_argcheck(prog, &n, SYS_mmap, SB_ARG(2), BPF_JSET, PROT_EXEC,
	    SB_DENY, SECCOMP_RET_ALLOW);
	/*
	 * stdio asks whether a character device is a tty; the kernel
	 * takes the request as 32 bits, so the low word is all of it.
	 */
	sb_argcheck(prog, &n, SYS_ioctl, SB_ARG(1), BPF_JEQ, TCGETS,
	    SECCOMP_RET_ALLOW, SB_DENY);
	/* abort(3) signals itself, and nothing else. */
	sb_argcheck(prog, &n, SYS_tgkill, SB_ARG(0), BPF_JEQ,
	    (uint32_t)getpid(), SECCOMP_RET_ALLOW, SB_DENY);
	sb_insn(prog, &n, BPF_RET | BPF_K, SB_DENY, 0, 0);

	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return (sb_fail(errbuf, errlen, errno, "PR_SET_NO_NEW_PRIVS"));
	/* EINVAL: a kernel built without seccomp filters; run on. */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) == -1 &&
	    errno != EINVAL)
		return (sb_fail(errbuf, errlen, errno, "seccomp filter"));
	return (0);
}

#elif __has_include(<sys/pledge.h>)

/*
 * OpenBSD: pledge(2).  "stdio" covers the loop: read, write, poll,
 * send(2) on connected sockets, sendsyslog(2); "bpf" adds BIOCGSTATS,
 * the one ioctl a buffered bpf(4) loop still makes (capture_bpf.c does
 * not ask BIOCGETIF where pledge exists).  unveil(2) would add nothing
 * to a chroot to an empty directory and a pledge without path promises.
 */
static int
sb_confine(const struct sandbox_conf *sc, char *errbuf, size_t errlen)
{
	(void)sc;
	if (pledge("stdio bpf", NULL) == -1) {
		snprintf(errbuf, errlen, "pledge: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

#else

/* No confinement of calls here: no Capsicum, pledge or seccomp filter. */
static int
sb_confine(const struct sandbox_conf *sc, char *errbuf, size_t errlen)
{
	(void)sc;
	(void)errbuf;
	(void)errlen;
	return (0);
}

#endif

int
sandbox_enter(const struct sandbox_conf *sc, char *errbuf, size_t errlen)
{
	/* Printed flows and syslog(3) need the zone file read now. */
	tzset();
#ifdef SB_LSAN
	__lsan_do_leak_check();
#endif
	/*
	 * Without root there is nothing to drop and no way to chroot;
	 * the calls can still be confined.
	 */
	if (geteuid() == 0 && sb_drop(sc->sb_user != NULL ? sc->sb_user :
	    SB_DEFAULT_USER, errbuf, errlen) == -1)
		return (-1);
	return (sb_confine(sc, errbuf, errlen));
}
