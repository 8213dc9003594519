"""Shared retrieval: Japanese analysis and ranking."""
