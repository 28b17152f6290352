"""Accounts: registration, e-mail confirmation, log-in, passwords, language, roles."""
