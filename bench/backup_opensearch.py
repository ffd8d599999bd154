# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/backup --kind opensearch: the fleet's opensearch backup and restore against the server's own snapshot calls.

1. Deploys a project with one service ``search`` (type opensearch, version 2, mem_limit 2g, so a 1 GiB heap;
   server_cpu 2 and server_memory 4096, as the spec refuses a mem_limit above the server's memory) for a fresh
   random user with deploy.yml, exactly as the postgres kind does (the same extra vars, the test world's
   stand-in image, a temporary fleet root with its own edge port). The container is
   <user>_bench_prod_search; its HTTP port is published nowhere, so every call is docker exec <container> curl
   http://127.0.0.1:9200/... (as the fleet's own engine talks to it).
2. Generates one index ``events`` (1 shard, 0 replicas, the default refresh interval; a keyword, an integer, a
   date and a text field) until its store size (_cat/indices store.size, after _refresh and _flush) reaches
   --size-mib MiB (default 256; _cat/indices caches store sizes for 10 s, index.store.stats_refresh_interval,
   so the readings lag the indexing and the index ends somewhat above the target; the final reading is taken
   11 s after the _flush). The documents are made on the host as NDJSON _bulk bodies of about 16 MB
   (40..120 words drawn from a fixed vocabulary of 8000 made-up words, every seventh a random number, so the
   text compresses like text, not like zeros), each docker cp'd into the container's /tmp, POSTed to
   /events/_bulk with curl --data-binary @file and removed. No force-merge (the segments stay as indexing left
   them, as on a live server); a _flush at the end. Bounded by --max-generate-seconds (exit 4 past it). The
   fingerprint every restore must give back: the document count, the sum of the integer field (a sum
   aggregation) and a digest of the index's mapping.
3. Times --runs runs of each and reports medians. Before every timed operation the server flushes (_flush) and
   the host syncs (untimed); the order of the variants rotates from run to run.
   a. fleet backup: take_backup() of the module's engine in this process (_backup/engine.Service of kind
      opensearch): the whole call, which is the honest figure, and the manifest's duration_s, which for
      opensearch covers only packing the snapshot repository into a tar and streaming it out (tar in the
      container, through the Docker API, hashed, written, fsynced): the snapshot itself is taken before
      write_atomically starts. And backup.yml -e fleet_service=search, the whole ansible-playbook run, with the
      module's duration_s from its result.
   b. plain backup (the floor: the server's own call, made directly): PUT _snapshot/plain/snap-N
      ?wait_for_completion=true into an fs repository registered (untimed, once) at
      /usr/share/opensearch/snapshots/plain (path.repo), with the body the fleet sends ({"indices": "*,-.*",
      "include_global_state": false, "ignore_unavailable": true}). The previous run's snapshot is deleted first
      (untimed), so each is a full snapshot, as the fleet's (a fresh repository each time) is, not an
      incremental one; the last stays for the plain restore. No tar, no copy out of the container.
   Restores: OpenSearch restores a shard into a closed index by copying only the snapshot's files that the
   index does not already hold identical (a recovery diff by name, length and checksum). Restoring over the
   unchanged index that was just backed up therefore copies nothing. So before each timed restore the index is
   deleted and created again empty with the same settings and mapping (untimed), and every file is copied:
   the tables' main restore rows. Right after each, the same restore is timed again over the index it has just
   restored (every file reused), as a second figure ("unchanged index").
   c. fleet restore: restore(svc, path, safety_backup=False) in this process: duration_s and the whole call.
      It verifies the sha256 of the tar, checks its members, puts it into the container (put_archive through
      the Docker API), registers it read-only, reads the snapshot list, closes the live index, restores it
      (wait_for_completion), waits for yellow, lists the indices and removes the repository. Once more through
      restore.yml -e fleet_service=search -e backup_file=<name> -e fleet_safety_backup=false.
   d. plain restore (the floor): POST /events/_close, POST _snapshot/plain/<snap>/_restore
      ?wait_for_completion=true with {"indices": "events", "include_global_state": false}, then
      GET _cluster/health/events?wait_for_status=yellow, timed together, from the snapshot already in the
      container. Each run times plain then fleet or fleet then plain, alternately.
   After every restore the document count, the sum of the integer field and the mapping must equal the
   generated ones (exit 2 otherwise).
4. Prints a table (operation, fleet s, plain s, fleet/plain, paired, MB/s of each: the index's store size in
   10^6 bytes over the time), the store size, the backup tar's size and the plain repository's, the load average
   at start and end, and the whole bench's wall time. Removes everything it created exactly as the postgres
   kind does (containers and volumes labelled fleet.user=<user>, fleet_edge_<user>, the tenant network,
   /etc/cron.d/fleet_<user>_*, the temp dir), also on SIGINT/SIGTERM/SIGHUP; --keep leaves it.

The exit codes are the postgres kind's (bench/backup). Importable on its own: it loads bench/backup as the module
``bench_backup`` unless bench/backup, run as a program, registered itself under that name first.
"""
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import random
import string
import subprocess
import sys
import time


def _base():
    """bench/backup as a module: the running program itself when it imported this file (the same Problem class)."""
    if 'bench_backup' in sys.modules:
        return sys.modules['bench_backup']
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'backup')
    loader = importlib.machinery.SourceFileLoader('bench_backup', path)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader('bench_backup', loader))
    sys.modules['bench_backup'] = module
    loader.exec_module(module)
    return module


base = _base()
Problem, log, loadavg, mib, median, docker, run = (
    base.Problem, base.log, base.loadavg, base.mib, base.median, base.docker, base.run)
EXIT_FAILED, EXIT_MISMATCH, EXIT_SETUP = base.EXIT_FAILED, base.EXIT_MISMATCH, base.EXIT_SETUP
OP_TIMEOUT = base.OP_TIMEOUT

INDEX = 'events'
SNAPSHOTS = '/usr/share/opensearch/snapshots'    # the deploy's path.repo
PLAIN_REPO = 'plain'
PLAIN_DIR = SNAPSHOTS + '/plain'
SNAPSHOT_BODY = {'indices': '*,-.*', 'include_global_state': False, 'ignore_unavailable': True}  # the fleet's
CHUNK_BYTES = 16 * 1000 * 1000
CHUNK_IN_CONTAINER = '/tmp/bench_bulk.ndjson'
MAPPING = {'properties': {'tag': {'type': 'keyword'}, 'amount': {'type': 'integer'},
                          'created_at': {'type': 'date'}, 'body': {'type': 'text'}}}
INDEX_BODY = {'settings': {'number_of_shards': 1, 'number_of_replicas': 0}, 'mappings': MAPPING}
STORE_STATS_S = 10    # index.store.stats_refresh_interval: how long _cat/indices may show an old store size
EPOCH = 1767225600    # 2026-01-01T00:00:00Z


class OpenSearchBench(base.Bench):
    KIND = 'opensearch'
    SERVICE = 'search'
    # server_memory: the spec refuses a mem_limit above it (1024 MB by default); 2 vCPU/4 GB is a real size
    SPEC = {'type': 'opensearch', 'version': '2', 'mem_limit': '2g', 'server_cpu': 2, 'server_memory': 4096}
    DESCRIBE = 'opensearch 2, mem_limit 2g, server 2 vCPU/4096 MB'
    IMAGE = 'fleet-world/opensearch:2'

    def __init__(self, args, user=None, tmp=None):
        base.Bench.__init__(self, args, user, tmp)
        self.plain_snapshot = None
        self.plain_count = 0
        self.generate_seconds = None
        self.generated_bytes = 0

    # -- the server --------------------------------------------------------------------------------------------
    def call(self, method, path, body=None, data_file=None, ok=(200,), timeout=600, code=EXIT_FAILED):
        """One HTTP call from inside the container to its own port; the reply's JSON body."""
        argv = ['docker', 'exec', self.container, 'curl', '-sS', '--max-time', str(int(timeout)), '-X', method,
                '-w', '\n%{http_code}']
        if body is not None:
            argv += ['-H', 'Content-Type: application/json', '--data-binary', json.dumps(body)]
        elif data_file:
            argv += ['-H', 'Content-Type: application/x-ndjson', '--data-binary', '@' + data_file]
        what = '%s %s' % (method, path.split('?')[0])
        try:
            proc = run(argv + ['http://127.0.0.1:9200' + path], timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            raise Problem(code, '%s did not finish within %d s' % (what, timeout))
        if proc.returncode != 0:
            raise Problem(code, '%s: curl failed (rc %d): %s' % (what, proc.returncode, proc.stderr.strip()[-1000:]))
        head, dummy, status = proc.stdout.rstrip('\n').rpartition('\n')
        try:
            reply = json.loads(head) if head.strip() else {}
        except ValueError:
            reply = {'text': head[:500]}
        if not status.isdigit() or int(status) not in ok:
            raise Problem(code, '%s: HTTP %s %s' % (what, status, json.dumps(reply)[:1000]))
        return reply

    def deployed_details(self):
        nodes = self.call('GET', '/_nodes/jvm', code=EXIT_SETUP).get('nodes') or {}
        heap = [n['jvm']['mem']['heap_max_in_bytes'] for n in nodes.values()]
        version = self.call('GET', '/', code=EXIT_SETUP).get('version', {}).get('number')
        return ', OpenSearch %s, heap %s MiB' % (version, '/'.join('%.0f' % mib(h) for h in heap))

    def settle(self):
        """Untimed, before each timed operation: the server's segments and translog to disk, the host's page cache."""
        self.call('POST', '/_flush', timeout=1800)
        os.sync()

    def store_size(self, code=EXIT_FAILED):
        rows = self.call('GET', '/_cat/indices/%s?format=json&bytes=b' % INDEX, code=code)
        return int(rows[0]['store.size'])

    # -- 2: the index ------------------------------------------------------------------------------------------
    def chunk(self, rng, vocabulary, first):
        """One _bulk body of about CHUNK_BYTES; (bytes, documents)."""
        lines, size, n = [], 0, first
        action = '{"index":{}}'
        while size < CHUNK_BYTES:
            words = rng.choices(vocabulary, k=rng.randint(40, 120))
            for j in range(0, len(words), 7):
                words[j] = str(rng.randrange(1000000))
            doc = json.dumps({'tag': 'tag-%d' % rng.randrange(500), 'amount': rng.randrange(100003),
                              'created_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(EPOCH + n)),
                              'body': ' '.join(words)}, separators=(',', ':'))
            lines += [action, doc]
            size += len(action) + len(doc) + 2
            n += 1
        return ('\n'.join(lines) + '\n').encode('utf-8'), n - first

    def bulk(self, data, left):
        path = os.path.join(self.tmp, 'bulk.ndjson')
        with open(path, 'wb') as handle:
            handle.write(data)
        os.chmod(path, 0o644)
        try:
            copy = docker('cp', path, '%s:%s' % (self.container, CHUNK_IN_CONTAINER), timeout=max(30, int(left)))
            if copy.returncode != 0:
                raise Problem(EXIT_SETUP, 'docker cp of a bulk body failed: %s' % copy.stderr.strip())
            reply = self.call('POST', '/%s/_bulk?filter_path=errors,items.*.error' % INDEX,
                              data_file=CHUNK_IN_CONTAINER, timeout=max(30, int(left)), code=EXIT_SETUP)
        finally:
            docker('exec', '-u', '0', self.container, 'rm', '-f', CHUNK_IN_CONTAINER)
            os.unlink(path)
        if reply.get('errors'):
            raise Problem(EXIT_SETUP, '_bulk reported errors: %s' % json.dumps(reply.get('items', [])[:3])[:1000])

    def generate(self):
        target = self.args.size_mib * 1048576
        deadline = time.monotonic() + self.args.max_generate_seconds
        started = time.monotonic()
        log('generating %d MiB (store size) in index %s (at most %d s)'
            % (self.args.size_mib, INDEX, self.args.max_generate_seconds))
        self.call('PUT', '/%s' % INDEX, INDEX_BODY, code=EXIT_SETUP)
        rng = random.Random(20261202)
        vocabulary = [''.join(rng.choice(string.ascii_lowercase) for dummy in range(rng.randint(3, 11)))
                      for dummy in range(8000)]
        docs, size, flushed = 0, 0, False
        while True:
            left = deadline - time.monotonic()
            if left < 5:
                raise Problem(EXIT_SETUP, 'generation took longer than --max-generate-seconds %d (%.0f of %.0f MiB)'
                              % (self.args.max_generate_seconds, mib(size), mib(target)))
            if size >= target:
                self.call('POST', '/%s/_refresh' % INDEX, timeout=int(left), code=EXIT_SETUP)
                self.call('POST', '/%s/_flush' % INDEX, timeout=int(left), code=EXIT_SETUP)
                size, flushed = self.store_size(EXIT_SETUP), True
                if size >= target:
                    break
                log('  after _flush the store is %.1f MiB: more' % mib(size))
            data, count = self.chunk(rng, vocabulary, docs)
            self.bulk(data, deadline - time.monotonic())
            docs += count
            self.generated_bytes += len(data)
            self.call('POST', '/%s/_refresh' % INDEX, code=EXIT_SETUP)
            size = self.store_size(EXIT_SETUP)
            log('  %9d documents, %7.1f MB of NDJSON sent, store %7.1f MiB, %.0f s' % (
                docs, self.generated_bytes / 1e6, mib(size), time.monotonic() - started))
        assert flushed
        time.sleep(STORE_STATS_S + 1)
        self.db_size = self.store_size(EXIT_SETUP)
        self.fingerprint = self.data_fingerprint(code=EXIT_SETUP)
        self.rows = self.fingerprint[0]
        if self.rows != docs:
            raise Problem(EXIT_SETUP, 'the index holds %d documents, %d were sent' % (self.rows, docs))
        segments = self.call('GET', '/_cat/segments/%s?format=json' % INDEX, code=EXIT_SETUP)
        self.generate_seconds = time.monotonic() - started
        log('generated: index %s is %.1f MiB (%d bytes) in %d segments, %d documents (%.1f MB of NDJSON, %.0f B '
            'of store per document), in %.0f s; load %s' % (
                INDEX, mib(self.db_size), self.db_size, len(segments), self.rows, self.generated_bytes / 1e6,
                float(self.db_size) / self.rows, self.generate_seconds, loadavg()))
        log('fingerprint: %d documents, sum(amount) %d, mapping %s' % self.fingerprint)
        self.call('PUT', '/_snapshot/%s' % PLAIN_REPO, {'type': 'fs', 'settings': {'location': PLAIN_DIR}},
                  code=EXIT_SETUP)

    def data_fingerprint(self, database=None, code=EXIT_MISMATCH):
        """(documents, sum of amount, sha256 of the mapping, 12 hex digits)."""
        query = {'size': 0, 'track_total_hits': True, 'aggs': {'amount': {'sum': {'field': 'amount'}}}}
        found = self.call('POST', '/%s/_search' % INDEX, query,
                          code=code)
        mapping = self.call('GET', '/%s/_mapping' % INDEX, code=code)[INDEX]['mappings']
        return (int(found['hits']['total']['value']), int(found['aggregations']['amount']['value']),
                hashlib.sha256(json.dumps(mapping, sort_keys=True).encode()).hexdigest()[:12])

    def check_data(self, what, database=None):
        got = self.data_fingerprint()
        if got != self.fingerprint:
            raise Problem(EXIT_MISMATCH, 'after %s: documents, sum(amount), mapping digest are %s, generated %s'
                          % (what, got, self.fingerprint))

    # -- 3a/3b: backups (fleet_backup, playbook_backup and backups_phase are bench/backup's) --------------------
    def plain_backup(self):
        if self.plain_snapshot:     # untimed: every plain snapshot is a full one, as the fleet's are
            self.call('DELETE', '/_snapshot/%s/%s' % (PLAIN_REPO, self.plain_snapshot), timeout=1800)
            self.plain_snapshot = None
        self.plain_count += 1
        name = 'snap-%d' % self.plain_count
        self.settle()
        started = time.monotonic()
        done = self.call('PUT', '/_snapshot/%s/%s?wait_for_completion=true' % (PLAIN_REPO, name), SNAPSHOT_BODY,
                         timeout=OP_TIMEOUT)
        wall = time.monotonic() - started
        state = (done.get('snapshot') or {}).get('state')
        if state != 'SUCCESS':
            raise Problem(EXIT_FAILED, 'plain snapshot %s ended %s: %s' % (name, state, json.dumps(done)[:1000]))
        self.plain_snapshot = name
        self.record('backup_plain', wall)
        du = docker('exec', self.container, 'du', '-sb', PLAIN_DIR)
        self.sizes['plain'] = int(du.stdout.split()[0]) if du.returncode == 0 and du.stdout.strip() else 0
        log('  plain PUT _snapshot/%s/%s: %.2f s, repository %.1f MiB'
            % (PLAIN_REPO, name, wall, mib(self.sizes['plain'])))
        return name

    # -- 3c/3d: restores ---------------------------------------------------------------------------------------
    def empty_index(self):
        """Untimed, before a restore: the index deleted and made again, empty, with the same settings and mapping,
        so that the restore copies every file of the snapshot (over the unchanged index it would reuse them all)."""
        self.call('DELETE', '/%s' % INDEX, timeout=600)
        self.call('PUT', '/%s' % INDEX, INDEX_BODY, timeout=600)
        self.call('GET', '/_cluster/health/%s?wait_for_status=yellow&timeout=120s' % INDEX, timeout=150)

    def recovery(self):
        """What the last restore of the shard copied and reused (_recovery), as words for the log."""
        shards = self.call('GET', '/%s/_recovery' % INDEX).get(INDEX, {}).get('shards') or [{}]
        size = (shards[0].get('index') or {}).get('size') or {}
        return 'copied %.1f MiB, reused %.1f MiB' % (mib(size.get('recovered_in_bytes', 0)),
                                                     mib(size.get('reused_in_bytes', 0)))

    def fleet_restore(self, backup, emptied=True):
        from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import engine
        if emptied:
            self.empty_index()
        svc = self.service()
        self.settle()
        started = time.monotonic()
        done = engine.restore(svc, backup['path'], safety_backup=False, timeout=OP_TIMEOUT)
        wall = time.monotonic() - started
        suffix = '' if emptied else '_same'
        self.record('restore_module' + suffix, done['duration_s'])
        self.record('restore_call' + suffix, wall)
        log('  fleet restore() over the %s index: %.2f s (duration_s %.2f; snapshot %s, indices %s, %s documents; '
            '%s)' % ('emptied' if emptied else 'unchanged', wall, done['duration_s'], done.get('snapshot'),
                     ','.join(done.get('indices') or []), done.get('documents'), self.recovery()))
        self.check_data('the fleet restore')

    def plain_restore(self, emptied=True):
        if emptied:
            self.empty_index()
        self.settle()
        started = time.monotonic()
        self.call('POST', '/%s/_close' % INDEX, timeout=1800)
        done = self.call('POST', '/_snapshot/%s/%s/_restore?wait_for_completion=true' % (PLAIN_REPO,
                                                                                         self.plain_snapshot),
                         {'indices': INDEX, 'include_global_state': False}, timeout=OP_TIMEOUT)
        health = self.call('GET', '/_cluster/health/%s?wait_for_status=yellow&timeout=600s' % INDEX, timeout=630)
        wall = time.monotonic() - started
        shards = (done.get('snapshot') or {}).get('shards') or {}
        if shards.get('failed') or health.get('timed_out'):
            raise Problem(EXIT_FAILED, 'plain restore of %s: shards %s, health %s'
                          % (self.plain_snapshot, shards, health.get('status')))
        self.record('restore_plain' if emptied else 'restore_plain_same', wall)
        log('  plain _close + _restore %s + health yellow over the %s index: %.2f s (%s)'
            % (self.plain_snapshot, 'emptied' if emptied else 'unchanged', wall, self.recovery()))
        self.check_data('the plain restore')

    def restores_phase(self, backup, plain_path=None):
        # each: over the emptied index, then at once again over the index it restored (files reused)
        steps = [('plain', lambda: (self.plain_restore(), self.plain_restore(emptied=False))),
                 ('fleet', lambda: (self.fleet_restore(backup), self.fleet_restore(backup, emptied=False)))]
        for run_no in range(self.args.runs):
            order = steps[run_no % 2:] + steps[:run_no % 2]
            log('restore run %d of %d (%s); load %s'
                % (run_no + 1, self.args.runs, ', '.join(n for n, dummy in order), loadavg()))
            for dummy, step in order:
                step()
        log('restore through the playbook (once, over the emptied index); load %s' % loadavg())
        self.playbook_restore(backup)

    def playbook_restore(self, backup):
        self.empty_index()
        base.Bench.playbook_restore(self, backup)

    def phases(self):
        self.deploy()
        self.generate()
        backup = self.backups_phase()
        self.restores_phase(backup)

    # -- 4: the report -----------------------------------------------------------------------------------------
    def report(self):
        mb = self.db_size / 1e6
        row = self.table_row
        print()
        print('index %s: store %.1f MiB (%d bytes = %.1f MB), %d documents, 1 shard; medians of %d runs '
              '(restore.yml: 1 run)' % (INDEX, mib(self.db_size), self.db_size, mb, self.rows, self.args.runs))
        if self.generate_seconds:
            print('generated in %.0f s (%.1f MB of NDJSON through _bulk)'
                  % (self.generate_seconds, self.generated_bytes / 1e6))
        self.table_head()
        row('backup: take_backup() call (snapshot + tar)', 'backup_call', 'backup_plain')
        row('  (manifest duration_s: the tar only)', 'backup_module', 'backup_plain')
        row('backup: backup.yml playbook', 'backup_playbook', 'backup_plain')
        row('  (its module duration_s)', 'backup_playbook_module', 'backup_plain')
        row('restore (emptied index): module duration_s', 'restore_module', 'restore_plain')
        row('restore (emptied index): restore() call', 'restore_call', 'restore_plain')
        row('restore (emptied index): restore.yml', 'restore_playbook', 'restore_plain')
        row('  (its module duration_s)', 'restore_playbook_module', 'restore_plain')
        row('restore (unchanged index): restore() call', 'restore_call_same', 'restore_plain_same')
        print()
        for name in sorted(self.times):
            print('  %-24s %s' % (name, ' '.join('%.2f' % x for x in self.times[name])))
        if self.sizes:
            print('backup tar: %.1f MiB (%d bytes); plain snapshot repository %.1f MiB (%d bytes); store / tar %.2f'
                  % (mib(self.sizes.get('fleet', 0)), self.sizes.get('fleet', 0), mib(self.sizes.get('plain', 0)),
                     self.sizes.get('plain', 0), float(self.db_size) / (self.sizes.get('fleet') or 1)))
        print('load average now %s' % loadavg())
