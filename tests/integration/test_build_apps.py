# SPDX-License-Identifier: GPL-3.0-or-later
"""Real apps built from git and deployed: a Flask API, an Express API and a React site (in a folder of its repository).

The three fixture apps (tests/fixtures/apps) are committed into bare repositories served by
real git servers on loopback: the Flask app over smart HTTP that demands a token (at a tag),
the Express app over git:// (at a branch), the React app over file:// (at a commit). One
project deploys all three with deploy.yml on the local engine; their dependencies come from
the real package registries (PyPI on the controller, npm inside BuildKit with the host's CA
bundle as a build secret). The tests then check the edge, the images (non-root, no token
anywhere), a code-only rebuild, a failing scan, and a byte-identical rollback.
"""
import glob
import json
import os
import random
import shutil
import string
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import yaml

from git_server import GitDaemon, GitHttpServer
from helpers import REPO, free_port, remove_edge, remove_tenant_firewall, run_playbook

pytestmark = pytest.mark.usefixtures('world')

FIXTURES = os.path.join(REPO, 'tests', 'fixtures', 'apps')
CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'
FAST_HEALTH = json.dumps({'fleet_health_overrides': {'interval': 1, 'retries': 60}})
TOKEN = 'fleettok_' + ''.join(random.choice(string.ascii_letters + string.digits) for dummy in range(24))


