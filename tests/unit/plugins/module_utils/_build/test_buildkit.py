# SPDX-License-Identifier: GPL-3.0-or-later
"""The BuildKit runner: choosing a docker CLI, the command line, the output's tail and cached steps."""
import os

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build import buildkit as bk


def runner(answers):
    calls = []

    def run(argv, environ_update=None, **kwargs):
        calls.append((argv, environ_update))
        for prefix, answer in answers:
            if argv[:len(prefix)] == prefix:
                return answer(argv) if callable(answer) else answer
        return 127, '', 'not found'
    run.calls = calls
    return run


def which(name):
    return {'docker': '/usr/local/bin/docker'}.get(name)


def executable(monkeypatch, *paths):
    monkeypatch.setattr(os, 'access', lambda path, mode: path in paths)
    monkeypatch.setattr(os.path, 'realpath', lambda path: path)


def test_buildx_is_preferred(monkeypatch):
    executable(monkeypatch, '/usr/bin/docker', '/usr/local/bin/docker')
    run = runner([(['/usr/local/bin/docker', 'buildx', 'version'], (0, 'github.com/docker/buildx v0.17.1', ''))])
    assert bk.find_cli(run, which=which) == (['/usr/local/bin/docker', 'buildx', 'build', '--load'], {})


def test_a_20_10_client_builds_with_its_builtin_buildkit(monkeypatch):
    executable(monkeypatch, '/usr/bin/docker', '/usr/local/bin/docker')
    run = runner([
        (['/usr/local/bin/docker', '--version'], (0, 'Docker version 28.2.2, build e6534b4', '')),
        (['/usr/bin/docker', '--version'], (0, 'Docker version 20.10.24+dfsg1, build 297e128', '')),
    ])
    assert bk.find_cli(run, which=which) == (['/usr/bin/docker', 'build'], {'DOCKER_BUILDKIT': '1'})


def test_no_capable_client_is_one_clear_error(monkeypatch):
    executable(monkeypatch, '/usr/local/bin/docker')
    run = runner([(['/usr/local/bin/docker', '--version'], (0, 'Docker version 28.2.2, build e6534b4', ''))])
    with pytest.raises(bk.BuildKitError, match=r'version 28 without buildx.*fix: install the buildx plugin'):
        bk.find_cli(run, which=which)


def test_a_preferred_cli_is_the_only_candidate(monkeypatch):
    executable(monkeypatch, '/opt/docker')
    run = runner([(['/opt/docker', '--version'], (0, 'Docker version 19.03.15, build 99e3ed8', ''))])
    assert bk.find_cli(run, preferred='/opt/docker', which=which)[0] == ['/opt/docker', 'build']
    assert all(argv[0] == '/opt/docker' for argv, env in run.calls)


def test_client_major():
    assert bk.client_major('Docker version 20.10.24+dfsg1, build 297e128') == 20
    assert bk.client_major('podman version 4.3.1') == 4
    assert bk.client_major('garbage') is None


def test_the_command_line_carries_secret_paths_only():
    argv = bk.build_argv(['docker', 'build'], '/ctx', '/df', 'u1_p_e_s:1', '/w/iid', {'FLEET_SOURCE_HASH': 'abc'},
                         {'fleet_ca': '/etc/ca.pem', 'fleet_npmrc': '/s/npmrc'}, no_cache=True, network='host',
                         timeout=60)
    assert argv[:3] == ['timeout', '--kill-after=15', '60']
    assert argv[3:5] == ['docker', 'build'] and argv[-1] == '/ctx'
    assert ['--secret', 'id=fleet_ca,src=/etc/ca.pem'] == argv[argv.index('--secret'):argv.index('--secret') + 2]
    assert 'id=fleet_npmrc,src=/s/npmrc' in argv and '--no-cache' in argv
    assert argv[argv.index('--network') + 1] == 'host' and 'FLEET_SOURCE_HASH=abc' in argv
    assert argv[argv.index('--iidfile') + 1] == '/w/iid' and argv[argv.index('--progress') + 1] == 'plain'


def test_run_build_reads_the_image_id_and_reports_failures(tmp_path):
    def build(argv):
        with open(argv[argv.index('--iidfile') + 1], 'w') as handle:
            handle.write('sha256:abc\n')
        return 0, '', '#1 [1/2] FROM x\n#1 DONE 0.1s\n'
    ok = runner([(['timeout'], build)])
    image_id, out = bk.run_build(ok, (['docker', 'build'], {'DOCKER_BUILDKIT': '1'}), '/ctx', '/df', 't:1',
                                 str(tmp_path), docker_host='unix:///x.sock', timeout=30)
    assert image_id == 'sha256:abc'
    env = ok.calls[0][1]
    assert env['DOCKER_BUILDKIT'] == '1' and env['DOCKER_HOST'] == 'unix:///x.sock'
    error = '#5 [2/2] RUN false\n#5 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1\n'
    failing = runner([(['timeout'], (1, '', error))])
    with pytest.raises(bk.BuildKitError, match='exit code 1') as exc:
        bk.run_build(failing, (['docker', 'build'], {}), '/ctx', '/df', 't:1', str(tmp_path), timeout=30)
    assert exc.value.log_tail[-1].startswith('#5 ERROR: process')
    slow = runner([(['timeout'], (124, '', ''))])
    with pytest.raises(bk.BuildKitError, match='longer than 30 s'):
        bk.run_build(slow, (['docker', 'build'], {}), '/ctx', '/df', 't:1', str(tmp_path), timeout=30)


def test_log_tail_drops_noise_and_timestamps():
    text = ('#1 [internal] load build definition\n#1 sha256:0123abcd\n#1 DONE 0.0s\n'
            '#7 0.512 added 64 packages in 2s\n#7 CACHED\n\nERROR: failed to solve\n')
    assert bk.log_tail(text) == ['#1 [internal] load build definition', 'added 64 packages in 2s',
                                 'ERROR: failed to solve']


def test_cached_steps_names_the_steps():
    text = ('#5 [builder 2/4] WORKDIR /app\n#5 CACHED\n'
            '#8 [prod-deps 4/4] RUN --mount=type=cache,target=/root/.npm   npm ci --omit=dev\n#8 CACHED\n'
            '#12 [runtime 4/4] COPY --from=builder /app/ /app/\n#12 DONE 0.0s\n')
    assert bk.cached_steps(text) == ['[builder 2/4] WORKDIR /app',
                                     '[prod-deps 4/4] RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev']
