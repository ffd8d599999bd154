# SPDX-License-Identifier: GPL-3.0-or-later
import base64
import os
from urllib.parse import quote

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build import git_source as gs

TOKEN = 'ghp_S3cr3t/T0ken+value=='
B64 = base64.b64encode(('x-access-token:' + TOKEN).encode()).decode()
FORMS = [TOKEN, B64, B64.rstrip('='), quote(TOKEN, safe=''), base64.b64encode(TOKEN.encode()).decode()]
SHA1 = 'a' * 40
SHA2 = '0123456789abcdef0123456789abcdef01234567'
URL = 'https://git.example.com:8443/team/api.git'


def has_secret(text):
    return any(f in text for f in FORMS)


class FakeRun:
    """A run_command stand-in: records (args, environ_update); answers by git subcommand."""

    def __init__(self, answers=None, version='git version 2.39.5', system_ca=''):
        self.calls = []
        self.answers = dict(answers or {})
        self.version = version
        self.system_ca = system_ca
        self.fetches = 0

    def __call__(self, args, check_rc=False, environ_update=None, cwd=None, data=None):
        assert isinstance(args, list), 'no shell strings'
        self.calls.append((list(args), dict(environ_update or {})))
        sub = self.sub(args)
        if sub == '--version':
            return 0, self.version + '\n', ''
        if sub == 'config':
            return (0, self.system_ca, '') if self.system_ca else (1, '', '')
        if sub == 'fetch':
            self.fetches += 1
            key = 'fetch%d' % self.fetches
            if key in self.answers:
                return self.answers[key]
            return 0, '', ''
        if sub == 'rev-parse':
            target = args[-1]
            if target in self.answers:
                return self.answers[target]
            return 0, (SHA2 if target == 'HEAD' else SHA1) + '\n', ''
        if sub in self.answers:
            return self.answers[sub]
        return 0, '', ''

    @staticmethod
    def sub(args):
        i = args.index('/usr/bin/git') + 1
        while args[i].startswith('--git-dir') or args[i].startswith('--work-tree'):
            i += 1
        return args[i]

    def subs(self):
        return [self.sub(a) for a, e in self.calls]

    def env_of(self, sub):
        return [e for a, e in self.calls if self.sub(a) == sub]

    def args_of(self, sub):
        return [a for a, e in self.calls if self.sub(a) == sub]


@pytest.fixture(autouse=True)
def programs(monkeypatch):
    monkeypatch.setattr(gs, 'find_program', lambda name: {'git': '/usr/bin/git', 'timeout': '/usr/bin/timeout'}[name])


def run_checkout(tmp_path, fake, repo=URL + '@main', token=TOKEN, **kw):
    dest = str(tmp_path / 'git_repos' / 'u1' / 'myapp-prod-api')
    return gs.checkout(fake, repo, token, dest, **kw), dest


# ---------------------------------------------------------------- token hygiene

def test_token_only_in_the_environment_of_git_fetch(tmp_path):
    fake = FakeRun()
    result, dest = run_checkout(tmp_path, fake)
    assert fake.subs() == ['--version', 'config', 'init', 'remote', 'fetch', 'rev-parse', 'checkout', 'rev-parse']
    for args, env in fake.calls:
        assert not has_secret(' '.join(args)), args
        assert args[:3] == ['/usr/bin/timeout', '--kill-after=10', args[2]] and int(args[2]) <= 301
        secret_env = has_secret(repr(env))
        assert secret_env == (fake.sub(args) == 'fetch'), (args, env)
    env = fake.env_of('fetch')[0]
    n = int(env['GIT_CONFIG_COUNT'])
    entries = dict((env['GIT_CONFIG_KEY_%d' % i], env['GIT_CONFIG_VALUE_%d' % i]) for i in range(n))
    # scoped to the repository's origin, base64 in a header, the raw token nowhere
    assert entries['http.https://git.example.com:8443/.extraHeader'] == 'Authorization: Basic ' + B64
    assert TOKEN not in repr(env)
    assert not has_secret(repr(result))
    assert result == {'commit': SHA2, 'short': SHA2[:12], 'ref': 'main', 'url': URL}
    assert os.path.isdir(dest) and oct(os.stat(dest).st_mode & 0o777) == '0o700'


