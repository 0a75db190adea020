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
# The command line of flowprobe as a user meets it: every bad invocation
# and its exit status (sysexits), bad and odd input files, and the text
# output of -r without -n, line for line, for every savefile variant
# tests/mkpcap can write.  Nothing here touches the network.
#

# Four flows in time order, one of each kind the output format treats
# apart: TCP ended by FIN (tcpend expires it before the file ends),
# IPv6 UDP, ICMP echo (type.code as the port) and a VLAN-tagged flow.
SPEC_MIXED='tcp 10.0.0.1 10.0.0.2 1234 80 10 400 1700000000000 150 flags=24 first=2 last=17
udp 2001:db8::1 2001:db8::2 5353 53 4 120 1700000002000 250
icmp 10.0.0.3 10.0.0.4 8 0 3 84 1700000004000 1000
udp 10.0.1.1 10.0.1.2 1111 2222 2 200 1700000008000 500 vlan=42'

EXPECT_MIXED='2023-11-14 22:13:20.000 1.350 TCP 10.0.0.1:1234 -> 10.0.0.2:80 10 4000 ...AP.SF end
2023-11-14 22:13:22.000 0.750 UDP [2001:db8::1]:5353 -> [2001:db8::2]:53 4 480 ........ forced
2023-11-14 22:13:24.000 2.000 ICMP 10.0.0.3:0 -> 10.0.0.4:8.0 3 252 ........ forced
2023-11-14 22:13:28.000 0.500 UDP 10.0.1.1:1111 -> 10.0.1.2:2222 2 400 ........ forced vlan 42'

# Per address family, for link types that carry one family only.
SPEC_V4='tcp 192.0.2.1 192.0.2.2 40000 443 6 1000 1700000000000 10 flags=16 first=2 last=20
udp 192.0.2.3 192.0.2.4 53 33333 2 76 1700000001000 5
icmp 192.0.2.5 192.0.2.6 3 3 1 56 1700000002000 0
sctp 192.0.2.7 192.0.2.8 2905 2905 3 100 1700000003000 7'

SPEC_V6='tcp 2001:db8::10 2001:db8::20 50000 22 5 200 1700000000000 20 flags=24 first=2 last=17
udp 2001:db8::30 2001:db8::40 123 123 3 76 1700000001000 1
icmp6 2001:db8::50 2001:db8::60 128 0 2 104 1700000002000 1000'

flowprobe()
{
	echo "$(atf_get_srcdir)/../flowprobe"
}

# mkpcap SPEC OUT [mkpcap options]
mkpcap()
{
	local spec out

	spec=$1
	out=$2
	shift 2
	printf '%s\n' "$spec" >"$out.spec"
	atf_check -s exit:0 -o empty -e empty \
	    "$(atf_get_srcdir)/mkpcap" "$@" -o "$out" <"$out.spec"
}

# A bad command line: exit 64, nothing on stdout, exactly one message
# naming the program and the usage synopsis on stderr.  glibc's getopt
# names the program by argv[0], a path here, so the message may too.
check_usage()
{
	atf_check -s exit:64 -o empty -e save:stderr "$(flowprobe)" "$@"
	grep -q '^usage: flowprobe ' stderr ||
	    atf_fail "no usage line for: $*"
	[ "$(grep -c '^[^ ]*flowprobe: ' stderr)" -eq 1 ] ||
	    atf_fail "not one message for: $* ($(tr '\n' '|' <stderr))"
}

# Runs flowprobe in text mode, stdout sorted into $1: flows that end at
# the same moment come out in the cache's order, which is no contract.
text_flows()
{
	local out

	out=$1
	shift
	atf_check -s exit:0 -o save:$out.raw -e empty env TZ=UTC \
	    "$(flowprobe)" -q "$@"
	sort $out.raw >$out
}

atf_test_case bad_option
bad_option_head()
{
	atf_set "descr" "An unknown option is a usage error"
}
bad_option_body()
{
	mkpcap "$SPEC_V4" in.pcap
	check_usage -x -r in.pcap
}

atf_test_case bad_version
bad_version_head()
{
	atf_set "descr" "-V takes 5, 9 or 10 only"
}
bad_version_body()
{
	mkpcap "$SPEC_V4" in.pcap
	check_usage -V 7 -r in.pcap
	check_usage -V 9x -r in.pcap
}

atf_test_case bad_maxflows
bad_maxflows_head()
{
	atf_set "descr" "-m takes a positive number"
}
bad_maxflows_body()
{
	mkpcap "$SPEC_V4" in.pcap
	check_usage -m 0 -r in.pcap
	check_usage -m abc -r in.pcap
	check_usage -m -5 -r in.pcap
}

