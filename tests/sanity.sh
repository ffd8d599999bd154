#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection placed where ansible-test wants it
# (.../ansible_collections/projectdeployer/fleet), with no ignore file.
set -euo pipefail
cd "$(dirname "$0")/.."
# ansible-test bootstraps pip in its venvs with a script from ci-files.testing.ansible.com,
# unreachable here: give it the offline equivalent under the name it caches it as.
at=$(python -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',/\1/p" "$at/_internal/python_requirements.py" | head -n 1)
mkdir -p ~/.ansible/test/cache
for v in ${pip_version:?cannot find the pip version ansible-test wants}; do
  cp tests/get_pip_offline.py ~/.ansible/test/cache/"get_pip_${v//./_}.py"
done

work=$(mktemp -d /tmp/fleet-sanity.XXXXXX)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/projectdeployer/fleet"
mkdir -p "$dest"
git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$dest"/ 2>/dev/null || true
cd "$dest"
git init -q && git add -A >/dev/null
ansible-test sanity --venv --python 3.11 --color no "$@"
