"""Why the outbox sends about 20 mails a second (BENCHMARKS.md, issue 18).

Speaks SMTP to a server on 127.0.0.1 (the tests' aiosmtpd, crates/konvent/tests/smtp/server.py)
over one connection the way lettre 0.11.23 does: a NOOP before each mail (the pool's health
check), MAIL, RCPT, DATA, then the body and the closing "\\r\\n.\\r\\n" as two separate writes.
Once with Nagle's algorithm on (lettre's default: it never sets TCP_NODELAY), once with
TCP_NODELAY. With Nagle on, the five closing bytes wait for the peer's delayed ACK (40 ms on
Linux) of the body.

    python server.py --port 25251 --dir /tmp/mails &
    python nagle.py 25251
"""

import socket
import sys
import time


def run(port, nodelay, count=100):
    s = socket.create_connection(("127.0.0.1", port))
    if nodelay:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    replies = s.makefile("rb")

    def reply():
        while True:
            line = replies.readline()
            if line[3:4] != b"-":
                return line

    reply()
    s.sendall(b"EHLO bench\r\n")
    reply()
    body = (
        b"Subject: Einladung\r\nFrom: a@example.org\r\nTo: b@example.org\r\n\r\n"
        + b"Hallo Welt " * 300
        + b"\r\n"
    )
    start = time.monotonic()
    for _ in range(count):
        for command in (b"NOOP\r\n", b"MAIL FROM:<a@example.org>\r\n",
                        b"RCPT TO:<b@example.org>\r\n", b"DATA\r\n"):
            s.sendall(command)
            reply()
        s.sendall(body)
        s.sendall(b"\r\n.\r\n")
        reply()
    seconds = time.monotonic() - start
    print(f"TCP_NODELAY {'on ' if nodelay else 'off'}: {count / seconds:6.0f} mails/s, "
          f"{1000 * seconds / count:5.1f} ms each")
    s.close()


if __name__ == "__main__":
    port = int(sys.argv[1])
    run(port, nodelay=False)
    run(port, nodelay=True)