atf_test_case bad_rate
bad_rate_head()
{
	atf_set "descr" "-R takes a number of datagrams a second, 0 or more"
}
bad_rate_body()
{
	mkpcap "$SPEC_V4" in.pcap
	check_usage -R abc -r in.pcap
	check_usage -R -1 -r in.pcap
	check_usage -R 10000001 -r in.pcap
	check_usage -R 4000:0 -r in.pcap
	check_usage -R 4000: -r in.pcap
	check_usage -R :8 -r in.pcap
	check_usage -r in.pcap -R
}

atf_test_case bad_timeouts
bad_timeouts_head()
{
	atf_set "descr" "-t takes known name=seconds pairs only"
}
bad_timeouts_body()
{
	mkpcap "$SPEC_V4" in.pcap
	check_usage -t bogus=1 -r in.pcap
	check_usage -t inactive=x -r in.pcap
	check_usage -t inactive -r in.pcap
	check_usage -t inactive=5,active -r in.pcap
}

atf_test_case bad_collector
bad_collector_head()
{
	atf_set "descr" "-n rejects an empty name, a bad port and an" \
	    "unclosed IPv6 bracket as usage errors"
}
bad_collector_body()
{
	mkpcap "$SPEC_V4" in.pcap
	check_usage -n '' -r in.pcap
	check_usage -n 'localhost:99999' -r in.pcap
	check_usage -n '127.0.0.1:99999' -r in.pcap
	check_usage -n '[::1' -r in.pcap
}

atf_test_case extra_operand
extra_operand_head()
{
	atf_set "descr" "An operand after the options is a usage error"
}
extra_operand_body()
{
	mkpcap "$SPEC_V4" in.pcap
	check_usage -r in.pcap extra
}

atf_test_case no_input
no_input_head()
{
	atf_set "descr" "Without -r there is nothing to do: usage error"
}
no_input_body()
{
	check_usage
	check_usage -q -V 5
}

atf_test_case input_conflicts
input_conflicts_head()
{
	atf_set "descr" "Options that contradict each other or lack their" \
	    "argument are usage errors, each with one message"
}
input_conflicts_body()
{
	mkpcap "$SPEC_V4" in.pcap
	check_usage -r in.pcap -i lo
	check_usage -r
	check_usage -r in.pcap -n
	check_usage -w 5 -r in.pcap
	check_usage -F /dev/null -r in.pcap
	check_usage -p -r in.pcap
	check_usage -s 128 -r in.pcap
	check_usage -D -r in.pcap -n 127.0.0.1
	check_usage -D -i lo
	check_usage -c 0 -r in.pcap
	check_usage -s 10 -i lo
	check_usage -i ''
	check_usage -i 0:lo
	check_usage -u '' -r in.pcap
	check_usage -T 0 -r in.pcap
	check_usage -T 60:0 -r in.pcap
	check_usage -E 4294967296 -r in.pcap
	check_usage -n 127.0.0.1 -n 127.0.0.1 -n 127.0.0.1 -n 127.0.0.1 \
	    -n 127.0.0.1 -n 127.0.0.1 -n 127.0.0.1 -n 127.0.0.1 \
	    -n 127.0.0.1 -r in.pcap
}

atf_test_case flood
flood_head()
{
	atf_set "descr" "More distinct flows than the cache holds: the" \
	    "oldest are exported early as evicted and every packet is in" \
	    "some record"
}
flood_body()
{
	local n

	# 5000 flows of 3 packets, interleaved, through a cache of 100.
	awk 'BEGIN { for (i = 0; i < 5000; i++)
		printf("udp 10.%d.%d.1 10.200.0.1 %d 53 3 100 %d 1000\n",
		    int(i / 250), i % 250, 1024 + i, 1700000000000 + i) }' \
	    >flood.spec
	atf_check -s exit:0 -o empty -e empty "$(atf_get_srcdir)/mkpcap" \
	    -o flood.pcap <flood.spec
	atf_check -s exit:0 -o save:out -e save:err env TZ=UTC \
	    "$(flowprobe)" -m 100 -r flood.pcap
	atf_check -o inline:"15000 1500000\n" \
	    awk '{ p += $8; b += $9 } END { print p, b }' out
	n=$(grep -c ' evicted$' out)
	[ "$n" -gt 4000 ] || atf_fail "only $n flows evicted"
	grep -q " $n evicted; at most 100 at once" err ||
	    atf_fail "summary does not count $n evictions: $(cat err)"
}

atf_test_case missing_file
missing_file_head()
{
	atf_set "descr" "A file that cannot be opened exits 66, naming it"
}
missing_file_body()
{
	atf_check -s exit:66 -o empty -e match:'no-such\.pcap' \
	    "$(flowprobe)" -q -r no-such.pcap
}

