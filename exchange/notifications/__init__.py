"""Notifications: one message to one person, written with the change it reports, sent by workers."""
