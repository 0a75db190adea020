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
# Live capture under load, flowprobe against softflowd on the same
# traffic.  Two network namespaces joined by a veth pair: tcpreplay
# sends a bench/gen mix from one as fast as it can, and the program
# under test captures on the other end, exporting NetFlow v9 to an
# nfcapd on 127.0.0.1 there.  flowprobe runs first, then softflowd on
# an identical replay, then both at once on one replay.  Each row:
# the packets tcpreplay sent and at what rate, what the program says
# its packet socket received and the kernel dropped, the packets it
# metered, the CPU seconds it used, and the packets and flows its
# collector stored, against the flows the file holds.  "softnet" is
# the kernel's backlog drops over the run, machine-wide: loss before
# any packet socket, which neither program can see.  Last, with valgrind
# and cc installed, flowprobe's instructions per packet live, counted
# by callgrind on one slow replay of the file.
#
# Linux only.  Needs root, ip, tcpreplay, nfcapd and GNU time, and
# skips, saying so, without them; softflowd is compared when installed.
# Nothing leaves the namespaces, and every process, namespace and file
# it made is gone when it ends, ^C included.
#
# usage: bench/live.sh [-B bytes] [-j senders] [-r rounds] [packets]
#
#	packets	 sent to each program (default 2000000), as loops of a
#		 file of at most FILEPKTS packets; rounded up to whole loops
#	-B	 softflowd's libpcap buffer (its -B); by default libpcap's
#		 2 MB, where flowprobe's ring is 64 MB
#	-j	 tcpreplay processes sending at once (default 1)
#	-r	 times to repeat the three runs (default 1)
#

set -u

FILEPKTS=200000		# the most the replayed file holds
MAXFLOWS=131072		# -m for both programs: room for every flow
BOUND=50		# tenths of a second any wait may last

usage()
{
	echo "usage: bench/live.sh [-B bytes] [-j senders] [-r rounds]" \
	    "[packets]" >&2
	exit 64
}

skip()
{
	echo "bench/live.sh: $*: skipped"
	exit 0
}

have()
{
	command -v "$1" >/dev/null 2>&1
}

# number VALUE MIN MAX: VALUE is a decimal number in range, or usage.
number()
{
	case $1 in
	''|*[!0-9]*)	usage ;;
	esac
	if [ "${#1}" -gt 12 ] || [ "$1" -lt "$2" ] || [ "$1" -gt "$3" ]; then
		usage
	fi
}

sfbuf=
senders=1
rounds=1
while getopts B:j:r: ch; do
	case $ch in
	B)	number "$OPTARG" 1 2147483647; sfbuf=$OPTARG ;;
	j)	number "$OPTARG" 1 8; senders=$OPTARG ;;
	r)	number "$OPTARG" 1 20; rounds=$OPTARG ;;
	*)	usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
packets=${1:-2000000}
number "$packets" 1 1000000000

[ "$(uname -s)" = Linux ] || skip "network namespaces are Linux's"
[ "$(id -u)" -eq 0 ] || skip "needs root"
for p in ip tcpreplay nfcapd ps; do
	have "$p" || skip "needs $p"
done
[ -x /usr/bin/time ] || skip "needs GNU time (/usr/bin/time)"
if have softflowd && have softflowctl; then
	peer=softflowd
else
	peer=
	echo "bench/live.sh: softflowd not installed, flowprobe alone"
fi

cd "$(dirname "$0")/.." || exit 1
. tests/nfcapd.subr
make -s flowprobe bench/gen || exit 1
fp=$PWD/flowprobe

# Names of our own, apart from the test suite's (fp*, ff*).
NS_TX=blivetx$$
NS_RX=bliverx$$
TX=bvtx$$
RX=bvrx$$
dir=${TMPDIR:-/tmp}/flowprobe-live.$$

