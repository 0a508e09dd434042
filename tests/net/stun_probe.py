#!/usr/bin/env python3
"""RFC 5389 STUN Binding client for the namespace tests.

  stun_probe.py SERVER [PORT] [-b ADDR:PORT] [-r] [-t SECS] [-n TRIES]

Sends a Binding request (type 0x0001, magic cookie 0x2112A442, random
96-bit transaction id) over UDP to SERVER:PORT (default 3478) and prints
the mapped address of the success response as "IP PORT": the
XOR-MAPPED-ADDRESS (0x0020), else a plain MAPPED-ADDRESS (0x0001).
-b binds the local socket first (-r sets SO_REUSEADDR before that), -t is
the wait per try (default 0.5 s), -n the number of tries (default 4).
Exit status: 0 mapped address printed, 1 no answer, 2 bad or error answer.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time

MAGIC = 0x2112A442


def parse_addr(value, xor, txid):
    family, port = struct.unpack_from('!xBH', value)
    raw = value[4:]
    if xor:
        port ^= MAGIC >> 16
        pad = struct.pack('!I', MAGIC) + txid
        raw = bytes(a ^ b for a, b in zip(raw, pad))
    if family == 1 and len(raw) >= 4:
        return socket.inet_ntop(socket.AF_INET, raw[:4]), port
    if family == 2 and len(raw) >= 16:
        return socket.inet_ntop(socket.AF_INET6, raw[:16]), port
    return None


def parse(msg, txid):
    """(ip, port) of a success response to txid; None if not ours;
    raise ValueError for an error response or a malformed one."""
    if len(msg) < 20:
        return None
    mtype, length, cookie = struct.unpack_from('!HHI', msg)
    if cookie != MAGIC or msg[8:20] != txid:
        return None
    if mtype == 0x0111:
        raise ValueError('error response')
    if mtype != 0x0101 or 20 + length > len(msg):
        raise ValueError('bad response type 0x%04x' % mtype)
    found = {}
    pos = 20
    while pos + 4 <= 20 + length:
        atype, alen = struct.unpack_from('!HH', msg, pos)
        value = msg[pos + 4:pos + 4 + alen]
        if len(value) < alen:
            raise ValueError('truncated attribute 0x%04x' % atype)
        if atype in (0x0020, 0x0001) and alen >= 8:
            found.setdefault(atype, parse_addr(value, atype == 0x0020, txid))
        pos += 4 + (alen + 3) // 4 * 4
    addr = found.get(0x0020) or found.get(0x0001)
    if not addr:
        raise ValueError('no mapped address')
    return addr


def main():
    ap = argparse.ArgumentParser(description='STUN Binding request')
    ap.add_argument('server')
    ap.add_argument('port', nargs='?', type=int, default=3478)
    ap.add_argument('-b', '--bind')
    ap.add_argument('-r', '--reuseaddr', action='store_true')
    ap.add_argument('-t', '--timeout', type=float, default=0.5)
    ap.add_argument('-n', '--tries', type=int, default=4)
    a = ap.parse_args()
    info = socket.getaddrinfo(a.server, a.port, 0, socket.SOCK_DGRAM)[0]
    s = socket.socket(info[0], socket.SOCK_DGRAM)
    if a.reuseaddr:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.bind:
        host, _, port = a.bind.rpartition(':')
        s.bind((host.strip('[]'), int(port)))
    txid = os.urandom(12)
    req = struct.pack('!HHI', 0x0001, 0, MAGIC) + txid
    for _ in range(a.tries):
        s.sendto(req, info[4])
        end = time.monotonic() + a.timeout
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                break
            msg, src = s.recvfrom(2048)
            try:
                addr = parse(msg, txid)
            except ValueError as e:
                print('stun_probe: %s from %s' % (e, src[0]), file=sys.stderr)
                return 2
            if addr:
                print('%s %d' % addr)
                return 0
    print('stun_probe: no answer from %s port %d' % (a.server, a.port),
          file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
