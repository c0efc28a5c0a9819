"""WSGI entry point for gunicorn (``gunicorn rapport.wsgi``)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
application = get_wsgi_application()

# The search's first-use work (index, place tables, templates) is done now, before the server
# listens, so the first person to search after a start does not wait for it (issue 17).
from rapport.directory.search.engine.warm import warm_up  # noqa: E402 (needs Django set up)

warm_up()

# Everything loaded so far (modules, URL patterns, templates, parsed settings) lives as long as
# the process. Freezing it keeps Python's full collections from walking it again and again:
# they ran tens of milliseconds into ordinary requests (bench/care_speed.py). Gunicorn loads
# this module in each worker, so each worker freezes its own start-up objects.
gc.collect()
gc.freeze()
