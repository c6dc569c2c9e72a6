"""``SnapshotMemo``: an answer is given back only under the stamp it was read under."""

from __future__ import annotations

from server.persistence.sqlite.snapshot_memo import SnapshotMemo


def test_an_entry_is_answered_under_its_own_stamp_only() -> None:
    memo: SnapshotMemo[str, int] = SnapshotMemo(10)
    assert memo.get("s1", "a") is None
    memo.put("s1", "a", 1)
    assert memo.get("s1", "a") == 1
    assert memo.get("s2", "a") is None  # something was committed
    assert len(memo) == 0  # and every entry went with it
    assert memo.get("s1", "a") is None  # never back, whatever the stamp


def test_an_answer_read_under_an_older_stamp_is_not_kept() -> None:
    memo: SnapshotMemo[str, int] = SnapshotMemo(10)
    assert memo.get("s1", "a") is None  # one request takes s1, then waits on its query
    assert memo.get("s2", "b") is None  # meanwhile a commit, seen by another request
    memo.put("s1", "a", 1)  # the first request's answer may predate s2
    assert memo.get("s2", "a") is None
    memo.put("s2", "b", 2)
    assert memo.get("s2", "b") == 2


def test_without_a_stamp_nothing_is_remembered() -> None:
    memo: SnapshotMemo[str, int] = SnapshotMemo(10)
    assert memo.get(None, "a") is None
    memo.put(None, "a", 1)
    assert len(memo) == 0
    memo.get("s1", "a")
    memo.put("s1", "a", 1)
    assert memo.get(None, "a") is None  # no stamp: no answer, though one is kept


def test_the_oldest_entry_goes_first_when_full() -> None:
    memo: SnapshotMemo[int, int] = SnapshotMemo(3)
    memo.get("s", 0)
    for key in range(5):
        memo.put("s", key, key * 10)
    assert [memo.get("s", key) for key in range(5)] == [None, None, 20, 30, 40]
    memo.put("s", 2, 21)  # a key already there takes no room
    assert [memo.get("s", key) for key in (2, 3, 4)] == [21, 30, 40]


def test_a_memo_of_no_capacity_remembers_nothing() -> None:
    memo: SnapshotMemo[str, int] = SnapshotMemo(0)
    memo.get("s", "a")
    memo.put("s", "a", 1)
    assert memo.get("s", "a") is None
