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
# End-to-end export tests: a capture with known flows goes through
# flowprobe to nfcapd (the reference collector) and, at the same time, is
# captured off the loopback and decoded by tshark (the strict decoder).
# Both views must equal the flows the capture was built from, exactly.
# Collectors and captures only ever listen on 127.0.0.1 or ::1.
#

. "$(atf_get_srcdir)/nfcapd.subr"

BASE_MS=1700000000000		# 2023-11-14 22:13:20.000 UTC
BOUND=100			# tenths of a second any wait may last

# The capture: PROTO SRC DST SPORT DPORT PACKETS SIZE START GAP [keys], START
# relative to BASE_MS.  Lines never overlap in time, so the file is in time
# order whether or not mkpcap sorts.  Flows without a port of their own
# differ by address, so that every line is exactly one flow, except the
# one split on purpose by an idle gap longer than the inactive timeout.
write_spec()
{
	{
		cat <<'EOF'
tcp 10.0.0.1 10.0.0.2 40000 80 10 1000 0 100 flags=24 first=2 last=17
tcp 10.0.0.2 10.0.0.1 80 40000 3000 1500 1000 1 flags=16 first=18 last=25
udp 10.0.0.3 10.0.0.4 5353 53 5 100 5000 10
icmp 10.0.0.5 10.0.0.6 8 0 4 84 6000 1000
udp 10.0.1.1 10.0.1.2 1111 2222 7 200 10000 100 vlan=42
udp 10.0.2.1 10.0.2.2 3333 4444 3 300 11000 50
udp 10.0.2.1 10.0.2.2 3333 4444 2 300 30000 50
udp 2001:db8::1 2001:db8::2 5000 6000 20 1200 31000 5
tcp 2001:db8::2 2001:db8::1 443 50000 2000 1280 32000 1 flags=24 first=18 last=20
icmp6 2001:db8::1 2001:db8::2 128 0 3 104 35000 100
EOF
		awk 'BEGIN {
			for (i = 1; i <= 60; i++)
				printf("udp 10.1.0.%d 10.2.0.%d %d 53 %d %d %d 3\n",
				    i, i, 20000 + i, i % 5 + 1, 60 + i,
				    36000 + 20 * i)
			for (i = 1; i <= 20; i++)
				printf("udp 2001:db8:1::%x 2001:db8:2::%x %d 443 " \
				    "%d %d %d 7\n", i, i, 30000 + i, i % 3 + 1,
				    100 + i, 37300 + 20 * i)
		}'
	} | awk -v b="$BASE_MS" '{ $8 = sprintf("%.0f", $8 + b); print }' \
	    >spec
}

mkcapture()
{
	write_spec
	atf_check -s exit:0 -o empty -e empty \
	    "$(atf_get_srcdir)/mkpcap" -o in.pcap <spec
}

# The flows of the spec (IPv4 only if $1 is "v4"), as nfdump prints them
# with -N and the fmt below, whitespace squeezed: first and last as UTC
# local time to the ms, protocol number, addresses, ports (ICMP: 0 and
# type.code), packets, bytes, TCP flags "CEUAPRSF".
expected_flows()
{
	awk -v only="$1" '
	function ts(ms,   s, z, era, doe, yoe, y, doy, mp, d, m, sod) {
		s = int(ms / 1000)
		z = int(s / 86400)
		sod = s - z * 86400
		z += 719468
		era = int(z / 146097)
		doe = z - era * 146097
		yoe = doe - int(doe / 1460) + int(doe / 36524) - \
		    int(doe / 146096)
		yoe = int(yoe / 365)
		y = yoe + era * 400
		doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
		mp = int((5 * doy + 2) / 153)
		d = doy - int((153 * mp + 2) / 5) + 1
		m = mp < 10 ? mp + 3 : mp - 9
		if (m <= 2)
			y++
		return (sprintf("%04d-%02d-%02d %02d:%02d:%02d.%03d", y, m, d,
		    int(sod / 3600), int(sod % 3600 / 60), sod % 60,
		    ms - s * 1000))
	}
	function bit(v, b) { return (int(v / 2 ^ b) % 2) }
	{
		if (only == "v4" && index($2, ":") != 0)
			next
		pr = $1 == "tcp" ? 6 : $1 == "udp" ? 17 : $1 == "icmp" ? 1 : \
		    $1 == "icmp6" ? 58 : $1 == "sctp" ? 132 : $1 + 0
		sp = $4; dp = $5
		if (pr == 1 || pr == 58) {
			dp = sp "." dp
			sp = 0
		}
		fl = "........"
		if (pr == 6) {
			f[0] = f[1] = f[2] = 0
			for (i = 10; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "flags") f[0] = kv[2] + 0
				if (kv[1] == "first") f[1] = kv[2] + 0
				if (kv[1] == "last") f[2] = kv[2] + 0
			}
			fl = ""
			for (b = 7; b >= 0; b--) {
				on = bit(f[0], b) + bit(f[1], b) + bit(f[2], b)
				fl = fl (on > 0 ? substr("FSRPAUEC", b + 1, 1) : ".")
			}
		}
		printf("%s %s %d %s %s %s %s %d %.0f %s\n", ts($8),
		    ts($8 + ($6 - 1) * $9), pr, $2, $3, sp, dp, $6, $6 * $7, fl)
	}' spec | sort
}

