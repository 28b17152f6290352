"""Cross-border project ideas: writing, co-owners, closing, and the page of each idea."""
