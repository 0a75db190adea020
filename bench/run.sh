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
# nfcapd on loopback.  For each mix and program: best wall time of the
# runs, packets a second, the ratio, peak RSS, and whether the flows the
# collector stored, summed per 5-tuple (a flow may be split into several
# records by timeouts), equal the generator's ground truth, checked after
# every run.  Then instructions per packet under callgrind on a small
# mix.  Public tools only: nfcapd and nfdump, softflowd, valgrind, GNU
# time; each optional part is skipped, saying so, when its tool is
# missing.  Run as root (flowprobe's sandbox needs it for the timed runs;
# callgrind runs as nobody).
#
# usage: bench/run.sh [runs]

set -u
runs=${1:-3}
port=$((20000 + $$ % 40000))
dir=${TMPDIR:-/tmp}/flowprobe-bench.$$
ncpid=
cd "$(dirname "$0")/.." || exit 1
. tests/nfcapd.subr
make -s flowprobe bench/gen || exit 1
mkdir "$dir" || exit 1
trap '[ -n "$ncpid" ] && kill "$ncpid" 2>/dev/null; rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM HUP

have() { command -v "$1" >/dev/null 2>&1; }

# Reads "key packets bytes" lines; writes them sorted by key, one line a
# key, summed.  Merging neighbours after sort(1) keeps memory flat where
# an awk array of a million keys would not.
sum5()
{
	LC_ALL=C sort -k 1,1 | awk '
	$1 != k {
		if (NR > 1)
			printf("%s %.0f %.0f\n", k, p, b)
		k = $1; p = 0; b = 0
	}
	{ p += $2; b += $3 }
	END { if (NR > 0) printf("%s %.0f %.0f\n", k, p, b) }'
}

# mix NAME PACKETS FLOWS: the capture, in the page cache, and its truth
# summed per 5-tuple, "proto|src|sport|dst|dport packets bytes".
mix()
{
	bench/gen -p "$2" -f "$3" -t "$dir/$1.truth" >"$dir/$1.pcap" ||
	    exit 1
	cat "$dir/$1.pcap" >/dev/null
	awk '!/^#/ { print $1 "|" $2 "|" $3 "|" $4 "|" $5, $6, $7 }' \
	    "$dir/$1.truth" | sum5 >"$dir/$1.want"
}

# Starts nfcapd on a fresh directory, $dir/c.  Its socket buffer is as
# large as the system allows (-B asks for 256 MB; Linux clamps that to
# rmem_max, 4 MB here, and doubles it: 8 MB, some 3,600 datagrams),
# which is what RATE below is chosen for.
collect_start()
{
	rm -rf "$dir/c"
	mkdir "$dir/c"
	nfcapd -w "$dir/c" -p "$port" -b 127.0.0.1 -B 268435456 -t 3600 \
	    >/dev/null 2>"$dir/nfcapd.err" &
	ncpid=$!
	# Not i: the caller's run counter (POSIX sh has no local).
	tries=0
	while [ $tries -lt 50 ]; do
		grep -q '^Startup' "$dir/nfcapd.err" 2>/dev/null && return
		sleep 0.1
		tries=$((tries + 1))
	done
	echo "bench: nfcapd would not start: $(cat "$dir/nfcapd.err")" >&2
	exit 1
}

# Stops nfcapd once the last datagrams have had time to land; it writes
# its file on the way out.
collect_stop()
{
	sleep 1
	kill -TERM "$ncpid"
	wait "$ncpid" 2>/dev/null
	ncpid=
}

# check NAME: compares what nfcapd stored with the truth of mix NAME;
# prints "ok FLOWS" or "bad" and what differs.
check()
{
	nfdump -R "$dir/c" -q -N -6 \
	    -o 'fmt:%pr %sa %sp %da %dp %pkt %byt' 2>"$dir/nfdump.err" |
	    awk 'NF == 7 { print $1 "|" $2 "|" $3 "|" $4 "|" $5, $6, $7 }' |
	    sum5 >"$dir/got"
	LC_ALL=C join -a 1 -a 2 -e - -o 0,1.2,1.3,2.2,2.3 "$dir/$1.want" \
	    "$dir/got" | awk -v seq="$(nfcapd_total "$dir/nfcapd.err" |
	    sed -n 's/.*Sequence Errors: \([0-9]*\),.*/\1/p')" '
	{
		if ($2 != "-") { wp += $2; wb += $3; want++ }
		if ($4 != "-") { gp += $4; gb += $5 }
		if ($4 == "-") missing++
		else if ($2 == "-") extra++
		else if ($2 != $4) differ++
		else if ($3 != $5) bytes++
	}
	END {
		if (missing + extra + differ + bytes == 0)
			printf("ok %d\n", want)
		else
			printf("bad %d missing, %d differ in packets, %d in" \
			    " bytes only, %d extra, of %d flows; %.0f of %.0f" \
			    " pkts, %.0f of %.0f bytes; %s sequence errors\n",
			    missing, differ, bytes, extra, want, gp, wp, gb, wb,
			    seq)
	}'
}

