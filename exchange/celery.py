"""Celery bound to the Flask app, as the Flask documentation shows it."""

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    # Register the tasks of every feature with this app.
    celery_app.autodiscover_tasks(
        ["exchange.notifications", "exchange.submissions", "exchange.matching"], force=True
    )
    return celery_app
