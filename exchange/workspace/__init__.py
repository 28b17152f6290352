"""Members' and coordinators' dashboards."""
