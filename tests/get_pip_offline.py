# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads from
ci-files.testing.ansible.com, a host this machine cannot reach. ansible-test runs it
inside a fresh venv with pip-install style arguments (``pip==X setuptools==Y ...``);
this does the same with the standard library's ensurepip and then pip from the
package index. ansible-test hides pip's configuration (PIP_CONFIG_FILE=/dev/null), so
the system CA bundle is passed explicitly: behind a TLS-intercepting proxy pip's own
bundle fails. pip 24.2 and later use the system trust store by themselves."""
import ensurepip
import os
import ssl
import subprocess
import sys

GET_PIP_ONLY = ('--no-setuptools', '--no-wheel')

ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
paths = ssl.get_default_verify_paths()
cafile = paths.cafile or paths.openssl_cafile
if cafile and os.path.exists(cafile):
    args = ['--cert', cafile] + args
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args))
