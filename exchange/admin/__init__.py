"""The platform operator's pages: people and roles, and the reference data."""
