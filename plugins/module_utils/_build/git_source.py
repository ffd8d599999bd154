# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check out a service's ``git_repo: URL[@ref]`` for ``image_build``, keeping ``git_token`` secret.

:func:`checkout` materialises one commit in a new directory: ``git init``, ``git fetch
--depth 1 origin <ref>`` (a branch, a tag, a full commit sha where the server allows it, or
the remote's ``HEAD`` when the spec names no ref), then a detached checkout. When that fetch
fails for a ref that looks like a sha (4 to 40 hex digits, short shas included), a full fetch
of every branch and tag follows and the sha is resolved locally. :func:`remove_checkout`
removes the tree again; :func:`version_from_commit` is the image tag used when the spec has
no ``version``.

How the token reaches git, and only git: as an HTTP header in git's own configuration,
passed through the environment of the ``git fetch`` command alone (the processes holding
it are its ``timeout`` wrapper, git and git's http helper; ``run_command`` copies the
module's environment, never changes it) (``GIT_CONFIG_COUNT=1
GIT_CONFIG_KEY_0=http.<scheme://host:port/>.extraHeader GIT_CONFIG_VALUE_0=Authorization:
Basic base64(x-access-token:TOKEN)``, git >= 2.31; older git gets the same entry through
``GIT_CONFIG_PARAMETERS``, the variable ``git -c`` uses). Chosen over a ``GIT_ASKPASS``
helper because it needs no executable file on disk (build roots may be ``noexec``), costs
no 401 round trip, never enters git's credential machinery (so no helper can store it),
is scoped to the repository's origin (a redirect elsewhere does not get it) and is
base64 inside a header value (a token with a newline cannot inject headers). Hence the
token is never on a command line (``ps``), never in ``.git/config`` or any file of the
checkout (checked after the checkout), never in the returned values and never in an
error: git's output is scrubbed of the token and of its base64 and URL-encoded forms.
``git init``/``checkout``/``rev-parse`` run without it. The token is sent over ``http(s)``
only; ``git://``, ``ssh://``, ``user@host:path`` and ``file://`` ignore it. A user part of an
http(s) URL is dropped (the token is the credential there); a token inside the URL is refused.
On any failure the checkout directory is removed before the error is raised.

Every git process gets an isolated configuration: ``GIT_CONFIG_NOSYSTEM=1``,
``GIT_CONFIG_GLOBAL=/dev/null`` and ``HOME``/``XDG_CONFIG_HOME`` pointing to an empty temp
directory (so no user or system credential helper, ``.gitconfig``, ``.git-credentials`` or
``.netrc`` is read), ``GIT_TERMINAL_PROMPT=0`` and empty ``GIT_ASKPASS``/``SSH_ASKPASS``
(no prompt, ever), only the http, https, git, ssh and file protocols, English messages, no
tracing. TLS keeps working: ``GIT_SSL_CAINFO``/``GIT_SSL_CAPATH`` from the environment are
inherited, and ``http.sslCAInfo``/``http.sslCAPath`` of the system git config are carried
over. Time is bounded: every command runs under ``timeout`` with what is left of the whole
checkout's budget, and http transfers slower than 1 kB/s for 60 s abort.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import tempfile
import time
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import split_git_repo

DEFAULT_TIMEOUT = 300
TOKEN_USER = 'x-access-token'   # GitHub's; pass token_user for servers that want another (Bitbucket: x-token-auth)
KILL_AFTER = 10                 # seconds between timeout's TERM and KILL
LOW_SPEED_LIMIT = 1000          # bytes per second ...
LOW_SPEED_TIME = 60             # ... for this long, and an http transfer aborts
ALLOWED_PROTOCOLS = 'http:https:git:ssh:file'
SHA_RE = re.compile(r'^[0-9a-fA-F]{4,40}$')
COMMIT_RE = re.compile(r'^[0-9a-f]{40}(?:[0-9a-f]{24})?$')   # sha1, or sha256 repositories
SHORT_LEN = 12
MIN_CONFIG_COUNT_VERSION = (2, 31)
TIMEOUT_RCS = (124, 137)        # timeout(1): timed out; killed after --kill-after
MAX_DETAIL = 300
EXTRA_PATHS = ('/usr/local/bin', '/usr/bin', '/bin')

# Config every git process gets (before the system CA settings and the token header).
BASE_CONFIG = (
    ('credential.helper', ''),             # an empty value clears any helper list
    ('core.askPass', ''),
    ('core.hooksPath', '/dev/null'),
    ('core.sshCommand', 'ssh -o BatchMode=yes -o ConnectTimeout=30'),   # GIT_SSH_COMMAND still wins
    ('init.defaultBranch', 'main'),
    ('advice.detachedHead', 'false'),
    ('fetch.recurseSubmodules', 'false'),
    ('gc.auto', '0'),
    ('maintenance.auto', 'false'),
)

# Patterns of git's (English) messages, first match wins.
AUTH_PATTERNS = ('authentication failed', 'could not read username', 'could not read password',
                 'terminal prompts disabled', 'returned error: 401', 'returned error: 403',
                 'permission denied', 'invalid username or password', 'access denied',
                 'http basic: access denied')
NOT_FOUND_PATTERNS = ('repository not found', "' not found", 'returned error: 404',
                      'does not appear to be a git repository', 'not exported',
                      'no such repository', 'no such file or directory')
REF_PATTERNS = ("couldn't find remote ref", 'unadvertised object', 'not our ref', 'no such remote ref')
TLS_PATTERNS = ('ssl certificate problem', 'certificate verification failed', 'ssl_connect',
                'unable to get local issuer certificate', 'self signed certificate', 'self-signed certificate')
NETWORK_PATTERNS = ('could not resolve host', 'failed to connect', 'connection refused', 'unable to connect',
                    'connection timed out', 'network is unreachable', 'no route to host',
                    'could not resolve hostname', 'operation too slow', 'connection reset', 'early eof')
MISSING_PATTERNS = ('failed to run command', 'no such file or directory: ')


class GitSourceError(Exception):
    """One clear, token-free failure of a checkout; the message names the key and the fix."""


# ---------------------------------------------------------------- pure helpers

def version_from_commit(commit):
    """The image tag for a spec without ``version``: the first 12 hex digits of the commit."""
    if not isinstance(commit, str) or not COMMIT_RE.match(commit):
        raise ValueError('commit must be a full lowercase hex sha (40 digits), got %r' % (commit,))
    return commit[:SHORT_LEN]


def looks_like_sha(ref):
    """Whether ``ref`` could be a (short) commit sha: 4 to 40 hex digits."""
    return bool(ref) and bool(SHA_RE.match(ref))


def clean_url(url):
    """``url`` without a user part when it is http(s): the token is the only credential sent there."""
    parts = urlsplit(url) if '://' in url else None
    if parts is None or parts.scheme.lower() not in ('http', 'https') or '@' not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rpartition('@')[2], parts.path, parts.query, parts.fragment))


