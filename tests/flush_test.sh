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
# Nothing lost on flush.  When a great many flows end at once (end of a
# savefile, end of a -w window, SIGTERM) their datagrams must not overrun
# a local collector with its default receive buffer: UDP loses them with
# no error anywhere.  Each case ends every flow at once, each flow a
# single packet, and checks that nfcapd, left with the system's default
# socket buffer (some 90 datagrams of 1400 bytes on Linux), stored every
# record: the flows exactly, their packets and bytes, and no sequence
# error.  The savefile case uses a million flows; a live capture cannot
# meter as many in a few seconds here, so the live cases use fewer.
#
# A flowprobe other than the one built here can be tested with
#	kyua test -v test_suites.flowprobe.flowprobe=/path/to/flowprobe
# which is how an unpaced build is shown to fail.
#

BOUND=100			# tenths of a second any wait may last
FLOWS=1000000			# flows ending at the end of the savefile
LIVE_FLOWS=250000		# flows ending with a live capture
LIVE_PPS=250000			# the rate they are replayed at
WINDOW=6			# -w: seconds, longer than the replay
IDLE_WINDOW=10			# ... longer than replay, idle wait and sending
IDLE_SENT=5			# seconds after the replay all must be sent
PORT=9995			# nfcapd's port in a new namespace
TX=ltx				# the sender's end of the veth pair
RX=lrx				# the end flowprobe captures on
NS_TAG=fl			# names the test namespaces

# The test network and process helpers, shared with the live tests.
. "$(atf_get_srcdir)/netns.subr"
. "$(atf_get_srcdir)/nfcapd.subr"

flowprobe()
{
	atf_config_get flowprobe "$(atf_get_srcdir)/../flowprobe"
}

stop_all()
{
	stop_pidfile probe.pid
	stop_pidfile nfcapd.pid
	net_down
}

# spec COUNT: COUNT one-packet UDP flows, a thousand starting each
# millisecond, for tests/mkpcap.  Each has a source address of its own.
spec()
{
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++)
			printf("udp 10.%d.%d.%d 10.99.0.1 %d 53 1 46 %.0f 0\n",
			    int(i / 62500) + 1, int(i / 250) % 250,
			    i % 250 + 1, 1024 + i % 60000,
			    1700000000000 + int(i / 1000))
	}'
}

# mkcapture COUNT: the flows in file spec, and their capture in.pcap.
mkcapture()
{
	spec "$1" >spec
	atf_check -s exit:0 -o empty -e empty "$(atf_get_srcdir)/mkpcap" \
	    -o in.pcap <spec
}

# The flows of file spec as collected_flows prints them.
expected_flows()
{
	awk '{ print $2, $4, $6, $6 * $7 }' spec | LC_ALL=C sort
}

# The flows nfcapd stored in c.d: source, port, packets, bytes.
collected_flows()
{
	nfdump -N -q -R c.d -o 'fmt:%sa %sp %pkt %byt' |
	    awk 'NF && $1 != "No" { $1 = $1; print }' | LC_ALL=C sort
}

