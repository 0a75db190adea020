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
# Memory over a long run: PACKETS packets of generated traffic over FLOWS
# flows streamed through flowprobe (-r -), exporting NetFlow v9 to a UDP
# sink on loopback, with flowprobe's VmRSS printed every 5 seconds.  A
# flat line after the cache has filled is the point.  Linux (/proc).
#
# usage: bench/rss.sh [packets [flows]]

packets=${1:-100000000}
flows=${2:-1000000}
port=39119
cd "$(dirname "$0")/.." || exit 1
make -s flowprobe bench/gen || exit 1

python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    s.recv(65535)
' "$port" &
sink=$!
trap 'kill $sink 2>/dev/null' EXIT INT TERM
sleep 0.5

bench/gen -p "$packets" -f "$flows" |
    ./flowprobe -q -r - -n "127.0.0.1:$port" -V 9 -m 1048576 &
sleep 1
pid=$(pgrep -n -x flowprobe)
start=$(date +%s)
while [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; do
	printf '%4d s  %s\n' $(($(date +%s) - start)) \
	    "$(grep VmRSS "/proc/$pid/status")"
	sleep 5
done
wait
