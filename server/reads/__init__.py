"""Read models: the SQL behind lists, counts and dropdowns, called by dataloaders and services."""
