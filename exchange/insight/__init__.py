"""Insight: the coordinators' dashboard of charts, and the exports of the platform's data."""
