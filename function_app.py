"""Azure Functions entry point (Python v2 model): the AML routes (`/score`, `/`, `/swagger.json`) for the entry
script, answered by the adapter (see `adapter/functions.py`).

Keep this import cheap: the worker imports it while indexing; the entry script loads on the first request (or at
warm-up, or in the background with SCORING_PRELOAD=true).
"""

from adapter.functions import create_app

app = create_app()
