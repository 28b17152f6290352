"""Matching counterparts: the engine (pure functions over plain data) and the brokerage workflow."""