def is_http(url):
    return url.lower().startswith(('http://', 'https://'))


def http_origin(url):
    """``scheme://host[:port]/``: the URL prefix the token header is scoped to."""
    parts = urlsplit(url)
    return '%s://%s/' % (parts.scheme.lower(), parts.netloc.rpartition('@')[2].lower())


def auth_header(token, user=TOKEN_USER):
    """``Authorization: Basic base64(user:token)``."""
    raw = ('%s:%s' % (user, token)).encode('utf-8')
    return 'Authorization: Basic ' + base64.b64encode(raw).decode('ascii')


def secret_forms(token, user=TOKEN_USER):
    """Every spelling of ``token`` that could show up in git's output, longest first."""
    if not token:
        return []
    forms = {token, quote(token, safe=''), quote_plus(token)}
    for raw in (token, '%s:%s' % (user, token)):
        encoded = base64.b64encode(raw.encode('utf-8')).decode('ascii')
        forms.update([encoded, encoded.rstrip('=')])
    return sorted((f for f in forms if f), key=len, reverse=True)


def scrub(text, secrets):
    """``text`` with every secret form replaced by ``***``."""
    text = text or ''
    for secret in secrets:
        text = text.replace(secret, '***')
    return text


def detail(text, secrets):
    """The telling line of git's stderr (the last ``fatal:``/``error:`` one), scrubbed, one line."""
    lines = [line.strip() for line in scrub(text, secrets).splitlines() if line.strip()]
    lines = [line for line in lines if not line.lower().startswith(('hint:', 'warning: redirecting'))]
    if not lines:
        return 'no output'
    marked = [line for line in lines if line.lower().startswith(('fatal:', 'error:', 'remote:'))]
    line = (marked or lines)[-1]
    line = re.sub(r'^(fatal|error):\s*', '', line, flags=re.I)
    return line if len(line) <= MAX_DETAIL else line[:MAX_DETAIL - 3] + '...'


def parse_version(text):
    """``'git version 2.39.5'`` -> ``(2, 39, 5)``; ``()`` when unreadable."""
    match = re.search(r'(\d+)\.(\d+)(?:\.(\d+))?', text or '')
    return tuple(int(g) for g in match.groups() if g is not None) if match else ()


