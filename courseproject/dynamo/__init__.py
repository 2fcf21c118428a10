"""DynamoDB plumbing: the shared client, the base model and its table registry, batch reads,
transactions, and table definitions (create_indexes, cloudformation_tables)."""
