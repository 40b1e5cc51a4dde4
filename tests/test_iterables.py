"""``chunked``: lazy, order-keeping, every item exactly once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaufland_sync.iterables import chunked


@given(st.lists(st.integers()), st.integers(min_value=1, max_value=50))
def test_chunks_keep_every_item_in_order_and_only_the_last_is_short(
    items: list[int], size: int
) -> None:
    chunks = list(chunked(items, size))
    assert [item for chunk in chunks for item in chunk] == items
    assert all(len(chunk) == size for chunk in chunks[:-1])
    assert all(0 < len(chunk) <= size for chunk in chunks)


def test_reads_lazily() -> None:
    pulled: list[int] = []

    def source() -> Iterator[int]:
        for n in range(10):
            pulled.append(n)
            yield n

    first = next(chunked(source(), 3))
    assert first == [0, 1, 2] and pulled == [0, 1, 2]


def test_refuses_a_size_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        next(chunked([1], 0))
