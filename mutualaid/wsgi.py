"""WSGI entry point for gunicorn: `gunicorn mutualaid.wsgi:app`."""

from mutualaid import create_app

app = create_app()
