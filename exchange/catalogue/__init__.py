"""The public catalogue of published practices and open ideas: search and filters."""