# Every process started leaves its pid in $dir/*.pid until reaped, so
# that the cleanup ends exactly those.  A program under time(1) has a
# pidfile of its own: ending time would leave it running.
cleanup()
{
	local f pid

	for f in "$dir"/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -CONT "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	sleep 0.3
	for f in "$dir"/*.pid; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$NS_TX" 2>/dev/null
	ip netns del "$NS_RX" 2>/dev/null
	rm -rf "$dir"
}

mkdir "$dir" || exit 1
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The network, IPv6 off so that the link carries nothing but the replay.
net_up()
{
	local ns

	ip netns add "$NS_TX" 2>"$dir/err" && ip netns add "$NS_RX" \
	    2>"$dir/err" || skip "ip netns does not work: $(cat "$dir/err")"
	for ns in "$NS_TX" "$NS_RX"; do
		ip netns exec "$ns" sysctl -qw \
		    net.ipv6.conf.all.disable_ipv6=1 \
		    net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
		ip -n "$ns" link set lo up || exit 1
	done
	ip link add "$TX" netns "$NS_TX" type veth peer name "$RX" \
	    netns "$NS_RX" 2>"$dir/err" ||
	    skip "cannot create a veth pair: $(cat "$dir/err")"
	ip -n "$NS_TX" link set "$TX" up && ip -n "$NS_RX" link set "$RX" up ||
	    exit 1
}

# The replayed file: bench/gen writes header-only records (42-78 bytes
# of a longer frame) and tcpreplay sends only what a record holds, so
# tcprewrite pads each to its wire length, up to 1514 bytes.  Without
# tcprewrite the short frames go as they are: the same packets and
# flows, less copying.  Sets filepkts, loops and truth (the records
# flowprobe makes of the file).
make_file()
{
	local per

	per=$(((packets + senders - 1) / senders))
	if [ "$per" -le "$FILEPKTS" ]; then
		filepkts=$per
		loops=1
	else
		filepkts=$FILEPKTS
		loops=$(((per + FILEPKTS - 1) / FILEPKTS))
	fi
	bench/gen -p "$filepkts" -f $(((filepkts + 9) / 10)) \
	    >"$dir/gen.pcap" || exit 1
	truth=$("$fp" -q -r "$dir/gen.pcap" -u nobody | wc -l)
	if have tcprewrite && tcprewrite --fixlen=pad -i "$dir/gen.pcap" \
	    -o "$dir/live.pcap" >/dev/null 2>&1; then
		frames="padded to wire length"
		rm -f "$dir/gen.pcap"
	else
		frames="headers only, as bench/gen writes them (no tcprewrite)"
		mv "$dir/gen.pcap" "$dir/live.pcap"
	fi
}

# wait_file FILE PATTERN: returns once FILE has a line matching PATTERN.
wait_file()
{
	local i

	i=0
	while [ $i -lt $BOUND ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "bench/live.sh: no \"$2\" in $1: $(cat "$1")" >&2
	exit 1
}

# collector_start TAG PORT
collector_start()
{
	rm -rf "$dir/c.$1"
	mkdir "$dir/c.$1"
	ip netns exec "$NS_RX" nfcapd -w "$dir/c.$1" -p "$2" -b 127.0.0.1 \
	    -B 8388608 -t 3600 >/dev/null 2>"$dir/$1.nfcapd" &
	echo $! >"$dir/$1.nfcapd.pid"
	wait_file "$dir/$1.nfcapd" '^Startup'
}

# collector_stop TAG: nfcapd ends, its totals in $dir/TAG.nfcapd.
collector_stop()
{
	local pid

	pid=$(cat "$dir/$1.nfcapd.pid")
	kill -TERM "$pid"
	wait "$pid"
	rm -f "$dir/$1.nfcapd.pid"
}

# probe_start TAG PROGRAM PORT: PROGRAM capturing on $RX under time(1).
probe_start()
{
	local tag tpid i pid

	case $2 in
	flowprobe)
		set -- "$1" "$3" "$fp" -i "$RX" -n "127.0.0.1:$3" -V 9 \
		    -m "$MAXFLOWS" ;;
	softflowd)
		set -- "$1" "$3" softflowd -d -i "$RX" -n "127.0.0.1:$3" \
		    -v 9 -m "$MAXFLOWS" -c "$dir/$1.ctl" -p "$dir/$1.sfpid" \
		    ${sfbuf:+-B "$sfbuf"} ;;
	esac
	tag=$1
	shift 2
	/usr/bin/time -f '%U %S' -o "$dir/$tag.cpu" \
	    ip netns exec "$NS_RX" "$@" >/dev/null 2>"$dir/$tag.err" &
	tpid=$!
	echo "$tpid" >"$dir/$tag.time.pid"
	# ip execs the program: time's child is it.
	i=0
	while [ $i -lt $BOUND ]; do
		pid=$(ps -o pid= --ppid "$tpid" | tr -d ' ')
		[ -n "$pid" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	[ -n "$pid" ] || { echo "bench/live.sh: $tag did not start" >&2;
	    exit 1; }
	echo "$pid" >"$dir/$tag.pid"
}

# capturing N: returns once N packet sockets are bound in $NS_RX.
capturing()
{
	local i tag

	i=0
	while [ $i -lt $BOUND ]; do
		ip netns exec "$NS_RX" awk 'NR > 1 && $6 == 1 { n++ }
		    END { exit !(n >= '"$1"') }' /proc/net/packet && break
		sleep 0.1
		i=$((i + 1))
	done
	[ $i -lt $BOUND ] || { echo "bench/live.sh: not capturing:" \
	    "$(cat "$dir"/*.err)" >&2; exit 1; }
	# libpcap binds before it maps its ring; softflowd's control socket
	# comes after both.
	for tag in $2; do
		case $tag in
		*softflowd)
			while [ ! -S "$dir/$tag.ctl" ] && [ $i -lt $BOUND ]; do
				sleep 0.1
				i=$((i + 1))
			done ;;
		esac
	done
}

# probe_stop TAG: ends the program its own way, its summary flushed.
probe_stop()
{
	local tpid

	case $1 in
	*softflowd)
		softflowctl -c "$dir/$1.ctl" statistics >"$dir/$1.stats"
		softflowctl -c "$dir/$1.ctl" shutdown >/dev/null ;;
	*)
		kill -TERM "$(cat "$dir/$1.pid")" ;;
	esac
	tpid=$(cat "$dir/$1.time.pid")
	wait "$tpid"
	rm -f "$dir/$1.pid" "$dir/$1.time.pid"
}

softnet_drops()
{
	local n processed dropped rest

	n=0
	# Per CPU, in hex: processed, dropped, ...
	while read -r processed dropped rest; do
		n=$((n + 0x$dropped))
	done </proc/net/softnet_stat
	echo "$n"
}

# replay: every sender at top speed from memory; sets sent (packets)
# and rate (the senders' rates added: they run side by side).
replay()
{
	local i pid

	i=0
	while [ $i -lt "$senders" ]; do
		ip netns exec "$NS_TX" tcpreplay -q -i "$TX" -t -K \
		    --no-flow-stats --loop "$loops" "$dir/live.pcap" \
		    >"$dir/replay.$i" 2>&1 &
		echo $! >"$dir/replay.$i.pid"
		i=$((i + 1))
	done
	for pid in "$dir"/replay.*.pid; do
		wait "$(cat "$pid")"
		rm -f "$pid"
	done
	sent=$(awk '/^Actual:/ { n += $2 } END { print n + 0 }' \
	    "$dir"/replay.?)
	rate=$(awk '/^Rated:/ { r += $(NF - 1) } END { printf("%.0f", r) }' \
	    "$dir"/replay.?)
	if grep -q 'Failed packets: *[1-9]' "$dir"/replay.?; then
		echo "bench/live.sh: tcpreplay failed to send some:" >&2
		grep 'Failed packets' "$dir"/replay.? >&2
	fi
	rm -f "$dir"/replay.?
	# What is left in the rings, the programs read now.
	sleep 1
}

# row RUN TAG SOFTNET: one line of the table.
row()
{
	local recv drop seen cpu col

	case $2 in
	*softflowd)
		recv=$(sed -n 's/^Packets received by libpcap: //p' \
		    "$dir/$2.stats")
		drop=$(awk -F': ' '/^Packets dropped by/ { n += $2 }
		    END { print n + 0 }' "$dir/$2.stats")
		seen=$(sed -n 's/^Packets processed: //p' "$dir/$2.stats") ;;
	*)
		recv=$(sed -n 's/.*: \([0-9]*\) packets received, .*/\1/p' \
		    "$dir/$2.err")
		drop=$(sed -n 's/.* received, \([0-9]*\) dropped by the kernel/\1/p' \
		    "$dir/$2.err")
		seen=$(sed -n 's/^flowprobe: \([0-9]*\) packets read:.*/\1/p' \
		    "$dir/$2.err") ;;
	esac
	# softflowd exits 1 on shutdown, which time(1) notes first.
	cpu=$(tail -1 "$dir/$2.cpu" | awk '{ printf("%.2f", $1 + $2) }')
	col=$(nfcapd_total "$dir/$2.nfcapd" |
	    sed -n 's/^Flows: \([0-9]*\), Packets: \([0-9]*\),.*/\2 \1/p')
	printf '%-7s %-10s %9s %7s %9s %8s %9s %6s %9s %6s/%s %7s\n' \
	    "$r.$1" "${2#*.}" "$sent" "$((rate / 1000))" "${recv:-?}" \
	    "${drop:-?}" "${seen:-?}" "$cpu" "${col% *}" "${col#* }" \
	    "$truth" "$3" | tee -a "$dir/rows"
}

