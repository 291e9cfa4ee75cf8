"""Use cases. Each takes a session (and ports), may flush, never commits, never imports Flask."""
