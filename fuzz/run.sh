#!/bin/sh
#
# Copyright (c) 2026 The flowprobe authors.
#
# Permission to use, copy, modify, and distribute this software for any
# purpose with or without fee is hereby granted, provided that the above
# copyright notice and this permission notice appear in all copies.
#
# THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
# WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
# MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
# ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
# WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
# ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
# OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
#
# Builds fuzz/fuzz_NAME, seeds fuzz/corpus/NAME (not committed) from the
# shared captures when present, from captures tests/mkpcap writes and
# from fuzz/seeds/NAME, then fuzzes for SECONDS.  Any further arguments
# go to libFuzzer (e.g. -runs=10000000).  Exits non-zero on any finding;
# the input is left in fuzz/corpus/crash-NAME-*.
#
# usage: fuzz/run.sh decode|filter|options|pcapfile|zbuf SECONDS [flag ...]

usage()
{
	echo "usage: fuzz/run.sh decode|filter|options|pcapfile|zbuf" \
	    "SECONDS [libFuzzer flag ...]" >&2
	exit 64
}

[ $# -ge 2 ] || usage
name=$1
secs=$2
shift 2
case $name in
decode|filter|options|pcapfile|zbuf) ;;
*) usage ;;
esac
case $secs in
''|*[!0-9]*) usage ;;
esac

cd "$(dirname "$0")/.." || exit 1
: "${MAKE:=make}"
: "${CC:=cc}"
pcaps=${FLOWPROBE_PCAPS:-../shared/pcaps}
corpus=fuzz/corpus/$name
work=fuzz/corpus/.work
mkdir -p "$corpus" "$work" || exit 1

$MAKE fuzz/fuzz_"$name" || exit 1

# Savefiles: the shared ones, then a few of our own with every link type
# mkpcap knows, both byte orders, nanoseconds and a short snap length.
$MAKE tests/mkpcap || exit 1
cat >"$work/spec" <<'SPEC'
tcp 10.0.0.1 10.0.0.2 1234 80 4 400 1700000000000 150 flags=24
udp 2001:db8::1 2001:db8::2 5353 53 2 120 1700000002000 250
icmp 10.0.0.3 10.0.0.4 8 0 2 84 1700000004000 1000
icmp6 2001:db8::3 2001:db8::4 128 0 1 84 1700000004000 1000
udp 10.0.1.1 10.0.1.2 1111 2222 2 200 1700000008000 500 vlan=42
udp 10.0.1.1 10.0.1.2 1111 2222 1 200 1700000008000 500 vlan=42 qinq=7
tcp 10.0.2.1 10.0.2.2 1 2 1 100 1700000009000 500 mpls=3
udp 10.0.3.1 10.0.3.2 3 4 1 100 1700000009000 500 pppoe=1
SPEC
for lt in en10mb null loop raw ipv4 ipv6 sll sll2; do
	case $lt in
	ipv4) grep -v : "$work/spec" | grep -v '=' ;;
	ipv6) grep : "$work/spec" ;;
	en10mb) cat "$work/spec" ;;
	*) grep -v '=' "$work/spec" ;;
	esac >"$work/spec.$lt"
	tests/mkpcap -l "$lt" -o "$work/mk-$lt.pcap" <"$work/spec.$lt" ||
	    exit 1
done
tests/mkpcap -b -n -s 64 -o "$work/mk-bn.pcap" <"$work/spec" || exit 1
# "$@" keeps the libFuzzer flags: the list relies on names without blanks.
list=
for f in "$pcaps"/malformed/*.pcap "$pcaps"/traffic/*.pcap "$work"/mk-*.pcap
do
	[ -f "$f" ] && list="$list $f"
done

case $name in
pcapfile)
	# The first 64 KiB are enough to reach every path of the reader.
	for f in $list; do
		dd if="$f" of="$corpus/seed-$(basename "$f")" bs=65536 \
		    count=1 2>/dev/null
	done
	;;
decode|zbuf)
	$CC -std=c11 -D_DEFAULT_SOURCE -I. -o "$work/mkseeds" \
	    fuzz/mkseeds.c pcapfile.c || exit 1
	"$work/mkseeds" "$name" "$corpus" $list || exit 1
	;;
filter)
	cp fuzz/seeds/filter/* "$corpus"/ || exit 1
	;;
options)
	printf -- '-r\0in.pcap' >"$corpus/seed-r"
	printf -- '-r\0-\0-n\0127.0.0.1:9995\0-V\0005\0-q' >"$corpus/seed-rv5"
	printf -- '-i\0003:em0\0-t\0inactive=15,active=60,tcpend=0,flush=1\0-T\00060:20\0-m\0001000\0-s\000128\0-u\0_flowprobe\0-D\0-n\0[::1]:2055\0-w\00060\0-c\000100\0-E\0007\0-F\0f.bpf\0-p' \
	    >"$corpus/seed-all"
	printf -- '-r\0a\0-i\0em0' >"$corpus/seed-both"
	printf -- '-x' >"$corpus/seed-unknown"
	printf -- '-r\0a\0-t\0idle=3' >"$corpus/seed-timeout"
	;;
esac

# A file per process under TMPDIR: tmpfs makes that ten times faster.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
	export TMPDIR
fi
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# pcapfile_open() allocates 4.5 MB: clearing its shadow with memset
# rather than a fresh mapping saves page faults, and detects the same.
ASAN_OPTIONS=${ASAN_OPTIONS:-clear_shadow_mmap_threshold=1073741824}
export ASAN_OPTIONS UBSAN_OPTIONS

fuzz/fuzz_"$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="fuzz/corpus/crash-$name-" \
    "$@" "$corpus"
status=$?
# libFuzzer exits non-zero on a crash, a leak, a timeout or running out
# of memory, and has then written the input.
if [ "$status" -ne 0 ]; then
	echo "fuzz/run.sh: $name: libFuzzer exit $status; inputs:" \
	    fuzz/corpus/crash-"$name"-* >&2
	exit 1
fi
exit 0
