"""WSGI entry point: ``gunicorn wsgi:app``."""

import gc

from registry import create_app

app = create_app()
# What the app built at start-up lives as long as the worker: keep it out of the cycle
# collector's full passes, which otherwise walk it all again (~140,000 objects, tens of ms)
# every few thousand requests (docs/performance.md).
gc.collect()  # nothing unreachable is frozen for good
gc.freeze()
