"""The cache: ready JSON bytes in Redis in front of DynamoDB, kept correct by generations (pages) and
revisions (entities), with stampede locks, early refresh and repair of missed writes.

keys.py (every key and TTL), connection.py (Redis access and its breaker), entries.py (the stored
form, early refresh, locks), pages.py, entities.py, repair.py (writes Redis missed).
"""
