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
# Live capture tests.  Each case builds its own network: two namespaces
# joined by a veth pair, IPv6 off so that the link stays silent.  tcpreplay
# sends a capture of known flows from one side; flowprobe captures on the
# other and exports to an nfcapd on 127.0.0.1 inside the same namespace.
# What nfcapd stored must equal the flows sent.  No traffic leaves the
# namespaces, and the cleanup deletes them.
#

BOUND=100			# tenths of a second any wait may last
PORT=9995			# free: the namespace is new
TX=vtx				# the sender's end of the veth pair
RX=vrx				# the end flowprobe captures on
NS_TAG=fp			# names the test namespaces

# The test network and process helpers, shared by live and fault tests.
. "$(atf_get_srcdir)/netns.subr"
. "$(atf_get_srcdir)/nfcapd.subr"

# The known flows: PROTO SRC DST SPORT DPORT PACKETS SIZE START GAP [keys],
# as tests/mkpcap reads them.  tcpreplay sends at its own pace, so only
# the order of the packets matters here, not their times.
KNOWN='tcp 10.0.0.1 10.0.0.2 40000 80 10 1000 0 10 flags=24 first=2 last=17
tcp 10.0.0.2 10.0.0.1 80 40000 8 400 5 10 flags=16 first=18 last=17
udp 10.0.0.3 10.0.0.4 5353 53 5 100 0 10
icmp 10.0.0.5 10.0.0.6 8 0 4 84 0 10
udp 10.0.1.1 10.0.1.2 1111 2222 7 200 0 10 vlan=42
udp 10.0.1.3 10.0.1.4 3333 4444 3 300 0 10 qinq=100 vlan=7
udp 2001:db8::1 2001:db8::2 5000 6000 6 1200 0 10
icmp6 2001:db8::1 2001:db8::2 128 0 3 104 0 10'

# For -F "udp": the same without VLANs, which "udp" does not match on
# a link that keeps the tags in the frame.
MIXED='tcp 10.0.0.1 10.0.0.2 40000 80 10 1000 0 10 flags=24 first=2 last=17
udp 10.0.0.3 10.0.0.4 5353 53 5 100 0 10
icmp 10.0.0.5 10.0.0.6 8 0 4 84 0 10
udp 2001:db8::1 2001:db8::2 5000 6000 6 1200 0 10
tcp 2001:db8::2 2001:db8::1 443 50000 4 600 0 10 flags=16'

flowprobe()
{
	echo "$(atf_get_srcdir)/../flowprobe"
}

# Seconds since the epoch, to the nanosecond.
now()
{
	date +%s.%N
}

stop_all()
{
	stop_pidfile probe.pid
	stop_pidfile nfcapd.pid
	net_down
}

# The collector, in the capturing namespace, on 127.0.0.1 only.
start_nfcapd()
{
	mkdir -p c.d
	ip netns exec "$NS_RX" nfcapd -w "$PWD/c.d" -p "$PORT" -b 127.0.0.1 \
	    -B 8388608 -t 3600 >nfcapd.out 2>nfcapd.err &
	echo $! >nfcapd.pid
	nfcapd_started nfcapd.pid nfcapd.err && return 0
	cat nfcapd.err >&2
	atf_fail "nfcapd would not start"
}

# Stops nfcapd so that it writes its file: what reached it by now counts.
stop_nfcapd()
{
	stop_pidfile nfcapd.pid
	nfcapd_total nfcapd.err |
	    grep -q 'Sequence Errors: 0, Bad Packets: 0' ||
	    atf_fail "nfcapd: $(cat nfcapd.err)"
}

# ipfix_probe ARGS: start_probe exporting IPFIX to nfcapd.
ipfix_probe()
{
	start_probe -V 10 -n "127.0.0.1:$PORT" "$@"
}

# replay SPEC PPS: a capture of SPEC sent from the other namespace.
replay()
{
	printf '%s\n' "$1" >spec
	atf_check -s exit:0 -o empty -e empty "$(atf_get_srcdir)/mkpcap" \
	    -o in.pcap <spec
	atf_check -s exit:0 -o ignore -e ignore ip netns exec "$NS_TX" \
	    tcpreplay -q -i "$TX" --pps="$2" in.pcap
}

