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
 * For measurement only: an LD_PRELOAD shim that turns prctl(2) and
 * chroot(2) into no-ops, so that flowprobe under valgrind installs no
 * seccomp filter and, started as root, stays where valgrind can still
 * write its output when the program exits.  Nothing else changes: the
 * instructions counted are the packet loop's.  Never install it.
 */

int	 prctl(int, ...);
int	 chroot(const char *);

int
prctl(int option, ...)
{
	(void)option;
	return (0);
}

int
chroot(const char *path)
{
	(void)path;
	return (0);
}
