"""WSGI entry point for gunicorn and `flask --app wsgi`: `PORTAL_CONFIG` picks the configuration."""

from portal import create_app

app = create_app()
