"""The scoring bench/extraction.py uses: what counts as the same title and day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.evaluate import date_match, title_match, title_match_as_shown


@pytest.mark.parametrize(
    ("truth", "got", "exact", "as_shown"),
    [
        ("Quay reopens", "Quay reopens", True, True),
        ("„Quay“ reopens – at last", '"Quay" reopens - at last', True, True),
        ("Quay reopens", "Quay reopens | Harbour News", False, False),
        # a heading shown in CSS capitals: the page's own case is kept
        ("QUAY REOPENS AT LAST", "Quay reopens at last", False, True),
        # but a truth in mixed case is not forgiven a change of case
        ("Quay Reopens", "quay reopens", False, False),
        # nor capitals that say other words
        ("QUAY REOPENS", "Quay closes", False, False),
        ("2024", "2024", True, True),
        ("", "", False, False),
    ],
)
def test_titles(truth: str, got: str, exact: bool, as_shown: bool) -> None:
    assert title_match(truth, got) is exact
    assert title_match_as_shown(truth, got) is as_shown


def test_a_day_is_compared_as_written() -> None:
    assert date_match("2014-09-02T08:35-04:00", datetime(2014, 9, 2, 23, 0, tzinfo=UTC))
    assert date_match("2022-11-1", "2022-11-01")
    assert not date_match("2022-29-11", "2022-11-29")  # an unreadable truth matches nothing
