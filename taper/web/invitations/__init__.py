"""invitations pages (issue 18)."""
