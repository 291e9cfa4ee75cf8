"""Mutual aid matching service."""