# timed NAME PROGRAM...: "wall cpu peak-KiB" of the run with the best
# wall time on the first line, then one check result per run.  CPU
# seconds are there because wall time on a shared machine is noisy and
# includes the paced export at the end.
timed()
{
	tname=$1
	shift
	best=
	cpu=
	rss=
	i=0
	: >"$dir/checks"
	while [ $i -lt "$runs" ]; do
		collect_start
		/usr/bin/time -f '%e %U %S %M' -o "$dir/time" "$@" \
		    >"$dir/out" 2>&1
		collect_stop
		check "$tname" >>"$dir/checks"
		read -r t u k r <<-EOF
		$(tail -n 1 "$dir/time")
		EOF
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" \
		    'BEGIN { exit !(a < b) }'; then
			best=$t
			cpu=$(awk -v u="$u" -v k="$k" 'BEGIN { print u + k }')
			rss=$r
		fi
		i=$((i + 1))
	done
	echo "$best $cpu $rss"
	cat "$dir/checks"
}

# report MIX PACKETS PROGRAM: turns timed's output on standard input into
# a line of the table.  timed writes to a file, not to a pipe, so that it
# runs in this shell and the trap sees nfcapd's pid.
report()
{
	read -r t cpu rss
	n=0 ok=0 verdict=
	while read -r line; do
		n=$((n + 1))
		case $line in
		ok\ *)	ok=$((ok + 1)); verdict=${line#ok } ;;
		*)	echo "$1 $3 run $n: ${line#bad }" >>"$dir/failures" ;;
		esac
	done
	if [ "$ok" -eq "$n" ]; then
		verdict="all $verdict flows at the collector equal the truth"
	else
		verdict="$((n - ok)) of $n runs differ from the truth (below)"
	fi
	printf '%-4s %-10s %6.2f s %6.2f s %6.2f Mpkt/s %8d KiB  %s\n' \
	    "$1" "$3" "$t" "$cpu" \
	    "$(awk -v p="$2" -v t="$t" 'BEGIN { print p / t / 1e6 }')" \
	    "$rss" "$verdict"
	echo "$t" >"$dir/last"
}

# flowprobe's send rate and burst, in datagrams: its default suits
# nfcapd's default buffer; this nfcapd has an 8 MB one, which holds some
# 3,600 of them (the kernel charges 2,304 bytes each), and takes some
# 65,000 a second on a free core here.
RATE=40000:2000

have nfcapd && have nfdump || { echo "bench: needs nfdump (nfcapd)"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: needs GNU time"; exit 1; }
: >"$dir/failures"

echo "mix  program        wall      cpu    packets/s     peak RSS  collector"
for m in "1m 1000000 100000" "10m 10000000 1000000"; do
	set -- $m
	name=$1 packets=$2 flows=$3
	mix "$name" "$packets" "$flows"
	timed "$name" ./flowprobe -q -r "$dir/$name.pcap" \
	    -n "127.0.0.1:$port" -V 9 -m 1048576 -R "$RATE" >"$dir/res"
	report "$name" "$packets" flowprobe <"$dir/res"
	fpt=$(cat "$dir/last")
	if have softflowd; then
		timed "$name" softflowd -d -r "$dir/$name.pcap" \
		    -n "127.0.0.1:$port" -v 9 -m 1048576 >"$dir/res"
		report "$name" "$packets" softflowd <"$dir/res"
		awk -v a="$fpt" -v b="$(cat "$dir/last")" 'BEGIN {
		    printf("%-16s flowprobe is %.1fx softflowd\n", "", b / a) }'
	else
		echo "$name: softflowd not installed, no comparison"
	fi
	echo "$name: $(awk '!/^#/ { n++; p += $6; b += $7 } END {
	    printf("%d flows, %.0f packets, %.0f bytes", n, p, b) }' \
	    "$dir/$name.truth") in the truth"
done
[ -s "$dir/failures" ] && sed 's/^/  /' "$dir/failures"

# Memory per flow: about a million flows held at once (uniform draws over
# 2^20 slots, no connection ending), the table sized for 2^20 by -m;
# nothing listens on the discard port: sends fail (and carry templates
# each time), which changes nothing in the memory held.
bench/gen -p 8000000 -f 1048576 -z 1 -e 1000000000 |
    /usr/bin/time -f '%M' -o "$dir/rss" ./flowprobe -r - -R 0 \
    -n 127.0.0.1:9 -m 1048576 2>&1 >/dev/null |
    sed -n 's/.* at most \([0-9]*\) at once.*/\1/p' >"$dir/held"
awk -v kib="$(tail -1 "$dir/rss")" -v n="$(cat "$dir/held")" 'BEGIN {
    printf("flowprobe  peak RSS %d KiB holding %d flows: %.1f bytes a flow\n",
    kib, n, kib * 1024 / n) }'

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