def test_fetch_args_and_detached_checkout(tmp_path):
    fake = FakeRun()
    run_checkout(tmp_path, fake, repo=URL + '@v1.2.0')
    dest = str(tmp_path / 'git_repos' / 'u1' / 'myapp-prod-api')
    init = fake.args_of('init')[0]
    assert '--git-dir=%s/.git' % dest in init and '--work-tree=%s' % dest in init
    assert fake.args_of('remote')[0][-4:] == ['remote', 'add', 'origin', URL]
    assert fake.args_of('fetch')[0][-7:] == ['fetch', '--quiet', '--depth', '1', '--no-tags', 'origin', 'v1.2.0']
    assert fake.args_of('rev-parse')[0][-1] == 'FETCH_HEAD^{commit}'
    assert fake.args_of('checkout')[0][-4:] == ['--quiet', '--force', '--detach', SHA1]


def test_isolated_git_config_and_no_prompt(tmp_path, monkeypatch):
    monkeypatch.setenv('GIT_SSL_CAINFO', '/etc/corp/ca.pem')
    fake = FakeRun()
    run_checkout(tmp_path, fake)
    homes = set()
    for args, env in fake.calls:
        if fake.sub(args) == 'config':
            assert env['GIT_CONFIG_NOSYSTEM'] == '0'     # reads the system CA settings, nothing else
        else:
            assert env['GIT_CONFIG_NOSYSTEM'] == '1'
        assert env['GIT_CONFIG_GLOBAL'] == '/dev/null'
        assert env['GIT_TERMINAL_PROMPT'] == '0'
        assert env['GIT_ASKPASS'] == '' and env['SSH_ASKPASS'] == ''
        assert env['GIT_ALLOW_PROTOCOL'] == 'http:https:git:ssh:file'
        assert env['LC_ALL'] == 'C'
        assert 'GIT_SSL_CAINFO' not in env and 'GIT_SSL_CAPATH' not in env   # inherited untouched
        assert env['GIT_HTTP_LOW_SPEED_TIME'] == '60'
        homes.add(env['HOME'])
    home, = homes
    assert home != os.path.expanduser('~') and not os.path.exists(home)   # an empty temp dir, removed after
    keys = [v for k, v in fake.env_of('init')[0].items() if k.startswith('GIT_CONFIG_KEY_')]
    assert 'credential.helper' in keys and not any('extraheader' in k.lower() for k in keys)


def test_system_ca_settings_are_carried_over(tmp_path):
    fake = FakeRun(system_ca='http.sslcainfo /etc/ssl/corp.pem\nhttp.sslcapath /etc/ssl/certs\n')
    run_checkout(tmp_path, fake)
    env = fake.env_of('fetch')[0]
    entries = [(env['GIT_CONFIG_KEY_%d' % i], env['GIT_CONFIG_VALUE_%d' % i])
               for i in range(int(env['GIT_CONFIG_COUNT']))]
    assert ('http.sslcainfo', '/etc/ssl/corp.pem') in entries
    assert ('http.sslcapath', '/etc/ssl/certs') in entries


def test_old_git_gets_config_parameters(tmp_path):
    fake = FakeRun(version='git version 2.30.2')
    run_checkout(tmp_path, fake)
    env = fake.env_of('fetch')[0]
    assert 'GIT_CONFIG_COUNT' not in env
    assert "'http.https://git.example.com:8443/.extraHeader=Authorization: Basic %s'" % B64 \
        in env['GIT_CONFIG_PARAMETERS']
    assert 'extraHeader' not in fake.env_of('init')[0]['GIT_CONFIG_PARAMETERS']


def test_token_not_sent_to_non_http_urls(tmp_path):
    for repo in ('git://git.example.com/api.git@main', 'ssh://git@git.example.com/api.git@main',
                 'git@git.example.com:team/api.git@main', 'file:///srv/git/api.git@main'):
        fake = FakeRun()
        result, dest = run_checkout(tmp_path, fake, repo=repo)
        assert not any(has_secret(repr(c)) for c in fake.calls), repo
        assert result['url'] == repo[:-len('@main')]
        gs.remove_checkout(dest)


def test_user_part_of_http_url_dropped_and_token_in_url_refused(tmp_path):
    fake = FakeRun()
    result, dest = run_checkout(tmp_path, fake, repo='https://deploy@git.example.com/team/api.git@main')
    assert result['url'] == 'https://git.example.com/team/api.git'
    assert fake.args_of('remote')[0][-1] == 'https://git.example.com/team/api.git'
    gs.remove_checkout(dest)
    with pytest.raises(gs.GitSourceError) as exc:
        run_checkout(tmp_path, FakeRun(), repo='https://ghp_abcdef123456@git.example.com/api.git@main',
                     token='ghp_abcdef123456')
    assert 'carries the token' in str(exc.value) and 'ghp_abcdef123456' not in str(exc.value)


