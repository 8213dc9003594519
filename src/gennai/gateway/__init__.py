"""Model gateway: one Provider protocol, one module per vendor, one registry of configured models."""
