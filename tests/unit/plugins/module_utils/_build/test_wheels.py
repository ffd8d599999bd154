# SPDX-License-Identifier: GPL-3.0-or-later
"""Wheel download helpers: requirements closure, pip arguments, platform tags, the cache."""
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build import wheels as w

PROBE = {
    'markers': {'implementation_name': 'cpython', 'platform_machine': 'x86_64', 'python_full_version': '3.11.2',
                'python_version': '3.11', 'sys_platform': 'linux'},
    'libc': 'glibc 2.36',
    'version': [3, 11],
}


def test_closure_follows_includes(tmp_path):
    (tmp_path / 'requirements').mkdir()
    (tmp_path / 'requirements.txt').write_text('-r requirements/base.txt\n--constraint=constraints.txt\nredis\n')
    (tmp_path / 'requirements' / 'base.txt').write_text('--requirement common.txt\npsycopg2-binary\n')
    (tmp_path / 'requirements' / 'common.txt').write_text('six\n')
    (tmp_path / 'constraints.txt').write_text('redis<6\n')
    top, includes = w.requirement_closure(str(tmp_path), ['requirements.txt'])
    assert top == ['requirements.txt']
    assert sorted(includes) == ['constraints.txt', 'requirements/base.txt', 'requirements/common.txt']


def test_closure_errors_name_the_file(tmp_path):
    with pytest.raises(w.WheelError, match='requirements.txt does not exist in the build context'):
        w.requirement_closure(str(tmp_path), ['requirements.txt'])
    (tmp_path / 'requirements.txt').write_text('-r ../outside.txt\n')
    with pytest.raises(w.WheelError, match='outside the build context'):
        w.requirement_closure(str(tmp_path), ['requirements.txt'])


def test_digest_changes_with_content_only(tmp_path):
    (tmp_path / 'requirements.txt').write_text('redis==5.2.1\n')
    one = w.requirements_digest(str(tmp_path), ['requirements.txt'])
    os.utime(str(tmp_path / 'requirements.txt'), (1, 1))
    assert w.requirements_digest(str(tmp_path), ['requirements.txt']) == one
    (tmp_path / 'requirements.txt').write_text('redis==5.2.0\n')
    assert w.requirements_digest(str(tmp_path), ['requirements.txt']) != one
    assert w.cache_key(one, 'sha256:a') != w.cache_key(one, 'sha256:b')


def test_platform_tags_for_glibc_and_musl():
    tags = w.platform_tags(PROBE)
    assert tags[0] == 'manylinux_2_36_x86_64'
    for tag in ('manylinux_2_17_x86_64', 'manylinux2014_x86_64', 'manylinux_2_28_x86_64', 'manylinux1_x86_64'):
        assert tag in tags
    arm = dict(PROBE, markers=dict(PROBE['markers'], platform_machine='aarch64'))
    arm_tags = w.platform_tags(arm)
    assert 'manylinux2014_aarch64' in arm_tags and 'manylinux1_aarch64' not in arm_tags
    musl = dict(PROBE, libc='')
    assert w.platform_tags(musl) == ['musllinux_1_2_x86_64', 'musllinux_1_1_x86_64']


def test_download_args():
    args = w.download_args(PROBE, ['/src/requirements.txt'], '/dest')
    assert args[:3] == ['download', '--dest', '/dest']
    assert '--only-binary=:all:' in args
    joined = ' '.join(args)
    assert '--python-version 3.11' in joined and '--implementation cp' in joined and '--abi cp311' in joined
    assert '--platform manylinux2014_x86_64' in joined and '--platform manylinux_2_17_x86_64' in joined
    assert args[-2:] == ['-r', '/src/requirements.txt']


def test_probe_script_runs_and_parses():
    out = subprocess.run([sys.executable, '-c', w.PROBE_SCRIPT], capture_output=True, text=True, check=True).stdout
    probe = w.parse_probe('noise\n' + out)
    assert probe['version'] == list(sys.version_info[:2])
    assert probe['markers']['python_full_version'].startswith('%d.%d.' % sys.version_info[:2])
    with pytest.raises(w.WheelError, match='base image'):
        w.parse_probe('python: not found')


def test_pip_shim_evaluates_markers_for_the_target():
    """The shim makes pip's marker evaluation see the target, not the controller."""
    code = w.PIP_SHIM.replace('runpy.run_module("pip", run_name="__main__", alter_sys=True)',
                              'from pip._vendor.packaging.markers import Marker\n'
                              'print(Marker(\'python_full_version < "3.11.3"\').evaluate())')
    env = json.dumps({'python_full_version': '3.11.2'})
    out = subprocess.run([sys.executable, '-c', code, env], capture_output=True, text=True, check=True).stdout
    assert out.strip() == 'True'
    env = json.dumps({'python_full_version': '3.12.1'})
    out = subprocess.run([sys.executable, '-c', code, env], capture_output=True, text=True, check=True).stdout
    assert out.strip() == 'False'


def test_download_runs_pip_through_the_shim(tmp_path):
    calls = []

    def run(argv):
        calls.append(argv)
        (tmp_path / 'redis-5.2.1-py3-none-any.whl').write_text('x')
        return 0, '', ''

    assert w.download(run, '/py', PROBE, ['/src/requirements.txt'], str(tmp_path)) == ['redis-5.2.1-py3-none-any.whl']
    argv = calls[0]
    assert argv[:3] == ['/py', '-c', w.PIP_SHIM]
    assert json.loads(argv[3])['python_full_version'] == '3.11.2'
    assert argv[4] == 'download'


def test_download_failure_is_one_clear_error(tmp_path):
    def run(argv):
        return 1, '', 'ERROR: Could not find a version that satisfies the requirement nosuch (from versions: none)\n' \
                      'ERROR: No matching distribution found for nosuch'

    with pytest.raises(w.WheelError) as err:
        w.download(run, '/py', PROBE, ['/src/requirements.txt'], str(tmp_path))
    assert 'pip download of /src/requirements.txt failed' in str(err.value)
    assert 'wheel for cp311 on x86_64' in str(err.value) and 'nosuch' in str(err.value)

    with pytest.raises(w.WheelError, match='pip is not available'):
        w.download(lambda argv: (1, '', '/usr/bin/python3: No module named pip'), '/py', PROBE, ['r'], str(tmp_path))


def test_cache_fills_once_and_keeps_failures_out(tmp_path):
    cache = w.WheelCache(str(tmp_path / 'cache'))
    calls = []

    def fill(dest):
        calls.append(dest)
        with open(os.path.join(dest, 'a.whl'), 'w') as handle:
            handle.write('wheel')
        return {'n': 1}

    path, hit = cache.ensure('k1', fill)
    assert not hit and os.listdir(path) == ['a.whl']
    again, hit = cache.ensure('k1', fill)
    assert hit and again == path and len(calls) == 1

    def broken(dest):
        with open(os.path.join(dest, 'half.whl'), 'w') as handle:
            handle.write('x')
        raise w.WheelError('network down')

    with pytest.raises(w.WheelError):
        cache.ensure('k2', broken)
    assert cache.get('k2') is None
    assert not [n for n in os.listdir(str(tmp_path / 'cache')) if n.startswith('k2')]


def test_link_tree(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'a.whl').write_text('a')
    w.link_tree(str(src), str(tmp_path / 'ctx' / '.fleet-wheels'))
    assert (tmp_path / 'ctx' / '.fleet-wheels' / 'a.whl').read_text() == 'a'