def test_no_ref_fetches_the_default_branch(tmp_path):
    fake = FakeRun()
    result, dummy = run_checkout(tmp_path, fake, repo=URL)
    assert fake.args_of('fetch')[0][-2:] == ['origin', 'HEAD']
    assert result['ref'] == 'HEAD'


def test_token_is_stripped_and_empty_means_none(tmp_path):
    fake = FakeRun()
    run_checkout(tmp_path, fake, token=TOKEN + '\n')
    assert has_secret(repr(fake.env_of('fetch')[0]))
    fake = FakeRun()
    result, dest = run_checkout(tmp_path, fake, token='  ', repo=URL + '@dev')
    assert not any('extraHeader' in repr(e) for a, e in fake.calls)


# ---------------------------------------------------------------- ref resolution

def test_short_sha_falls_back_to_a_full_fetch(tmp_path):
    fake = FakeRun({'fetch1': (128, '', "fatal: couldn't find remote ref 0123abcd\n"),
                    '0123abcd^{commit}': (0, SHA2 + '\n', '')})
    result, dummy = run_checkout(tmp_path, fake, repo=URL + '@0123ABCD')
    fetches = fake.args_of('fetch')
    assert len(fetches) == 2
    assert fetches[0][-5:] == ['--depth', '1', '--no-tags', 'origin', '0123ABCD']
    assert fetches[1][-3:] == ['--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*']
    assert '--depth' not in fetches[1]
    assert has_secret(repr(fake.env_of('fetch')[1]))     # the full fetch authenticates too
    assert fake.args_of('checkout')[0][-1] == SHA2
    assert result['commit'] == SHA2 and result['ref'] == '0123ABCD'


def test_full_sha_the_server_refuses_falls_back(tmp_path):
    fake = FakeRun({'fetch1': (128, '', 'error: Server does not allow request for unadvertised object %s\n' % SHA1)})
    run_checkout(tmp_path, fake, repo=URL + '@' + SHA1)
    assert len(fake.args_of('fetch')) == 2
    assert fake.args_of('rev-parse')[0][-1] == SHA1 + '^{commit}'


def test_full_sha_served_directly_needs_no_fallback(tmp_path):
    fake = FakeRun()
    run_checkout(tmp_path, fake, repo=URL + '@' + SHA1)
    assert len(fake.args_of('fetch')) == 1
    assert fake.args_of('fetch')[0][-1] == SHA1


def test_missing_branch_is_a_ref_error_without_fallback(tmp_path):
    fake = FakeRun({'fetch1': (128, '', "fatal: couldn't find remote ref nope\n")})
    with pytest.raises(gs.GitSourceError) as exc:
        run_checkout(tmp_path, fake, repo=URL + '@nope')
    assert len(fake.args_of('fetch')) == 1
    msg = str(exc.value)
    assert "ref 'nope' not found" in msg and 'branch or tag' in msg and '\n' not in msg
    assert not os.path.exists(str(tmp_path / 'git_repos' / 'u1' / 'myapp-prod-api'))   # removed on failure


def test_missing_sha_after_fallback_is_a_ref_error(tmp_path):
    fake = FakeRun({'fetch1': (128, '', "fatal: couldn't find remote ref deadbeef\n"),
                    'deadbeef^{commit}': (128, '', 'fatal: Needed a single revision\n')})
    with pytest.raises(gs.GitSourceError, match=r"ref 'deadbeef' not found: no branch, tag or commit"):
        run_checkout(tmp_path, fake, repo=URL + '@deadbeef')
    assert len(fake.args_of('fetch')) == 2


def test_ambiguous_short_sha(tmp_path):
    fake = FakeRun({'fetch1': (128, '', "fatal: couldn't find remote ref abcd\n"),
                    'abcd^{commit}': (128, '', 'error: short object ID abcd is ambiguous\n')})
    with pytest.raises(gs.GitSourceError, match='ambiguous: give more hex digits'):
        run_checkout(tmp_path, fake, repo=URL + '@abcd')


def test_auth_failure_on_a_sha_does_not_fall_back(tmp_path):
    fake = FakeRun({'fetch1': (128, '', 'fatal: Authentication failed for %r\n' % URL)})
    with pytest.raises(gs.GitSourceError, match='authentication failed'):
        run_checkout(tmp_path, fake, repo=URL + '@' + SHA1)
    assert len(fake.args_of('fetch')) == 1


