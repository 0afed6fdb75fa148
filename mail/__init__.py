"""The one client of the mail server the alert e-mails go through (SMTP_URL)."""
