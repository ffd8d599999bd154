# SPDX-License-Identifier: GPL-3.0-or-later
"""``_build.git_source.checkout`` against real git servers on 127.0.0.1 (no Docker, no test world).

Smart HTTP with a token (git-http-backend), https with a self-signed CA, ``git daemon``
(``git://``) and ``file://``. The runner is a subprocess stand-in for
``AnsibleModule.run_command`` that records every command line and, while each command runs,
samples the command line and environment of the processes it started (only those).
"""
import base64
import os
import subprocess
import threading
import time
import types
from urllib.parse import quote

import pytest

from git_server import GitDaemon, GitHttpServer, create_bare_repo, self_signed_cert

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build import git_source as gs

TOKEN = 'fleet-test-T0ken/with+chars'
FORMS = [TOKEN, quote(TOKEN, safe=''), base64.b64encode(TOKEN.encode()).decode(),
         base64.b64encode(('x-access-token:' + TOKEN).encode()).decode()]
GIT_PROGRAMS = ('git', 'git-remote-http', 'git-remote-https', 'timeout')


def has_secret(text):
    return any(f in text for f in FORMS)


def _read(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')
    except OSError:
        return None


def _descendants(root_pid):
    """Pids of ``root_pid`` and every process below it (from the public /proc/*/stat)."""
    parents = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            stat = _read('/proc/%s/stat' % name)
            if stat:
                parents[int(name)] = int(stat.rpartition(')')[2].split()[1])
    found, todo = set(), [root_pid]
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return found


class Runner:
    """``AnsibleModule.run_command`` stand-in: list args, no shell; records calls and process samples."""

    def __init__(self, sample=False):
        self.calls = []
        self.sample = sample
        self.seen = {}   # pid -> (argv list, environ text)

    def __call__(self, args, check_rc=False, environ_update=None, cwd=None, data=None):
        assert isinstance(args, list)
        env = dict(os.environ)
        env.update(environ_update or {})
        self.calls.append((list(args), dict(environ_update or {})))
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdin=subprocess.PIPE if data else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sampler = None
        if self.sample:
            sampler = threading.Thread(target=self._sample, args=(proc,), daemon=True)
            sampler.start()
        out, err = proc.communicate(data.encode() if data else None, timeout=600)
        if sampler:
            sampler.join(timeout=10)
        return proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')

    def _sample(self, proc):
        while proc.poll() is None:
            for pid in _descendants(proc.pid):
                cmdline = _read('/proc/%d/cmdline' % pid)
                environ = _read('/proc/%d/environ' % pid)
                if cmdline:
                    argv = cmdline.rstrip('\0').split('\0')
                    old = self.seen.get(pid, (argv, ''))
                    self.seen[pid] = (argv, old[1] + (environ or ''))
            time.sleep(0.005)


@pytest.fixture(scope='module')
def servers(tmp_path_factory):
    base = tmp_path_factory.mktemp('git-servers')
    repos = str(base / 'repos')
    os.makedirs(repos)
    repo = create_bare_repo(repos, 'app.git')
    cert, key = self_signed_cert(str(base))
    with GitHttpServer(repos, TOKEN) as http, GitDaemon(repos) as daemon, \
            GitHttpServer(repos, TOKEN, cert=cert, key=key) as https:
        yield types.SimpleNamespace(repo=repo, http=http, https=https, daemon=daemon, cert=cert,
                                    file_url='file://' + repo.path)


@pytest.fixture
def dest(tmp_path):
    path = str(tmp_path / 'git_repos' / 'u1' / 'myapp-prod-api')
    yield path
    if os.path.exists(path):
        gs.remove_checkout(path)


def content(dest):
    with open(os.path.join(dest, 'app.py')) as handle:
        return handle.read().strip()


def assert_no_token_in_tree(dest):
    for form in FORMS:
        proc = subprocess.run(['grep', '-r', '-F', '-l', '-e', form, dest], capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 1, 'token form found in %s' % proc.stdout
    with open(os.path.join(dest, '.git', 'config')) as handle:
        config = handle.read()
    assert 'extraheader' not in config.lower()
    assert 'origin' in config   # the remote is there, without credentials


def refs(repo):
    return [
        (None, repo.second, 'VERSION = 2', 'HEAD'),
        ('main', repo.second, 'VERSION = 2', 'main'),
        ('release', repo.first, 'VERSION = 1', 'release'),
        ('v1.0', repo.first, 'VERSION = 1', 'v1.0'),
        (repo.first, repo.first, 'VERSION = 1', repo.first),
        (repo.first[:9], repo.first, 'VERSION = 1', repo.first[:9]),
    ]


# ---------------------------------------------------------------- http with a token

@pytest.mark.parametrize('which', range(6), ids=['default', 'branch-main', 'branch', 'tag', 'sha', 'short-sha'])
def test_http_with_token(servers, dest, which):
    ref, commit, text, shown = refs(servers.repo)[which]
    url = servers.http.url('app.git')
    before = len(servers.http.requests)
    run = Runner()
    result = gs.checkout(run, url + ('@' + ref if ref else ''), TOKEN, dest, timeout=120)
    assert result == {'commit': commit, 'short': commit[:12], 'ref': shown, 'url': url}
    assert gs.version_from_commit(result['commit']) == commit[:12]
    assert content(dest) == text
    assert_no_token_in_tree(dest)
    for args, env in run.calls:
        assert not has_secret(' '.join(args))
    new = servers.http.requests[before:]
    assert new and all(r.authorized for r in new)
    # HEAD is detached at the commit
    head = subprocess.run(['git', '-C', dest, 'symbolic-ref', '-q', 'HEAD'], capture_output=True, check=False)
    assert head.returncode == 1


def test_token_never_on_a_command_line_and_only_in_git_processes(servers, dest):
    servers.http.delay = 0.3          # keep git's processes alive long enough to be sampled
    try:
        run = Runner(sample=True)
        gs.checkout(run, servers.http.url('app.git') + '@' + servers.repo.first[:9], TOKEN, dest, timeout=120)
    finally:
        servers.http.delay = 0.0
    assert run.seen, 'no process sampled'
    holders = set()
    for pid, (argv, environ) in run.seen.items():
        assert not has_secret(' '.join(argv)), argv
        if has_secret(environ):
            holders.add(os.path.basename(argv[0]))
            assert os.path.basename(argv[0]) in GIT_PROGRAMS or argv[0].startswith('git'), argv
    # the fetch (and its http helper) did carry the header: the sampling saw it
    assert holders & {'git', 'git-remote-http'}, holders
    for args, env in run.calls:
        assert not has_secret(' '.join(args))
        fetch = 'fetch' in args
        assert has_secret(repr(env)) == fetch, args
    assert_no_token_in_tree(dest)


def test_wrong_token_is_an_auth_error_without_the_token(servers, dest):
    with pytest.raises(gs.GitSourceError) as exc:
        gs.checkout(Runner(), servers.http.url('app.git') + '@main', 'wrong-' + TOKEN, dest, timeout=60)
    msg = str(exc.value)
    assert 'authentication failed' in msg and 'check that git_token is set and has read access' in msg
    assert TOKEN not in msg and 'wrong-' not in msg and '\n' not in msg
    assert not os.path.exists(dest)
    with pytest.raises(gs.GitSourceError, match='no git_token is set'):
        gs.checkout(Runner(), servers.http.url('app.git') + '@main', None, dest, timeout=60)


def test_missing_ref_is_a_ref_error(servers, dest):
    url = servers.http.url('app.git')
    with pytest.raises(gs.GitSourceError) as exc:
        gs.checkout(Runner(), url + '@no-such-branch', TOKEN, dest, timeout=60)
    assert str(exc.value) == ('git_repo %s: ref \'no-such-branch\' not found: no branch or tag of that name in '
                              'the repository; fix the ref after "@"' % url)
    with pytest.raises(gs.GitSourceError, match=r"ref 'deadbeef' not found: no branch, tag or commit"):
        gs.checkout(Runner(), url + '@deadbeef', TOKEN, dest, timeout=60)
    assert not os.path.exists(dest)


def test_missing_repository(servers, dest):
    for url, token in ((servers.http.url('nope.git'), TOKEN), (servers.daemon.url('nope.git'), None)):
        with pytest.raises(gs.GitSourceError, match='repository not found or not readable') as exc:
            gs.checkout(Runner(), url + '@main', token, dest, timeout=60)
        assert not has_secret(str(exc.value))


def test_timeout_is_bounded(servers, dest):
    servers.http.delay = 30
    started = time.monotonic()
    try:
        with pytest.raises(gs.GitSourceError, match=r'git fetch timed out after 3 s'):
            gs.checkout(Runner(), servers.http.url('app.git') + '@main', TOKEN, dest, timeout=3)
    finally:
        servers.http.delay = 0.0
    assert time.monotonic() - started < 20
    assert not os.path.exists(dest)


# ---------------------------------------------------------------- https, git://, file://

def test_https_needs_the_ca_and_honours_git_ssl_cainfo(servers, dest, monkeypatch):
    url = servers.https.url('app.git') + '@v1.0'
    monkeypatch.delenv('GIT_SSL_CAINFO', raising=False)
    with pytest.raises(gs.GitSourceError, match='TLS certificate verification failed'):
        gs.checkout(Runner(), url, TOKEN, dest, timeout=60)
    monkeypatch.setenv('GIT_SSL_CAINFO', servers.cert)
    result = gs.checkout(Runner(), url, TOKEN, dest, timeout=60)
    assert result['commit'] == servers.repo.first and content(dest) == 'VERSION = 1'
    assert_no_token_in_tree(dest)


@pytest.mark.parametrize('transport', ['git', 'file'])
@pytest.mark.parametrize('which', range(6), ids=['default', 'branch-main', 'branch', 'tag', 'sha', 'short-sha'])
def test_git_daemon_and_file_urls(servers, dest, transport, which):
    ref, commit, text, shown = refs(servers.repo)[which]
    url = servers.daemon.url('app.git') if transport == 'git' else servers.file_url
    run = Runner()
    result = gs.checkout(run, url + ('@' + ref if ref else ''), TOKEN, dest, timeout=60)
    assert result == {'commit': commit, 'short': commit[:12], 'ref': shown, 'url': url}
    assert content(dest) == text
    assert not any(has_secret(repr(c)) for c in run.calls)   # the token is for http(s) only
    assert_no_token_in_tree(dest)
