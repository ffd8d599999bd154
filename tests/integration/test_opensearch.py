# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenSearch for real (issue 19): the stand-in server assembled from Maven Central (tests/world/images/opensearch),
deployed as ``type: opensearch`` beside the example project (its worker and scheduled job aside), used by the
example API through ``nginx:PORT``, and backed up by snapshots: round trips through backup.yml/restore.yml and
the engine, damaged files refused with the live indices untouched, and the scheduled backup the deploy installs.
"""
import io
import json
import os
import subprocess
import tarfile
from datetime import datetime, timedelta, timezone

import docker
import pytest

from helpers import recap_changed
from test_deploy import Project, deployed_example

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import engine
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import files

pytestmark = pytest.mark.usefixtures('world')

SEARCH = 'search'
MAPPING = {'properties': {'title': {'type': 'text'}, 'body': {'type': 'text'}, 'tag': {'type': 'keyword'},
                          'n': {'type': 'integer'}}}


class SearchProject(Project):
    """The example project with an opensearch service that the API depends on."""

    def __init__(self, root, user, edge_port, edge_container=None):
        super().__init__(root, user, edge_port, edge_container)
        self.spec['services'][SEARCH] = {'type': 'opensearch', 'version': '2', 'mem_limit': '640m',
                                         'server_settings': {'cluster.name': 'shop-search'}}
        # the worker and the scheduled report have nothing to do with search (test_deploy has them): left out
        for name in ('worker', 'report'):
            del self.spec['services'][name]
        self.spec['services']['api']['depends_on'] = ['postgres', 'redis', SEARCH]
        self.write()

    @property
    def backups(self):
        return os.path.join(self.project_dir, 'backups')

    @property
    def container(self):
        return '%s_%s' % (self.prefix, SEARCH)

    def call(self, method, path, body=None, ok=(200, 201)):
        """One HTTP call to the server from inside its container (its port is published nowhere)."""
        argv = ['docker', 'exec', self.container, 'curl', '-sS', '-X', method, '-w', '\n%{http_code}',
                '-H', 'Content-Type: application/json', 'http://127.0.0.1:9200' + path]
        if body is not None:
            argv += ['--data-binary', body if isinstance(body, str) else json.dumps(body)]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True).stdout
        text, dummy, code = out.rpartition('\n')
        assert int(code) in ok, (method, path, code, text[:2000])
        return json.loads(text) if text.strip() else None

    def state(self):
        """Every user index with its mapping and documents, in order: what a restore must give back exactly."""
        self.call('POST', '/_refresh')
        found = {}
        for row in self.call('GET', '/_cat/indices?format=json&expand_wildcards=open,closed'):
            name = row['index']
            if name.startswith('.'):
                continue
            hits = self.call('POST', '/%s/_search' % name, {'size': 10000, 'query': {'match_all': {}}})['hits']['hits']
            found[name] = {'mappings': self.call('GET', '/%s/_mapping' % name)[name]['mappings'],
                           'docs': sorted((h['_id'], json.dumps(h['_source'], sort_keys=True)) for h in hits)}
        return found

    def bulk(self, index, docs):
        lines = []
        for doc_id, doc in docs:
            lines += [json.dumps({'index': {'_index': index, '_id': doc_id}}), json.dumps(doc)]
        reply = self.call('POST', '/_bulk?refresh=true', '\n'.join(lines) + '\n')
        assert not reply['errors'], reply

    def started_at(self):
        return subprocess.run(['docker', 'inspect', '-f', '{{.State.StartedAt}}', self.container], capture_output=True,
                              text=True, check=True).stdout.strip()

    def service(self):
        return engine.Service(docker.from_env(), self.user, 'myapp', 'prod', SEARCH, 'opensearch',
                              os.path.join(self.root, 'fleet'))


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    yield from deployed_example(tmp_path_factory, 'opensearch', 'o', SearchProject)


def test_the_api_indexes_and_searches_through_the_sidecar_and_a_redeploy_changes_nothing(project):
    env = json.loads(subprocess.run(['docker', 'inspect', '-f', '{{json .Config.Env}}', project.container],
                                    capture_output=True, text=True, check=True).stdout)
    assert 'OPENSEARCH_JAVA_OPTS=-Xms320m -Xmx320m' in env and 'discovery.type=single-node' in env  # half of 640m
    user = subprocess.run(['docker', 'exec', project.container, 'id', '-u'], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert user == '1000'
    assert project.call('GET', '/')['cluster_name'] == 'shop-search'      # server_settings reach the node
    api_env = json.loads(subprocess.run(['docker', 'inspect', '-f', '{{json .Config.Env}}', '%s_api' % project.prefix],
                                        capture_output=True, text=True, check=True).stdout)
    assert [e for e in api_env if e.startswith('OPENSEARCH_URL=http://nginx:')], api_env
    for doc_id, title, body in (('1', 'Tent', 'a light tent for two'), ('2', 'Stove', 'a stove that burns wood'),
                                ('3', 'Lamp', 'a lamp for the tent')):
        status, reply = project.request('POST', '/docs', {'id': doc_id, 'title': title, 'body': body}, timeout=30)
        assert status == 201 and reply['result'] == 'created', reply
    status, found = project.request('GET', '/search?q=tent', timeout=30)
    assert status == 200 and found['total'] == 2 and found['hits'][0]['title'] == 'Tent', found
    before = project.containers()
    proc = project.playbook('deploy')
    assert proc.returncode == 0 and recap_changed(proc.stdout) == 0, proc.stdout[-4000:]
    assert project.containers() == before


def test_five_round_trips_give_back_the_same_documents_and_mappings(project):
    project.call('PUT', '/shop', {'mappings': MAPPING, 'settings': {'number_of_shards': 2, 'number_of_replicas': 0}})
    for cycle in range(5):
        project.bulk('shop', [('c%d-%d' % (cycle, i), {'title': 'item %d' % i, 'body': 'cycle %d body %d' % (cycle, i),
                                                       'tag': 't%d' % (i % 3), 'n': i}) for i in range(200)])
        project.bulk('shop', [('c0-%d' % i, {'title': 'changed in %d' % cycle, 'n': -i}) for i in range(0, 200, 7)])
        want = project.state()
        assert want['shop']['docs'] and 'docs' in want
        if cycle == 0:  # the playbooks once, the engine for the others (the same code under them)
            proc = project.playbook('backup', '-e', 'fleet_service=%s' % SEARCH)
            assert proc.returncode == 0, proc.stdout[-4000:]
            backup = [b for b in files.list_backups(project.backups, SEARCH) if b['status'] == 'ok'][0]
            backup['path'] = os.path.join(project.backups, backup['name'])
            listed = project.playbook('backups', '-e', 'fleet_verify=true', '-e', 'fleet_service=%s' % SEARCH)
            assert listed.returncode == 0 and backup['name'] in listed.stdout, listed.stdout[-3000:]
            assert ' ok' in listed.stdout.split(backup['name'], 1)[1].splitlines()[0], listed.stdout[-3000:]
        else:
            backup = engine.take_backup(project.service())
        manifest = files.verify(backup['path'])
        assert manifest['kind'] == 'opensearch' and manifest['format'] == 'opensearch-snapshot-tar'
        assert manifest['version'].startswith('2.19')
        # delete, change and add after the backup, and change a mapping: all of it must go
        project.call('POST', '/shop/_delete_by_query?refresh=true', {'query': {'term': {'tag': 't1'}}})
        project.call('POST', '/shop/_update_by_query?refresh=true',
                     {'script': {'source': 'ctx._source.n = 0', 'lang': 'painless'}, 'query': {'match_all': {}}})
        project.call('PUT', '/shop/_mapping', {'properties': {'added': {'type': 'keyword'}}})
        project.call('DELETE', '/docs')
        project.call('PUT', '/stray-%d' % cycle, {'settings': {'number_of_replicas': 0}})
        assert project.state() != want
        if cycle == 0:
            proc = project.playbook('restore', '-e', 'fleet_service=%s' % SEARCH, '-e', 'backup_file=%s' % backup['name'])
            assert proc.returncode == 0, proc.stdout[-4000:]
        else:
            done = engine.restore(project.service(), backup['path'], safety_backup=False)
            assert done['indices'] == sorted(want) and done['deleted_indices'] == ['stray-%d' % cycle]
            assert done['documents'] == sum(len(i['docs']) for i in want.values())
        assert project.state() == want, 'cycle %d: the indices differ after the restore' % cycle
    status, found = project.request('GET', '/search?q=lamp', timeout=30)
    assert status == 200 and found['total'] == 1, found
    # nothing of the snapshots stays in the container, nor registered
    assert project.call('GET', '/_snapshot') == {}
    left = subprocess.run(['docker', 'exec', project.container, 'ls', '-A', '/usr/share/opensearch/snapshots'],
                          capture_output=True, text=True, check=False).stdout.split()
    assert left == [], left


def _refused(project, backup_file, words):
    before = (project.state(), project.started_at())
    proc = project.playbook('restore', '-e', 'fleet_service=%s' % SEARCH, '-e', 'backup_file=%s' % backup_file)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and 'Traceback' not in out, out[-3000:]
    for word in words:
        assert word in out, out[-3000:]
    assert (project.state(), project.started_at()) == before, 'the live indices changed after a refused restore'


def test_damaged_snapshots_are_refused_with_the_live_indices_untouched(project):
    project.call('PUT', '/kept/_doc/1?refresh=true', {'v': 'live'})
    good = engine.take_backup(project.service())
    with open(good['path'], 'rb') as handle:
        data = bytearray(handle.read())
    when = datetime.now(timezone.utc) - timedelta(days=1)
    flipped = files.backup_name(SEARCH, when, 'tar')
    data[len(data) // 2] ^= 0xFF
    with open(os.path.join(project.backups, flipped), 'wb') as handle:
        handle.write(bytes(data))
    with open(os.path.join(project.backups, flipped + '.sha256'), 'w') as handle:
        handle.write('%s  %s\n' % (good['sha256'], flipped))
    _refused(project, flipped, ['fails its checksum'])
    # a whole, checksummed tar that is not a snapshot repository: the format's own check refuses it
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as archive:
        info = tarfile.TarInfo('./index-0')
        info.size = 2
        archive.addfile(info, io.BytesIO(b'{}'))
    junk = files.write_atomically(project.backups, files.backup_name(SEARCH, when + timedelta(seconds=1), 'tar'),
                                  [buf.getvalue()], meta={'kind': 'opensearch'})
    _refused(project, junk['name'], ['is not an OpenSearch snapshot repository', 'index.latest'])
    pg_dump = files.write_atomically(project.backups, files.backup_name('postgres', when, 'dump'), [b'PGDMP'],
                                     meta={'kind': 'postgres'})
    _refused(project, pg_dump['name'], ['is a postgres backup, not one of a opensearch service'])


def test_deploy_schedules_the_snapshot_and_the_run_records_it(project):
    path = '/etc/cron.d/fleet_%s_myapp_prod_%s_backup' % (project.user, SEARCH)
    with open(path) as handle:
        line = [l for l in handle if 'fleet-backup.zip' in l][0]
    schedule, job = line.split(' root ', 1)
    assert schedule == '0 4 * * *' and '--type opensearch' in job    # the documented default
    proc = subprocess.run(['sh', '-c', job.strip()], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(os.path.join(project.project_dir, 'monitoring', 'backups', '%s.json' % SEARCH)) as handle:
        result = json.load(handle)
    assert result['status'] == 'ok', result
    assert files.verify(os.path.join(project.backups, result['backup']))['kind'] == 'opensearch'