# start_nfcapd [NETNS]: a collector on 127.0.0.1:$PORT storing into c.d,
# with the default receive buffer: no -B.  Outside a namespace the port
# is a random one, tried again if taken.
start_nfcapd()
{
	local try

	mkdir -p c.d
	try=0
	while [ $try -lt 5 ]; do
		try=$((try + 1))
		if [ $# -eq 0 ]; then
			PORT=$(od -An -N2 -tu2 /dev/urandom)
			PORT=$((20000 + PORT % 40000))
			nfcapd -w "$PWD/c.d" -p "$PORT" -b 127.0.0.1 -t 3600 \
			    >nfcapd.out 2>nfcapd.err &
		else
			ip netns exec "$1" nfcapd -w "$PWD/c.d" -p "$PORT" \
			    -b 127.0.0.1 -t 3600 >nfcapd.out 2>nfcapd.err &
		fi
		echo $! >nfcapd.pid
		nfcapd_started nfcapd.pid nfcapd.err && return 0
		stop_pidfile nfcapd.pid
		[ $# -eq 0 ] || break
	done
	cat nfcapd.err >&2
	atf_fail "nfcapd would not start"
}

# udp_socket [NETNS]: "queued dropped" for nfcapd's socket, from the
# kernel's table: bytes waiting to be read, datagrams dropped for want
# of room.
udp_socket()
{
	local port

	port=$(printf '%04X' "$PORT")
	${1:+ip netns exec "$1"} cat /proc/net/udp |
	    awk -v a="0100007F:$port" '$2 == a {
		split($5, q, ":")
		printf("%d %d\n", ("0x" q[2]) + 0, $NF)
	    }'
}

# stop_nfcapd [NETNS]: once nfcapd has read everything queued to it, so
# that nothing still in its socket is lost, SIGTERM: it writes its file
# and its report.  Leaves "queued dropped" in socket.
stop_nfcapd()
{
	local i

	i=0
	while [ $i -lt $BOUND ]; do
		udp_socket "$@" >socket
		if [ ! -s socket ]; then
			# No /proc/net/udp: give it a second.
			sleep 1
			break
		fi
		read queued dropped <socket
		[ "$queued" -eq 0 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	stop_pidfile nfcapd.pid
	if ! grep -q '^Ident: ' nfcapd.err; then
		cat nfcapd.err >&2
		atf_fail "nfcapd ended without its report"
	fi
}

# check_all RECORDS: flowprobe sent RECORDS records, all of them in
# datagrams that left, and nfcapd received and stored each one: its
# report shows RECORDS flows and packets and no sequence error, and the
# flows it stored equal those of the spec (when RECORDS is all of them)
# or are RECORDS distinct flows of it.
check_all()
{
	local n dropped distinct

	grep -q "flowprobe: $1 records in [0-9]* datagrams, .* 0 send errors" \
	    probe.err || fail_probe "flowprobe did not send $1 records"
	grep -q "collector 127.0.0.1:$PORT: [0-9]* datagrams sent, 0 failed" \
	    probe.err || fail_probe "flowprobe counted failed sends"
	read n dropped <socket
	if ! nfcapd_total nfcapd.err |
	    grep -q "Flows: $1, Packets: $1, .* Sequence Errors: 0, Bad"; then
		sed -n 's/^Ident: .*Flows/Flows/p' nfcapd.err >&2
		cat probe.err >&2
		atf_fail "nfcapd did not receive all $1 records; its socket" \
		    "dropped ${dropped:-?} datagrams"
	fi
	collected_flows >collected
	if [ "$1" -eq "$(awk 'END { print NR }' spec)" ]; then
		expected_flows >expected
	else
		# Some packets never reached flowprobe: what it metered is
		# a subset of the spec, each flow once.
		expected_flows | LC_ALL=C join -o 1.1,1.2,1.3,1.4 - collected \
		    >expected
	fi
	distinct=$(uniq collected | awk 'END { print NR }')
	[ "$distinct" -eq "$1" ] ||
	    atf_fail "nfdump holds $distinct distinct flows of $1"
	cmp -s expected collected ||
	    atf_fail "the flows nfdump holds are not those sent"
}

atf_test_case end_of_file cleanup
end_of_file_head()
{
	atf_set "descr" "A million flows end at the end of a savefile:" \
	    "nfcapd, with its default socket buffer, gets every record" \
	    "with no sequence error"
	atf_set "require.progs" "nfcapd nfdump"
	atf_set "timeout" "60"
}
end_of_file_body()
{
	mkcapture $FLOWS
	start_nfcapd
	"$(flowprobe)" -r in.pcap -m 1048576 -V 9 -n "127.0.0.1:$PORT" \
	    >probe.out 2>probe.err
	[ $? -eq 0 ] || fail_probe "flowprobe failed"
	grep -q "flowprobe: $FLOWS flows: .* $FLOWS forced" probe.err ||
	    fail_probe "the flows did not all end at the end of the file"
	stop_nfcapd
	check_all $FLOWS
}
end_of_file_cleanup()
{
	stop_pidfile nfcapd.pid
}

# live MODE: LIVE_FLOWS flows replayed through a veth pair into a
# capture that ends when its window closes (MODE window) or at SIGTERM
# (MODE sigterm); every flow ends then.  MODE idle: the flows go idle
# together a second after the replay, long before the window closes, so
# they all expire during the capture.
live()
{
	local line received dropped metered ending

	net_up
	mkcapture $LIVE_FLOWS
	start_nfcapd "$NS_RX"
	ending=forced
	[ "$1" = idle ] && ending=idle
	start_probe -m 1048576 -V 9 -n "127.0.0.1:$PORT" \
	    ${WINDOW:+-w "$WINDOW"} $([ "$1" = idle ] && echo -t inactive=1)
	atf_check -s exit:0 -o ignore -e ignore ip netns exec "$NS_TX" \
	    tcpreplay -q -i "$TX" --pps="$LIVE_PPS" in.pcap
	if [ "$1" = idle ]; then
		# Well before the window closes, at the send rate, every
		# record must have left: the summary SIGUSR1 asks for says.
		sleep $IDLE_SENT
		running probe.pid || fail_probe "flowprobe ended too soon"
		kill -USR1 "$(cat probe.pid)"
		sleep 0.5
		grep -q "flowprobe: $LIVE_FLOWS records in " probe.err ||
		    fail_probe "not every record sent ${IDLE_SENT} s after" \
		    "the replay"
	fi
	if [ "$1" = sigterm ]; then
		# The last packets are metered once the capture is drained.
		sleep 0.5
		running probe.pid || fail_probe "flowprobe ended too soon"
		kill -TERM "$(cat probe.pid)"
	fi
	wait_exit probe.pid $BOUND
	[ "$(cat probe.pid.status)" -eq 0 ] || fail_probe "flowprobe failed"
	stop_nfcapd "$NS_RX"

	# The last summary, the one at exit.
	line=$(grep "TPACKET_V3 on $RX: " probe.err | tail -1)
	[ -n "$line" ] || fail_probe "no capture line in the summary"
	received=$(echo "$line" | awk '{ print $5 }')
	dropped=$(echo "$line" | awk '{ print $8 }')
	metered=$(awk '/ packets read: / { n = $5 } END { print n }' probe.err)
	[ "$metered" -gt $((LIVE_FLOWS / 2)) ] ||
	    fail_probe "only $metered of $LIVE_FLOWS packets metered"
	grep -Eq "flowprobe: $metered flows: (.* )?$metered $ending" probe.err ||
	    fail_probe "the flows did not all end $ending"
	# Packets the kernel dropped are not the exporter's loss; the rest
	# must all reach the collector.
	[ "$dropped" -eq 0 ] && [ "$received" -eq $LIVE_FLOWS ] ||
	    echo "note: $received received, $dropped dropped by the kernel" >&2
	check_all "$metered"
}

atf_test_case end_of_window cleanup
end_of_window_head()
{
	atf_set "descr" "$LIVE_FLOWS flows captured live end when the -w" \
	    "window closes: nfcapd, with its default socket buffer, gets" \
	    "every record with no sequence error"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
end_of_window_body()
{
	live window
}
end_of_window_cleanup()
{
	stop_all
}

atf_test_case sigterm cleanup
sigterm_head()
{
	atf_set "descr" "$LIVE_FLOWS flows captured live end at SIGTERM:" \
	    "nfcapd, with its default socket buffer, gets every record" \
	    "with no sequence error"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
sigterm_body()
{
	WINDOW=
	live sigterm
}
sigterm_cleanup()
{
	stop_all
}

atf_test_case idle_during_capture cleanup
idle_during_capture_head()
{
	atf_set "descr" "$LIVE_FLOWS flows captured live go idle at once" \
	    "mid-run: the expiry keeps to the send rate without stalling" \
	    "capture, and nfcapd gets every record"
	atf_set "require.progs" "ip nfcapd nfdump tcpreplay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
idle_during_capture_body()
{
	WINDOW=$IDLE_WINDOW
	live idle
}
idle_during_capture_cleanup()
{
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case end_of_file
	atf_add_test_case end_of_window
	atf_add_test_case sigterm
	atf_add_test_case idle_during_capture
}
