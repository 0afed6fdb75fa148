"""mail.client against the sandbox's SMTP server: a login, a refused login or recipient, a server
that asks to try later or is gone, and production refusing a server without STARTTLS, each
classified as the flows' failures are (Rejected: the server's words; Transient: sent again later)."""

from __future__ import annotations

import dataclasses
from email.message import EmailMessage

import pytest

from ledger.errors import Rejected, Transient
from mail import client
from sandbox.mail import MailServer
from settings import Settings


def _settings(url: str, **changes) -> Settings:
    return dataclasses.replace(Settings.from_env(), smtp_url=url, **changes)


def _email(*to: str) -> EmailMessage:
    email = EmailMessage()
    email["Subject"], email["From"], email["To"] = "Teste", "alertas@integracao.com.br", ", ".join(to)
    email.set_content("corpo")
    return email


def test_a_login_the_server_takes_and_one_it_refuses(jobs_env) -> None:
    with MailServer(users={"alertas@loja.com.br": "s3nh@:/"}) as server:
        good = _settings(f"smtp://alertas%40loja.com.br:s3nh%40%3A%2F@127.0.0.1:{server.port}")
        assert client.send(good, _email("a@loja.com.br", "b@loja.com.br")) == [
            "a@loja.com.br",
            "b@loja.com.br",
        ]
        assert server.received[0].rcpt_to == ("a@loja.com.br", "b@loja.com.br")
        with pytest.raises(Rejected, match="535"):
            client.send(
                _settings(f"smtp://alertas%40loja.com.br:wrong@127.0.0.1:{server.port}"), _email("a@x.br")
            )
        with pytest.raises(Rejected, match="530 5\\.7\\.0 Authentication required"):
            client.send(_settings(server.url), _email("a@loja.com.br"))  # no login at all
        assert len(server.received) == 1


def test_recipients_refused_one_or_all_and_a_server_gone_or_busy(jobs_env) -> None:
    with MailServer() as server:
        settings = _settings(server.url)
        server.refuse("velho@loja.com.br")
        assert client.send(settings, _email("velho@loja.com.br", "novo@loja.com.br")) == ["novo@loja.com.br"]
        with pytest.raises(Rejected, match=r"refused every recipient \(velho@loja\.com\.br: 550"):
            client.send(settings, _email("velho@loja.com.br"))
        server.busy()
        with pytest.raises(Transient, match="421"):
            client.send(settings, _email("novo@loja.com.br"))
        port = server.port
    with pytest.raises(Transient, match="could not be reached"):
        client.send(_settings(f"smtp://127.0.0.1:{port}"), _email("novo@loja.com.br"))


def test_a_recipient_asked_to_try_later_is_sent_again_never_taken_as_delivered(jobs_env) -> None:
    """450 at RCPT (greylisting, an address being verified): the recipients taken were dropped of it
    and the rest called delivered; transient now, naming it (the others may get it twice)."""
    with MailServer() as server:
        server.greylist("gerente@loja.com.br")
        settings = _settings(server.url)
        with pytest.raises(Transient, match=r"try later for gerente@loja.com.br: 450"):
            client.send(settings, _email("equipe@loja.com.br", "gerente@loja.com.br"))
        with pytest.raises(Transient, match=r"gerente@loja\.com\.br"):  # the only one: later, not refused
            client.send(settings, _email("gerente@loja.com.br"))
        server.greylist()
        assert client.send(settings, _email("equipe@loja.com.br", "gerente@loja.com.br")) == [
            "equipe@loja.com.br",
            "gerente@loja.com.br",
        ]


def test_production_sends_nothing_in_clear(jobs_env) -> None:
    with MailServer() as server:  # offers no STARTTLS
        production = _settings(server.url, app_env="production")
        with pytest.raises(Rejected, match="does not offer STARTTLS"):
            client.send(production, _email("a@loja.com.br"))
        assert server.received == []


def test_an_unreadable_smtp_url_is_refused_when_sending_without_quoting_it(jobs_env) -> None:
    """(Development, where the start does not check it): a Rejected the alert job records, never a
    ValueError quoting the password's head as the port."""
    settings = _settings("smtp://user:Bx7Kq/abc@mail.loja.com.br:587")
    with pytest.raises(Rejected, match="SMTP_URL cannot be read") as caught:
        client.send(settings, _email("a@loja.com.br"))
    assert "Bx7Kq" not in str(caught.value)


def test_an_smtp_url_of_another_scheme_is_refused_at_start(jobs_env) -> None:
    from settings import ConfigurationError

    jobs_env.setenv("SMTP_URL", "http://mail.loja.com.br")
    with pytest.raises(ConfigurationError, match="SMTP_URL must start with smtp://"):
        Settings.from_env().validate()
    assert client.server_of("smtps://u:p@mail.loja.com.br") == client.Server(
        "mail.loja.com.br", 465, True, "u", "p"
    )
    assert client.server_of("smtp://mail.loja.com.br").port == 25
