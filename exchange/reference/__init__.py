"""Reference data: programmes and objectives, themes, border areas, countries."""
