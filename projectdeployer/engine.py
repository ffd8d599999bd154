# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one of the collection's playbooks through ansible-runner and keep its structured results.

Nothing here reads the human output: every module result comes from ansible-runner's events
(``runner_on_ok`` / ``runner_on_failed`` / ``runner_on_unreachable``), which carry the module's
return values (``no_log`` ones are censored by Ansible before they reach any event).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tempfile

from projectdeployer import collection
from projectdeployer.errors import EXIT_FAILED, EXIT_USAGE, FleetError

# a failure in these tasks means the spec or the arguments were refused before any host was touched
USAGE_ACTIONS = ('projectdeployer.fleet.project_spec', 'project_spec')
OK_EVENTS = ('runner_on_ok',)   # a loop's items are in its task's final result (``results``)
FAILED_EVENTS = ('runner_on_failed', 'runner_on_unreachable')


class Result(object):
    """What a playbook run left: its exit code, each task's result per host, and its failures."""

    def __init__(self, name, rc, status, oks, failures):
        self.name, self.rc, self.status, self.oks, self.failures = name, rc, status, oks, failures

    @property
    def ok(self):
        return self.rc == 0

    def rows(self, action):
        """Every result of the module ``action`` (its short or its full name), in order: ``{host, task, action, res}``."""
        return [event for event in self.oks if event['action'] in (action, 'projectdeployer.fleet.%s' % action)]

    def by_host(self, action):
        """``{host: result}`` of the last run of the module ``action`` on each host."""
        return dict((event['host'], event['res']) for event in self.rows(action))

    def one(self, action):
        """The result of a ``run_once`` task (the first host's), or None when it did not run."""
        found = self.by_host(action)
        return next(iter(found.values())) if found else None

    def error(self):
        """The FleetError this run's failure makes: the playbook's own one-line message, with its fix."""
        if not self.failures:
            return FleetError('%s failed (exit %s, %s) before any task failed; run it with -v to see why'
                              % (self.name, self.rc, self.status), playbook=self.name)
        last = self.failures[-1]
        hosts = sorted(set(f['host'] for f in self.failures if f['task'] == last['task']))
        message = _message(last['res']) or '%s failed' % last['task']
        if len(hosts) > 1 or last['unreachable']:
            message = '%s: %s' % (', '.join(hosts), message)
        usage = any(f['action'] in USAGE_ACTIONS for f in self.failures)
        return FleetError(message, exit_code=EXIT_USAGE if usage else EXIT_FAILED, playbook=self.name,
                          key=last['res'].get('error_path'))


def _message(res):
    msg = res.get('msg') or res.get('stderr') or res.get('reason') or ''
    if isinstance(msg, list):
        msg = ' '.join(str(m) for m in msg)
    return ' '.join(str(msg).split()) if '\n' not in str(msg).strip() else str(msg).strip()


def _event_row(event):
    data = event.get('event_data') or {}
    return {'host': data.get('host'), 'task': data.get('task'), 'action': data.get('task_action') or '',
            'res': data.get('res') or {}, 'unreachable': event.get('event') == 'runner_on_unreachable',
            'ignored': bool(data.get('ignore_errors'))}


def run(name, extra_vars, inventory=None, spec_path=None, cwd=None, echo=None, verbosity=0, forks=None):
    """Run ``playbooks/NAME.yml`` and return its :class:`Result` (never raises for a failed run).

    ``extra_vars`` go in a 0600 file of a 0700 run directory that is removed afterwards (never on a
    command line); ``spec_path`` is passed as ``-e @SPEC`` so that the playbooks' errors name that file;
    ``echo(text)`` is given the playbook's human output as it comes (progress), ``None`` keeps it quiet;
    ``forks=1`` works on one server at a time.
    """
    import ansible_runner  # deferred: `fleet --help` and the spec methods need no Ansible run

    private = tempfile.mkdtemp(prefix='fleet-run-')
    os.chmod(private, 0o700)
    oks, failures = [], []

    def on_event(event):
        kind = event.get('event')
        if kind in OK_EVENTS:
            oks.append(_event_row(event))
        elif kind in FAILED_EVENTS:
            row = _event_row(event)
            if not row['ignored']:
                failures.append(row)
        if echo is not None and event.get('stdout'):
            echo(event['stdout'])
        return False   # runner need not keep the event files: everything needed is kept here

    try:
        vars_file = os.path.join(private, 'extra_vars.json')
        with os.fdopen(os.open(vars_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as handle:
            json.dump(extra_vars, handle)
        cmdline = []
        if spec_path:
            cmdline += ['-e', '@%s' % os.path.abspath(spec_path)]
        cmdline += ['-e', '@%s' % vars_file]
        envvars = {'ANSIBLE_FORCE_COLOR' if echo is not None and sys.stdout.isatty() else 'ANSIBLE_NOCOLOR': '1',
                   'PATH': os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')}
        if collection.ansible_cfg() and not os.environ.get('ANSIBLE_CONFIG'):
            envvars['ANSIBLE_CONFIG'] = collection.ansible_cfg()
        runner = ansible_runner.run(
            private_data_dir=private, playbook=collection.playbook(name),
            inventory=os.path.abspath(inventory or collection.default_inventory()),
            project_dir=os.path.abspath(cwd or os.getcwd()), cmdline=shlex.join(cmdline),
            envvars=envvars, quiet=True, suppress_env_files=True,
            verbosity=verbosity or None, forks=forks, event_handler=on_event)
        return Result(name, runner.rc, runner.status, oks, failures)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def run_or_raise(name, extra_vars, **kwargs):
    """:func:`run`, raising the run's :class:`FleetError` when it failed."""
    result = run(name, extra_vars, **kwargs)
    if not result.ok:
        raise result.error()
    return result
