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
 * Tests of sandbox_enter(): what a process can and cannot do once it
 * is locked down.  A sandbox cannot be left, so every case enters it in
 * a child made by atf_utils_fork(); the child checks, says what failed
 * on standard error and reports through its exit status, and the
 * parent checks what crossed the boundary (a datagram sent from inside).
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "flowprobe.h"

/*
 * The errno a forbidden call gets, where sandbox.c confines calls: the
 * same feature tests as there.  Elsewhere the call checks are skipped.
 */
#if __has_include(<sys/capsicum.h>)
#define DENIED		ECAPMODE
#elif __has_include(<linux/seccomp.h>) && (defined(__x86_64__) || \
    (defined(__aarch64__) && !defined(__AARCH64EB__)) || \
    (defined(__riscv) && __riscv_xlen == 64))
#define DENIED		EPERM
#endif

#define NOUSER		"flowprobe-no-such-user"
#define PAYLOAD		"sent from inside the sandbox"
#define FILEDATA	"read from inside the sandbox\n"
#define DONE		"sandboxed\n"

static void	 child_fail(const char *, ...)
		    __attribute__((__noreturn__, __format__(__printf__, 1, 2)));
static void	 check_denied(void);
static void	 check_empty_root(const struct stat *);
static int	 receiver(char *, size_t);
static void	 receive(int, const char *);
static void	 lookup(const char *, uid_t *, gid_t *);

/* In the child: say what failed, and end without atexit(3) handlers. */
static void
child_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (errno %d: %s)\n", errno, strerror(errno));
	_exit(2);
}

/* In the child: calls the packet loop never makes fail. */
static void
check_denied(void)
{
#ifdef DENIED
	int fd;

	errno = 0;
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) != -1 || errno != DENIED)
		child_fail("socket(AF_INET, SOCK_DGRAM) was not denied");
	errno = 0;
	if ((fd = open("/etc/passwd", O_RDONLY)) != -1 || errno != DENIED)
		child_fail("open(/etc/passwd) was not denied");
#endif
}

/*
 * In the child: the root is another directory, one nothing can be found
 * in.  stat(2) stays allowed (stdio needs fstat), so it can look; a root
 * made by mkdtemp(3) is root's, mode 0700, so nobody cannot even search
 * it (EACCES).
 */
