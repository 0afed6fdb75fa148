"""The mail server's stand-in: a real SMTP server (aiosmtpd) on loopback that keeps what it is sent.

The demo points SMTP_URL at it and prints the alert e-mails it received; the tests read them back
after the app spoke real SMTP to it. It can be told to answer as real servers do when things go
wrong: `refuse` a recipient (550, the address does not exist), `busy` (421 to the sender: try
later), or be stopped (connection refused).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Received:
    """One e-mail as the server took it: the envelope's sender and recipients, and the message."""

    mail_from: str
    rcpt_to: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return " ".join(str(self.message["Subject"]).split())  # unfolded, as a mail reader shows it

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""


@dataclass
class _Handler:  # aiosmtpd's hooks: handle_<SMTP command>
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    busy: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.busy:
            return "421 4.3.2 Service not available, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: recipient address rejected: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), parsed)  # type: ignore[arg-type]
            )
        return "250 Message accepted for delivery"


class MailServer:
    """`start()` it (a free port on 127.0.0.1), point SMTP_URL at `url`, read `received`."""

    def __init__(self, port: int = 0) -> None:
        self._handler = _Handler()
        self._port = port
        self._controller: Controller | None = None

    def start(self) -> MailServer:
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self._port or _free_port())
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._controller is not None, "start() the server first"
        return int(self._controller.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        with self._handler.lock:
            return list(self._handler.received)

    def refuse(self, *addresses: str) -> None:
        """Answer 550 to these recipients (an address the server does not know)."""
        self._handler.refuse |= {a.lower() for a in addresses}

    def busy(self, on: bool = True) -> None:
        """Answer 421 (try again later) to a sender while on."""
        self._handler.busy = on


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
