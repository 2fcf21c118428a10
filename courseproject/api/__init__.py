"""What every endpoint shares: one error format (errors.py), JSON in and out with orjson
(rendering.py), ETags and 304s for cached reads (conditional.py), signed cursors over GSI queries
(pagination.py), OpenAPI shapes (schema.py), strict input fields (fields.py) and the `<id:...>` path
converter (converters.py)."""
