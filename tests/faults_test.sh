#! /usr/bin/env atf-sh
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

#
# Faults around a live capture: collectors that stop, come back, refuse
# or cannot keep up, a collector name that does not resolve, a link that
# goes down and up, and a kernel that drops packets.  Each case builds
# the network of live_test.sh (two namespaces joined by a veth pair,
# tcpreplay on one side, flowprobe and nfcapd on 127.0.0.1 on the other),
# so ports are fixed: nothing else lives in the namespace.  Every wait is
# bounded, and each cleanup stops what its case started.
#

BOUND=100			# tenths of a second any wait may last
PORT=9995			# nfcapd's port: the namespace is new
DEAD=9996			# a port nobody listens on
TX=vtx				# the sender's end of the veth pair
RX=vrx				# the end flowprobe captures on
NS_TAG=ff			# names the test namespaces
CPU_MAX=50			# hundredths of a CPU second an outage may cost

# The test network and process helpers, shared by live and fault tests.
. "$(atf_get_srcdir)/netns.subr"
. "$(atf_get_srcdir)/nfcapd.subr"

flowprobe()
{
	echo "$(atf_get_srcdir)/../flowprobe"
}

stop_all()
{
	local f

	stop_pidfile probe.pid
	for f in *.nfcapd.pid; do
		[ -f "$f" ] && stop_pidfile "$f"
	done
	net_down
}

# start_nfcapd NAME: a collector on 127.0.0.1:$PORT in the capturing
# namespace, storing into NAME.d; NAME.nfcapd.err holds its messages.
start_nfcapd()
{
	mkdir -p "$1.d"
	ip netns exec "$NS_RX" nfcapd -w "$PWD/$1.d" -p "$PORT" -b 127.0.0.1 \
	    -B 8388608 -t 3600 >"$1.nfcapd.out" 2>"$1.nfcapd.err" &
	echo $! >"$1.nfcapd.pid"
	nfcapd_started "$1.nfcapd.pid" "$1.nfcapd.err" && return 0
	cat "$1.nfcapd.err" >&2
	atf_fail "nfcapd $1 would not start"
}

# stop_nfcapd NAME: SIGTERM, so that it writes its file.
stop_nfcapd()
{
	stop_pidfile "$1.nfcapd.pid"
	if ! grep -q '^Ident: ' "$1.nfcapd.err"; then
		cat "$1.nfcapd.err" >&2
		atf_fail "nfcapd $1 ended without its report"
	fi
}

# nfcapd_clean NAME FLOWS: its totals report FLOWS flows, no sequence
# error and no bad packet.
nfcapd_clean()
{
	if ! nfcapd_total "$1.nfcapd.err" |
	    grep -q "Flows: $2, .* Sequence Errors: 0, Bad Packets: 0"; then
		cat "$1.nfcapd.err" >&2
		atf_fail "nfcapd $1 did not report $2 flows and no error"
	fi
}

# flows NET COUNT [PACKETS]: COUNT distinct UDP flows of PACKETS (2)
# packets each from 10.NET.x.y.  All first packets come before all
# second ones: a pace slower than COUNT per second splits each flow.
flows()
{
	awk -v net="$1" -v n="$2" -v p="${3:-2}" 'BEGIN {
		for (i = 0; i < n; i++)
			printf("udp 10.%d.%d.%d 10.99.0.1 %d 53 %d 100 0 10\n",
			    net, int(i / 250), i % 250 + 1, 1000 + i, p)
	}'
}

# replay NAME PPS: the flows in file NAME sent from the other namespace.
replay()
{
	atf_check -s exit:0 -o empty -e empty "$(atf_get_srcdir)/mkpcap" \
	    -o "$1.pcap" <"$1"
	atf_check -s exit:0 -o ignore -e ignore ip netns exec "$NS_TX" \
	    tcpreplay -q -i "$TX" --pps="$2" "$1.pcap"
}

# The flows of spec file $1 as nfdump prints them below.
expected_flows()
{
	awk '{ printf("17 %s %s %s %s %d %d\n", $2, $3, $4, $5, $6,
	    $6 * $7) }' "$1" | sort
}

# The flows nfcapd stored in directory $1.
collected_flows()
{
	nfdump -N -q -R "$1" -o 'fmt:%pr %sa %da %sp %dp %pkt %byt' |
	    awk 'NF && $1 != "No" { $1 = $1; print }' | sort
}

# check_flows SPEC DIR: DIR holds exactly the flows of SPEC.
check_flows()
{
	expected_flows "$1" >"$1.expected"
	collected_flows "$2" >"$2.collected"
	if ! diff -u "$1.expected" "$2.collected" >&2; then
		cat probe.err >&2
		atf_fail "$2 does not hold exactly the flows of $1"
	fi
}