# count: flowprobe capturing one replay of the file under callgrind, at
# a rate valgrind keeps up with; its instructions, start-up and flush
# included, over the packets it metered.
count()
{
	local pid i metered ir

	cc -shared -fPIC -o "$dir/nosandbox.so" bench/nosandbox.c || return
	# Written at exit by flowprobe, which runs as nobody by then.
	chmod 711 "$dir"
	: >"$dir/cg.out"
	chmod 666 "$dir/cg.out"
	collector_start cg 9995
	ip netns exec "$NS_RX" env LD_PRELOAD="$dir/nosandbox.so" \
	    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
	    "$fp" -i "$RX" -n 127.0.0.1:9995 -V 9 -m "$MAXFLOWS" \
	    >/dev/null 2>"$dir/cg.err" &
	pid=$!
	# ip and env exec: the pid is valgrind running flowprobe, for cleanup.
	echo "$pid" >"$dir/cg.pid"
	# valgrind takes a while to start.
	i=0
	while [ $i -lt 300 ] && ! ip netns exec "$NS_RX" awk 'NR > 1 &&
	    $6 == 1 { n++ } END { exit !n }' /proc/net/packet; do
		sleep 0.1
		i=$((i + 1))
	done
	ip netns exec "$NS_TX" tcpreplay -q -i "$TX" --pps=20000 \
	    "$dir/live.pcap" >/dev/null 2>&1
	sleep 1
	kill -TERM "$pid"
	wait "$pid"
	rm -f "$dir/cg.pid"
	collector_stop cg
	metered=$(sed -n 's/^flowprobe: .* read: \([0-9]*\) metered.*/\1/p' \
	    "$dir/cg.err")
	ir=$(sed -n 's/.*refs: *//p' "$dir/cg.err" | tr -d ,)
	awk -v ir="${ir:-0}" -v n="${metered:-0}" 'BEGIN {
		if (n > 0 && ir > 0)
			printf("flowprobe live: %.0f instructions/packet" \
			    " (callgrind, %d packets at 20 kpps, all-in)\n",
			    ir / n, n)
		else
			print "flowprobe live: no instruction count"
	}'
}

