"""SMS language and transport."""