# The flows of file spec (protocol 17 only if $1 is "udp") as nfdump
# prints them below: protocol, addresses, ports (ICMP: 0 and
# type.code), packets, bytes, TCP flags "CEUAPRSF", VLAN (the outermost).
expected_flows()
{
	awk -v only="$1" '
	function bit(v, b) { return (int(v / 2 ^ b) % 2) }
	{
		pr = $1 == "tcp" ? 6 : $1 == "udp" ? 17 : $1 == "icmp" ? 1 : \
		    $1 == "icmp6" ? 58 : $1 + 0
		if (only == "udp" && pr != 17)
			next
		sp = $4; dp = $5
		if (pr == 1 || pr == 58) {
			dp = sp "." dp
			sp = 0
		}
		f[0] = f[1] = f[2] = 0
		vlan = qinq = 0
		for (i = 10; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "flags") f[0] = kv[2] + 0
			if (kv[1] == "first") f[1] = kv[2] + 0
			if (kv[1] == "last") f[2] = kv[2] + 0
			if (kv[1] == "vlan") vlan = kv[2] + 0
			if (kv[1] == "qinq") qinq = kv[2] + 0
		}
		fl = ""
		for (b = 7; b >= 0; b--) {
			on = pr == 6 ? bit(f[0], b) + bit(f[1], b) + \
			    bit(f[2], b) : 0
			fl = fl (on > 0 ? substr("FSRPAUEC", b + 1, 1) : ".")
		}
		printf("%d %s %s %s %s %d %d %s %d\n", pr, $2, $3, sp, dp,
		    $6, $6 * $7, fl, qinq != 0 ? qinq : vlan)
	}' spec | sort
}

collected_flows()
{
	nfdump -6 -N -q -R c.d \
	    -o 'fmt:%pr %sa %da %sp %dp %pkt %byt %flg %svln' |
	    awk 'NF { $1 = $1; print }' | sort
}

# check_flows [udp]: nfcapd holds exactly the flows of spec.
check_flows()
{
	expected_flows "$1" >expected
	collected_flows >collected
	if ! diff -u expected collected >&2; then
		cat probe.err >&2
		atf_fail "the collector did not get the flows sent"
	fi
}

# check_summary PACKETS: the capture line of the summary shows every
# packet sent and no drop.
check_summary()
{
	grep -q "TPACKET_V3 on $RX: $1 packets received, 0 dropped by the kernel" \
	    probe.err || atf_fail "summary: $(cat probe.err)"
}

# Packets in file spec.
spec_packets()
{
	awk '{ n += $6 } END { print n }' spec
}

# known_flows: the whole path, ending with the capture window.
known_flows()
{
	start_nfcapd
	ipfix_probe -w 4
	replay "$KNOWN" 200
	wait_exit probe.pid 100
	atf_check -o inline:"0\n" cat probe.pid.status
	stop_nfcapd
	check_flows
	check_summary "$(spec_packets)"
}

