"""Strawberry object types of the API."""
