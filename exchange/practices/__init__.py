"""Good practices: writing, editing and the page of each practice."""
