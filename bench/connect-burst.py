#!/usr/bin/env python3
"""Opens N TCP connections to 127.0.0.1:PORT at once, without blocking, and prints how long they took
to be accepted by the kernel: a connect that waits about a second or more had its SYN dropped because
the server's accept queue was full (see RESULTS.md, session 10). Run it while the server is busy.

usage: connect-burst.py N PORT
"""
import selectors
import socket
import sys
import time

n, port = int(sys.argv[1]), int(sys.argv[2])
sel = selectors.DefaultSelector()
t0 = time.monotonic()
socks, done = [], []
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    sel.register(s, selectors.EVENT_WRITE)
    socks.append(s)
pending = n
while pending and time.monotonic() - t0 < 15:
    for key, _ in sel.select(timeout=1):
        ok = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        done.append((time.monotonic() - t0) * 1000 if ok else -1)
        sel.unregister(key.fileobj)
        pending -= 1
ms = sorted(d for d in done if d >= 0)
if ms:
    print(f"connected {len(ms)}/{n}, failed {len(done) - len(ms)}, p50 {ms[len(ms) // 2]:.1f} ms, "
          f"p99 {ms[max(0, int(len(ms) * 0.99) - 1)]:.1f} ms, max {ms[-1]:.1f} ms, over 900 ms: {sum(d > 900 for d in ms)}")
else:
    print(f"connected 0/{n}")
for s in socks:
    s.close()
