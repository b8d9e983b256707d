"""Long-lived objects kept out of the cyclic garbage collector's full passes.

A full collection walks every tracked object the process holds. Once a process has loaded
Django, its routes and the suggestion base model, that walk pauses every request and socket
event for tens of milliseconds each time it runs (README, Performance): the pauses are a
latency tail that grows with the heap. Objects that live as long as the process are moved to
the permanent generation once, after they are built, so later passes walk only young objects.
"""

import gc


def heap_freeze() -> None:
    """Collect what is garbage now, then exempt every surviving object from later collections
    (they are still freed by reference counting; only cycles among them are never collected)."""
    gc.collect()
    gc.freeze()