# The records flowprobe has handed to its collectors so far: asks for a
# summary (SIGUSR1) and reads the last one.
records()
{
	local before i

	before=$(grep -c ' records in ' probe.err)
	kill -USR1 "$(cat probe.pid)" 2>/dev/null || { echo -1; return; }
	i=0
	while [ $i -lt 20 ] &&
	    [ "$(grep -c ' records in ' probe.err)" -le "$before" ]; do
		sleep 0.05
		i=$((i + 1))
	done
	grep ' records in ' probe.err | tail -1 | awk '{ print $2 }'
}

# wait_records N: until N records have gone out (sent or failed).
wait_records()
{
	local i n

	i=0
	while [ $i -lt $BOUND ]; do
		n=$(records)
		[ "$n" -ge "$1" ] 2>/dev/null && return 0
		running probe.pid || break
		sleep 0.2
		i=$((i + 2))
	done
	cat probe.err >&2
	atf_fail "only ${n:-no} records of $1 went out"
}

# CPU time flowprobe has used so far, in hundredths of a second.
cpu()
{
	awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 100 / hz) }' \
	    "/proc/$(cat probe.pid)/stat"
}

# collector_line PORT: "SENT FAILED" from the last summary line about
# the collector on 127.0.0.1:PORT.
collector_line()
{
	grep "collector 127.0.0.1:$1: .* datagrams sent" probe.err | tail -1 |
	    sed 's/.*: \([0-9]*\) datagrams sent, \([0-9]*\) failed$/\1 \2/'
}

# The datagrams built, from the last summary.
datagrams()
{
	grep ' records in ' probe.err | tail -1 | awk '{ print $5 }'
}

# collector_returns VERSION: see the head of collector_returns_ipfix.
collector_returns()
{
	local c0 c1 sent failed

	net_up
	flows 1 50 >A
	flows 2 50 >B
	flows 3 60 >C
	start_nfcapd one
	start_probe -V "$1" -n "127.0.0.1:$PORT" -t inactive=1,flush=1 -w 60
	replay A 500
	wait_records 50
	stop_nfcapd one
	nfcapd_clean one 50

	# The outage: ICMP port unreachable for every datagram.
	c0=$(cpu)
	replay B 500
	wait_records 100
	sleep 2
	c1=$(cpu)
	running probe.pid || fail_probe "flowprobe ended"
	[ $((c1 - c0)) -lt $CPU_MAX ] ||
	    atf_fail "the outage cost $((c1 - c0))/100 s of CPU: a spin"
	grep -q "collector 127.0.0.1:$PORT: Connection refused" probe.err ||
	    fail_probe "no word of the refusal"

	start_nfcapd two
	replay C 500
	wait_records 160
	kill -TERM "$(cat probe.pid)"
	wait_exit probe.pid $BOUND
	atf_check -o inline:"69\n" cat probe.pid.status
	stop_nfcapd two
	nfcapd_clean two 60
	check_flows A one.d
	check_flows C two.d

	# Every datagram is counted once, and those of batch B failed.
	set -- $(collector_line $PORT)
	sent=$1
	failed=$2
	[ -n "$failed" ] && [ "$failed" -gt 0 ] ||
	    fail_probe "no failed sends counted"
	[ $((sent + failed)) -eq "$(datagrams)" ] ||
	    atf_fail "$sent sent + $failed failed is not $(datagrams)"
	grep -q "collector 127.0.0.1:$PORT: sending again" probe.err ||
	    fail_probe "no word of the return"
}

atf_test_case collector_returns_ipfix cleanup
collector_returns_ipfix_head()
{
	atf_set "descr" "IPFIX: the collector stops mid-run and a new one" \
	    "starts on its port; flowprobe meters on without spinning," \
	    "counts the failed sends, and the new collector gets every" \
	    "later record, templates first, with no sequence error; exit 69"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "90"
}
collector_returns_ipfix_body()
{
	collector_returns 10
}
collector_returns_ipfix_cleanup()
{
	stop_all
}

atf_test_case collector_returns_v9 cleanup
collector_returns_v9_head()
{
	atf_set "descr" "The same with NetFlow v9, whose sequence number" \
	    "counts datagrams"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "90"
}
collector_returns_v9_body()
{
	collector_returns 9
}
collector_returns_v9_cleanup()
{
	stop_all
}