def git(*args, cwd=None):
    env = dict(os.environ, GIT_AUTHOR_NAME='t', GIT_AUTHOR_EMAIL='t@example.test', GIT_COMMITTER_NAME='t',
               GIT_COMMITTER_EMAIL='t@example.test', GIT_CONFIG_GLOBAL='/dev/null', GIT_CONFIG_NOSYSTEM='1')
    return subprocess.run(['git'] + list(args), cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


class Repo(object):
    """A work tree copied from a fixture, pushed to ``<served>/<name>.git``."""

    def __init__(self, root, served, name, subdir=None):
        self.work = os.path.join(root, 'work', name)
        self.bare = os.path.join(served, name + '.git')
        # subdir: a monorepo, the app in a folder of the repository beside others
        shutil.copytree(os.path.join(FIXTURES, name), os.path.join(self.work, subdir) if subdir else self.work)
        if subdir:
            with open(os.path.join(self.work, 'README.md'), 'w') as handle:
                handle.write('# a monorepo: the site is in %s/\n' % subdir)
        git('init', '-q', '-b', 'main', cwd=self.work)
        git('add', '-A', cwd=self.work)
        git('commit', '-q', '-m', 'first', cwd=self.work)
        git('tag', 'v1', cwd=self.work)
        git('clone', '-q', '--bare', self.work, self.bare)
        git('config', 'uploadpack.allowAnySHA1InWant', 'true', cwd=self.bare)
        git('config', 'http.receivepack', 'false', cwd=self.bare)

    def commit(self, path, text):
        with open(os.path.join(self.work, path), 'a') as handle:
            handle.write(text)
        git('commit', '-q', '-am', 'change %s' % path, cwd=self.work)
        git('push', '-q', self.bare, 'main', cwd=self.work)
        return git('rev-parse', 'HEAD', cwd=self.work)

    def head(self):
        return git('rev-parse', 'HEAD', cwd=self.work)


class Apps(object):
    def __init__(self, root, user, http, daemon, repos):
        self.root, self.user, self.edge_port = root, user, free_port()
        self.edge_https_port = free_port()
        self.edge_container = 'fleet_edge_%s' % user
        self.build_root = os.path.join(root, 'build')
        self.repos = repos
        self.spec = {
            'fleet_user': user, 'fleet_project': 'apps', 'docker_hub_user': '',
            'services': {
                'api': {'type': 'python', 'git_repo': http.url('flask_api.git') + '@v1', 'git_token': TOKEN,
                        'command': 'python -u app.py', 'port': 8000, 'health_path': '/health',
                        'domain': 'api.%s.localhost' % user},
                'node': {'type': 'nodejs', 'git_repo': daemon.url('express_api.git') + '@main',
                         'command': 'node server.js', 'port': 3000, 'health_path': '/health',
                         'domain': 'node.%s.localhost' % user},
                'web': {'type': 'react', 'git_repo': 'file://%s@%s' % (repos['react_web'].bare,
                                                                       repos['react_web'].head()),
                        'build_context': 'frontend', 'domain': 'web.%s.localhost' % user},
            },
        }
        self.spec_path = os.path.join(root, 'apps.yml')
        self.write()

    def write(self, **changes):
        spec = json.loads(json.dumps(self.spec))
        for name, values in changes.items():
            spec['services'][name].update(values)
        with open(self.spec_path, 'w') as handle:
            yaml.safe_dump(spec, handle)

    def playbook(self, name, *args, **kwargs):
        extra = ['-i', 'inventory/local.yml', '-e', '@%s' % self.spec_path, '-e', '@tests/world/images.yml',
                 '-e', 'fleet_env=prod', '-e', 'fleet_root=%s' % os.path.join(self.root, 'fleet'),
                 '-e', 'fleet_edge_http_port=%d' % self.edge_port,
                 '-e', 'fleet_edge_https_port=%d' % self.edge_https_port, '-e', 'fleet_edge_bind_address=127.0.0.1',
                 '-e', 'fleet_edge_container=%s' % self.edge_container, '-e', 'fleet_build_root=%s' % self.build_root,
                 '-e', 'fleet_build_ca_bundle=%s' % CA_BUNDLE, '-e', FAST_HEALTH, '-e', 'fleet_drain_seconds=1']
        kwargs.setdefault('timeout', 1500)
        return run_playbook('playbooks/%s.yml' % name, *(extra + list(args)), **kwargs)

    def get(self, service, path='/'):
        req = urllib.request.Request('http://127.0.0.1:%d%s' % (self.edge_port, path),
                                     headers={'Host': '%s.%s.localhost' % (service, self.user)})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode('utf-8', 'replace')

    def container(self, service, seconds=60):
        """The service's one running container, once the old slot's retire is over (the server drains, stops
        and removes it after the deploy run: toggle_deploy retire=background), waiting at most ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            out = subprocess.run(['docker', 'ps', '--filter', 'label=fleet.user=%s' % self.user,
                                  '--filter', 'label=fleet.service=%s' % service, '--format', '{{.Names}}'],
                                 capture_output=True, text=True, check=True).stdout.split()
            if len(out) <= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert len(out) == 1, out
        return out[0]

    def image_of(self, service):
        return docker_json('inspect', self.container(service))['Image']


def docker_json(*args):
    out = subprocess.run(['docker'] + list(args), capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    return data[0] if isinstance(data, list) else data


def output(proc):
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def apps(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('apps'))
    served = os.path.join(root, 'served')
    os.makedirs(served)
    repos = dict((name, Repo(root, served, name, subdir={'react_web': 'frontend'}.get(name)))
                 for name in ('flask_api', 'express_api', 'react_web'))
    user = 'b' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
    with GitHttpServer(served, TOKEN) as http, GitDaemon(served) as daemon:
        project = Apps(root, user, http, daemon, repos)
        started = time.time()
        proc = project.playbook('deploy')
        project.first_deploy_seconds = round(time.time() - started, 1)
        project.first = proc
        yield project
        ids = subprocess.run(['docker', 'ps', '-aq', '--filter', 'label=fleet.user=%s' % user],
                             capture_output=True, text=True, check=False).stdout.split()
        for name in ids:
            subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)
        remove_edge(project.edge_container)
        remove_tenant_firewall(user, 'apps')
        for kind in ('network', 'volume'):
            names = subprocess.run(['docker', kind, 'ls', '-q', '--filter', 'name=%s_apps_prod' % user],
                                   capture_output=True, text=True, check=False).stdout.split()
            if names:
                subprocess.run(['docker', kind, 'rm'] + names, capture_output=True, check=False)
        images = subprocess.run(['docker', 'images', '-q', '--filter', 'label=fleet.user=%s' % user],
                                capture_output=True, text=True, check=False).stdout.split()
        if images:
            subprocess.run(['docker', 'rmi', '-f'] + sorted(set(images)), capture_output=True, check=False)


def test_three_apps_from_git_answer_through_the_edge(apps):
    assert apps.first.returncode == 0, output(apps.first)[-8000:]
    print('first deploy of the three apps (cold builds included): %.1f s' % apps.first_deploy_seconds)
    status, body = apps.get('api')
    assert status == 200 and json.loads(body) == {'service': 'flask_api', 'ok': True}
    status, body = apps.get('node')
    assert status == 200 and json.loads(body)['service'] == 'express_api'
    status, body = apps.get('web')
    assert status == 200 and 'fleet-react-fixture' in body and '<script type="module"' in body
    # a client-side route: only the SPA fallback serves it
    status, body = apps.get('web', '/about')
    assert status == 200 and 'fleet-react-fixture' in body


def test_images_are_tagged_with_the_commit_and_run_as_non_root(apps):
    commit = apps.repos['flask_api'].head()
    image = docker_json('image', 'inspect', apps.image_of('api'))
    assert '%s_apps_prod_api:%s' % (apps.user, commit[:12]) in image['RepoTags']
    for service in ('api', 'node', 'web'):
        config = docker_json('image', 'inspect', apps.image_of(service))['Config']
        assert config['User'] not in ('', '0', 'root', '0:0'), (service, config['User'])
        uid = subprocess.run(['docker', 'exec', apps.container(service), 'id', '-u'], capture_output=True,
                             text=True, check=True).stdout.strip()
        assert uid != '0', service
        assert config.get('Healthcheck'), service


def test_the_token_is_nowhere(apps):
    assert TOKEN not in output(apps.first)
    for service in ('api', 'node', 'web'):
        image = apps.image_of(service)
        history = subprocess.run(['docker', 'history', '--no-trunc', image], capture_output=True, text=True,
                                 check=True).stdout
        inspect = subprocess.run(['docker', 'image', 'inspect', image], capture_output=True, text=True,
                                 check=True).stdout
        assert TOKEN not in history and TOKEN not in inspect
        assert 'BEGIN CERTIFICATE' not in history and '/run/secrets' not in inspect
        found = subprocess.run(['docker', 'exec', apps.container(service), 'sh', '-c',
                                'grep -rl "%s" / --exclude-dir=proc --exclude-dir=sys 2>/dev/null | head -1' % TOKEN],
                               capture_output=True, text=True, check=False).stdout
        assert found == '', (service, found)
    # the clones are gone; nothing under the build root holds the token
    assert glob.glob(os.path.join(apps.build_root, 'git_repos', apps.user, '*')) == []
    found = subprocess.run(['grep', '-rl', TOKEN, apps.build_root], capture_output=True, text=True, check=False)
    assert found.stdout == ''


def test_second_identical_deploy_changes_nothing(apps):
    proc = apps.playbook('deploy')
    assert proc.returncode == 0, output(proc)[-6000:]
    recap = proc.stdout.split('PLAY RECAP')[-1]
    assert 'changed=0' in recap, recap


def _build(apps, service, *args):
    proc = apps.playbook('build', '-e', 'fleet_service=%s' % service, *args, json_output=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    for play in json.loads(proc.stdout)['plays']:
        for task in play['tasks']:
            if task['task']['name'].endswith("Build each service's image on the controller"):
                return task['hosts']['localhost']['results'][0]
    raise AssertionError('no build task in the run')


def test_code_only_change_reuses_the_dependency_layers(apps):
    repo = apps.repos['express_api']
    running = apps.image_of('node')
    nonce = random.random()  # content never built before on this engine
    repo.commit('server.js', '\n// a change built without the layer cache %s\n' % nonce)
    cold = _build(apps, 'node', '-e', 'fleet_build_no_cache=true')
    repo.commit('server.js', '\n// a code-only change %s\n' % nonce)
    warm = _build(apps, 'node')
    assert cold['built'] and warm['built']
    print('express build: no cache %.1f s, code-only change %.1f s' % (cold['build_seconds'], warm['build_seconds']))
    # (the times are printed, not asserted: bench/build measures them and fails when warm is not clearly shorter)
    # every dependency install and the node_modules layer came from the cache
    cached = warm['cached_steps']
    assert len([step for step in cached if 'npm ci' in step]) == warm['dockerfile'].count('npm ci') >= 1, cached
    assert any('COPY --from=prod-deps /app/node_modules' in step for step in cached), cached
    assert not any('COPY --from=builder' in step for step in cached), cached  # the code layer is new
    layers = [docker_json('image', 'inspect', image['image_id'])['RootFS']['Layers'] for image in (cold, warm)]
    assert len(layers[0]) == len(layers[1]) and layers[0][-1] != layers[1][-1]
    assert apps.image_of('node') == running  # building alone deploys nothing


def test_failing_scan_stops_the_deploy_and_the_old_version_serves(apps):
    before = apps.image_of('node')
    commit = apps.repos['express_api'].commit('server.js', '\n// another change, scanned %s\n' % random.random())
    apps.write(node={'scan_command': 'false'})
    proc = apps.playbook('deploy')
    apps.write()
    assert proc.returncode != 0
    assert 'the scan of %s_apps_prod_node:%s failed' % (apps.user, commit[:12]) in output(proc)
    assert apps.image_of('node') == before
    assert apps.get('node')[0] == 200


def test_rollback_runs_the_byte_identical_image(apps):
    first = apps.image_of('node')
    proc = apps.playbook('deploy')
    assert proc.returncode == 0, output(proc)[-6000:]
    second = apps.image_of('node')
    assert second != first
    proc = apps.playbook('rollback', '-e', 'fleet_service=node')
    assert proc.returncode == 0, output(proc)[-6000:]
    assert apps.image_of('node') == first
    assert apps.get('node')[0] == 200
