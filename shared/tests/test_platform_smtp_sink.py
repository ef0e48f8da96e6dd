"""`fursa up` runs a local SMTP sink: e-mail sent to it over real SMTP lands in a Maildir."""

from __future__ import annotations

import mailbox
import smtplib
from email.message import EmailMessage
from pathlib import Path

from fursa.cli.platform import Platform


def test_the_smtp_sink_keeps_every_mail_in_a_maildir(tmp_path: Path) -> None:
    platform = Platform(var_dir=tmp_path)
    platform.start_smtp_sink()
    try:
        assert platform.smtp_port is not None
        mail = EmailMessage()
        mail["From"] = "notifications@fursa.localhost"
        mail["To"] = "parent@example.ma"
        mail["Subject"] = "Inscription confirmée"
        mail.set_content("Bonjour")
        with smtplib.SMTP("127.0.0.1", platform.smtp_port, timeout=10) as smtp:
            smtp.send_message(mail)
    finally:
        platform.stop()

    [kept] = list(mailbox.Maildir(tmp_path / "notify-sink" / "mail"))
    assert kept["To"] == "parent@example.ma"
    assert platform.smtp_sink is not None
    assert platform.smtp_sink.poll() is not None  # stopped with the platform
