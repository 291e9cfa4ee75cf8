"""Web boundaries: one blueprint per audience."""