def config_env(entries, version):
    """Environment that hands ``entries`` (``[(key, value)]``) to git as command-line config."""
    if not version or tuple(version[:2]) >= MIN_CONFIG_COUNT_VERSION:
        env = {'GIT_CONFIG_COUNT': str(len(entries)), 'GIT_CONFIG_PARAMETERS': ''}
        for i, (key, value) in enumerate(entries):
            env['GIT_CONFIG_KEY_%d' % i] = key
            env['GIT_CONFIG_VALUE_%d' % i] = value
        return env

    def sq(s):
        return "'%s'" % s.replace("'", "'\\''")
    return {'GIT_CONFIG_PARAMETERS': ' '.join(sq('%s=%s' % (k, v)) for k, v in entries)}


def classify(stderr, url, ref, secrets, token_sent=False, what='git fetch'):
    """``(kind, one-line message)`` for a failed network command, by git's message.

    kind is one of ``ref``, ``tls``, ``not_found``, ``auth``, ``network``, ``other``.
    """
    low = (stderr or '').lower()
    why = detail(stderr, secrets)
    if 'terminal prompts disabled' in low or 'could not read username' in low:
        why = ('the server refused git_token' if token_sent else
               'the server asks for credentials and no git_token is set')
    if any(p in low for p in REF_PATTERNS):
        return 'ref', ref_error(url, ref)
    if any(p in low for p in TLS_PATTERNS):
        return 'tls', ('git_repo %s: TLS certificate verification failed (%s): install the CA on the host or '
                       'set GIT_SSL_CAINFO to its bundle' % (url, why))
    if any(p in low for p in NOT_FOUND_PATTERNS):
        return 'not_found', ('git_repo %s: repository not found or not readable (%s): check the URL and that '
                             'git_token has read access to the repository' % (url, why))
    if any(p in low for p in AUTH_PATTERNS):
        return 'auth', ('git_repo %s: authentication failed (%s): check that git_token is set and has read '
                        'access to the repository' % (url, why))
    if any(p in low for p in NETWORK_PATTERNS):
        return 'network', ('git_repo %s: cannot reach the git server (%s): check the host, port and network'
                           % (url, why))
    return 'other', 'git_repo %s: %s failed (%s)' % (url, what, why)


def ref_error(url, ref):
    kind = 'branch, tag or commit' if looks_like_sha(ref) else 'branch or tag'
    return ('git_repo %s: ref %r not found: no %s of that name in the repository; fix the ref after "@"'
            % (url, ref, kind))


