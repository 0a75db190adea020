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
# flowprobe against the shared public captures: on real traffic its flows
# must add up to what tshark sees in the outermost IP header of every
# frame, and no broken capture may crash it or upset a sanitizer.  The
# captures live outside the tree; without them every case is skipped.
#

# Files where flowprobe and tshark disagree on purpose, each with the
# exact totals on both sides so that the entry fails once either side
# changes:  FILE FP_PACKETS FP_BYTES TSHARK_PACKETS TSHARK_BYTES  reason.
KNOWN_DIFFERENCES='
tcpreplay-test.pcap 175 64422 176 64677 frame 11 claims an IPv4 total length of 255 with 100 bytes on the wire: invalid to flowprobe, 255 bytes to tshark'

# Sets dir to the capture folder $1, or skips the test case.  Not a
# command substitution: atf_skip in a subshell would only end that.
pcaps_dir()
{
	dir="$(atf_get_srcdir)/../../shared/pcaps/$1"
	[ -d "$dir" ] || atf_skip "no capture folder $dir"
}

# Runs a command for at most $1 seconds where timeout(1) exists; an
# infinite loop then shows up as status 124 instead of hanging the suite.
bounded()
{
	local secs

	secs=$1
	shift
	if command -v timeout >/dev/null 2>&1; then
		timeout -s KILL "$secs" "$@"
	else
		"$@"
	fi
}

# "PACKETS BYTES" of flowprobe's text output for file $1.
flowprobe_totals()
{
	local rc

	bounded 120 "$(atf_get_srcdir)/../flowprobe" -q -r "$1" >fp.out \
	    2>fp.err
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "exit $rc: $(head -3 fp.err)"
		return
	fi
	awk '{ p += $8; b += $9 } END { printf("%.0f %.0f\n", p, b) }' \
	    fp.out
}

# "PACKETS BYTES" of the outermost IPv4 or IPv6 header of every frame in
# file $1 as tshark decodes it, reassembly off: IPv4 total length, or
# IPv6 payload length plus the 40 bytes of the fixed header.
tshark_totals()
{
	bounded 300 tshark -n -r "$1" -o ip.defragment:FALSE \
	    -o ipv6.defragment:FALSE -T fields -E separator=/t \
	    -e frame.protocols -e ip.len -e ipv6.plen 2>/dev/null | awk -F '\t' '
	{
		n = split($1, proto, ":")
		for (i = 1; i <= n; i++) {
			if (proto[i] == "ip") {
				split($2, len, ",")
				p++
				b += len[1]
				break
			}
			if (proto[i] == "ipv6") {
				split($3, len, ",")
				p++
				b += len[1] + 40
				break
			}
		}
	}
	END { printf("%.0f %.0f\n", p, b) }'
}

atf_test_case traffic
traffic_head()
{
	atf_set "descr" "For every capture in traffic/, flowprobe's flows" \
	    "carry the packets and IP bytes tshark counts, or the listed" \
	    "difference exactly"
	atf_set "require.progs" "tshark"
	atf_set "timeout" "1200"
}
traffic_body()
{
	local dir f name fp ts known bad n

	pcaps_dir traffic
	bad=0
	n=0
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		name=${f##*/}
		fp=$(flowprobe_totals "$f")
		ts=$(tshark_totals "$f")
		known=$(printf '%s\n' "$KNOWN_DIFFERENCES" |
		    awk -v f="$name" '$1 == f { print $2, $3, $4, $5 }')
		if [ -n "$known" ]; then
			if [ "$fp $ts" != "$known" ]; then
				echo "$name: flowprobe $fp, tshark $ts;" \
				    "listed as $known" >&2
				bad=$((bad + 1))
			fi
		elif [ "$fp" != "$ts" ]; then
			echo "$name: flowprobe $fp, tshark $ts" >&2
			bad=$((bad + 1))
		fi
	done
	[ $n -gt 0 ] || atf_fail "no capture in $dir"
	[ $bad -eq 0 ] || atf_fail "$bad of $n captures differ (see stderr)"
	# A listed file that went away is a stale entry.
	for name in $(printf '%s\n' "$KNOWN_DIFFERENCES" | awk 'NF { print $1 }')
	do
		[ -f "$dir/$name" ] || atf_fail "listed $name is not in $dir"
	done
}

atf_test_case malformed
malformed_head()
{
	atf_set "descr" "Every capture in malformed/ is read to an exit" \
	    "status of 0 or 65, never a signal or a sanitizer report"
	atf_set "timeout" "1200"
}
malformed_body()
{
	local dir f name rc bad n

	pcaps_dir malformed
	bad=0
	n=0
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		name=${f##*/}
		bounded 60 "$(atf_get_srcdir)/../flowprobe" -q -r "$f" \
		    >/dev/null 2>err
		rc=$?
		case $rc in
		0|65)	;;
		*)	echo "$name: exit status $rc" >&2
			bad=$((bad + 1))
			continue ;;
		esac
		if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' \
		    err; then
			echo "$name: sanitizer report:" >&2
			cat err >&2
			bad=$((bad + 1))
		fi
	done
	[ $n -gt 0 ] || atf_fail "no capture in $dir"
	[ $bad -eq 0 ] || atf_fail "$bad of $n captures failed (see stderr)"
}

atf_init_test_cases()
{
	atf_add_test_case traffic
	atf_add_test_case malformed
}
