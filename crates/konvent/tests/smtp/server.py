"""A real SMTP server for konvent's mail tests (crates/konvent/tests/mail.rs), built on
aiosmtpd. It listens on 127.0.0.1 and the given port and saves every accepted message in
the given folder twice: the raw bytes as NNN.eml and, decoded, as NNN.json (to, subject,
message_id, text, html, calendars), written whole through a rename. "calendars" lists
every text/calendar or .ics part: its content type with parameters, file name, and the
exact text (CRLF kept). Recipients whose local part
starts with "tempfail" are answered 451 (try again later), those starting with "reject"
550 (refused for good); each refusal is noted as a line in refusals.log. Every EHLO (one
per connection; a client reusing its connection sends none) is a line in
connections.log.

    python server.py --port 2525 --dir /tmp/mails

With --tls-cert and --tls-key it requires STARTTLS before mail (refusing MAIL FROM in
clear text), or, with --implicit-tls as well, speaks TLS from the first byte. Each decoded
message says whether it arrived over TLS ("tls").

prints "ready" once it accepts connections and runs until it is killed.
"""

import argparse
import email
import email.policy
import json
import os
import ssl
import threading
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, folder):
        self.folder = folder
        self.lock = threading.Lock()
        self.count = 0

    def note_refusal(self, code, address):
        with self.lock, open(os.path.join(self.folder, "refusals.log"), "a") as f:
            f.write(f"{code} {address}\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock, open(os.path.join(self.folder, "connections.log"), "a") as f:
            f.write(f"EHLO {hostname}\n")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("tempfail"):
            self.note_refusal(451, address)
            return "451 4.3.0 Mailbox busy, try again later (test server)"
        if local.startswith("reject"):
            self.note_refusal(550, address)
            return "550 5.1.1 No such mailbox here (test server)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            name = f"{time.time_ns()}-{self.count:04d}"
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        calendars = []
        for part in message.walk():
            if part.is_multipart():
                continue
            filename = part.get_filename()
            if part.get_content_type() == "text/calendar" or (filename or "").endswith(".ics"):
                calendars.append(
                    {
                        "content_type": str(part["Content-Type"]),
                        "filename": filename,
                        "disposition": part.get_content_disposition(),
                        "text": part.get_payload(decode=True).decode("utf-8"),
                    }
                )
        decoded = {
            "envelope_to": envelope.rcpt_tos,
            "to": str(message["To"]),
            "from": str(message["From"]),
            "subject": str(message["Subject"]),
            "message_id": str(message["Message-ID"]),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "calendars": calendars,
            "content_type": str(message["Content-Type"]),
            "tls": server.transport.get_extra_info("ssl_object") is not None,
        }
        for suffix, data in ((".eml", raw), (".json", json.dumps(decoded).encode())):
            path = os.path.join(self.folder, name + suffix)
            with open(path + ".partial", "wb") as f:
                f.write(data)
            os.rename(path + ".partial", path)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--implicit-tls", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    options = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.implicit_tls:
            options = {"ssl_context": context}
        else:
            options = {"tls_context": context, "require_starttls": True}
    controller = Controller(
        Handler(args.dir), hostname="127.0.0.1", port=args.port, **options
    )
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
