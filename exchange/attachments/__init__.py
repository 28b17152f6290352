"""Files attached to practices and ideas: checked on upload, served only to those allowed."""
