"""Atom feeds of newly published practices and ideas."""
