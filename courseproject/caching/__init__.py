"""The cache: ready JSON bytes in Redis in front of DynamoDB, kept correct by generations (pages) and
revisions (entities), with stampede locks, early refresh and repair of missed writes.

keys.py (every key and TTL), connection.py (Redis access and its breaker), entries.py (the stored
form, early refresh, locks), pages.py, entities.py, items.py (items served from several entries by
id), id_pages.py (pages of ids, read with their items in one round trip), repair.py (writes Redis missed).
"""
