"""A stand-in for the merchant's mail server: SMTP on loopback, keeping every e-mail it takes."""

from sandbox.mail.server import MailServer, Received

__all__ = ["MailServer", "Received"]
