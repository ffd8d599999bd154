# SPDX-License-Identifier: GPL-3.0-or-later
"""Progress lines while a long module run goes on."""
import threading

import pytest

from ansible_collections.projectdeployer.fleet.plugins.plugin_utils.progress import elapsed, run_with_progress


def test_elapsed_reads_as_time():
    assert [elapsed(s) for s in (5, 90, 3725)] == ['5s', '1m30s', '1h02m']


def test_a_line_comes_every_period_while_the_run_goes_on_and_none_after():
    done = threading.Event()
    shown = []

    def show(line):
        shown.append(line)
        if len(shown) == 3:
            done.set()

    def run():
        done.wait(5)
        return 'result'

    assert run_with_progress(run, lambda s: 'api: building, %s' % elapsed(s), every=0.01, show=show) == 'result'
    assert len(shown) >= 3 and all(line.startswith('api: building, ') for line in shown)


def test_a_quick_run_shows_nothing_and_an_error_is_raised_here():
    shown = []
    assert run_with_progress(lambda: 7, lambda s: 'x', every=5, show=shown.append) == 7
    assert shown == []

    def fail():
        raise ValueError('boom')
    with pytest.raises(ValueError, match='boom'):
        run_with_progress(fail, lambda s: 'x', every=5, show=shown.append)
