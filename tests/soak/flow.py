#!/usr/bin/env python3
"""A TCP session whose every byte is checked, for tests over the VPN.

  flow.py serve ADDR PORT
  flow.py send ADDR PORT [--rate BYTES_PER_S] [--window BYTES]
               [--secs S] [--reconnect]

The sender writes a stream in which byte i of a connection is i % 251;
the server checks every byte and echoes it back; the sender checks the
echo. At most --window bytes are unechoed, and no more than --rate
bytes/s are sent. Every 0.2 s the sender prints one line

  ms=<unix ms> sent=<bytes> echoed=<bytes> conns=<n> errors=<n>

(counts over all its connections) and at the end a last one, then
"done". A reset, an end of stream or a wrong byte prints "error: ...";
without --reconnect that ends the sender (exit 1), with it the sender
opens a new connection after 1 s and goes on. SIGTERM ends it cleanly
(exit 0) after the last line.
"""
import selectors
import signal
import socket
import sys
import threading
import time

PERIOD = 251
PATTERN = bytes(i % PERIOD for i in range(PERIOD * 264))  # > 64 KiB + 251
CHUNK = 16384


def expected(off, n):
    """The n bytes of the stream at offset off (n <= 65536)."""
    start = off % PERIOD
    return PATTERN[start:start + n]


def check(data, off):
    if data != expected(off, len(data)):
        bad = next(i for i, b in enumerate(data) if b != (off + i) % PERIOD)
        raise ValueError("wrong byte at offset %d" % (off + bad))


def serve_one(conn, peer):
    off = 0
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            check(data, off)
            off += len(data)
            conn.sendall(data)
    except (OSError, ValueError) as e:
        print("error: %s from %s after %d bytes" % (e, peer, off), flush=True)
    finally:
        conn.close()
    print("closed %s after %d bytes" % (peer, off), flush=True)


def serve(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(8)
    while True:
        conn, peer = s.accept()
        print("accepted %s" % (peer,), flush=True)
        threading.Thread(target=serve_one, args=(conn, peer),
                         daemon=True).start()


class Sender:
    def __init__(self, addr, port, rate, window):
        self.addr, self.port = addr, port
        self.rate, self.window = rate, window
        self.sent = self.echoed = 0        # totals
        self.conns = self.errors = 0
        self.stop = False

    def line(self):
        print("ms=%d sent=%d echoed=%d conns=%d errors=%d" %
              (time.time() * 1000, self.sent, self.echoed, self.conns,
               self.errors), flush=True)

    def session(self, until):
        """One connection until `until`, SIGTERM or an error (raised)."""
        s = socket.create_connection((self.addr, self.port), timeout=5)
        s.setblocking(False)
        self.conns += 1
        sel = selectors.DefaultSelector()
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
        t0 = time.monotonic()
        out = back = 0                     # this connection's offsets
        next_line = 0.0
        try:
            while not self.stop and time.monotonic() < until:
                now = time.monotonic()
                if now >= next_line:
                    self.line()
                    next_line = now + 0.2
                allowed = min(CHUNK, self.window - (out - back),
                              int(self.rate * (now - t0)) - out)
                want = selectors.EVENT_READ
                if allowed > 0:
                    want |= selectors.EVENT_WRITE
                sel.modify(s, want)
                for _, ev in sel.select(0.02):
                    if ev & selectors.EVENT_READ:
                        data = s.recv(65536)
                        if not data:
                            raise ConnectionError("end of stream")
                        check(data, back)
                        back += len(data)
                        self.echoed += len(data)
                    if ev & selectors.EVENT_WRITE and allowed > 0:
                        n = s.send(expected(out, allowed))
                        out += n
                        self.sent += n
            self.drain(s, back)
        finally:
            sel.close()
            s.close()

    def drain(self, s, back):
        """End the stream and take the rest of the echo (2 s at most)."""
        s.shutdown(socket.SHUT_WR)
        s.settimeout(2)
        while True:
            data = s.recv(65536)
            if not data:
                return
            check(data, back)
            back += len(data)
            self.echoed += len(data)

    def run(self, secs, reconnect):
        until = time.monotonic() + secs
        while not self.stop and time.monotonic() < until:
            try:
                self.session(until)
            except (OSError, ValueError) as e:
                self.errors += 1
                print("error: %s" % e, flush=True)
                if not reconnect:
                    self.line()
                    return 1
                time.sleep(1)
        self.line()
        print("done", flush=True)
        return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "serve":
        serve(argv[2], int(argv[3]))
        return 0
    if len(argv) < 4 or argv[1] != "send":
        print(__doc__, file=sys.stderr)
        return 2
    opts = {"--rate": 1e6, "--window": 262144, "--secs": 1e9}
    reconnect = False
    args = argv[4:]
    while args:
        a = args.pop(0)
        if a == "--reconnect":
            reconnect = True
        elif a in opts and args:
            opts[a] = float(args.pop(0))
        else:
            print("flow.py: bad argument %r" % a, file=sys.stderr)
            return 2
    snd = Sender(argv[2], int(argv[3]), opts["--rate"], int(opts["--window"]))

    def on_term(*_):
        snd.stop = True
    signal.signal(signal.SIGTERM, on_term)
    return snd.run(opts["--secs"], reconnect)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
