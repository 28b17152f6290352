"""The coordinators' review of practices and ideas: queue, review page, decisions."""
