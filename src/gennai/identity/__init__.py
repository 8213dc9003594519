"""Identity: users, sessions and API keys."""
