"""measures pages (issue 18)."""
