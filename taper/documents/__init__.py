"""Documents and the pictures in them: rendered from plain values, never from database objects."""
