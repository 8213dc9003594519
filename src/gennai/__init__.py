"""gennai: an open, self-hostable generative-AI platform for government work."""

__version__ = "0.1.0"