def test_empty_repository_without_ref(tmp_path):
    fake = FakeRun({'fetch1': (128, '', "fatal: couldn't find remote ref HEAD\n")})
    with pytest.raises(gs.GitSourceError, match='no default branch'):
        run_checkout(tmp_path, fake, repo=URL)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize('stderr,expected', [
    ("fatal: could not read Username for 'https://git.example.com:8443': terminal prompts disabled\n",
     'authentication failed (the server refused git_token): check that git_token is set and has read access'),
    ("remote: Invalid username or password.\nfatal: Authentication failed for '%s/'\n" % URL,
     'authentication failed'),
    ("fatal: unable to access '%s/': The requested URL returned error: 403\n" % URL, 'authentication failed'),
    ("remote: Repository not found.\nfatal: repository '%s/' not found\n" % URL,
     'repository not found or not readable'),
    ('fatal: remote error: access denied or repository not exported: /api.git\n', 'repository not found'),
    ("fatal: unable to access '%s/': Could not resolve host: git.example.com\n" % URL, 'cannot reach the git server'),
    ("fatal: unable to access '%s/': server certificate verification failed. CAfile: none\n" % URL,
     'TLS certificate verification failed'),
    ('fatal: the remote end hung up unexpectedly\n', 'git fetch failed (the remote end hung up unexpectedly)'),
])
def test_fetch_errors_are_one_clear_line(tmp_path, stderr, expected):
    fake = FakeRun({'fetch1': (128, '', stderr)})
    with pytest.raises(gs.GitSourceError) as exc:
        run_checkout(tmp_path, fake)
    msg = str(exc.value)
    assert expected in msg and msg.startswith('git_repo %s: ' % URL)
    assert '\n' not in msg and 'Traceback' not in msg


def test_no_token_and_server_asks_for_one(tmp_path):
    fake = FakeRun({'fetch1': (128, '', "fatal: could not read Username for 'https://x': terminal prompts disabled")})
    with pytest.raises(gs.GitSourceError, match='asks for credentials and no git_token is set'):
        run_checkout(tmp_path, fake, token=None)


def test_token_is_scrubbed_from_git_output(tmp_path):
    noisy = ('remote: token %s rejected\nfatal: unable to access '
             "'https://x-access-token:%s@git.example.com/': header Authorization: Basic %s (%s)\n"
             % (TOKEN, quote(TOKEN, safe=''), B64, base64.b64encode(TOKEN.encode()).decode()))
    fake = FakeRun({'fetch1': (128, '', noisy)})
    with pytest.raises(gs.GitSourceError) as exc:
        run_checkout(tmp_path, fake)
    msg = str(exc.value)
    assert not has_secret(msg) and '***' in msg and '\n' not in msg
    for other in ('init', 'checkout'):
        fake = FakeRun({other: (128, 'out ' + TOKEN, 'fatal: bad ' + B64)})
        with pytest.raises(gs.GitSourceError) as exc:
            run_checkout(tmp_path, fake)
        assert not has_secret(str(exc.value)) and 'git %s failed' % other in str(exc.value)


def test_bad_git_repo_value_does_not_echo_the_token(tmp_path):
    with pytest.raises(gs.GitSourceError) as exc:
        run_checkout(tmp_path, FakeRun(), repo='https://x:%s@host/a.git' % TOKEN)
    assert not has_secret(str(exc.value)) and 'carries the token' in str(exc.value)
    with pytest.raises(gs.GitSourceError) as exc:
        run_checkout(tmp_path, FakeRun(), repo='https://x:ghp_abcdef123456@host/a.git', token='ghp_abcdef123456')
    assert 'ghp_abcdef123456' not in str(exc.value) and 'password or token' in str(exc.value)
    with pytest.raises(gs.GitSourceError) as exc:
        run_checkout(tmp_path, FakeRun(), repo='see %s here' % TOKEN)
    assert not has_secret(str(exc.value)) and 'not URL@ref' in str(exc.value)
    with pytest.raises(gs.GitSourceError, match=r'contains "\$"'):
        run_checkout(tmp_path, FakeRun(), repo='https://host/$HOME.git@main')


def test_timeout(tmp_path):
    fake = FakeRun({'fetch1': (124, '', '')})
    with pytest.raises(gs.GitSourceError, match=r'git fetch timed out after 30 s') as exc:
        run_checkout(tmp_path, fake, timeout=30)
    assert '\n' not in str(exc.value)
    assert int(fake.args_of('fetch')[0][2]) <= 31
    with pytest.raises(gs.GitSourceError, match='timeout must be a positive'):
        run_checkout(tmp_path, FakeRun(), timeout=0)


