"""Workflow definitions: the YAML format users write, and loading it into the database."""
