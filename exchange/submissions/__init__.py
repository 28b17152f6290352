"""Good practices and project ideas: the items, their revisions, reviews and search."""