atf_test_case collector_refuses cleanup
collector_refuses_head()
{
	atf_set "descr" "Two collectors, one refusing throughout: the other" \
	    "gets every flow and every datagram, the refusing one's" \
	    "failures are counted, no spin; exit 69"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
collector_refuses_body()
{
	local c0 c1 n

	net_up
	flows 1 210 1 >A
	start_nfcapd live
	start_probe -V 10 -n "127.0.0.1:$DEAD" -n "127.0.0.1:$PORT" \
	    -t inactive=1,flush=1 -w 60
	c0=$(cpu)
	# 210 flows over 3 s: many datagrams, each refused.
	replay A 70
	wait_records 210
	c1=$(cpu)
	[ $((c1 - c0)) -lt $CPU_MAX ] ||
	    atf_fail "refusals cost $((c1 - c0))/100 s of CPU: a spin"
	kill -TERM "$(cat probe.pid)"
	wait_exit probe.pid $BOUND
	atf_check -o inline:"69\n" cat probe.pid.status
	stop_nfcapd live
	nfcapd_clean live 210
	check_flows A live.d

	n=$(datagrams)
	[ "$n" -gt 1 ] || atf_fail "only $n datagrams: nothing to refuse"
	[ "$(collector_line $PORT)" = "$n 0" ] ||
	    fail_probe "collector on $PORT: not all $n datagrams sent"
	# The refusal of the very last datagram comes too late to be seen.
	set -- $(collector_line $DEAD)
	[ "$1" -le 1 ] && [ "$2" -ge $((n - 1)) ] ||
	    atf_fail "refusing collector: $1 sent, $2 failed of $n"
	[ "$(grep -c "collector 127.0.0.1:$DEAD: Connection refused" \
	    probe.err)" -eq 1 ] || fail_probe "not one word of the refusal"
}
collector_refuses_cleanup()
{
	stop_all
}

atf_test_case unresolvable cleanup
unresolvable_head()
{
	atf_set "descr" "A collector name that does not resolve at start:" \
	    "one line naming it, exit 68, before any capture starts"
	atf_set "require.progs" "ip"
	atf_set "require.user" "root"
	atf_set "timeout" "30"
}
unresolvable_body()
{
	# A namespace without a route: no resolver is reachable, so the
	# answer comes at once and never from the network.
	echo "ffns$$" >netns.names
	ip netns add "ffns$$" 2>netns.err ||
	    atf_skip "ip netns does not work here: $(cat netns.err)"
	ip -n "ffns$$" link set lo up
	atf_check -s exit:68 -o empty -e save:err ip netns exec "ffns$$" \
	    "$(flowprobe)" -i lo -n "127.0.0.1:$PORT" \
	    -n "no-such-host.invalid:$PORT" -w 30
	atf_check -o inline:"1\n" awk 'END { print NR }' err
	atf_check -o ignore \
	    grep "^flowprobe: no-such-host\.invalid:$PORT: ." err
}
unresolvable_cleanup()
{
	net_down
}

atf_test_case sndbuf_full cleanup
sndbuf_full_head()
{
	atf_set "descr" "A path to the collector slower than the export:" \
	    "sends fail at once (full socket buffer) and are counted," \
	    "metering goes on, SIGTERM is obeyed at once, and records" \
	    "reach the collector again once the path is clear"
	atf_set "require.progs" "ip nfcapd nfdump tc tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "90"
}
sndbuf_full_body()
{
	local c0 c1 t0 t1

	net_up
	# 8 kbit/s with a deep queue: datagrams wait in the qdisc, charged
	# to flowprobe's socket, until its send buffer is full.  (Linux
	# reports a dropping qdisc's ENOBUFS only with IP_RECVERR; a full
	# buffer is what a slow path does to a UDP sender.)
	ip netns exec "$NS_RX" tc qdisc add dev lo root tbf rate 8kbit \
	    burst 1600 limit 50mb 2>tc.err ||
	    atf_skip "cannot shape lo: $(cat tc.err)"
	flows 5 3000 >A
	flows 6 50 >D
	start_nfcapd one
	start_probe -V 10 -n "127.0.0.1:$PORT" -t inactive=1,flush=1 -w 60
	c0=$(cpu)
	replay A 3000
	wait_records 3000
	c1=$(cpu)
	running probe.pid || fail_probe "flowprobe ended"
	[ $((c1 - c0)) -lt $CPU_MAX ] ||
	    atf_fail "a full buffer cost $((c1 - c0))/100 s of CPU"
	set -- $(collector_line $PORT)
	[ -n "$2" ] && [ "$2" -gt 0 ] ||
	    fail_probe "no failed send counted"
	[ $(($1 + $2)) -eq "$(datagrams)" ] ||
	    atf_fail "$1 sent + $2 failed is not $(datagrams)"
	# One warning each time sends start failing again.
	grep -q "collector 127.0.0.1:$PORT: Resource temporarily unavailable" \
	    probe.err || fail_probe "no word of the full buffer"

	# The path clears: what is metered now reaches the collector.
	ip netns exec "$NS_RX" tc qdisc del dev lo root ||
	    atf_fail "cannot remove the qdisc"
	replay D 500
	wait_records 3050
	t0=$(date +%s)
	kill -TERM "$(cat probe.pid)"
	wait_exit probe.pid 30
	t1=$(date +%s)
	atf_check -o inline:"69\n" cat probe.pid.status
	[ $((t1 - t0)) -le 2 ] || atf_fail "SIGTERM took $((t1 - t0)) s"
	stop_nfcapd one
	expected_flows D >D.expected
	collected_flows one.d | grep ' 10\.6\.' >one.collected
	diff -u D.expected one.collected >&2 ||
	    atf_fail "the flows metered after the path cleared are not all there"
}
sndbuf_full_cleanup()
{
	stop_all
}

atf_test_case link_down_up cleanup
link_down_up_head()
{
	atf_set "descr" "The interface goes down and comes back mid-run:" \
	    "the run pauses and goes on, flows from before and after are" \
	    "exported, exit 0"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
link_down_up_body()
{
	local i

	net_up
	flows 1 50 >A
	flows 3 50 >C
	start_nfcapd one
	start_probe -V 10 -n "127.0.0.1:$PORT" -t inactive=1,flush=1 -w 60
	replay A 500
	wait_records 50
	ip -n "$NS_RX" link set "$RX" down || atf_fail "cannot set $RX down"
	sleep 2
	running probe.pid || fail_probe "a link down ended the run"
	ip -n "$NS_RX" link set "$RX" up || atf_fail "cannot set $RX up"
	i=0
	while [ $i -lt $BOUND ] &&
	    ! ip -n "$NS_TX" link show "$TX" | grep -q 'state UP'; do
		sleep 0.1
		i=$((i + 1))
	done
	replay C 500
	wait_records 100
	kill -TERM "$(cat probe.pid)"
	wait_exit probe.pid $BOUND
	atf_check -o inline:"0\n" cat probe.pid.status
	stop_nfcapd one
	nfcapd_clean one 100
	cat A C >AC
	check_flows AC one.d
	grep -q "TPACKET_V3 on $RX: 200 packets received, 0 dropped" probe.err ||
	    fail_probe "the summary does not show 200 packets, 0 dropped"
}
link_down_up_cleanup()
{
	stop_all
}

atf_test_case kernel_drops cleanup
kernel_drops_head()
{
	atf_set "descr" "A consumer that stops (SIGSTOP) while 600,000" \
	    "packets arrive: the kernel drops what the ring cannot hold," \
	    "the summary says so, and received = read + dropped, read =" \
	    "metered = the packets in the printed flows"
	atf_set "require.progs" "ip tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
kernel_drops_body()
{
	local sent line recv drop nread metered inflows

	net_up
	sent=600000
	echo "udp 10.7.0.1 10.7.0.2 7000 7001 $sent 46 0 0" >flood
	atf_check -s exit:0 -o empty -e empty "$(atf_get_srcdir)/mkpcap" \
	    -o flood.pcap <flood
	start_probe -t inactive=1 -w 60
	kill -STOP "$(cat probe.pid)"
	atf_check -s exit:0 -o ignore -e ignore ip netns exec "$NS_TX" \
	    tcpreplay -q -i "$TX" --topspeed flood.pcap
	kill -CONT "$(cat probe.pid)"
	sleep 2
	kill -TERM "$(cat probe.pid)"
	wait_exit probe.pid $BOUND
	atf_check -o inline:"0\n" cat probe.pid.status

	line=$(grep "TPACKET_V3 on $RX: " probe.err) ||
	    fail_probe "no capture line in the summary"
	recv=$(echo "$line" | awk '{ print $5 }')
	drop=$(echo "$line" | awk '{ print $8 }')
	nread=$(awk '/ packets read: / { print $2 }' probe.err)
	metered=$(awk '/ packets read: / { print $5 }' probe.err)
	inflows=$(awk '{ n += $8 } END { print n + 0 }' probe.out)
	[ "$recv" -le "$sent" ] || atf_fail "$recv received of $sent sent"
	# The ring holds some 390,000 such frames: fewer arriving cannot
	# overflow it (the veth's backlog dropped them first).
	[ "$recv" -ge 450000 ] ||
	    atf_skip "only $recv of $sent reached the socket"
	[ "$drop" -gt 0 ] || atf_fail "no drop reported: $line"
	[ $((nread + drop)) -eq "$recv" ] ||
	    atf_fail "$nread read + $drop dropped is not $recv received"
	[ "$metered" -eq "$nread" ] || atf_fail "$metered metered of $nread"
	[ "$inflows" -eq "$nread" ] ||
	    atf_fail "the flows hold $inflows packets of $nread read"
}
kernel_drops_cleanup()
{
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case collector_returns_ipfix
	atf_add_test_case collector_returns_v9
	atf_add_test_case collector_refuses
	atf_add_test_case unresolvable
	atf_add_test_case sndbuf_full
	atf_add_test_case link_down_up
	atf_add_test_case kernel_drops
}