# The same flows as "src dst proto packets octets", what tshark shows.
expected_records()
{
	expected_flows "$1" | awk '{ print $6, $7, $5, $10, $11 }' | sort
}

# A random high port.  Collisions with a port in use are caught when
# nfcapd fails to bind; start_nfcapd then tries another.
pick_port()
{
	local r

	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $((20000 + r % 40000))
}

# Stops the process whose pid is in file $1: SIGTERM, then SIGKILL after
# BOUND tenths of a second.  A zombie child counts as gone.
stop_pidfile()
{
	local pid i st

	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	rm -f "$1"
	kill -TERM "$pid" 2>/dev/null || return 0
	i=0
	while [ $i -lt $BOUND ] && kill -0 "$pid" 2>/dev/null; do
		st=$(ps -o stat= -p "$pid" 2>/dev/null)
		case "$st" in
		Z*)	break ;;
		esac
		sleep 0.1
		i=$((i + 1))
	done
	if [ $i -ge $BOUND ]; then
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

stop_all()
{
	local f

	for f in *.pid *.tspid; do
		stop_pidfile "$f"
	done
}

# start_nfcapd NAME ADDR: an nfcapd writing to NAME.d, bound to ADDR on a
# free random port, written to NAME.port.
start_nfcapd()
{
	local name addr try i port

	name=$1
	addr=$2
	mkdir -p "$name.d"
	try=0
	while [ $try -lt 5 ]; do
		try=$((try + 1))
		port=$(pick_port)
		nfcapd -w "$name.d" -p "$port" -b "$addr" -B 8388608 \
		    -t 3600 >"$name.out" 2>"$name.err" &
		echo $! >"$name.pid"
		i=0
		while [ $i -lt $BOUND ]; do
			if grep -q '^Startup' "$name.err" 2>/dev/null; then
				echo "$port" >"$name.port"
				return 0
			fi
			kill -0 "$(cat "$name.pid")" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		stop_pidfile "$name.pid"
	done
	cat "$name.err" >&2
	atf_fail "nfcapd would not start on $addr"
}

