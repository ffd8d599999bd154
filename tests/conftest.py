# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the repository importable as ``ansible_collections.projectdeployer.fleet``.

The collection lives at the repository root, so the tests put a symlink
``<tmp>/ansible_collections/projectdeployer/fleet -> <repo>`` on ``sys.path``
and on ``ANSIBLE_COLLECTIONS_PATH`` for the ansible-playbook runs they start.
"""
import contextlib
import glob
import hashlib
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collections_root():
    # One directory per checkout: two clones testing at once must not repoint each other's link.
    tag = hashlib.sha256(REPO.encode('utf-8')).hexdigest()[:10]
    root = os.path.join(tempfile.gettempdir(), 'fleet-collections-%d-%s' % (os.getuid(), tag))
    ns = os.path.join(root, 'ansible_collections', 'projectdeployer')
    link = os.path.join(ns, 'fleet')
    os.makedirs(ns, exist_ok=True)
    if os.path.realpath(link) != REPO:
        tmp = link + '.%d' % os.getpid()
        os.symlink(REPO, tmp)
        os.replace(tmp, link)
    return root


COLLECTIONS_ROOT = _collections_root()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)
# the Python API (projectdeployer/) and the resolver, as `pip install .` would give them
for _path in (REPO, os.path.join(REPO, 'resolver')):
    if _path not in sys.path:
        sys.path.append(_path)
os.environ['ANSIBLE_COLLECTIONS_PATH'] = os.pathsep.join(
    [COLLECTIONS_ROOT] + [p for p in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if p])


def pytest_sessionstart(session):
    """Deploys schedule jobs and backups in /etc/cron.d, which the simulated hosts share with this machine:
    what the run added there is removed at its end (a test's own teardown may be cut short). Done by the
    process that runs the whole session (pytest-xdist's controller, or pytest alone), never by a worker: a
    worker's session ends while others still run tests whose cron files must stay. Only files naming this
    run's temporary directory (every test's fleet root is under it) or this checkout (a simulated droplet's
    backup job runs this checkout's venv python) go: another pytest run on this machine keeps its own."""
    if not hasattr(session.config, 'workerinput'):  # pytest-xdist gives its workers that
        session.config.fleet_cron_before = set(glob.glob('/etc/cron.d/fleet_*'))


def pytest_sessionfinish(session):
    before = getattr(session.config, 'fleet_cron_before', None)
    factory = getattr(session.config, '_tmp_path_factory', None)
    if before is None or factory is None:
        return
    marks = (str(factory.getbasetemp()) + os.sep, REPO + os.sep)
    for path in set(glob.glob('/etc/cron.d/fleet_*')) - before:
        with contextlib.suppress(OSError):
            with open(path, encoding='utf-8', errors='replace') as handle:
                text = handle.read()
            if any(mark in text for mark in marks):
                os.unlink(path)
