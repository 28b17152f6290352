"""Entry point for Celery processes: `celery -A exchange.worker worker` (or `beat`)."""

from exchange import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
