# flowprobe: a NetFlow v5/v9/IPFIX probe.
#
# POSIX make only, so that GNU make and BSD make both build it: suffix
# rules, no pattern rules, no conditionals.  Everything but main() goes
# into libflowprobe.a so that the tests link the very objects the
# program runs.

PREFIX =	/usr/local
BINDIR =	$(PREFIX)/sbin
MANDIR =	$(PREFIX)/share/man
DESTDIR =

CC =		cc
AR =		ar
CFLAGS =	-O2 -g
WARNFLAGS =	-Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
		-Wshadow -Wpointer-arith -Wcast-qual -Wsign-compare
ALL_CFLAGS =	-std=c11 -D_DEFAULT_SOURCE $(WARNFLAGS) $(CFLAGS) -I.
LDFLAGS =
LDLIBS =

LIBOBJS =	capture_bpf.o capture_tpacket.o decode.o export.o filter.o \
		flowcache.o log.o options.o pcapfile.o sandbox.o zbuf.o
LIB =		libflowprobe.a
HDRS =		capture.h flowprobe.h

TEST_C =	tests/decode_test tests/export_test tests/filter_test \
		tests/flowcache_test tests/pcapfile_test tests/sandbox_test \
		tests/tpacket_test tests/zbuf_test
TEST_SH =	tests/cli_test tests/e2e_test tests/faults_test tests/flush_test \
		tests/live_test tests/pcaps_test
TEST_HELPERS =	tests/mkpcap

all: flowprobe

flowprobe: flowprobe.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ flowprobe.o $(LIB) $(LDLIBS)

$(LIB): $(LIBOBJS)
	rm -f $@
	$(AR) -rcs $@ $(LIBOBJS)

flowprobe.o $(LIBOBJS): $(HDRS)

.SUFFIXES: .c .o .sh

.c.o:
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# ATF test programs.  pkg-config is asked at build time, in the shell,
# because POSIX make has no way to run a command while reading this file.
ATF_CFLAGS =	`pkg-config --cflags atf-c 2>/dev/null`
ATF_LIBS =	`pkg-config --libs atf-c 2>/dev/null || echo -latf-c`

tests/decode_test: tests/decode_test.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(ATF_CFLAGS) $(LDFLAGS) -o $@ \
	    tests/decode_test.c $(LIB) $(ATF_LIBS)

tests/export_test: tests/export_test.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(ATF_CFLAGS) $(LDFLAGS) -o $@ \
	    tests/export_test.c $(LIB) $(ATF_LIBS)

tests/filter_test: tests/filter_test.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(ATF_CFLAGS) $(LDFLAGS) -o $@ \
	    tests/filter_test.c $(LIB) $(ATF_LIBS)

tests/flowcache_test: tests/flowcache_test.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(ATF_CFLAGS) $(LDFLAGS) -o $@ \
	    tests/flowcache_test.c $(LIB) $(ATF_LIBS)

tests/pcapfile_test: tests/pcapfile_test.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(ATF_CFLAGS) $(LDFLAGS) -o $@ \
	    tests/pcapfile_test.c $(LIB) $(ATF_LIBS)

tests/sandbox_test: tests/sandbox_test.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(ATF_CFLAGS) $(LDFLAGS) -o $@ \
	    tests/sandbox_test.c $(LIB) $(ATF_LIBS)

# The Linux backend's block walk: its file is included whole, to reach
# the static walk without a socket (empty, and the test a skip, on BSD).
tests/tpacket_test: tests/tpacket_test.c capture_tpacket.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(ATF_CFLAGS) $(LDFLAGS) -o $@ \
	    tests/tpacket_test.c $(LIB) $(ATF_LIBS)

# The zero-copy consumer against a user-space model of the FreeBSD
# kernel side; its stress case starts a thread for the "kernel".
tests/zbuf_test: tests/zbuf_test.c tests/zbuf_model.c tests/zbuf_model.h $(LIB)
	$(CC) $(ALL_CFLAGS) $(ATF_CFLAGS) $(LDFLAGS) -o $@ \
	    tests/zbuf_test.c tests/zbuf_model.c $(LIB) $(ATF_LIBS) -lpthread

# The benchmark's traffic generator.
bench/gen: bench/gen.c
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ bench/gen.c

tests/mkpcap: tests/mkpcap.c
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ tests/mkpcap.c

# libFuzzer targets, each linking only the code it fuzzes; clang only.
FUZZ_CC =	clang
FUZZ_CFLAGS =	-std=c11 -D_DEFAULT_SOURCE $(WARNFLAGS) -Werror -g -O1 \
		-fsanitize=fuzzer,address,undefined -I.
FUZZ_TARGETS =	fuzz/fuzz_decode fuzz/fuzz_filter fuzz/fuzz_options \
		fuzz/fuzz_pcapfile fuzz/fuzz_zbuf

fuzz: $(FUZZ_TARGETS)

fuzz/fuzz_decode: fuzz/fuzz_decode.c decode.c $(HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_decode.c decode.c

fuzz/fuzz_filter: fuzz/fuzz_filter.c fuzz/fuzzfile.h filter.c $(HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_filter.c filter.c

fuzz/fuzz_options: fuzz/fuzz_options.c options.c $(HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_options.c options.c

fuzz/fuzz_pcapfile: fuzz/fuzz_pcapfile.c fuzz/fuzzfile.h pcapfile.c $(HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_pcapfile.c pcapfile.c

fuzz/fuzz_zbuf: fuzz/fuzz_zbuf.c zbuf.c $(HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_zbuf.c zbuf.c

.sh:
	rm -f $@
	cp $< $@
	chmod +x $@

tests: flowprobe $(TEST_C) $(TEST_SH) $(TEST_HELPERS)

$(TEST_SH): tests/netns.subr tests/nfcapd.subr

check: tests
	sh tests/run

# flowprobe and softflowd side by side; see bench/run.sh.
bench: flowprobe bench/gen
	sh bench/run.sh

# Live capture on a veth, kernel drops side by side; see bench/live.sh.
bench-live: flowprobe bench/gen
	sh bench/live.sh

install: flowprobe
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 555 flowprobe $(DESTDIR)$(BINDIR)/flowprobe
	install -m 444 flowprobe.8 $(DESTDIR)$(MANDIR)/man8/flowprobe.8

lint:
	mandoc -Tlint -Wwarning flowprobe.8

clean:
	rm -f flowprobe flowprobe.o $(LIB) $(LIBOBJS) $(TEST_C) $(TEST_SH) \
	    $(TEST_HELPERS) $(FUZZ_TARGETS) bench/gen
	rm -rf tests/results.db tests/html fuzz/corpus/.work

.PHONY: all bench bench-live check clean fuzz install lint tests
