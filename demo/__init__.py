"""Demo data: a deterministic dataset (dataset.py) and `manage.py seed_demo`, which writes it."""
