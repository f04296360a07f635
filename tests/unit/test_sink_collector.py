"""The sink pauses the cyclic collector while it stores a batch, and only then (api.sink.service.collector_paused)."""

import gc

from api.sink.service import collector_paused


def test_paused_inside_and_resumed_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # a second batch under way in the process (two sinks in one test)
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer batch is still under way
    assert gc.isenabled()


def test_resumed_after_an_error() -> None:
    try:
        with collector_paused():
            raise RuntimeError("store down")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_stays_paused_until_the_last_of_overlapping_batches_ends() -> None:
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # two batches in one event loop need not end in the order they began
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()
