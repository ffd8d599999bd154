# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the integration tests: the test world (tests/world/up.sh) and Docker resources.

- ``world`` (session): brings the world up once per run with ``bash tests/world/up.sh``; with
  ``FLEET_WORLD_READY=1`` a quick check (engine answers, every stand-in image present, registry
  answers) replaces the run. A failure ends in ``pytest.fail`` naming the step and the log.
- ``docker_client`` (session): ``docker.from_env()`` against the world's engine.
- ``unique_prefix``: a random short lowercase name (``ft`` + 6 letters/digits, a valid fleet id)
  for the test's resources. At teardown every container, network, volume and image that carries
  the label ``fleet-test=<prefix>`` (see ``test_labels``) or whose name starts with the prefix is
  removed.
- ``test_labels``: ``{"fleet-test": <prefix>}``, to put on whatever a test creates.

Every test under tests/integration is marked ``integration``.
"""
import os
import re
import secrets
import string
import subprocess
import time
import types
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORLD_DIR = os.path.join(REPO, 'tests', 'world')
LOG_DIR = os.environ.get('FLEET_WORLD_LOG_DIR', '/var/log/fleet-world')
REGISTRY = os.environ.get('FLEET_WORLD_REGISTRY', '127.0.0.1:5000')
NAMESPACE = os.environ.get('FLEET_WORLD_NAMESPACE', 'fleet-world')
UP_TIMEOUT = 3600  # a cold world (debootstrap + six image builds) takes a few minutes

# Keep in step with WORLD_IMAGE_TAGS in tests/world/lib.sh.
WORLD_IMAGES = {
    'postgres': ['15'],
    'redis': ['7', '7-alpine'],
    'nginx': ['1.22', 'stable'],
    'python': ['3.11', '3.11-slim'],
    'node': ['18', '18-slim'],
    'opensearch': ['2.19.6', '2.19', '2'],
}
TEST_LABEL = 'fleet-test'


# The order pytest-xdist (``--dist loadfile --no-loadscope-reorder``) hands the integration modules out in:
# slowest first (docs/testing.md's table), so the long ones start at once and the short ones fill the gaps at
# the end. xdist gives each of the (4) workers two modules to begin with, the first four and the next four: the
# next four are short ones, so that no worker is handed two long ones before the others get any. A module
# not listed comes after the listed ones; then the unit tests.
SLOWEST_FIRST = (
    'test_heal', 'test_do_faults', 'test_deploy', 'test_backup',
    'test_validate_playbook', 'test_galaxy_install', 'test_custom_build', 'test_port_hash_module',
    'test_deploy_droplets', 'test_scale_droplets', 'test_multizone', 'test_tls', 'test_vault_secrets', 'test_rotation',
    'test_opensearch', 'test_health', 'test_python_api', 'test_build_apps', 'test_remove', 'test_toggle_deploy',
    'test_do_modules', 'test_sync', 'test_nginx_mesh', 'test_delivery', 'test_image_build',
    'test_build_registry', 'test_provision', 'test_world_images', 'test_do_sim', 'test_do_sim_peering',
    'test_secret_module', 'test_sim_host', 'test_inventory_droplets', 'test_git_source',
)


def _module(item):
    return os.path.splitext(os.path.basename(str(item.fspath)))[0]


def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
    """Every test under tests/integration is marked ``integration``; the integration modules come first,
    slowest first (SLOWEST_FIRST), then the unit tests. With ``--dist loadfile`` a module's tests run in one
    worker, one after another, sharing its module-scoped fixtures (a deployed project, a simulator)."""
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    mine = [item for item in items if str(item.fspath).startswith(HERE + os.sep)]
    for item in mine:
        item.add_marker(pytest.mark.integration)
    ids = {id(item) for item in mine}
    others = [item for item in items if id(item) not in ids]
    mine.sort(key=lambda item: rank.get(_module(item), len(rank)))
    items[:] = mine + others


def _registry_status():
    try:
        with urllib.request.urlopen('http://%s/v2/' % REGISTRY, timeout=5) as resp:
            return resp.status
    except Exception as exc:  # noqa: BLE001 - any failure means "not answering"
        return getattr(exc, 'code', None) or str(exc)


def _quick_check():
    """None when the world is up, else one line saying what is missing."""
    try:
        import docker
        client = docker.from_env(timeout=20)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return 'the Docker engine does not answer (%s)' % exc
    try:
        for name, tags in WORLD_IMAGES.items():
            for tag in tags:
                ref = '%s/%s:%s' % (NAMESPACE, name, tag)
                try:
                    client.images.get(ref)
                except Exception:  # noqa: BLE001
                    return 'image %s is missing' % ref
    finally:
        client.close()
    status = _registry_status()
    if status != 200:
        return 'the registry http://%s/v2/ does not answer 200 (%s)' % (REGISTRY, status)
    return None


def _failure_message(proc_output, returncode):
    lines = [line for line in proc_output.splitlines() if line.strip()]
    step = None
    for line in lines:
        m = re.search(r'step (\S+) FAILED', line)
        if m:
            step = m.group(1)
    logs = []
    for line in lines:
        for path in re.findall(r'\(log: ([^)]+)\)', line):
            if path not in logs:
                logs.append(path)
    head = 'test world: tests/world/up.sh failed (exit %s)' % returncode
    if step:
        head += ' in step %r' % step
    head += '; log: %s' % (logs[-1] if logs else LOG_DIR + '/')
    return head + '\n' + '\n'.join(lines[-25:])


CPUACCT = '/sys/fs/cgroup/cpuacct'


def _cpu_usage(group):
    with open(os.path.join(group, 'cpuacct.usage')) as usage:
        return int(usage.read()) / 1e9


@pytest.fixture(scope='module', autouse=True)
def module_cpu(request):
    """With ``$FLEET_CPU_LOG`` set (tests/run.sh sets it), the CPU time of each integration module goes there as one
    JSON line: the worker moves into a cpuacct cgroup of its own for the module, so every process the module starts
    (ansible-playbook and its modules, simulators, simulated hosts with their sshd and the modules run through it)
    is counted; containers (which the engines put in cgroups of their own) and the shared engine are not. The CI's
    run is CPU-bound: this says which modules its time goes to (tests/durations.py prints it)."""
    path = os.environ.get('FLEET_CPU_LOG')
    worker = os.environ.get('PYTEST_XDIST_WORKER', 'gw0')
    group = os.path.join(CPUACCT, 'fleet-tests', '%s-%s' % (worker, _module(request.node)))
    try:
        if not path:
            raise OSError('no log asked for')
        os.makedirs(group, exist_ok=True)
        with open(os.path.join(group, 'cgroup.procs'), 'w') as procs:
            procs.write(str(os.getpid()))
    except OSError:
        yield
        return
    started, cpu_before = time.monotonic(), _cpu_usage(group)  # a group left by an earlier run keeps its count
    try:
        yield
    finally:
        with open(os.path.join(CPUACCT, 'cgroup.procs'), 'w') as procs:
            procs.write(str(os.getpid()))
        cpu = _cpu_usage(group) - cpu_before
        with open(path, 'a', encoding='utf-8') as log:
            log.write('{"module": "%s", "cpu": %.1f, "seconds": %.1f}\n' % (
                _module(request.node), cpu, time.monotonic() - started))
        try:
            os.rmdir(group)  # refused while a process it started lives on (ssh's ControlPersist masters)
        except OSError:
            pass


@pytest.fixture(scope='session')
def world():
    """The test world, up: engine, stand-in images, loopback registry."""
    if os.environ.get('FLEET_WORLD_READY') == '1' and _quick_check() is None:
        pass
    else:
        try:
            proc = subprocess.run(['bash', os.path.join(WORLD_DIR, 'up.sh')], cwd=REPO,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=UP_TIMEOUT, stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors='replace') if isinstance(exc.stdout, bytes) else (exc.stdout or '')
            pytest.fail(_failure_message(out, 'timeout after %d s' % UP_TIMEOUT), pytrace=False)
        except OSError as exc:
            pytest.fail('test world: cannot run bash tests/world/up.sh: %s' % exc, pytrace=False)
        if proc.returncode != 0:
            pytest.fail(_failure_message(proc.stdout, proc.returncode), pytrace=False)
        problem = _quick_check()
        if problem:
            pytest.fail('test world: up.sh succeeded but %s (logs: %s/)' % (problem, LOG_DIR), pytrace=False)
    return types.SimpleNamespace(
        registry=REGISTRY,
        namespace=NAMESPACE,
        images={name: ['%s/%s:%s' % (NAMESPACE, name, tag) for tag in tags] for name, tags in WORLD_IMAGES.items()},
        images_file=os.path.join(WORLD_DIR, 'images.yml'),
        log_dir=LOG_DIR,
    )


@pytest.fixture(scope='session')
def docker_client(world):
    import docker
    client = docker.from_env(timeout=120)
    yield client
    client.close()


@pytest.fixture
def unique_prefix(request, docker_client):
    alphabet = string.ascii_lowercase + string.digits
    prefix = 'ft' + ''.join(secrets.choice(alphabet) for i in range(6))
    request.addfinalizer(lambda: _cleanup(docker_client, prefix))
    return prefix


@pytest.fixture
def test_labels(unique_prefix):
    return {TEST_LABEL: unique_prefix}


def _mine(prefix, name, labels):
    return (labels or {}).get(TEST_LABEL) == prefix or (name or '').lstrip('/').startswith(prefix)


def _cleanup(client, prefix):
    """Remove everything the test with this prefix created; report (not raise) what stays."""
    import docker.errors
    left = []

    def attempt(what, fn):
        for i in range(3):
            try:
                fn()
                return
            except docker.errors.NotFound:
                return
            except Exception as exc:  # noqa: BLE001
                if i == 2:
                    left.append('%s: %s' % (what, exc))
                time.sleep(1)

    for c in client.containers.list(all=True, ignore_removed=True):
        if _mine(prefix, c.name, c.labels):
            attempt('container ' + c.name, lambda c=c: c.remove(force=True, v=True))
    for n in client.networks.list():
        if _mine(prefix, n.name, n.attrs.get('Labels')):
            attempt('network ' + n.name, n.remove)
    for v in client.volumes.list():
        if _mine(prefix, v.name, v.attrs.get('Labels')):
            attempt('volume ' + v.name, lambda v=v: v.remove(force=True))
    # the low-level list: the SDK's images.list() inspects each image, and one that another test removes meanwhile
    # fails it (ImageNotFound at teardown, seen once in CI)
    for img in client.api.images():
        tags = [t for t in img.get('RepoTags') or [] if t != '<none>:<none>']
        named = any(t.rsplit(':', 1)[0].split('/')[-1].startswith(prefix) for t in tags)
        if (img.get('Labels') or {}).get(TEST_LABEL) == prefix or named:
            attempt('image ' + (tags[0] if tags else img['Id']),
                    lambda image_id=img['Id']: client.images.remove(image_id, force=True))
    if left:
        import warnings
        warnings.warn('test world cleanup of %s left: %s' % (prefix, '; '.join(left)))


@pytest.fixture(scope='module')
def cloud(tmp_path_factory, world):  # pylint: disable=unused-argument
    """The DigitalOcean simulator whose droplets are real hosts, for one test module."""
    import do_cloud
    started = do_cloud.start(str(tmp_path_factory.mktemp('do_sim_hosts')))
    yield started
    do_cloud.stop(started)