def test_git_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(gs, 'find_program', lambda name: None)
    with pytest.raises(gs.GitSourceError, match='git is not installed on the host'):
        run_checkout(tmp_path, FakeRun())
    monkeypatch.setattr(gs, 'find_program', lambda name: '/usr/bin/' + name)
    fake = FakeRun({'init': (127, '', "timeout: failed to run command '/usr/bin/git': No such file or directory")})
    with pytest.raises(gs.GitSourceError, match='git is not installed on the host'):
        run_checkout(tmp_path, fake)


def test_without_timeout_binary_git_runs_directly(tmp_path, monkeypatch):
    monkeypatch.setattr(gs, 'find_program', lambda name: '/usr/bin/git' if name == 'git' else None)
    fake = FakeRun()
    run_checkout(tmp_path, fake)
    assert all(a[0] == '/usr/bin/git' for a, e in fake.calls)


def test_dest_must_be_new_and_is_cleaned_on_failure(tmp_path):
    dest = tmp_path / 'co'
    dest.mkdir()
    (dest / 'keep').write_text('x')
    with pytest.raises(gs.GitSourceError, match='already exists and is not an empty directory'):
        gs.checkout(FakeRun(), URL, TOKEN, str(dest))
    assert (dest / 'keep').exists()
    with pytest.raises(gs.GitSourceError, match='absolute path'):
        gs.checkout(FakeRun(), URL, TOKEN, 'relative/dir')
    empty = tmp_path / 'empty'
    empty.mkdir()

    def failing(args, **kw):
        if 'init' in args:
            os.makedirs(str(empty / '.git'))
            return 128, '', 'fatal: cannot init'
        return FakeRun()(args, **kw)
    with pytest.raises(gs.GitSourceError, match='git init failed'):
        gs.checkout(failing, URL, TOKEN, str(empty))
    assert empty.is_dir() and os.listdir(str(empty)) == []   # a dest it did not create: emptied, kept


def test_credentials_in_git_config_are_caught(tmp_path):
    dest = str(tmp_path / 'co')

    def leaky(args, **kw):
        if 'init' in args:
            os.makedirs(os.path.join(dest, '.git'))
            with open(os.path.join(dest, '.git', 'config'), 'w') as handle:
                handle.write('[http]\n\textraHeader = Authorization: Basic %s\n' % B64)
        return FakeRun()(args, **kw)
    with pytest.raises(gs.GitSourceError) as exc:
        gs.checkout(leaky, URL, TOKEN, dest)
    assert 'holds credentials' in str(exc.value) and not has_secret(str(exc.value))
    assert not os.path.exists(dest)


# ---------------------------------------------------------------- helpers

def test_version_from_commit():
    assert gs.version_from_commit(SHA2) == '0123456789ab'
    for bad in ('abc', 'A' * 40, None, SHA2 + 'z'):
        with pytest.raises(ValueError, match='full lowercase hex sha'):
            gs.version_from_commit(bad)


def test_remove_checkout(tmp_path):
    co = tmp_path / 'co'
    (co / '.git' / 'objects').mkdir(parents=True)
    obj = co / '.git' / 'objects' / 'pack'
    obj.write_text('x')
    obj.chmod(0o444)
    gs.remove_checkout(str(co))
    assert not co.exists()
    gs.remove_checkout(str(co))            # absent: nothing to do
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'file').write_text('x')
    with pytest.raises(gs.GitSourceError, match='not a git checkout'):
        gs.remove_checkout(str(other))
    for bad in ('/', 'relative', ''):
        with pytest.raises(gs.GitSourceError):
            gs.remove_checkout(bad)


def test_small_helpers():
    assert gs.looks_like_sha('0123ABCD') and gs.looks_like_sha(SHA1)
    assert not gs.looks_like_sha('main') and not gs.looks_like_sha('abc') and not gs.looks_like_sha(None)
    assert gs.http_origin('HTTPS://Git.Example.com:8443/a/b.git') == 'https://git.example.com:8443/'
    assert gs.clean_url('https://u@h/x.git') == 'https://h/x.git'
    assert gs.clean_url('git@h:x.git') == 'git@h:x.git'
    assert gs.clean_url('ssh://git@h/x.git') == 'ssh://git@h/x.git'
    assert gs.parse_version('git version 2.39.5') == (2, 39, 5)
    assert gs.parse_version('git version 2.45.GIT') == (2, 45)
    assert gs.detail('hint: x\nfatal: boom\n', []) == 'boom'
    assert gs.detail('', []) == 'no output'
    assert len(gs.detail('fatal: ' + 'x' * 1000, [])) == gs.MAX_DETAIL
    assert gs.scrub('a %s b' % TOKEN, gs.secret_forms(TOKEN)) == 'a *** b'
    assert gs.secret_forms(None) == []