# Waits until the kernel holds nothing more for nfcapd (bounded), then
# stops it so that it writes its file and its statistics line.
stop_nfcapd()
{
	local name port i q

	name=$1
	port=$(cat "$name.port")
	i=0
	while [ $i -lt 30 ]; do
		sleep 0.1
		i=$((i + 1))
		command -v ss >/dev/null 2>&1 || continue
		q=$(ss -Hlun "sport = :$port" 2>/dev/null | awk '{ s += $2 }
		    END { print s + 0 }')
		[ "$q" = 0 ] && [ $i -ge 3 ] && break
	done
	stop_pidfile "$name.pid"
	grep -q 'Sequence Errors:' "$name.err" ||
	    atf_fail "nfcapd $name logged no statistics: $(cat "$name.err")"
}

# The flows nfcapd stored, in the format of expected_flows.
collected_flows()
{
	TZ=UTC nfdump -6 -N -q -R "$1.d" \
	    -o 'fmt:%ts %te %pr %sa %da %sp %dp %pkt %byt %flg' |
	    awk 'NF { $1 = $1; print }' | sort
}

# check_nfcapd NAME V4ONLY: what nfcapd NAME received equals the spec,
# and nfcapd counted no sequence error and no bad packet.
check_nfcapd()
{
	local n

	expected_flows "$2" >expected.$1
	collected_flows "$1" >collected.$1
	if ! diff -u expected.$1 collected.$1 >&2; then
		atf_fail "collector $1 did not get the expected flows"
	fi
	n=$(wc -l <expected.$1)
	nfcapd_total "$1.err" >total.$1
	atf_check -s exit:0 -o ignore -e ignore grep -E \
	    "Flows: $n, .*Sequence Errors: 0, Bad Packets: 0" total.$1
}

# start_tshark NAME PORT: capture UDP to PORT on lo into NAME.cap; returns
# once the capture is really running.
start_tshark()
{
	local i

	tshark -q -i lo -f "udp port $2" -w "$1.cap" -a duration:120 \
	    >"$1.tsout" 2>"$1.tserr" &
	echo $! >"$1.tspid"
	i=0
	while [ $i -lt $BOUND ]; do
		grep -q 'Capture started' "$1.tserr" 2>/dev/null && return 0
		kill -0 "$(cat "$1.tspid")" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	cat "$1.tserr" >&2
	atf_fail "tshark would not capture on lo"
}

stop_tshark()
{
	sleep 0.3
	stop_pidfile "$1.tspid"
	[ -s "$1.cap" ] || atf_fail "tshark wrote no capture"
}

# The records tshark decodes from NAME.cap, as expected_records prints
# them.  v5 records are "pdu i/n", v9 and IPFIX ones "Flow i".
decoded_records()
{
	tshark -r "$1.cap" -d "udp.port==$2,cflow" -V 2>/dev/null | awk '
	# Options records (scope, no addresses or counters) are not flows.
	function flush() {
		if (inrec && (src != "-" || pkts != "-"))
			print src, dst, proto, pkts, octs
		inrec = 0
	}
	/^[^ ]/ || /^    [^ ]/ { flush() }
	/^ +(pdu [0-9]+\/[0-9]+|Flow [0-9]+)$/ {
		flush()
		inrec = 1
		src = dst = proto = pkts = octs = "-"
		next
	}
	!inrec { next }
	$1 == "SrcAddr:" { src = $2 }
	$1 == "DstAddr:" { dst = $2 }
	$1 == "Packets:" { pkts = $2 }
	$1 == "Octets:" { octs = $2 }
	$1 == "Protocol:" { p = $NF; gsub(/[()]/, "", p); proto = p }
	END { flush() }' | sort
}

# check_tshark NAME PORT V4ONLY: the export datagrams decode without a
# single malformed or error item, in order, and carry exactly the flows.
check_tshark()
{
	local n

	atf_check -s exit:0 -o empty -e ignore tshark -r "$1.cap" \
	    -d "udp.port==$2,cflow" \
	    -Y '_ws.malformed || _ws.expert.severity >= "error"'
	atf_check -s exit:0 -o empty -e ignore tshark -r "$1.cap" \
	    -d "udp.port==$2,cflow" -Y 'cflow.unexpected_sequence_number'
	n=$(tshark -r "$1.cap" -Y cflow 2>/dev/null -d "udp.port==$2,cflow" |
	    wc -l)
	[ "$n" -ge 3 ] ||
	    atf_fail "only $n export datagrams; the test wants several"
	expected_records "$3" >expected.$1.rec
	decoded_records "$1" "$2" >decoded.$1.rec
	if ! diff -u expected.$1.rec decoded.$1.rec >&2; then
		atf_fail "tshark decodes other records than the flows sent"
	fi
}

# export_one VERSION V4ONLY STDERR: the whole check for one export
# version; STDERR is what atf_check expects there despite -q.
export_one()
{
	local port

	mkcapture
	start_nfcapd c 127.0.0.1
	port=$(cat c.port)
	start_tshark c "$port"
	atf_check -s exit:0 -o empty -e "$3" "$(atf_get_srcdir)/../flowprobe" \
	    -q -r in.pcap -n "127.0.0.1:$port" -V "$1"
	stop_tshark c
	stop_nfcapd c
	check_nfcapd c "$2"
	check_tshark c "$port" "$2"
}

atf_test_case v5 cleanup
v5_head()
{
	atf_set "descr" "NetFlow v5 to nfcapd and tshark; IPv6 flows are" \
	    "left out and the exit status stays 0"
	atf_set "require.progs" "nfcapd nfdump tshark"
	atf_set "require.user" "root"	# tshark captures on lo
	atf_set "timeout" "120"
}
v5_body()
{
	# The IPv6 flows may be worth a warning, but not a failure.
	export_one 5 v4 ignore
}
v5_cleanup()
{
	stop_all
}

atf_test_case v9 cleanup
v9_head()
{
	atf_set "descr" "NetFlow v9 to nfcapd and tshark, IPv4 and IPv6"
	atf_set "require.progs" "nfcapd nfdump tshark"
	atf_set "require.user" "root"	# tshark captures on lo
	atf_set "timeout" "120"
}
v9_body()
{
	export_one 9 all empty
}
v9_cleanup()
{
	stop_all
}

atf_test_case ipfix cleanup
ipfix_head()
{
	atf_set "descr" "IPFIX to nfcapd and tshark, IPv4 and IPv6"
	atf_set "require.progs" "nfcapd nfdump tshark"
	atf_set "require.user" "root"	# tshark captures on lo
	atf_set "timeout" "120"
}
ipfix_body()
{
	export_one 10 all empty
}
ipfix_cleanup()
{
	stop_all
}

atf_test_case ipv6_collector cleanup
ipv6_collector_head()
{
	atf_set "descr" "IPFIX to a collector at [::1]:port"
	atf_set "require.progs" "nfcapd nfdump"
	atf_set "timeout" "120"
}
ipv6_collector_body()
{
	mkcapture
	start_nfcapd c6 ::1
	atf_check -s exit:0 -o empty -e empty "$(atf_get_srcdir)/../flowprobe" \
	    -q -r in.pcap -n "[::1]:$(cat c6.port)" -V 10
	stop_nfcapd c6
	check_nfcapd c6 all
}
ipv6_collector_cleanup()
{
	stop_all
}

atf_test_case two_collectors cleanup
two_collectors_head()
{
	atf_set "descr" "Two v9 collectors, one on IPv4 and one on IPv6," \
	    "each receive every flow"
	atf_set "require.progs" "nfcapd nfdump"
	atf_set "timeout" "120"
}
two_collectors_body()
{
	mkcapture
	start_nfcapd a 127.0.0.1
	start_nfcapd b ::1
	atf_check -s exit:0 -o empty -e empty "$(atf_get_srcdir)/../flowprobe" \
	    -q -r in.pcap -n "127.0.0.1:$(cat a.port)" -n "[::1]:$(cat b.port)" \
	    -V 9
	stop_nfcapd a
	stop_nfcapd b
	check_nfcapd a all
	check_nfcapd b all
}
two_collectors_cleanup()
{
	stop_all
}

atf_test_case dead_collector cleanup
dead_collector_head()
{
	atf_set "descr" "A collector port nobody listens on does not keep" \
	    "the other collector from getting every flow; exit status 69"
	atf_set "require.progs" "nfcapd nfdump"
	atf_set "timeout" "120"
}
dead_collector_body()
{
	local dead

	mkcapture
	start_nfcapd live 127.0.0.1
	# nfcapd listening on a random port proves that port is usable; a
	# second port one off is free unless ss says otherwise.
	dead=$(($(cat live.port) + 1))
	if command -v ss >/dev/null 2>&1 &&
	    [ -n "$(ss -Hlun "sport = :$dead")" ]; then
		dead=$((dead + 1))
	fi
	atf_check -s exit:69 -o empty -e ignore \
	    "$(atf_get_srcdir)/../flowprobe" -r in.pcap \
	    -n "127.0.0.1:$dead" -n "127.0.0.1:$(cat live.port)" -V 9
	stop_nfcapd live
	check_nfcapd live all
}
dead_collector_cleanup()
{
	stop_all
}

atf_test_case v5_split cleanup
v5_split_head()
{
	atf_set "descr" "NetFlow v5 counters are 32 bits: a flow of more" \
	    "than 2^32 - 1 bytes arrives as two records that add up, the" \
	    "first as large as v5 can carry"
	atf_set "require.progs" "nfcapd nfdump"
	atf_set "timeout" "120"
}
v5_split_body()
{
	# 70000 packets of 65535 bytes; header-only records keep the file
	# small.  65537 * 65535 = 2^32 - 1 exactly.
	echo 'udp 10.9.0.1 10.9.0.2 7000 7001 70000 65535 1700000000000 1' \
	    >split.spec
	atf_check -s exit:0 -o empty -e empty "$(atf_get_srcdir)/mkpcap" \
	    -s 64 -o split.pcap <split.spec
	start_nfcapd v5s 127.0.0.1
	atf_check -s exit:0 -o empty -e ignore \
	    "$(atf_get_srcdir)/../flowprobe" -q -r split.pcap -V 5 \
	    -n "127.0.0.1:$(cat v5s.port)"
	stop_nfcapd v5s
	nfdump -N -q -R v5s.d -o 'fmt:%pkt %byt' |
	    awk 'NF { $1 = $1; print }' | sort -n >got
	printf '4463 292482705\n65537 4294967295\n' >want
	atf_check -o file:want cat got
}
v5_split_cleanup()
{
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case v5
	atf_add_test_case v9
	atf_add_test_case ipfix
	atf_add_test_case ipv6_collector
	atf_add_test_case two_collectors
	atf_add_test_case dead_collector
	atf_add_test_case v5_split
}
