"""Entry point for Celery processes: `celery -A exchange.worker worker` (or `beat`)."""

from exchange import create_app

app = create_app()
celery_app = app.extensions["celery"]
