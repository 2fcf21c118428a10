"""The caching layer: key builders (keys), cache-aside and write-through (store), counters (metrics)."""
