# SPDX-License-Identifier: GPL-3.0-or-later
"""A registry the build cannot use, in one line naming it, the package manager and the fix."""
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.registry_errors import registry_failure

PIP_SILENT = '''WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection \
broken by 'ReadTimeoutError("HTTPConnectionPool(host='127.0.0.1', port=39331): Read timed out. (read timeout=20.0)")': \
/simple/flask/
ERROR: Could not find a version that satisfies the requirement flask==3.0.0 (from versions: none)
ERROR: No matching distribution found for flask==3.0.0'''
PIP_UNTRUSTED = '''WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection \
broken by 'SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: \
self-signed certificate (_ssl.c:1006)'))': /simple/flask/
Could not fetch URL https://127.0.0.1:4443/simple/flask/: There was a problem confirming the ssl certificate'''
NPM_UNTRUSTED = '''#12 4.210 npm ERR! code SELF_SIGNED_CERT_IN_CHAIN
#12 4.211 npm ERR! errno SELF_SIGNED_CERT_IN_CHAIN
#12 4.212 npm ERR! request to https://registry.npmjs.org/react failed, reason: self signed certificate in certificate chain'''
NPM_SILENT = '''#12 61.3 npm ERR! code ERR_SOCKET_TIMEOUT
#12 61.3 npm ERR! network Socket timeout
#12 61.3 npm ERR! network request to https://registry.example.com/react failed, reason: Socket timeout'''


def test_pip_and_an_index_that_never_answers():
    line = registry_failure('pip', PIP_SILENT)
    assert line.startswith('pip cannot use the package registry http://127.0.0.1:39331: it does not answer (timed out)')
    assert 'fleet_build_pip_conf' in line and '\n' not in line


def test_pip_and_an_index_whose_certificate_is_not_trusted():
    line = registry_failure('pip', PIP_UNTRUSTED)
    assert 'presents a certificate the build does not trust' in line
    assert 'fleet_build_ca_bundle' in line and '127.0.0.1:4443' in line


def test_npm_behind_an_intercepting_proxy_and_a_silent_registry():
    line = registry_failure('npm', NPM_UNTRUSTED)
    assert line.startswith('npm cannot use the package registry https://registry.npmjs.org: it presents a certificate')
    assert 'fleet_build_ca_bundle' in line
    line = registry_failure('yarn', NPM_SILENT)
    assert line.startswith('yarn cannot use the package registry https://registry.example.com: it does not answer')
    assert 'fleet_build_npmrc' in line


def test_any_other_failure_is_not_a_registry_one():
    assert registry_failure('pip', 'ERROR: No matching distribution found for flask==99') is None
    assert registry_failure('npm', '#12 npm ERR! code ERESOLVE\n#12 npm ERR! unable to resolve dependency tree') is None
