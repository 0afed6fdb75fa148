"""The mail server's stand-in: a real SMTP server (aiosmtpd) on loopback that keeps what it is sent.

The demo points SMTP_URL at it and prints the alert e-mails it received; the tests read them back
after the app spoke real SMTP to it. It can be told to answer as real servers do when things go
wrong: `refuse` a recipient (550, the address does not exist), `busy` (421 to the sender: try
later), ask a login (`users`: a wrong password is answered 535), or be stopped (connection refused).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


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
    later: set[str] = field(default_factory=set)  # answered 450: try later (greylisting)
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
        if address.lower() in self.later:
            return f"450 4.2.0 <{address}>: recipient address rejected: greylisted, try again later"
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

    def __init__(self, port: int = 0, users: dict[str, str] | None = None) -> None:
        """`users`: user -> password the server asks a login of (AUTH PLAIN/LOGIN over the plain
        connection, as a test server may); none: it takes e-mail from anyone on loopback."""
        self._handler = _Handler()
        self._port = port
        self._users = dict(users or {})
        self._controller: Controller | None = None

    def start(self) -> MailServer:
        auth: dict[str, Any] = {}
        if self._users:
            users = self._users
            auth = {
                "auth_required": True,
                "auth_require_tls": False,
                "authenticator": lambda server, session, envelope, mechanism, login: AuthResult(
                    success=_login_ok(users, login),
                    handled=False,  # aiosmtpd answers 235 or 535 itself
                ),
            }
        self._controller = Controller(
            self._handler, hostname="127.0.0.1", port=self._port or _free_port(), **auth
        )
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

    def greylist(self, *addresses: str) -> None:
        """Answer 450 (try later) to these recipients until called again without them."""
        self._handler.later = {a.lower() for a in addresses}

    def busy(self, on: bool = True) -> None:
        """Answer 421 (try again later) to a sender while on."""
        self._handler.busy = on


def _login_ok(users: dict[str, str], login: Any) -> bool:
    if not isinstance(login, LoginPassword):
        return False
    user, password = login.login.decode(), login.password.decode()
    return users.get(user) == password


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
