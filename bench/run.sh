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
# flowprobe against softflowd on the same files, same machine, same run:
# generated mixes read from the page cache, NetFlow v9 exported to an
# nfcapd on loopback.  For each mix and program: wall seconds, packets
# a second, the ratio, peak RSS, and whether the packets and bytes the
# collector stored equal what the file holds.  Then instructions per
# packet under callgrind on a small mix.  Public tools only: nfcapd and
# nfdump, softflowd, valgrind, GNU time; each part is skipped, saying
# so, when its tool is missing.  Run as root (flowprobe's sandbox needs
# it for the timed runs; callgrind runs as nobody).
#
# usage: bench/run.sh [runs]

runs=${1:-3}
port=$((20000 + $$ % 40000))
dir=${TMPDIR:-/tmp}/flowprobe-bench.$$
cd "$(dirname "$0")/.." || exit 1
make -s flowprobe bench/gen || exit 1
mkdir -p "$dir" || exit 1
trap 'pkill -f "nfcapd -w $dir" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM

have() { command -v "$1" >/dev/null 2>&1; }

# mix NAME PACKETS FLOWS: the capture, and its true totals.
mix()
{
	bench/gen -p "$2" -f "$3" >"$dir/$1.pcap"
	cat "$dir/$1.pcap" >/dev/null	# into the page cache
}

# collect NAME: nfcapd in the background, its directory $dir/c.NAME.
collect_start()
{
	rm -rf "$dir/c"
	mkdir -p "$dir/c"
	nfcapd -w "$dir/c" -p "$port" -b 127.0.0.1 -B 268435456 -t 3600 \
	    >/dev/null 2>"$dir/nfcapd.err" &
	ncpid=$!
	for i in $(seq 50); do
		grep -q '^Startup' "$dir/nfcapd.err" 2>/dev/null && return
		sleep 0.1
	done
	echo "bench: nfcapd would not start: $(cat "$dir/nfcapd.err")" >&2
	exit 1
}

# Stops nfcapd; prints the packets and bytes it counted on receipt.
collect_stop()
{
	sleep 2
	kill -TERM "$ncpid"
	wait "$ncpid" 2>/dev/null
	sed -n 's/.*Packets: \([0-9]*\), Bytes: \([0-9]*\),.*/\1 \2/p' \
	    "$dir/nfcapd.err" | tail -1
}

# The packets and IP bytes a mix holds, by flowprobe's own decoder run
# without export (the generator's frames are all plain IPv4).
truth()
{
	./flowprobe -q -r "$dir/$1.pcap" -u nobody |
	    awk '{ p += $8; b += $9 } END { printf("%.0f %.0f\n", p, b) }'
}

# timed NAME PROGRAM...: best wall time of $runs, peak RSS, totals.
timed()
{
	local name best rss i t r
	name=$1
	shift
	best=
	for i in $(seq "$runs"); do
		collect_start
		/usr/bin/time -f '%e %M' -o "$dir/time" "$@" \
		    >/dev/null 2>&1
		got=$(collect_stop)
		read t r <"$dir/time"
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" \
		    'BEGIN { exit !(a < b) }'; then
			best=$t
			rss=$r
		fi
	done
	echo "$best $rss $got"
}

report()
{
	local mix packets prog res t rss gp gb
	mix=$1 packets=$2 prog=$3 res=$4 want=$5
	set -- $res
	t=$1 rss=$2 gp=$3 gb=$4
	printf '%-10s %-10s %7.3f s %9.0f pkt/s %8d KiB  %s\n' "$mix" \
	    "$prog" "$t" "$(awk -v p="$packets" -v t="$t" \
	    'BEGIN { print p / t }')" "$rss" \
	    "$([ "$gp $gb" = "$want" ] && echo "all records at the collector" ||
	    echo "collector has $gp pkts $gb bytes of $want")"
}

have nfcapd && have nfdump || { echo "bench: needs nfdump (nfcapd)"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: needs GNU time"; exit 1; }

echo "mix        program          wall      packets/s     peak RSS"
for m in "1m 1000000 100000" "10m 10000000 1000000"; do
	set -- $m
	name=$1 packets=$2 flows=$3
	mix "$name" "$packets" "$flows"
	want=$(truth "$name")
	fp=$(timed "$name" ./flowprobe -q -r "$dir/$name.pcap" \
	    -n "127.0.0.1:$port" -V 9 -m 1048576)
	report "$name" "$packets" flowprobe "$fp" "$want"
	if have softflowd; then
		sf=$(timed "$name" softflowd -d -r "$dir/$name.pcap" \
		    -n "127.0.0.1:$port" -v 9 -m 1048576)
		report "$name" "$packets" softflowd "$sf" "$want"
		awk -v a="${fp%% *}" -v b="${sf%% *}" \
		    'BEGIN { printf("%-10s flowprobe is %.1fx softflowd\n", "", b / a) }' \
		    </dev/null
	else
		echo "$name: softflowd not installed, no comparison"
	fi
done

if have valgrind && have cc; then
	mix small 200000 20000
	# nobody writes the callgrind output there.
	chmod 1777 "$dir"
	chmod 644 "$dir/small.pcap"
	cc -shared -fPIC -o "$dir/nosandbox.so" bench/nosandbox.c || exit 1
	for prog in flowprobe softflowd; do
		have "$prog" || [ -x "./$prog" ] || continue
		case $prog in
		flowprobe) cmd="$PWD/flowprobe -q -r $dir/small.pcap -V 9 -n 127.0.0.1:$port" ;;
		softflowd) cmd="softflowd -d -r $dir/small.pcap -v 9 -n 127.0.0.1:$port" ;;
		esac
		su nobody -s /bin/sh -c "LD_PRELOAD=$dir/nosandbox.so \
		    valgrind --tool=callgrind --callgrind-out-file=$dir/cg.$prog \
		    $cmd" >"$dir/vg.$prog" 2>&1
		ir=$(sed -n 's/.*refs: *//p' "$dir/vg.$prog" | tr -d ,)
		awk -v ir="$ir" -v p="$prog" 'BEGIN {
		    printf("%-10s %.0f instructions/packet (callgrind, 200k packets, 20k flows, all-in)\n",
		    p, ir / 200000) }'
	done
else
	echo "bench: valgrind not installed, no instruction count"
fi
