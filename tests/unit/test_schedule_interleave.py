"""The scheduler serves feeds already on a schedule before first polls, with a floor share for first polls."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest.schedule import interleave


def test_the_schedule_comes_first_and_first_polls_get_their_share() -> None:
    polled = [f"p{i}" for i in range(20)]
    first = [f"f{i}" for i in range(20)]
    picked, credit = interleave(polled, first, 10, first_share=0.2, credit=0.0)
    assert picked == ["p0", "p1", "p2", "p3", "f0", "p4", "p5", "p6", "p7", "f1"]
    assert credit == 0.0


def test_spare_room_goes_to_first_polls_and_an_empty_schedule_leaves_it_all_to_them() -> None:
    picked, _ = interleave(["p0"], ["f0", "f1", "f2"], 3, first_share=0.1, credit=0.0)
    assert picked == ["p0", "f0", "f1"]
    assert interleave([], ["f0", "f1"], 5, first_share=0.1, credit=0.0)[0] == ["f0", "f1"]
    assert interleave(["p0", "p1"], [], 5, first_share=0.1, credit=0.0)[0] == ["p0", "p1"]


def test_one_start_at_a_time_still_gives_first_polls_their_share() -> None:
    """A busy scheduler starts one poll per tick as slots free: the carried credit keeps the floor."""
    credit, starts = 0.0, []
    for _ in range(100):
        picked, credit = interleave(["p"], ["f"], 1, first_share=0.25, credit=credit)
        starts += picked
    assert starts.count("f") == 25


def test_credit_is_capped_so_hours_without_first_polls_bank_nothing() -> None:
    credit = 0.0
    for _ in range(1000):
        _, credit = interleave(["p"], [], 1, first_share=0.5, credit=credit)
    picked, _ = interleave(["p"] * 10, ["f"] * 10, 10, first_share=0.5, credit=credit)
    assert picked.count("f") == 5  # no backlog of owed first polls crowding out the schedule


@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 40), st.floats(0.01, 1.0), st.floats(0.0, 1.0))
def test_picks_are_distinct_in_queue_order_and_fill_the_room(n_polled: int, n_first: int, room: int,
                                                             share: float, credit: float) -> None:
    polled = [("p", i) for i in range(n_polled)]
    first = [("f", i) for i in range(n_first)]
    picked, left = interleave(polled, first, room, first_share=share, credit=credit)
    assert len(picked) == min(room, n_polled + n_first)
    assert [x for x in picked if x[0] == "p"] == polled[:len([x for x in picked if x[0] == "p"])]
    assert [x for x in picked if x[0] == "f"] == first[:len([x for x in picked if x[0] == "f"])]
    assert 0.0 <= left <= 1.0
