# SPDX-License-Identifier: GPL-3.0-or-later
"""What a failed health check reports about the container (a stub container: no Docker)."""
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.container_logs import failure_report


class StubContainer(object):
    def __init__(self, logs, state=None):
        self._logs = logs
        self.attrs = {'State': state or {'Status': 'running', 'ExitCode': 0, 'Running': True}, 'RestartCount': 0}

    def reload(self):
        pass

    def logs(self, **kwargs):
        return self._logs.encode()


def test_error_lines_are_highlighted():
    report = failure_report(StubContainer('starting\nTraceback (most recent call last):\n  File "x"\nValueError: no\n'))
    assert report['error_lines'][1:] == [u'\u274c Traceback (most recent call last):', u'\u274c   File "x"',
                                         u'\u274c ValueError: no']


def test_without_error_lines_the_last_lines_are_shown():
    lines = ['line %d' % n for n in range(20)] + ['WARNING Invalid HTTP_HOST header: 10.0.0.5:8120']
    report = failure_report(StubContainer('\n'.join(lines)))
    assert report['error_lines'][0] == 'the last 8 lines of its logs (none looks like an error):'
    assert report['error_lines'][1:] == ['   ' + line for line in lines[-8:]]
    assert report['logs'] == lines


def test_no_logs_at_all():
    report = failure_report(StubContainer('', {'Status': 'exited', 'ExitCode': 1}))
    assert report['exit_code'] == 1 and report['error_lines'][-1].startswith(u'\u274c no logs available')
