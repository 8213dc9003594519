"""Routes, one module per page or API."""