def find_program(name):
    """Absolute path of ``name`` in PATH (or the usual bin dirs), None when missing."""
    found = shutil.which(name)
    if found:
        return found
    for d in EXTRA_PATHS:
        path = os.path.join(d, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


# ---------------------------------------------------------------- the runner

class _Git:
    """Runs git for one checkout: isolated config, deadline, token only on network commands."""

    def __init__(self, run_command, git, timeout_bin, dest, home, timeout, url, secrets):
        self.run = run_command
        self.git = git
        self.timeout_bin = timeout_bin
        self.dest = dest
        self.home = home
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.url = url
        self.secrets = secrets
        self.version = ()
        self.config = list(BASE_CONFIG)
        self.auth_config = []

    def base_env(self):
        return {
            'HOME': self.home, 'XDG_CONFIG_HOME': self.home,
            'GIT_CONFIG_NOSYSTEM': '1', 'GIT_CONFIG_GLOBAL': '/dev/null',
            'GIT_TERMINAL_PROMPT': '0', 'GIT_ASKPASS': '', 'SSH_ASKPASS': '',
            'GIT_ALLOW_PROTOCOL': ALLOWED_PROTOCOLS,
            'GIT_HTTP_LOW_SPEED_LIMIT': str(LOW_SPEED_LIMIT), 'GIT_HTTP_LOW_SPEED_TIME': str(LOW_SPEED_TIME),
            'GIT_TRACE': '0', 'GIT_TRACE_CURL': '0', 'GIT_TRACE_PACKET': '0', 'GIT_CURL_VERBOSE': '0',
            'GIT_TRACE2': '0', 'GIT_TRACE2_EVENT': '0', 'GIT_TRACE2_PERF': '0', 'GIT_TRACE_REDACT': '1',
            'LC_ALL': 'C', 'LANGUAGE': '',
        }

    def argv(self, args, repo=True):
        cmd = [self.git]
        if repo:
            cmd += ['--git-dir=' + os.path.join(self.dest, '.git'), '--work-tree=' + self.dest]
        cmd += list(args)
        if self.timeout_bin:
            left = int(self.deadline - time.monotonic()) + 1
            if left <= 1:
                raise GitSourceError(self.timeout_message(args))
            cmd = [self.timeout_bin, '--kill-after=%d' % KILL_AFTER, str(left)] + cmd
        return cmd

    def timeout_message(self, args):
        return ('git_repo %s: git %s timed out after %d s: check the network and the repository size'
                % (self.url, args[0], self.timeout))

    def __call__(self, args, network=False, repo=True, env=None):
        """Run ``git args``; ``(rc, out, err)`` with the token scrubbed from out and err."""
        full_env = self.base_env()
        full_env.update(config_env(self.config + (self.auth_config if network else []), self.version))
        full_env.update(env or {})
        rc, out, err = self.run(self.argv(args, repo=repo), check_rc=False, environ_update=full_env)
        out, err = scrub(_text(out), self.secrets), scrub(_text(err), self.secrets)
        if self.timeout_bin and rc in TIMEOUT_RCS:
            raise GitSourceError(self.timeout_message(args))
        if rc == 127 and any(p in err.lower() for p in MISSING_PATTERNS):
            raise GitSourceError(missing_git_message())
        return rc, out, err

    def must(self, args, **kw):
        rc, out, err = self(args, **kw)
        if rc != 0:
            why = detail(err, self.secrets)
            raise GitSourceError('git_repo %s: git %s failed (rc %s: %s)' % (self.url, args[0], rc, why))
        return out

    def fetch(self, args):
        """A network fetch: ``None`` on success, else git's (scrubbed) stderr."""
        rc, out, err = self(['fetch', '--quiet'] + list(args), network=True)
        return None if rc == 0 else (err or out or 'rc %s' % rc)


def missing_git_message():
    return 'git is not installed on the host (no git in PATH): install it, for example apt-get install git'


def _text(value):
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return value or ''


# ---------------------------------------------------------------- checkout

def checkout(run_command, git_repo, token, dest, timeout=DEFAULT_TIMEOUT, token_user=TOKEN_USER, git_path=None):
    """Check out ``git_repo`` (``URL[@ref]``) at ``dest``, a new directory; remove it on failure.

    ``run_command`` has the signature of ``AnsibleModule.run_command`` (no shell is used).
    Returns ``dict(commit=<full sha>, short=<12 hex>, ref=<the ref, or 'HEAD'>, url=<URL
    without credentials>)``. Raises :class:`GitSourceError` with one token-free line.
    """
    if token is not None and not isinstance(token, str):
        raise GitSourceError('git_token must be a string, got %s' % type(token).__name__)
    if not isinstance(git_repo, str):
        raise GitSourceError('git_repo must be a string URL[@ref], got %s' % type(git_repo).__name__)
    token = (token or '').strip() or None
    secrets = secret_forms(token, token_user) if token else []
    try:
        url, ref = split_git_repo(git_repo)
    except ValueError as exc:
        raise GitSourceError(scrub('git_repo %r is not URL@ref: %s; write for example '
                                   'https://github.com/user/api.git@main' % (git_repo, exc), secrets))
    url = clean_url(url)
    if token and len(token) >= 8 and token in git_repo:
        raise GitSourceError('git_repo %s carries the token: remove it from the URL and set git_token instead'
                             % scrub(url, secrets))
    if '$' in url:
        raise GitSourceError('git_repo %s: the URL contains "$", which the command runner would expand: '
                             'write it as %%24' % url)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise GitSourceError('timeout must be a positive number of seconds, got %r' % (timeout,))
    if not dest or not os.path.isabs(dest) or '$' in dest:
        raise GitSourceError('checkout dest must be an absolute path without "$", got %r' % (dest,))
    dest = os.path.normpath(dest)
    if os.path.lexists(dest) and (not os.path.isdir(dest) or os.path.islink(dest) or os.listdir(dest)):
        raise GitSourceError('checkout dest %s already exists and is not an empty directory: remove it first'
                             % dest)
    git = git_path or find_program('git')
    if not git:
        raise GitSourceError(missing_git_message())

    created = not os.path.exists(dest)
    if created:
        try:
            os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
            os.mkdir(dest, 0o700)
        except OSError as exc:
            raise GitSourceError('cannot create the checkout dest %s: %s' % (dest, exc.strerror or exc))
    home = None
    try:
        home = tempfile.mkdtemp(prefix='fleet-git-home-')
        runner = _Git(run_command, git, find_program('timeout'), dest, home, timeout, url, secrets)
        result = _checkout(runner, url, ref, token, token_user)
        _check_clean(dest, secrets)
        return result
    except BaseException:   # also SystemExit from a fail_json inside run_command
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        elif os.path.isdir(dest):
            _empty(dest)
        raise
    finally:
        if home:
            shutil.rmtree(home, ignore_errors=True)


def _checkout(git, url, ref, token, token_user):
    rc, out, dummy = git(['--version'], repo=False)
    if rc != 0:
        raise GitSourceError(missing_git_message())
    git.version = parse_version(out)
    git.config += _system_ca_config(git)
    if token and is_http(url):
        git.auth_config = [('http.%s.extraHeader' % http_origin(url), auth_header(token, token_user))]

    git.must(['init', '--quiet'])
    git.must(['remote', 'add', 'origin', url])
    wanted = ref or 'HEAD'
    failure = git.fetch(['--depth', '1', '--no-tags', 'origin', wanted])
    if failure is None:
        target = 'FETCH_HEAD'
    else:
        kind, message = classify(failure, url, wanted, git.secrets, bool(git.auth_config))
        if kind == 'ref' and not ref:
            raise GitSourceError('git_repo %s: the repository has no default branch (is it empty?): '
                                 'name a branch, tag or commit after "@"' % url)
        if kind != 'ref' or not looks_like_sha(ref):
            raise GitSourceError(message)
        # A (short) sha the server will not serve by name: fetch everything, resolve it here.
        failure = git.fetch(['--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*'])
        if failure is not None:
            raise GitSourceError(classify(failure, url, wanted, git.secrets, bool(git.auth_config))[1])
        target = ref.lower()
    rc, out, err = git(['rev-parse', '--verify', target + '^{commit}'])
    if rc != 0:
        if 'ambiguous' in err.lower():
            raise GitSourceError('git_repo %s: the short sha %r is ambiguous: give more hex digits of the commit'
                                 % (url, ref))
        raise GitSourceError(ref_error(url, wanted))
    sha = out.strip()
    git.must(['checkout', '--quiet', '--force', '--detach', sha])
    commit = git.must(['rev-parse', 'HEAD']).strip()
    if not COMMIT_RE.match(commit):
        raise GitSourceError('git_repo %s: git rev-parse HEAD gave %r, not a commit sha' % (url, commit[:80]))
    return {'commit': commit, 'short': commit[:SHORT_LEN], 'ref': wanted, 'url': url}


def _system_ca_config(git):
    """``http.sslCAInfo``/``http.sslCAPath`` of the system git config, which the isolation drops."""
    rc, out, dummy = git(['config', '--system', '--get-regexp', r'^http\.sslca(info|path)$'], repo=False,
                         env={'GIT_CONFIG_NOSYSTEM': '0'})
    entries = []
    if rc != 0:
        return entries
    for line in out.splitlines():
        key, dummy, value = line.strip().partition(' ')
        if key.lower() in ('http.sslcainfo', 'http.sslcapath') and value:
            entries.append((key, value))
    return entries


def _check_clean(dest, secrets):
    """Belt and braces: neither the token nor an extra header may sit in the clone's config."""
    for name in ('config', 'FETCH_HEAD'):
        path = os.path.join(dest, '.git', name)
        if not os.path.isfile(path):
            continue
        with open(path, 'r', errors='replace') as handle:
            text = handle.read()
        if 'extraheader' in text.lower() or any(s in text for s in secrets):
            raise GitSourceError('the checkout at %s holds credentials in .git/%s: removed it; report this bug'
                                 % (dest, name))


def _empty(dest):
    for name in os.listdir(dest):
        path = os.path.join(dest, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def remove_checkout(dest):
    """Remove a checkout made by :func:`checkout` (no-op when absent).

    Refuses, with :class:`GitSourceError`, a path that is neither an empty directory nor a
    git work tree, so a wrong ``dest`` cannot wipe something else.
    """
    if not dest or not os.path.isabs(dest) or os.path.normpath(dest) == '/':
        raise GitSourceError('remove_checkout needs an absolute path other than /, got %r' % (dest,))
    if not os.path.lexists(dest):
        return
    if os.path.islink(dest) or not os.path.isdir(dest):
        raise GitSourceError('%s is not a checkout directory: not removing it' % dest)
    if os.listdir(dest) and not os.path.isdir(os.path.join(dest, '.git')):
        raise GitSourceError('%s is not a git checkout (no .git): not removing it' % dest)
    shutil.rmtree(dest)
