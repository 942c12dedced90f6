"""fastmlp.threads.thread_budget: the one owner of a temporary compute budget."""

from __future__ import annotations

import pytest

import fastmlp
from fastmlp.threads import max_threads, thread_budget


def test_the_budget_is_restored_after_the_block_and_after_an_error():
    before = fastmlp.get_num_threads()
    with thread_budget(1):
        assert fastmlp.get_num_threads() == 1
    assert fastmlp.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"), thread_budget(1):
        raise RuntimeError("inside")
    assert fastmlp.get_num_threads() == before


def test_a_budget_beyond_the_cores_is_refused_and_changes_nothing():
    before = fastmlp.get_num_threads()
    with pytest.raises(ValueError, match="n must be between 1"), thread_budget(max_threads() + 1):
        pass
    assert fastmlp.get_num_threads() == before


def test_the_budget_changes_the_count_only_and_blas_stays_at_one(monkeypatch):
    from threadpoolctl import threadpool_info

    def rescan(**_kwargs):
        raise AssertionError("thread_budget re-applied the BLAS limit")

    monkeypatch.setattr(fastmlp.threads, "threadpool_limits", rescan)
    with thread_budget(max_threads()):
        assert fastmlp.get_num_threads() == max_threads()
    blas = [info for info in threadpool_info() if info["user_api"] == "blas"]
    assert blas, "NumPy's BLAS was not found by threadpoolctl"
    assert all(info["num_threads"] == fastmlp.threads.FASTMLP_BLAS_THREADS for info in blas)
