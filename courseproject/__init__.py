"""The project: its wiring (settings, urls, wsgi, celery) and the core's sub-packages, one job each.

Importing this package does nothing: the Celery app is loaded by the background app's ready()
(so that tasks bind to it in every Django process) and by `celery -A courseproject`, which finds
courseproject/celery.py. Leaf modules such as ids.py can be imported without Django or Celery.
"""
