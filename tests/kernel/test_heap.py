"""heap_freeze: what lives now is out of the collector's passes, and later garbage still goes."""

import gc
import weakref

from kernel.heap import heap_freeze


class Node:
    pass


def test_objects_alive_at_the_freeze_leave_the_collectors_passes_and_new_cycles_are_still_collected():
    long_lived = Node()
    assert any(o is long_lived for o in gc.get_objects())
    try:
        heap_freeze()
        assert gc.get_freeze_count() > 0
        assert not any(o is long_lived for o in gc.get_objects())
        cycle = Node()
        cycle.self = cycle
        gone = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