atf_test_case flows_rxvlan_on cleanup
flows_rxvlan_on_head()
{
	atf_set "descr" "Known flows across a veth pair with rx VLAN" \
	    "offload on (the default): nfcapd gets exactly them, VLAN" \
	    "IDs put back into frames from the ring's metadata, and the" \
	    "kernel dropped nothing"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
flows_rxvlan_on_body()
{
	net_up
	known_flows
}
flows_rxvlan_on_cleanup()
{
	stop_all
}

atf_test_case flows_rxvlan_off cleanup
flows_rxvlan_off_head()
{
	atf_set "descr" "The same with rx VLAN offload off: the kernel" \
	    "then strips the outer tag in software, and the records are" \
	    "the same"
	atf_set "require.progs" "ethtool ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
flows_rxvlan_off_body()
{
	net_up
	ip netns exec "$NS_RX" ethtool -K "$RX" rxvlan off 2>/dev/null
	ip netns exec "$NS_RX" ethtool -k "$RX" |
	    grep -q '^rx-vlan-offload: off' ||
	    atf_skip "$RX: rx VLAN offload cannot be turned off"
	known_flows
}
flows_rxvlan_off_cleanup()
{
	stop_all
}

atf_test_case quiet_link cleanup
quiet_link_head()
{
	atf_set "descr" "One packet on a quiet link reaches the collector" \
	    "within the inactive timeout + 2 s, and flowprobe runs on"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
quiet_link_body()
{
	local sent

	net_up
	start_nfcapd
	ipfix_probe -t inactive=2 -w 60
	replay 'udp 10.0.0.3 10.0.0.4 5353 53 1 100 0 10' 10
	sent=$(now)
	sleep "$(echo "$sent" | awk -v t="$(now)" '{ print $1 + 4 - t }')"
	running probe.pid || atf_fail "flowprobe ended: $(cat probe.err)"
	stop_nfcapd
	check_flows
}
quiet_link_cleanup()
{
	stop_all
}

atf_test_case window cleanup
window_head()
{
	atf_set "descr" "-w 3 ends the run by itself after 3 s, exit 0," \
	    "every flow at the collector"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
window_body()
{
	local t0 t1

	net_up
	start_nfcapd
	t0=$(now)
	ipfix_probe -w 3
	replay "$KNOWN" 200
	wait_exit probe.pid 100
	t1=$(now)
	atf_check -o inline:"0\n" cat probe.pid.status
	echo "$t0 $t1" | awk '{ d = $2 - $1; exit !(d >= 2.9 && d < 6) }' ||
	    atf_fail "-w 3 ended after $(echo "$t0 $t1" | awk '{ print $2 - $1 }') s"
	stop_nfcapd
	check_flows
	check_summary "$(spec_packets)"
}
window_cleanup()
{
	stop_all
}

atf_test_case count cleanup
count_head()
{
	atf_set "descr" "-c 10 ends the run after exactly 10 packets of 30," \
	    "exit 0, their flow at the collector"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
count_body()
{
	net_up
	start_nfcapd
	ipfix_probe -c 10 -w 60
	replay 'udp 10.0.0.3 10.0.0.4 5353 53 30 100 0 10' 50
	wait_exit probe.pid 100
	atf_check -o inline:"0\n" cat probe.pid.status
	stop_nfcapd
	echo 'udp 10.0.0.3 10.0.0.4 5353 53 10 100 0 10' >spec
	check_flows
}
count_cleanup()
{
	stop_all
}

# signal_ends SIG: flows sent, then SIG: exit 0 with every flow exported.
signal_ends()
{
	start_nfcapd
	ipfix_probe -w 60
	replay "$KNOWN" 200
	sleep 1
	kill -"$1" "$(cat probe.pid)"
	wait_exit probe.pid 100
	atf_check -o inline:"0\n" cat probe.pid.status
	stop_nfcapd
	check_flows
	check_summary "$(spec_packets)"
}

atf_test_case sigterm cleanup
sigterm_head()
{
	atf_set "descr" "SIGTERM mid-run: exit 0, every flow sent before" \
	    "the signal at the collector"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
sigterm_body()
{
	net_up
	signal_ends TERM
}
sigterm_cleanup()
{
	stop_all
}

atf_test_case sigint cleanup
sigint_head()
{
	atf_set "descr" "SIGINT mid-run: exit 0, every flow sent before" \
	    "the signal at the collector"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
sigint_body()
{
	net_up
	signal_ends INT
}
sigint_cleanup()
{
	stop_all
}

atf_test_case sigusr1 cleanup
sigusr1_head()
{
	atf_set "descr" "SIGUSR1 prints the summary mid-run, with the" \
	    "packets received so far, and the run goes on"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
sigusr1_body()
{
	local i

	net_up
	start_nfcapd
	ipfix_probe -w 60
	replay "$KNOWN" 200
	sleep 0.5
	kill -USR1 "$(cat probe.pid)"
	i=0
	while [ $i -lt 30 ] && ! grep -q TPACKET_V3 probe.err; do
		sleep 0.1
		i=$((i + 1))
	done
	check_summary "$(spec_packets)"
	running probe.pid || atf_fail "SIGUSR1 ended the run"
}
sigusr1_cleanup()
{
	stop_all
}

atf_test_case filter cleanup
filter_head()
{
	atf_set "descr" "-F with the program of tcpdump -ddd udp: only the" \
	    "UDP flows, IPv4 and IPv6, reach the collector"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
filter_body()
{
	net_up
	if command -v tcpdump >/dev/null 2>&1; then
		atf_check -s exit:0 -o save:udp.bpf -e ignore \
		    tcpdump -y EN10MB -ddd udp
	else
		# What tcpdump 4.99 prints, one "code jt jf k" a line.
		cat >udp.bpf <<'EOF'
12
40 0 0 12
21 0 5 34525
48 0 0 20
21 6 0 17
21 0 6 44
48 0 0 54
21 3 4 17
21 0 3 2048
48 0 0 23
21 0 1 17
6 0 0 262144
6 0 0 0
EOF
	fi
	start_nfcapd
	ipfix_probe -F "$PWD/udp.bpf" -w 60
	replay "$MIXED" 200
	sleep 1
	stop_pidfile probe.pid
	stop_nfcapd
	check_flows udp
}
filter_cleanup()
{
	stop_all
}

atf_test_case departure cleanup
departure_head()
{
	atf_set "descr" "The interface going away ends the run, with every" \
	    "flow captured before at the collector"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
departure_body()
{
	net_up
	start_nfcapd
	ipfix_probe -w 60
	replay "$KNOWN" 200
	sleep 1
	ip -n "$NS_TX" link del "$TX" || atf_fail "cannot delete $TX"
	wait_exit probe.pid 50
	grep -q "$RX: the interface went away" probe.err ||
	    atf_fail "no word of the interface: $(cat probe.err)"
	stop_nfcapd
	check_flows
}
departure_cleanup()
{
	stop_all
}

atf_test_case ifindex cleanup
ifindex_head()
{
	atf_set "descr" "Records carry the capturing interface's index as" \
	    "their input interface, or the one given as -i N:interface"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
ifindex_body()
{
	local want

	net_up
	want=$(ip -n "$NS_RX" -o link show "$RX" | awk -F: '{ print $1 }')
	[ -n "$want" ] || atf_fail "no ifindex for $RX"
	start_nfcapd
	ipfix_probe -w 3
	replay 'udp 10.0.0.3 10.0.0.4 5353 53 2 100 0 10' 50
	wait_exit probe.pid 100
	stop_nfcapd
	atf_check -o inline:"$want\n" sh -c \
	    "nfdump -q -R c.d -o 'fmt:%in' | awk '{ print \$1 }' | sort -u"

	rm -rf c.d
	start_nfcapd
	ip netns exec "$NS_RX" "$(flowprobe)" -i "4242:$RX" -V 9 \
	    -n "127.0.0.1:$PORT" -w 3 >probe.out 2>probe.err &
	echo $! >probe.pid
	sleep 1
	replay 'udp 10.0.0.3 10.0.0.4 5353 53 2 100 0 10' 50
	wait_exit probe.pid 100
	stop_nfcapd
	atf_check -o inline:"4242\n" sh -c \
	    "nfdump -q -R c.d -o 'fmt:%in' | awk '{ print \$1 }' | sort -u"
}
ifindex_cleanup()
{
	stop_all
}

atf_test_case daemon cleanup
daemon_head()
{
	atf_set "descr" "-D detaches, writes and locks its pidfile, refuses" \
	    "a second daemon on the interface, and on SIGTERM exports" \
	    "every flow and removes the pidfile"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
daemon_body()
{
	local pidfile pid i

	net_up
	pidfile=/var/run/flowprobe.$RX.pid
	[ ! -s "$pidfile" ] || atf_skip "$pidfile names another probe"
	start_nfcapd
	# The parent returns once the child has detached.
	atf_check -s exit:0 -o empty -e empty ip netns exec "$NS_RX" \
	    "$(flowprobe)" -D -i "$RX" -V 10 -n "127.0.0.1:$PORT"
	i=0
	while [ $i -lt $BOUND ] && [ ! -s "$pidfile" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$pidfile" ] || atf_fail "no pidfile $pidfile"
	pid=$(cat "$pidfile")
	echo "$pid" >daemon.pid
	kill -0 "$pid" || atf_fail "pid $pid in $pidfile does not run"
	atf_check -s exit:69 -o empty -e match:"another flowprobe" \
	    ip netns exec "$NS_RX" "$(flowprobe)" -D -i "$RX" \
	    -n "127.0.0.1:$PORT"
	sleep 0.5
	replay "$KNOWN" 200
	sleep 1
	kill -TERM "$pid"
	i=0
	while [ $i -lt $BOUND ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	! kill -0 "$pid" 2>/dev/null || atf_fail "daemon $pid did not end"
	# Chrooted, the daemon cannot remove it: it leaves it empty.
	[ ! -s "$pidfile" ] || atf_fail "$pidfile still names a process"
	rm -f "$pidfile"
	stop_nfcapd
	check_flows
}
daemon_cleanup()
{
	[ -f daemon.pid ] && kill -KILL "$(cat daemon.pid)" 2>/dev/null
	stop_all
}

atf_test_case no_such_interface
no_such_interface_head()
{
	atf_set "descr" "An interface that does not exist: exit 66" \
	    "(EX_NOINPUT) and one line saying so"
}
no_such_interface_body()
{
	atf_check -s exit:66 -o empty -e save:err "$(flowprobe)" \
	    -i "nosuch$$" -w 1
	atf_check -o inline:"1\n" awk 'END { print NR }' err
	atf_check -o ignore grep "nosuch$$: no such interface" err
}

atf_init_test_cases()
{
	atf_add_test_case flows_rxvlan_on
	atf_add_test_case flows_rxvlan_off
	atf_add_test_case quiet_link
	atf_add_test_case window
	atf_add_test_case count
	atf_add_test_case sigterm
	atf_add_test_case sigint
	atf_add_test_case sigusr1
	atf_add_test_case filter
	atf_add_test_case departure
	atf_add_test_case ifindex
	atf_add_test_case daemon
	atf_add_test_case no_such_interface
}
