"""Each server process's learner: every ASSIST_LEARN_SECONDS it learns the messages stored
since the last pass, outside the send path (the send batch never waits for it). Processes
share one cursor under a row lock, so a message is learned once whichever process runs.

Started on the first connection, like the presence heartbeat. With ASSIST_LEARN_IN_SERVER
off it only builds the base model, and `manage.py assist_learn` learns in a process of its own.
"""

import gc
import logging

from django.conf import settings

from assist.base import base_model
from assist.learning import assist_learn_pending
from chat.realtime.db import call

logger = logging.getLogger(__name__)

BATCH = 2000  # messages per transaction: each model is read and written once per batch

_task = None


def ensure_started(sio) -> None:
    global _task
    if _task is None:
        _task = sio.start_background_task(_run, sio)


async def _run(sio) -> None:
    try:
        await call(base_model)  # built before the first suggestion asks for it
        # Its few hundred thousand objects live as long as the process: out of the collector's
        # full passes, which would otherwise pause every suggestion for a tenth of a second.
        gc.freeze()
    except Exception:
        logger.exception("assist base model failed to load")
    while settings.ASSIST_LEARN_IN_SERVER:
        try:
            while await call(assist_learn_pending, batch=BATCH) == BATCH:
                pass
        except Exception:
            logger.exception("assist learning failed")
        await sio.sleep(settings.ASSIST_LEARN_SECONDS)
