"""``python -m gennai`` is the ``gennai`` command."""

from gennai.cli import app

app()
