#!/usr/bin/env python3
"""Run the cloud daemon and read what it tells systemd or syslog.

  cloudrun.py notify SOCK CLOUD ARGS...   SOCK: a datagram socket made
      here, the daemon's $NOTIFY_SOCKET. Its queue is full at first, so
      the daemon's first message holds it in sendmsg (wchan
      unix_wait_for_peer): then it must accept on its gate socket ($GATE)
      and on 127.0.0.1 $PORT, and that message must be READY=1, within
      20 s; after SIGTERM, STOPPING=1 and exit status 0.
  cloudrun.py notify-chroot ...   the same for a daemon that chroots:
      after SIGTERM only exit status 0 (the socket's path is gone).
  cloudrun.py syslog SOCK CLOUD ARGS...   SOCK: the syslog socket
      (/dev/log). "node NAME started" must come, as
      "<30>...cloud[PID]: ..." (daemon facility, info), then after
      SIGTERM "shutting down", and exit status 0.
Prints what failed and exits 1.
"""
import os
import signal
import socket
import subprocess
import sys
import time


def fail(msg):
    print("cloudrun: FAIL: " + msg, flush=True)
    sys.exit(1)


def recv_until(sock, want, secs):
    """Datagrams until one contains want; all of them, as text."""
    got = []
    end = time.monotonic() + secs
    while time.monotonic() < end:
        sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            msg = sock.recv(65536).decode(errors="replace")
        except socket.timeout:
            break
        got.append(msg)
        if want in msg:
            return got, msg
    return got, None


def accepts(family, addr):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.connect(addr)
        return True
    except OSError:
        return False
    finally:
        s.close()


def stop(proc, sock, want):
    proc.send_signal(signal.SIGTERM)
    got, msg = recv_until(sock, want, 20 if want else 0)
    try:
        rc = proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("the daemon did not exit after SIGTERM")
    if want and msg is None:
        fail("no %r after SIGTERM, got %r" % (want, got))
    if rc != 0:
        fail("exit status %d after SIGTERM" % rc)
    return msg


def fill(path):
    """Datagrams to path until its queue is full; how many."""
    f = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    f.setblocking(False)
    f.connect(path)
    n = 0
    try:
        while n < 100000:
            f.send(b"FILL")
            n += 1
    except BlockingIOError:
        pass
    f.close()
    return n


def blocked_sending(proc, secs):
    """Whether proc waits for room in a datagram socket's queue."""
    end = time.monotonic() + secs
    while time.monotonic() < end and proc.poll() is None:
        with open("/proc/%d/wchan" % proc.pid) as f:
            if f.read().strip() == "unix_wait_for_peer":
                return True
        time.sleep(0.01)
    return False


def notify(sock, proc, stopping="STOPPING=1"):
    if not blocked_sending(proc, 20):
        fail("the daemon never sent to $NOTIFY_SOCKET (or exited)")
    gate = accepts(socket.AF_UNIX, os.environ["GATE"])
    port = accepts(socket.AF_INET, ("127.0.0.1", int(os.environ["PORT"])))
    sock.settimeout(5)
    while True:
        msg = sock.recv(65536).decode(errors="replace")
        if msg != "FILL":
            break
    if msg != "READY=1":
        fail("first message %r, not READY=1" % msg)
    if not gate:
        fail("READY=1 before the gate socket accepts")
    if not port:
        fail("READY=1 before the daemon listens")
    stop(proc, sock, stopping)
    print("cloudrun: READY=1 once listening, then %s at SIGTERM" %
          (stopping or "exit 0"))


def notify_chroot(sock, proc):
    notify(sock, proc, None)


def syslog(sock, proc):
    got, msg = recv_until(sock, " started", 20)
    if msg is None:
        fail("no 'started' on syslog in 20 s, got %r" % got)
    head = "cloud[%d]: " % proc.pid
    if not msg.startswith("<30>") or head not in msg:
        fail("expected <30>...%s..., got %r" % (head, msg))
    msg = stop(proc, sock, "shutting down")
    print("cloudrun: syslog got %r" % msg)


def main():
    mode, path, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    if mode.startswith("notify"):
        env["NOTIFY_SOCKET"] = path
        if fill(path) < 1:
            fail("cannot fill the queue of " + path)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    try:
        {"notify": notify, "notify-chroot": notify_chroot,
         "syslog": syslog}[mode](sock, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


main()
