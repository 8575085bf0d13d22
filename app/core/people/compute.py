"""How the people code runs its numpy work: on one BLAS thread per Python thread.

OpenBLAS splits every matrix product over its own thread pool. The grouping does thousands of small
products (a cell's faces against its neighbouring cells', a few hundred by a thousand): there the
pool's hand-offs cost more than they save, and on a busy machine one late thread stalls every
product. Measured on 100k faces (bench/people_grouping_bench.py, 2 cores, load ~4): the neighbour
search took 20.8 s wall / 12.0 s CPU on OpenBLAS's two threads, 4.5 s / 3.9 s on one. Parallel
work is split by us instead (cells over THREADS Python threads; numpy releases the GIL in them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from threadpoolctl import ThreadpoolController

T = TypeVar("T")
R = TypeVar("R")
THREADS = max(1, min(4, os.cpu_count() or 1))
_controller: ThreadpoolController | None = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread inside the block (process-wide, as BLAS settings are; ~16 us to enter)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield


def parallel_map(work: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """work(item) for each item on THREADS threads, results in the items' order."""
    items = list(items)
    if THREADS == 1 or len(items) < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(THREADS, thread_name_prefix="people") as pool:
        return list(pool.map(work, items))
