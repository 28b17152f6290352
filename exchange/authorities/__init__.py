"""Authorities: their profiles, membership, and verification by coordinators."""
