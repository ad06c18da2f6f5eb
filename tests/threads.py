"""Running requests or sessions at the same moment, for the race tests."""

from __future__ import annotations

import threading


def run_in_threads(app, jobs):
    """Run each job (a callable returning a result) on its own thread, in its own
    application context, and return their results in order. Jobs touch no object of the
    test's session (plain ids and URLs only): that session belongs to the test's thread."""
    results: list = [None] * len(jobs)
    errors: list = []

    def run(index, job):
        try:
            with app.app_context():
                results[index] = job()
        except BaseException as error:  # reported by the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results