atf_test_case not_pcap
not_pcap_head()
{
	atf_set "descr" "A file that is no savefile exits 65, 'not a pcap'"
}
not_pcap_body()
{
	echo 'This is a text file, not a capture at all.' >text.pcap
	atf_check -s exit:65 -o empty -e match:'not a pcap' \
	    "$(flowprobe)" -q -r text.pcap
	: >empty.pcap
	atf_check -s exit:65 -o empty -e not-empty \
	    "$(flowprobe)" -q -r empty.pcap
}

atf_test_case pcapng
pcapng_head()
{
	atf_set "descr" "A pcapng file is refused with exit 65"
}
pcapng_body()
{
	# Section header block: type, length 28, byte-order magic, version
	# 1.0, section length -1, length again.
	printf '\012\015\015\012\034\000\000\000\115\074\053\032\001\000' \
	    >ng.pcapng
	printf '\000\000\377\377\377\377\377\377\377\377\034\000\000\000' \
	    >>ng.pcapng
	atf_check -s exit:65 -o empty -e not-empty \
	    "$(flowprobe)" -q -r ng.pcapng
}

atf_test_case truncated
truncated_head()
{
	atf_set "descr" "A capture cut inside its last record exits 65 after" \
	    "printing the flows of every complete record"
}
truncated_body()
{
	local size

	mkpcap 'udp 10.0.0.1 10.0.0.2 1000 2000 3 100 1700000000000 1000
udp 10.0.0.3 10.0.0.4 3000 4000 2 100 1700000005000 1000' in.pcap
	size=$(wc -c <in.pcap)
	head -c $((size - 10)) in.pcap >cut.pcap
	cat >expout <<'EOF'
2023-11-14 22:13:20.000 2.000 UDP 10.0.0.1:1000 -> 10.0.0.2:2000 3 300 ........ forced
2023-11-14 22:13:25.000 0.000 UDP 10.0.0.3:3000 -> 10.0.0.4:4000 1 100 ........ forced
EOF
	atf_check -s exit:65 -o save:out.raw -e not-empty env TZ=UTC \
	    "$(flowprobe)" -q -r cut.pcap
	sort out.raw >out
	atf_check -o file:expout cat out
}

atf_test_case unresolvable_collector
unresolvable_collector_head()
{
	atf_set "descr" "A collector name that does not resolve exits 68"
}
unresolvable_collector_body()
{
	mkpcap "$SPEC_V4" in.pcap
	atf_check -s exit:68 -o empty -e match:'no-such-host\.invalid' \
	    "$(flowprobe)" -q -n no-such-host.invalid -r in.pcap
}

atf_test_case text_output
text_output_head()
{
	atf_set "descr" "The text output of a known capture, line for line"
}
text_output_body()
{
	mkpcap "$SPEC_MIXED" in.pcap
	printf '%s\n' "$EXPECT_MIXED" | sort >expout
	text_flows out -r in.pcap
	atf_check -o file:expout cat out
}

atf_test_case text_output_stdin
text_output_stdin_head()
{
	atf_set "descr" "-r - reads the capture from stdin"
}
text_output_stdin_body()
{
	mkpcap "$SPEC_MIXED" in.pcap
	printf '%s\n' "$EXPECT_MIXED" | sort >expout
	atf_check -s exit:0 -o save:out.raw -e empty -x \
	    "TZ=UTC '$(flowprobe)' -q -r - <in.pcap"
	sort out.raw >out
	atf_check -o file:expout cat out
	atf_check -s exit:0 -o save:out2.raw -e empty -x \
	    "cat in.pcap | TZ=UTC '$(flowprobe)' -q -r -"
	sort out2.raw >out2
	atf_check -o file:expout cat out2
}

atf_test_case summary
summary_head()
{
	atf_set "descr" "Without -q a summary goes to stderr: the packets" \
	    "read, then the flows; stdout has only the flows"
}
summary_body()
{
	mkpcap "$SPEC_MIXED" in.pcap
	atf_check -s exit:0 -o save:out -e save:err env TZ=UTC \
	    "$(flowprobe)" -r in.pcap
	[ "$(wc -l <out)" -eq 4 ] || atf_fail "not 4 flows on stdout"
	# Text mode exports nothing, so the export line may be left out.
	[ "$(wc -l <err)" -ge 2 ] || atf_fail "summary is under 2 lines"
	[ "$(grep -vc '^flowprobe: ' err)" -eq 0 ] ||
	    atf_fail "summary lines do not all start with 'flowprobe: '"
	sed -n 1p err | grep -Eq '(^|[^0-9])19([^0-9]|$)' ||
	    atf_fail "first summary line lacks the 19 packets read"
	sed -n 2p err | grep -Eq '(^|[^0-9])4([^0-9]|$)' ||
	    atf_fail "second summary line lacks the 4 flows"
}

