"""Devices: signatures checked at upload, unknown or revoked devices refused, segment continuity."""

from evidence.projection import continuity_problem

H = [f"{i:064x}" for i in range(10)]


def test_consecutive_segments_naming_their_predecessor_are_continuous():
    assert continuity_problem(None, 0, None) is None
    assert continuity_problem((0, H[0]), 1, H[0]) is None


def test_a_dropped_segment_is_a_gap():
    assert (
        continuity_problem((1, H[1]), 3, H[2]) == "segment 3 follows segment 1: segment 2 missing"
    )
    assert "segments 0 to 1 are missing" in continuity_problem(None, 2, H[1])


def test_a_reordered_or_inserted_segment_is_named():
    assert "out of order or inserted" in continuity_problem((4, H[4]), 2, H[1])


def test_a_segment_naming_another_predecessor_is_named():
    assert "names" in continuity_problem((1, H[1]), 2, H[9])