static void
check_empty_root(const struct stat *oldroot)
{
	struct stat st;
	struct dirent *de;
	DIR *dir;

	if (stat("/", &st) == -1)
		child_fail("stat /");
	if (st.st_dev == oldroot->st_dev && st.st_ino == oldroot->st_ino)
		child_fail("the root did not change");
	if (stat("/etc/passwd", &st) != -1 ||
	    (errno != ENOENT && errno != EACCES))
		child_fail("/etc/passwd is still in reach");
	if ((dir = opendir("/")) != NULL) {
		while ((de = readdir(dir)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				child_fail("the new root holds %s", de->d_name);
		closedir(dir);
	}
	if ((dir = opendir(".")) != NULL) {
		while ((de = readdir(dir)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				child_fail("the cwd holds %s", de->d_name);
		closedir(dir);
	}
}

/* A UDP socket on 127.0.0.1; its "127.0.0.1:port" goes in spec. */
static int
receiver(char *spec, size_t len)
{
	struct sockaddr_in sin;
	socklen_t slen;
	int fd;

	ATF_REQUIRE((fd = socket(AF_INET, SOCK_DGRAM, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	slen = sizeof(sin);
	ATF_REQUIRE(getsockname(fd, (struct sockaddr *)&sin, &slen) == 0);
	snprintf(spec, len, "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
	return (fd);
}

/* The datagram the child sent has arrived, whole. */
static void
receive(int fd, const char *want)
{
	struct pollfd pfd;
	char buf[256];
	ssize_t n;

	pfd.fd = fd;
	pfd.events = POLLIN;
	ATF_REQUIRE_EQ_MSG(poll(&pfd, 1, 5000), 1, "no datagram arrived");
	ATF_REQUIRE((n = recv(fd, buf, sizeof(buf) - 1, 0)) != -1);
	buf[n] = '\0';
	ATF_CHECK_STREQ(buf, want);
}

static void
lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL)
		atf_tc_skip("no user %s here", user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
}

/*
 * As root: the user changes for good, the root is empty, new files and
 * sockets are out of reach, and the descriptors opened before still
 * work: the savefile reads, the collector socket sends, stderr writes.
 */
ATF_TC(root_drops_everything);
ATF_TC_HEAD(root_drops_everything, tc)
{
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(root_drops_everything, tc)
{
	struct sandbox_conf sb;
	struct collectors cs;
	struct stat oldroot;
	char spec[64], errbuf[256], buf[64];
	uid_t uid;
	gid_t gid;
	pid_t pid;
	ssize_t n;
	int rfd, fd;

	lookup("nobody", &uid, &gid);
	ATF_REQUIRE(stat("/", &oldroot) == 0);
	atf_utils_create_file("savefile", "%s", FILEDATA);
	rfd = receiver(spec, sizeof(spec));

	if ((pid = atf_utils_fork()) == 0) {
		memset(&cs, 0, sizeof(cs));
		if ((fd = open("savefile", O_RDONLY)) == -1)
			child_fail("open savefile");
		if (collector_add(&cs, spec, errbuf, sizeof(errbuf)) == -1)
			child_fail("collector_add: %s", errbuf);
		sb.sb_user = "nobody";
		sb.sb_readfd = fd;
		sb.sb_cs = &cs;
		if (sandbox_enter(&sb, errbuf, sizeof(errbuf)) == -1)
			child_fail("sandbox_enter: %s", errbuf);

		if (getuid() != uid || geteuid() != uid)
			child_fail("uid %d, euid %d: not nobody's",
			    (int)getuid(), (int)geteuid());
		if (getgid() != gid || getegid() != gid)
			child_fail("gid %d, egid %d: not nobody's",
			    (int)getgid(), (int)getegid());
		if (setuid(0) != -1)
			child_fail("setuid(0) succeeded");
		check_empty_root(&oldroot);
		check_denied();
		n = read(fd, buf, sizeof(buf) - 1);
		if (n != (ssize_t)strlen(FILEDATA))
			child_fail("read from the savefile: %zd bytes", n);
		buf[n] = '\0';
		if (strcmp(buf, FILEDATA) != 0)
			child_fail("read from the savefile: \"%s\"", buf);
		if (send(collector_fd(&cs, 0), PAYLOAD, strlen(PAYLOAD), 0) !=
		    (ssize_t)strlen(PAYLOAD))
			child_fail("send to the collector");
		if (write(STDERR_FILENO, DONE, strlen(DONE)) !=
		    (ssize_t)strlen(DONE))
			_exit(3);
		_exit(0);
	}
	atf_utils_wait(pid, 0, "", DONE);
	receive(rfd, PAYLOAD);
	close(rfd);
}

/*
 * Not root: nothing to drop and no chroot, so the user named is not
 * even looked up (it does not exist), yet the calls are confined.
 */
ATF_TC_WITHOUT_HEAD(unprivileged_confines_calls);
ATF_TC_BODY(unprivileged_confines_calls, tc)
{
	struct sandbox_conf sb;
	struct collectors cs;
	struct stat st;
	char errbuf[256];
	uid_t uid;
	gid_t gid;
	pid_t pid;

	uid = getuid();
	gid = getgid();
	if (uid == 0)
		lookup("nobody", &uid, &gid);
	if ((pid = atf_utils_fork()) == 0) {
		if (geteuid() == 0 && (setgroups(1, &gid) == -1 ||
		    setgid(gid) == -1 || setuid(uid) == -1))
			child_fail("becoming uid %d", (int)uid);
		memset(&cs, 0, sizeof(cs));
		sb.sb_user = NOUSER;
		sb.sb_readfd = -1;
		sb.sb_cs = &cs;
		if (sandbox_enter(&sb, errbuf, sizeof(errbuf)) == -1)
			child_fail("sandbox_enter: %s", errbuf);
		if (getuid() != uid || geteuid() != uid || getgid() != gid)
			child_fail("the ids changed");
		if (stat("/etc/passwd", &st) == -1)
			child_fail("stat /etc/passwd: the root changed");
		check_denied();
		if (write(STDERR_FILENO, DONE, strlen(DONE)) !=
		    (ssize_t)strlen(DONE))
			_exit(3);
		_exit(0);
	}
	atf_utils_wait(pid, 0, "", DONE);
}

/* Only the calls the loop makes, and these with their arguments. */
ATF_TC_WITHOUT_HEAD(filter_arguments);
ATF_TC_BODY(filter_arguments, tc)
{
	struct sandbox_conf sb;
	struct collectors cs;
	char errbuf[256];
	void *p;
	pid_t pid;
	int fds[2];

#if !defined(DENIED) || __has_include(<sys/capsicum.h>)
	atf_tc_skip("no seccomp filter on this system");
#endif
	ATF_REQUIRE(pipe(fds) == 0);
	if ((pid = atf_utils_fork()) == 0) {
		memset(&cs, 0, sizeof(cs));
		sb.sb_user = "nobody";
		sb.sb_readfd = fds[0];
		sb.sb_cs = &cs;
		if (sandbox_enter(&sb, errbuf, sizeof(errbuf)) == -1)
			child_fail("sandbox_enter: %s", errbuf);
		/* malloc(3) still gets memory, but none of it runs. */
		if ((p = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
			child_fail("mmap of data");
		if (munmap(p, 65536) == -1)
			child_fail("munmap");
		if ((p = malloc(1 << 20)) == NULL)
			child_fail("malloc of 1 MB");
		free(p);
		errno = 0;
		if (mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0) != MAP_FAILED || errno != EPERM)
			child_fail("mmap with PROT_EXEC was not denied");
		/* isatty(3) gets its answer; other requests do not. */
		errno = 0;
		if (isatty(fds[0]) || errno != ENOTTY)
			child_fail("isatty on a pipe did not say ENOTTY");
		errno = 0;
		if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != -1 || errno != EPERM)
			child_fail("fcntl was not denied");
		/* No signal for anyone else, not even the null one. */
		errno = 0;
		if (kill(getppid(), 0) != -1 || errno != EPERM)
			child_fail("kill of the parent was not denied");
		if (write(fds[1], "x", 1) != 1 || read(fds[0], errbuf, 1) != 1)
			child_fail("a pipe made before");
		if (write(STDERR_FILENO, DONE, strlen(DONE)) !=
		    (ssize_t)strlen(DONE))
			_exit(3);
		_exit(0);
	}
	atf_utils_wait(pid, 0, "", DONE);
}

/* A user that does not exist: one message naming it, nothing changed. */
ATF_TC(missing_user);
ATF_TC_HEAD(missing_user, tc)
{
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(missing_user, tc)
{
	struct sandbox_conf sb;
	struct collectors cs;
	struct stat st;
	char errbuf[256];
	pid_t pid;
	int fd;

	if ((pid = atf_utils_fork()) == 0) {
		memset(&cs, 0, sizeof(cs));
		sb.sb_user = NOUSER;
		sb.sb_readfd = -1;
		sb.sb_cs = &cs;
		errbuf[0] = '\0';
		if (sandbox_enter(&sb, errbuf, sizeof(errbuf)) != -1)
			child_fail("sandbox_enter succeeded");
		if (errno != ENOENT)
			child_fail("errno is not ENOENT");
		if (geteuid() != 0 || stat("/etc/passwd", &st) == -1)
			child_fail("something changed before the failure");
		if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
			child_fail("confined after the failure");
		close(fd);
		fprintf(stderr, "%s\n", errbuf);
		_exit(0);
	}
	atf_utils_wait(pid, 0, "", "user \"" NOUSER "\" does not exist\n");
}

/* A user with uid 0 would drop nothing: refused. */
ATF_TC(root_user_refused);
ATF_TC_HEAD(root_user_refused, tc)
{
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(root_user_refused, tc)
{
	struct sandbox_conf sb;
	struct collectors cs;
	char errbuf[256];
	pid_t pid;

	if ((pid = atf_utils_fork()) == 0) {
		memset(&cs, 0, sizeof(cs));
		sb.sb_user = "root";
		sb.sb_readfd = -1;
		sb.sb_cs = &cs;
		if (sandbox_enter(&sb, errbuf, sizeof(errbuf)) != -1)
			child_fail("sandbox_enter succeeded");
		if (errno != EPERM)
			child_fail("errno is not EPERM");
		fprintf(stderr, "%s\n", errbuf);
		_exit(0);
	}
	atf_utils_wait(pid, 0, "", "user \"root\" has uid 0: running as it "
	    "would drop nothing\n");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, root_drops_everything);
	ATF_TP_ADD_TC(tp, unprivileged_confines_calls);
	ATF_TP_ADD_TC(tp, filter_arguments);
	ATF_TP_ADD_TC(tp, missing_user);
	ATF_TP_ADD_TC(tp, root_user_refused);

	return (atf_no_error());
}
