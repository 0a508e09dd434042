#!/usr/bin/env python3
"""connflood: a sustained TCP connection flood, for t-conn-flood.sh.

  connflood.py HOST PORT RATE SECS [SRC...]

Opens RATE connections a second for SECS seconds, from the source
addresses SRC in turn (the kernel's choice if none), sends nothing, and
keeps each open until the target closes it (a connect unanswered after
2 s is given up). At the end, one line:

  flood opened=N connected=N closed=N held_max=N

closed counts the connections the target closed; held_max is the most
connections open at once that had been open a second or more: what the
target let one flood hold.
"""
import resource
import selectors
import socket
import sys
import time


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    rate, secs = float(sys.argv[3]), float(sys.argv[4])
    srcs = sys.argv[5:] or [None]
    need = int(rate * secs) + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

    sel = selectors.DefaultSelector()
    born = {}          # socket -> when its connect started
    up = {}            # socket -> when it connected
    opened = connected = closed = held_max = 0
    t0 = time.monotonic()
    next_sample = t0

    def drop(s):
        sel.unregister(s)
        born.pop(s, None)
        up.pop(s, None)
        s.close()

    while True:
        now = time.monotonic()
        if now - t0 >= secs:
            break
        while opened < int((now - t0) * rate):
            s = socket.socket()
            s.setblocking(False)
            src = srcs[opened % len(srcs)]
            if src:
                s.bind((src, 0))
            s.connect_ex((host, port))
            sel.register(s, selectors.EVENT_WRITE)
            born[s] = now
            opened += 1
        for key, ev in sel.select(0.005):
            s = key.fileobj
            if s not in up:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    drop(s)
                    continue
                up[s] = now
                connected += 1
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                gone = not s.recv(4096)
            except OSError:
                gone = True
            if gone:
                closed += 1
                drop(s)
        for s in [s for s, t in born.items()
                  if s not in up and now - t > 2]:
            drop(s)
        if now >= next_sample:
            next_sample = now + 0.1
            held = sum(1 for t in up.values() if now - t >= 1)
            held_max = max(held_max, held)
    print(f"flood opened={opened} connected={connected} closed={closed} "
          f"held_max={held_max}", flush=True)
    for s in list(born):
        drop(s)


main()
