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
 * For the fuzz targets whose code under test reads a file by name (the
 * savefile reader, the filter loader): one temporary file per process,
 * rewritten with each input and removed at exit.
 */

#ifndef FUZZFILE_H
#define FUZZFILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char	 fuzzfile_path[64];
static int	 fuzzfile_fd = -1;

static void
fuzzfile_cleanup(void)
{
	if (fuzzfile_fd != -1)
		(void)unlink(fuzzfile_path);
}

/* Under TMPDIR when set: a tmpfs there makes the targets much faster. */
static void
fuzzfile_open(const char *name)
{
	const char *tmp;

	if ((tmp = getenv("TMPDIR")) == NULL || strlen(tmp) > 32)
		tmp = "/tmp";
	snprintf(fuzzfile_path, sizeof(fuzzfile_path), "%s/%s.XXXXXX", tmp,
	    name);
	if ((fuzzfile_fd = mkstemp(fuzzfile_path)) == -1) {
		perror(fuzzfile_path);
		abort();
	}
	atexit(fuzzfile_cleanup);
}

/* The file on disk is the input, nothing more. */
static void
fuzzfile_store(const uint8_t *data, size_t size)
{
	size_t off;
	ssize_t n;

	if (ftruncate(fuzzfile_fd, 0) == -1)
		abort();
	for (off = 0; off < size; off += (size_t)n)
		if ((n = pwrite(fuzzfile_fd, data + off, size - off,
		    (off_t)off)) <= 0)
			abort();
}

#endif /* !FUZZFILE_H */
