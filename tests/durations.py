# SPDX-License-Identifier: GPL-3.0-or-later
"""Print where a test run's time went, from pytest's JUnit XML (``--junitxml``).

    python tests/durations.py REPORT.xml [--tests N] [--modules N] [--playbooks LOG] [--cpu LOG] [--markdown]

The N slowest tests (setup + call + teardown, as pytest's junit_duration_report=total gives) and the
N slowest modules (the sum of their tests: with ``--dist loadgroup`` a module runs in one worker, so
this is its share of a worker's wall time). ``--playbooks LOG`` adds, from the integration tests' playbook run
log (tests/integration/helpers.py, ``FLEET_PLAYBOOK_LOG``), the runs, wall and CPU seconds per module and per
playbook: where the CPU of a CPU-bound run goes; ``--cpu LOG`` each integration module's CPU time (its
process tree's, tests/integration/conftest.py ``FLEET_CPU_LOG``). ``--markdown`` prints the tables docs/testing.md keeps.
"""
import argparse
import collections
import json
import sys
import xml.etree.ElementTree as ET


def read(path):
    """[(module, test name, seconds, outcome)] of every test case in the report."""
    cases = []
    for case in ET.parse(path).getroot().iter('testcase'):
        module = case.get('classname', '').split('.')
        # classname: tests.integration.test_deploy[.Class]; keep the module's basename
        name = next((part for part in reversed(module) if part.startswith('test_')), module[-1])
        outcome = 'passed'
        for child in case:
            if child.tag in ('failure', 'error'):
                outcome = 'failed'
            elif child.tag == 'skipped' and outcome == 'passed':
                outcome = 'skipped'
        cases.append((name, case.get('name', ''), float(case.get('time') or 0), outcome))
    return cases


def table(headers, rows, markdown):
    if markdown:
        lines = ['| ' + ' | '.join(headers) + ' |', '|' + '|'.join(' --- ' for dummy in headers) + '|']
        lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
        return '\n'.join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
    fmt = '  '.join('%%-%ds' % w for w in widths)
    return '\n'.join([fmt % tuple(headers)] + [fmt % tuple(str(c) for c in row) for row in rows])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    p.add_argument('report')
    p.add_argument('--tests', type=int, default=25)
    p.add_argument('--modules', type=int, default=15)
    p.add_argument('--playbooks', help='the playbook run log (JSON lines)')
    p.add_argument('--cpu', help="the integration modules' CPU log (JSON lines, tests/integration/conftest.py)")
    p.add_argument('--markdown', action='store_true')
    args = p.parse_args(argv)
    try:
        cases = read(args.report)
    except (OSError, ET.ParseError) as exc:
        print('no durations: %s' % exc, file=sys.stderr)
        return 1
    total = sum(c[2] for c in cases)
    slow = sorted(cases, key=lambda c: -c[2])[:args.tests]
    print('%d slowest tests (of %d; %.0f s of test time in all workers together)' % (len(slow), len(cases), total))
    print(table(['seconds', 'test', 'outcome'],
                [('%.1f' % s, '%s::%s' % (m, n), o) for m, n, s, o in slow], args.markdown))
    per_module = collections.defaultdict(lambda: [0.0, 0])
    for m, _n, s, _o in cases:
        per_module[m][0] += s
        per_module[m][1] += 1
    print()
    print('%d slowest modules' % min(args.modules, len(per_module)))
    print(table(['seconds', 'module', 'tests'],
                [('%.1f' % s, m, n) for m, (s, n) in sorted(per_module.items(), key=lambda kv: -kv[1][0])[:args.modules]],
                args.markdown))
    if args.cpu:
        print_module_cpu(args.cpu, args.modules, args.markdown)
    if args.playbooks:
        print_playbook_runs(args.playbooks, args.modules, args.markdown)
    return 0


def read_json_lines(path, what):
    """The rows of a JSON-lines log; None (said on stderr as ``no WHAT``) when it cannot be read."""
    try:
        with open(path, encoding='utf-8') as log:
            return [json.loads(line) for line in log if line.strip()]
    except (OSError, ValueError) as exc:
        print('no %s: %s' % (what, exc), file=sys.stderr)
        return None


def print_module_cpu(path, count, markdown):
    """The integration modules that took the most CPU (their process trees', containers aside)."""
    rows = read_json_lines(path, 'module CPU')
    if rows is None:
        return
    print()
    print('%d modules taking the most CPU (%.0f s in all, containers and the shared engine aside)' % (
        min(count, len(rows)), sum(r['cpu'] for r in rows)))
    top = sorted(rows, key=lambda r: -r['cpu'])[:count]
    print(table(['cpu s', 'wall s', 'module'], [('%.0f' % r['cpu'], '%.0f' % r['seconds'], r['module']) for r in top],
                markdown))


def print_playbook_runs(path, count, markdown):
    """Playbook runs summed per test module and per playbook, most CPU first."""
    runs = read_json_lines(path, 'playbook runs')
    if runs is None:
        return
    for label, key in (('module', lambda r: r['test'].split('::')[0].rsplit('/', 1)[-1].replace('.py', '')),
                       ('playbook', lambda r: r['playbook'])):
        sums = collections.defaultdict(lambda: [0, 0.0, 0.0, 0])
        for run in runs:
            row = sums[key(run)]
            row[0] += 1
            row[1] += run['seconds']
            row[2] += run['cpu']
            row[3] += run.get('tasks', 0)
        print()
        print('playbook runs per %s (%d runs, %.0f s CPU in all), most CPU first' % (
            label, len(runs), sum(r['cpu'] for r in runs)))
        top = sorted(sums.items(), key=lambda kv: -kv[1][2])[:count]
        print(table(['cpu s', 'wall s', 'runs', 'host tasks', label],
                    [('%.0f' % c, '%.0f' % w, n, t, name) for name, (n, w, c, t) in top], markdown))


if __name__ == '__main__':
    sys.exit(main())
