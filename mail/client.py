"""The mail server's one client: an e-mail handed to the SMTP server named by SMTP_URL.

smtp://user:password@host:587 speaks plain SMTP and upgrades with STARTTLS when the server offers
it; production refuses a server that does not (the login and the alert's text would travel in
clear). smtps://...:465 is TLS from the first byte. The user and password, when given, log in
(percent-encoded in the URL: "%40" for an "@" in the user name).

Failures are classified as the flows' are: the server unreachable, timing out or answering 4xx
(greylisting, a full queue) is Transient (the next alert run sends again); a 5xx refusal (a
recipient the server does not know, a login refused, a sender it may not send as) is Rejected with
the server's own words. Either way nothing is lost: the alert's watermark advances only once the
server took the e-mail (jobs.alerts).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses, make_msgid
from urllib.parse import unquote, urlsplit

from ledger.errors import Rejected, Transient
from settings import URL_UNREADABLE, Settings, readable_url

TIMEOUT = 15  # seconds for the connection and each command: a job must not hang on a dead server
SYSTEM = "mail"
SENDER_NAME = "Consinco ↔ Shopify"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    tls: bool  # smtps: TLS from the start
    user: str | None
    password: str | None


def server_of(url: str) -> Server:
    """SMTP_URL read (settings.validate refused another scheme at start)."""
    parts = urlsplit(url)
    tls = parts.scheme == "smtps"
    return Server(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if tls else 25),
        tls=tls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_url)


def sender(settings: Settings) -> str:
    """ALERT_MAIL_FROM, or alertas@ the app's host."""
    return settings.alert_mail_from or f"alertas@{urlsplit(settings.app_url).hostname or 'localhost'}"


def email(settings: Settings, subject: str, to: list[str], text: str) -> EmailMessage:
    """A plain-text e-mail from the app (its name, the sender address) to `to`."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((SENDER_NAME, sender(settings)))
    message["To"] = ", ".join(address.strip() for address in to)
    # RFC 5322 asks for both; a relay adds no Date for a remote client, and mail filters count
    # its absence against the e-mail. The Message-ID's domain is the sender's.
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender(settings).rpartition("@")[2] or "localhost")
    message.set_content(text)
    return message


def send(settings: Settings, message: EmailMessage) -> list[str]:
    """Hand `message` to the server; the recipients it took (those it refused are left out, a
    refusal of them all is Rejected).

    Raises:
        Transient: the server unreachable, slow, or answering "try later" (4xx).
        Rejected: the server refused the login, the sender or every recipient (5xx).
    """
    if not readable_url(settings.smtp_url):  # (the start refuses it in production; never quoted)
        raise Rejected(URL_UNREADABLE.format(name="SMTP_URL"), system=SYSTEM, code="SMTP_URL")
    server = server_of(settings.smtp_url)
    recipients = [
        address for _name, address in getaddresses([*message.get_all("To", []), *message.get_all("Cc", [])])
    ]
    try:
        with _connect(server, settings) as smtp:
            if server.user:
                smtp.login(server.user, server.password or "")
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise (_later(exc.recipients) or _refused(exc.recipients)) from exc
    except smtplib.SMTPResponseException as exc:
        text = _text(exc.smtp_error)
        code = exc.smtp_code
        if 400 <= code < 500:
            raise Transient(f"the mail server answered {code} {text}: it is sent again later") from exc
        said = f"the mail server refused the e-mail: {code} {text}"
        raise Rejected(said, system=SYSTEM, code=str(code)) from exc
    except (OSError, smtplib.SMTPException) as exc:  # refused, unreachable, timeout, TLS, dropped
        raise Transient(f"the mail server could not be reached ({type(exc).__name__}: {exc})") from exc
    later = _later(refused)
    if later is not None:
        raise later
    return [address for address in recipients if address not in refused]


def _connect(server: Server, settings: Settings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if server.tls:
        return smtplib.SMTP_SSL(
            server.host, server.port, timeout=TIMEOUT, context=context, local_hostname=_local_name(settings)
        )
    smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT, local_hostname=_local_name(settings))
    try:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        elif settings.is_production:
            raise Rejected(
                f"the mail server {server.host}:{server.port} does not offer STARTTLS: production sends no "
                "e-mail in clear (use smtps:// or a server with STARTTLS)",
                system=SYSTEM,
                code="NO_STARTTLS",
            )
    except BaseException:
        smtp.close()
        raise
    return smtp


def _local_name(settings: Settings) -> str:
    """The name the app greets the server with (EHLO): its own host, not a reverse DNS lookup
    (smtplib's default, which can hang for seconds where DNS does not answer)."""
    return urlsplit(settings.app_url).hostname or "localhost"


def _later(recipients: dict[str, tuple[int, bytes]]) -> Transient | None:
    """Recipients the server asked to try later (4xx at RCPT: greylisting, an address being
    verified): the e-mail is sent again (the others may get it twice: at least once), never taken
    as delivered to them. None when none was."""
    later = {address: answer for address, answer in recipients.items() if 400 <= answer[0] < 500}
    if not later:
        return None
    said = "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in later.items())
    return Transient(f"the mail server asked to try later for {said}: it is sent again later")


def _refused(recipients: dict[str, tuple[int, bytes]]) -> Rejected:
    said = "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in recipients.items())
    return Rejected(f"the mail server refused every recipient ({said})", system=SYSTEM, code="RECIPIENTS")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
