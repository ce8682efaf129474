"""find pages (issue 18)."""