atf_test_case inactive_timeout
inactive_timeout_head()
{
	atf_set "descr" "-t inactive: packets further apart than the timeout" \
	    "are separate flows, ended idle"
}
inactive_timeout_body()
{
	mkpcap 'udp 10.0.0.1 10.0.0.2 1000 2000 3 100 1700000000000 3000' \
	    in.pcap
	cat >expout <<'EOF'
2023-11-14 22:13:20.000 0.000 UDP 10.0.0.1:1000 -> 10.0.0.2:2000 1 100 ........ idle
2023-11-14 22:13:23.000 0.000 UDP 10.0.0.1:1000 -> 10.0.0.2:2000 1 100 ........ idle
2023-11-14 22:13:26.000 0.000 UDP 10.0.0.1:1000 -> 10.0.0.2:2000 1 100 ........ forced
EOF
	text_flows out -t inactive=2 -r in.pcap
	atf_check -o file:expout cat out
	# With the default of 15 seconds it is one flow.
	text_flows out15 -r in.pcap
	atf_check -o inline:'2023-11-14 22:13:20.000 6.000 UDP 10.0.0.1:1000 -> 10.0.0.2:2000 3 300 ........ forced\n' \
	    cat out15
}

atf_test_case maxflows
maxflows_head()
{
	atf_set "descr" "-m: a full cache evicts a flow rather than losing" \
	    "packets"
}
maxflows_body()
{
	mkpcap 'udp 10.0.0.1 10.0.0.2 1 1 2 100 1700000000000 10
udp 10.0.0.3 10.0.0.4 2 2 2 100 1700000000100 10
udp 10.0.0.5 10.0.0.6 3 3 2 100 1700000000200 10' in.pcap
	text_flows out -m 2 -r in.pcap
	[ "$(wc -l <out)" -eq 3 ] || atf_fail "not 3 flows"
	[ "$(grep -c ' evicted$' out)" -eq 1 ] || atf_fail "not 1 evicted"
	[ "$(awk '{ n += $8 } END { print n }' out)" -eq 6 ] ||
	    atf_fail "packets lost"
}

# Every savefile variant of the same flows prints the same lines as
# plain little-endian microsecond Ethernet.
variants_check()
{
	local spec l

	spec=$1
	shift
	mkpcap "$spec" ref.pcap
	text_flows ref -r ref.pcap
	[ -s ref ] || atf_fail "no flows from the reference capture"
	for l in "$@"; do
		mkpcap "$spec" "l-$l.pcap" -l "$l"
		text_flows "l-$l" -r "l-$l.pcap"
		atf_check -o file:ref cat "l-$l"
	done
	mkpcap "$spec" b.pcap -b
	text_flows b -r b.pcap
	atf_check -o file:ref cat b
	mkpcap "$spec" n.pcap -n
	text_flows n -r n.pcap
	atf_check -o file:ref cat n
	mkpcap "$spec" bn.pcap -b -n
	text_flows bn -r bn.pcap
	atf_check -o file:ref cat bn
	mkpcap "$spec" s.pcap -s 96
	text_flows s -r s.pcap
	atf_check -o file:ref cat s
}

atf_test_case variants_ipv4
variants_ipv4_head()
{
	atf_set "descr" "IPv4 flows read the same from every link type and" \
	    "with -b, -n and -s captures"
}
variants_ipv4_body()
{
	variants_check "$SPEC_V4" en10mb null loop raw ipv4 sll sll2
}

atf_test_case variants_ipv6
variants_ipv6_head()
{
	atf_set "descr" "IPv6 flows read the same from every link type and" \
	    "with -b, -n and -s captures"
}
variants_ipv6_body()
{
	variants_check "$SPEC_V6" en10mb null loop raw ipv6 sll sll2
}

atf_init_test_cases()
{
	atf_add_test_case input_conflicts
	atf_add_test_case flood
	atf_add_test_case bad_option
	atf_add_test_case bad_version
	atf_add_test_case bad_maxflows
	atf_add_test_case bad_rate
	atf_add_test_case bad_timeouts
	atf_add_test_case bad_collector
	atf_add_test_case extra_operand
	atf_add_test_case no_input
	atf_add_test_case missing_file
	atf_add_test_case not_pcap
	atf_add_test_case pcapng
	atf_add_test_case truncated
	atf_add_test_case unresolvable_collector
	atf_add_test_case text_output
	atf_add_test_case text_output_stdin
	atf_add_test_case summary
	atf_add_test_case inactive_timeout
	atf_add_test_case maxflows
	atf_add_test_case variants_ipv4
	atf_add_test_case variants_ipv6
}
