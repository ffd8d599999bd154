# SPDX-License-Identifier: GPL-3.0-or-later
"""Run real ansible-playbook processes against the collection checkout."""
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def ansible_env(**extra):
    env = dict(os.environ)
    env.update({
        'ANSIBLE_CONFIG': os.path.join(REPO, 'ansible.cfg'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'PATH': BIN + os.pathsep + env.get('PATH', ''),
    })
    env.update(extra)
    return env


def run_playbook(playbook, *args, cwd=REPO, env=None, timeout=600, json_output=False):
    """Run ``ansible-playbook`` and return the CompletedProcess (stdout and stderr as text)."""
    extra = {'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json'} if json_output else {}
    extra.update(env or {})
    cmd = [os.path.join(BIN, 'ansible-playbook'), playbook] + list(args)
    return subprocess.run(cmd, cwd=cwd, env=ansible_env(**extra), capture_output=True, text=True, check=False,
                          timeout=timeout)


def task_results(proc, task_name):
    """Results of the task named ``task_name`` from an ansible.posix.json run, per host."""
    data = json.loads(proc.stdout)
    for play in data['plays']:
        for task in play['tasks']:
            if task['task']['name'] == task_name:
                return task['hosts']
    raise AssertionError('no task %r in the run' % task_name)
