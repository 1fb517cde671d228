"""A mail catcher for development and tests: an SMTP server (aiosmtpd) that delivers nothing and
keeps every message it receives as one file in a Maildir folder (new/ holds the files; any mail
reader that opens a Maildir, e.g. `mutt -f FOLDER`, shows them, and `list` below prints them).

Each stored message starts with the envelope it came with, X-Envelope-From and X-Envelope-To,
since Bcc recipients appear nowhere else. Recipients at reserved `.invalid` domains (RFC 2606)
let a developer exercise the failure paths without a real mail server:

  anything@defer.invalid   refused with 451 (try again later)
  anything@<other>.invalid refused with 550 (unknown mailbox: never retry)

python -m tdkt_localstack.mailcatcher serve --port 8025 --folder var/data/mail   (what `make up` runs)
python -m tdkt_localstack.mailcatcher list [FOLDER]                               (read what arrived)
"""

from __future__ import annotations

import argparse
import email.policy
import mailbox
import re
import signal
import smtplib
import sys
import threading
import time
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from tdkt_localstack.errors import StackError
from tdkt_localstack.paths import var_dir
from tdkt_localstack.ports import free_port
from tdkt_localstack.procs import ManagedProcess

DEFAULT_FOLDER = ("data", "mail")  # under var/
_KEY = re.compile(r"^(\d+)\.M(\d+)P\d+Q(\d+)")


class MaildirHandler:
    """aiosmtpd handler: refuse the reserved failure domains, store everything else."""

    def __init__(self, folder: Path):
        # Maildir(create=True) only fills a folder it makes itself; a test's empty tmp folder stays empty
        for sub in ("tmp", "new", "cur"):
            (Path(folder) / sub).mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(folder, create=False)

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain == "defer.invalid":
            return f"451 4.3.0 <{address}>: try again later (defer.invalid)"
        if domain == "invalid" or domain.endswith(".invalid"):
            return f"550 5.1.1 <{address}>: mailbox unknown (.invalid)"
        envelope.rcpt_tos.append(address)  # a RCPT hook accepts by adding the address itself
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        envelope_headers = f"X-Envelope-From: {envelope.mail_from}\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\n".encode()
        # Maildir files use the local line ending; the message came with CRLF on the wire
        key = self.maildir.add(envelope_headers + envelope.original_content.replace(b"\r\n", b"\n"))
        return f"250 2.0.0 Ok: queued as {key}"


def read_messages(folder: Path | str) -> list[EmailMessage]:
    """Every message in the Maildir `folder`, oldest first; none if it does not exist yet."""
    if not (Path(folder) / "new").is_dir():
        return []
    maildir = mailbox.Maildir(folder, create=False)
    return [message_from_bytes(maildir.get_bytes(key), policy=email.policy.default) for key in sorted(maildir.keys(), key=_arrival)]


def _arrival(key: str) -> tuple:
    # Maildir names are "<seconds>.M<microseconds>P<pid>Q<count>.<host>": not sortable as text
    match = _KEY.match(key)
    return (int(match[1]), int(match[2]), int(match[3]), key) if match else (0, 0, 0, key)


class MailCatcher:
    """A catcher running in this process (a thread of aiosmtpd's), for tests."""

    def __init__(self, folder: Path, host: str, port: int, **smtp_options):
        self.folder = Path(folder)
        self.controller = Controller(MaildirHandler(self.folder), hostname=host, port=port, **smtp_options)

    @property
    def host(self) -> str:
        return self.controller.hostname

    @property
    def port(self) -> int:
        return self.controller.port

    def messages(self) -> list[EmailMessage]:
        return read_messages(self.folder)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages once at least `count` have arrived; AssertionError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages()
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {count} message(s) in {self.folder}; {len(found)} arrived")
            time.sleep(0.05)

    def start(self) -> MailCatcher:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def start_catcher(folder: Path, host: str = "127.0.0.1", port: int | None = None, attempts: int = 3, **smtp_options) -> MailCatcher:
    """A started catcher on `port`, or on a free port when None. A free port is only free when
    asked; if another program takes it first, the next attempt picks another one.
    `smtp_options` go to aiosmtpd's SMTP (tls_context, require_starttls, authenticator, …)."""
    for attempt in range(1, attempts + 1):
        try:
            return MailCatcher(folder, host, port or free_port(), **smtp_options).start()
        except OSError:
            if port or attempt == attempts:
                raise
    raise AssertionError("not reached")


class MailCatcherServer:
    """The catcher as a child process of the supervisor, watched like the store and the broker."""

    def __init__(self, folder: Path, log_path: Path, port: int, host: str = "127.0.0.1"):
        self.folder, self.log_path, self.port, self.host = folder, log_path, port, host
        self.process: ManagedProcess | None = None

    def start(self) -> MailCatcherServer:
        argv = [sys.executable, "-m", "tdkt_localstack.mailcatcher", "serve", "--host", self.host, "--port", str(self.port), "--folder", str(self.folder)]
        self.process = ManagedProcess("mail catcher", argv, self.log_path).start()
        return self

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and not self.process.alive():
                raise StackError(f"the mail catcher exited with code {self.process.exit_code()} while starting; see {self.log_path}:\n{self.process.log_tail()}")
            if _answers(self.host, self.port):
                return
            time.sleep(0.2)
        raise StackError(f"the mail catcher did not answer on port {self.port} within {int(timeout)} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process:
            self.process.stop(timeout=10)


def _answers(host: str, port: int) -> bool:
    try:
        with smtplib.SMTP(host, port, timeout=2) as smtp:
            return smtp.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


# -- command line ----------------------------------------------------------------------------------
def _serve(args: argparse.Namespace) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    catcher = MailCatcher(args.folder, args.host, args.port).start()
    print(f"mail catcher: SMTP on {args.host}:{args.port}, messages into the Maildir {args.folder.resolve()}", flush=True)
    stop.wait()
    catcher.stop()
    return 0


def _list(args: argparse.Namespace) -> int:
    messages = read_messages(args.folder)
    for number, message in enumerate(messages, 1):
        print(f"#{number}  {message['Date']}\n    From: {message['From']}\n    To:   {message['X-Envelope-To'] or message['To']}\n    Subject: {message['Subject']}")
        body = message.get_body(("plain", "html"))
        if body is not None:
            print("    " + body.get_content().strip().replace("\n", "\n    "))
        names = [part.get_filename() for part in message.iter_attachments() if part.get_filename()]
        if names:
            print(f"    Attachments: {', '.join(names)}")
        print()
    print(f"{len(messages)} message(s) in {args.folder.resolve()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    default_folder = var_dir().joinpath(*DEFAULT_FOLDER)
    parser = argparse.ArgumentParser(prog="python -m tdkt_localstack.mailcatcher", description="The development mail catcher (SMTP → Maildir).")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="receive mail until SIGTERM / Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8025)
    serve.add_argument("--folder", type=Path, default=default_folder)
    listing = commands.add_parser("list", help="print the messages received so far")
    listing.add_argument("folder", type=Path, nargs="?", default=default_folder)
    args = parser.parse_args(argv)
    return _serve(args) if args.command == "serve" else _list(args)


if __name__ == "__main__":
    sys.exit(main())
