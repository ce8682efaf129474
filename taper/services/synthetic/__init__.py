"""The parts of `taper.services.synthetic_data`: made-up organisations, people, plans and their history at any
size, written in bulk. Nothing here runs in production (the command refuses it)."""