# run NAME PROGRAM...: the programs capture one replay side by side.
run()
{
	local name port prog tag tags before

	name=$1
	shift
	port=9995
	tags=
	for prog in "$@"; do
		collector_start "$name.$prog" "$port"
		probe_start "$name.$prog" "$prog" "$port"
		tags="$tags $name.$prog"
		port=$((port + 1))
	done
	capturing $# "$tags"
	before=$(softnet_drops)
	replay
	for tag in $tags; do
		probe_stop "$tag"
	done
	before=$(($(softnet_drops) - before))
	# The last datagrams in, then the collectors' totals.
	sleep 1
	for tag in $tags; do
		collector_stop "$tag"
	done
	for tag in $tags; do
		row "$name" "$tag" "$before"
	done
}

net_up
make_file
echo "live: $senders x tcpreplay --topspeed -K --loop $loops of" \
    "$filepkts packets ($truth flows, frames $frames)," \
    "$((senders * loops * filepkts)) packets a run${sfbuf:+, softflowd -B $sfbuf}"
printf '%-7s %-10s %9s %7s %9s %8s %9s %6s %9s %13s %7s\n' run program \
    sent kpps received dropped metered cpu_s col_pkts col_flows softnet
r=1
while [ $r -le "$rounds" ]; do
	run alone flowprobe
	if [ -n "$peer" ]; then
		run alone softflowd
		run both flowprobe softflowd
	fi
	r=$((r + 1))
done
if have valgrind && have cc; then
	count
else
	echo "flowprobe live: valgrind not installed, no instruction count"
fi
[ "$rounds" -gt 1 ] || exit 0
# Over the rounds: mean and range of the rate, the kernel's drops as a
# share of the packets sent, and the CPU seconds.
echo
awk '{
	k = substr($1, index($1, ".") + 1) " " $2
	d = 100 * $6 / $3
	n[k]++; kpps[k] += $4; cpu[k] += $8; dsum[k] += d
	if (n[k] == 1 || d < dmin[k]) dmin[k] = d
	if (n[k] == 1 || d > dmax[k]) dmax[k] = d
	if (n[k] == 1 || $4 < kmin[k]) kmin[k] = $4
	if (n[k] == 1 || $4 > kmax[k]) kmax[k] = $4
} END {
	for (k in n)
		printf("%-16s %d rounds: %4.0f kpps (%d-%d), dropped %5.2f%%" \
		    " (%.2f-%.2f), %.2f cpu_s\n", k, n[k], kpps[k] / n[k],
		    kmin[k], kmax[k], dsum[k] / n[k], dmin[k], dmax[k],
		    cpu[k] / n[k])
}' "$dir/rows" | sort
