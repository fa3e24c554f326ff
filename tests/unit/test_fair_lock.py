"""Writers in one app process get SQLite's write lock in the order they asked for it
(db.engine.FairLock), so none waits behind later ones."""

import threading
import time

from db.engine import FairLock


def wait_until(condition, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.001)


def test_writers_get_the_lock_in_the_order_they_asked():
    lock = FairLock()
    assert lock.acquire()
    order: list[int] = []

    def writer(number: int) -> None:
        lock.acquire()
        order.append(number)
        lock.release()

    threads = []
    for number in range(6):
        thread = threading.Thread(target=writer, args=(number,))
        thread.start()
        threads.append(thread)
        wait_until(lambda n=number: len(lock._waiting) == n + 1)  # queued before the next asks
    lock.release()
    for thread in threads:
        thread.join(10)
    assert order == list(range(6))


def test_a_thread_holding_the_lock_is_not_made_to_wait_for_itself():
    lock = FairLock()
    assert lock.acquire() is True
    assert lock.acquire() is False  # nested: no second turn, no deadlock
    lock.release()
    assert lock.acquire() is True
    lock.release()
