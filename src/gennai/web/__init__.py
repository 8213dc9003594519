"""The portal and the HTTP APIs."""
