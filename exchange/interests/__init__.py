"""Interest shown by one authority in another's published practice or idea."""
