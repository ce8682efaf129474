"""imports pages (issue 18)."""
