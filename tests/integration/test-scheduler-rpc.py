#!/usr/bin/python3
# test-scheduler-rpc.py: tern-scheduler on real RabbitMQ + PostgreSQL, driven
# by python3-nova's SchedulerQueryClient. A mixed fleet (x86_64 Haswell,
# Broadwell, Skylake, Icelake with and without md-clear; ppc64le POWER8 and
# POWER9; a TCG x86_64 host that emulates ppc64le; one stale and one disabled
# host) gets requests whose expected host sets are written here. With
# max_attempts = 20 the answer lists every host that passed the filters
# (chosen first, then the alternates), so the set is checked exactly.
import json
import os
import shutil
import sys
import tempfile
import time
import uuid as uuidlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sched_harness as H

H.skip_unless_services('test-scheduler-rpc')

work = tempfile.mkdtemp(prefix='tern-sched-')
t = H.Tap()
db = H.Database(work)
sched = None
try:
    db.fleet('mixed')
    # A stale host (no heartbeat for 5 minutes) and a disabled one: never chosen.
    db.fleet('small', '2', '32', '65536')     # h00, h01: Skylake-Client-IBRS
    db.sql("UPDATE services SET last_seen_up = now() - interval '5 minutes' WHERE host = 'h00'")
    db.sql("UPDATE services SET disabled = true WHERE host = 'h01'")
    sched = H.Scheduler(work, db, 'sched-a', '[scheduler]\nmax_attempts = 20\n')
    ctx, client = H.nova_client(work)
    from nova import exception, objects

    def hosts_for(spec, uuids=None, alternates=True):
        uuids = uuids or [spec.instance_uuid]
        res = client.select_destinations(ctx, spec, uuids, return_objects=True,
                                         return_alternates=alternates)
        return res

    def host_set(spec):
        res = hosts_for(spec)
        return sorted(s.service_host for s in res[0])

    ALL_X86 = ['bdw', 'bdw-md', 'hsw', 'hsw-md', 'icl', 'icl-md', 'skl', 'skl-md', 'tcg']
    cases = [
        ('no constraint: every live, enabled host', {}, {},
         ALL_X86 + ['p8', 'p9']),
        ('ppc64le image: only ppc64le-capable hosts (POWER, and TCG emulating it)', {},
         {'hw_architecture': 'ppc64le'}, ['p8', 'p9', 'tcg']),
        ('ppc64le on kvm: POWER only', {}, {'hw_architecture': 'ppc64le', 'img_hv_type': 'kvm'},
         ['p8', 'p9']),
        ('x86_64 image: x86_64 hosts', {}, {'hw_architecture': 'x86_64'}, ALL_X86),
        ('+md-clear: only hosts that have it', {'tern:cpu_flags': '+md-clear'},
         {'hw_architecture': 'x86_64'}, ['bdw-md', 'hsw-md', 'icl-md', 'skl-md']),
        ('Skylake-Client-IBRS model: Skylake and newer', {'tern:cpu_model': 'Skylake-Client-IBRS'},
         {}, ['icl', 'icl-md', 'skl', 'skl-md']),
        ('trait AVX512F required: Icelake only', {'trait:HW_CPU_X86_AVX512F': 'required'}, {},
         ['icl', 'icl-md']),
        ('POWER9 model: POWER9 and the TCG emulator, not POWER8',
         {'tern:cpu_model': 'POWER9'}, {'hw_architecture': 'ppc64le'}, ['p9', 'tcg']),
        ('POWER10 model: only the TCG emulator (its QEMU emulates POWER10; no POWER10 host)',
         {'tern:cpu_model': 'POWER10'}, {'hw_architecture': 'ppc64le'}, ['tcg']),
    ]
    for desc, es, props, want in cases:
        want = sorted(want)
        try:
            got = host_set(H.request_spec(es, props))
        except Exception as e:
            got = repr(e)
        t.ok(got == want, desc, 'got %s, want %s' % (got, want))

    # The Selection objects as Nova reads them.
    spec = H.request_spec({}, {'hw_architecture': 'ppc64le'}, ram=2048, vcpus=2, disk=10)
    res = hosts_for(spec)
    sel = res[0][0]
    t.ok(isinstance(sel, objects.Selection) and sel.nodename == sel.service_host,
         'answer is Selection objects (chosen %s)' % sel.service_host)
    ar = json.loads(sel.allocation_request)
    t.ok(ar['allocations'][sel.compute_node_uuid]['resources'] ==
         {'VCPU': 2, 'MEMORY_MB': 2048, 'DISK_GB': 10} and sel.allocation_request_version,
         'allocation_request names the node and the resources', ar)
    t.ok(sel.limits is not None and sel.limits.memory_mb == 65536 * 1.0 and
         sel.availability_zone == 'nova', 'limits and availability zone set',
         (sel.limits, sel.availability_zone))
    # The claim is in the database, for the instance, on the chosen host only.
    rows = db.sql("SELECT n.host, a.vcpus, a.memory_mb, a.disk_gb FROM allocations a "
                  "JOIN compute_nodes n ON n.id = a.node_id WHERE a.consumer_uuid = %s",
                  (spec.instance_uuid,))
    t.ok(rows == [(sel.service_host, 2, 2048, 10)], 'chosen host claimed for the instance', rows)
    used = db.sql("SELECT n.memory_mb_used, (SELECT sum(memory_mb) FROM allocations a"
                  " WHERE a.node_id = n.id) FROM compute_nodes n WHERE host = %s",
                  (sel.service_host,))
    t.ok(used[0][0] == used[0][1] and used[0][0] >= 2048,
         'host usage is the sum of its claims, this one included', used)
    # Without alternates: one Selection.
    res = hosts_for(H.request_spec({}, {'hw_architecture': 'ppc64le'}), alternates=False)
    t.ok(len(res) == 1 and len(res[0]) == 1, 'return_alternates=false: the chosen host only')
    # Two instances in one call: two lists, two claims.
    spec = H.request_spec({'tern:cpu_flags': '+md-clear'}, {}, num=2)
    u2 = [spec.instance_uuid, str(uuidlib.uuid4())]
    res = hosts_for(spec, u2)
    n = db.sql("SELECT count(*) FROM allocations WHERE consumer_uuid::text = ANY(%s)", (u2,))
    t.ok(len(res) == 2 and n == [(2,)] and
         all(r[0].service_host.endswith('-md') for r in res),
         'two instances: two answers and two claims', (res, n))

    # Nova's legacy answer (return_objects=false): one dict per instance.
    spec = H.request_spec({}, {'hw_architecture': 'ppc64le', 'img_hv_type': 'kvm'})
    res = client.select_destinations(ctx, spec, [spec.instance_uuid], return_objects=False,
                                     return_alternates=False)
    t.ok(len(res) == 1 and res[0]['host'] in ('p8', 'p9') and res[0]['nodename'] == res[0]['host']
         and 'limits' in res[0], 'return_objects=false: the legacy host dicts', res)
    # Bad input answers an error and leaves the scheduler serving.
    raw = client.scheduler_rpcapi.client.prepare(version='4.5')
    for desc, kwargs in [('spec_obj not an object', {'spec_obj': 'garbage'}),
                         ('spec_obj of another class', {'spec_obj': {
                             'nova_object.name': 'Flavor', 'nova_object.namespace': 'nova',
                             'nova_object.version': '1.2', 'nova_object.data': {}}}),
                         ('no spec_obj', {})]:
        try:
            raw.call(ctx, 'select_destinations', instance_uuids=['not-a-uuid'],
                     return_objects=True, return_alternates=True, **kwargs)
            t.ok(False, 'bad request refused: ' + desc)
        except exception.NoValidHost as e:
            t.ok('RequestSpec' in str(e) or 'spec_obj' in str(e) or 'object' in str(e),
                 'bad request refused: %s (NoValidHost: %s)' % (desc, str(e).splitlines()[0]))
        except Exception as e:
            t.ok(False, 'bad request refused: ' + desc, repr(e))
    spec = H.request_spec({}, {'hw_architecture': 'ppc64le'})
    try:
        hosts_for(spec, ['not-a-uuid'])
        t.ok(False, 'a malformed instance uuid is refused')
    except Exception as e:
        t.ok('not-a-uuid' in str(e) or 'uuid' in str(e).lower(),
             'a malformed instance uuid is refused (%s)' % type(e).__name__, str(e)[:300])
    t.ok(host_set(H.request_spec({}, {'hw_architecture': 'ppc64le', 'img_hv_type': 'kvm'})) ==
         ['p8', 'p9'], 'the scheduler still serves after bad input')

    # NoValidHost with a reason naming the filter and the missing feature.
    spec = H.request_spec({'tern:cpu_model': 'Skylake-Client-IBRS',
                           'tern:cpu_flags': '+md-clear'}, {'hw_architecture': 'x86_64'},
                          ignore_hosts=['skl-md', 'icl-md'])
    try:
        hosts_for(spec)
        t.ok(False, 'NoValidHost raised')
    except exception.NoValidHost as e:
        msg = str(e)
        t.ok('CpuModelFilter removed 7 hosts' in msg and 'missing md-clear (5)' in msg and
             'ignore_hosts removed 2 hosts' in msg,
             'NoValidHost says which filter removed how many hosts and why', msg)
    except Exception as e:
        t.ok(False, 'NoValidHost raised', repr(e))
    try:
        hosts_for(H.request_spec({}, {}, ram=10 ** 6))
        t.ok(False, 'NoValidHost for RAM')
    except exception.NoValidHost as e:
        t.ok('RamFilter removed 11 hosts' in str(e) and
             'ComputeFilter removed 2 hosts: 1 disabled, 1 down' in str(e),
             'NoValidHost for RAM; stale and disabled hosts counted by ComputeFilter', str(e))
    try:
        hosts_for(H.request_spec({'tern:cpu_model': 'Pentium-9000'}, {}))
        t.ok(False, 'bad model refused')
    except exception.NoValidHost as e:
        t.ok('unknown CPU model' in str(e), 'an unknown model is a NoValidHost naming it', str(e))

    # Live migration of a Skylake-booted guest: never Broadwell/Haswell, not
    # the source, a move claim for the migration.
    inst = str(uuidlib.uuid4())
    mig = str(uuidlib.uuid4())
    guest_cpu = json.dumps({'arch': 'x86_64', 'mode': 'custom', 'model': 'Skylake-Client-IBRS',
                            'features': []})
    db.sql("INSERT INTO instances (uuid, host, node, vm_state, arch, guest_cpu, vcpus, memory_mb,"
           " image_properties) VALUES (%s, 'skl', 'skl', 'active', 'x86_64', %s, 1, 512, %s)",
           (inst, guest_cpu, json.dumps({'hw_machine_type': 'q35'})))
    spec = H.request_spec({}, {'hw_architecture': 'x86_64'}, instance_uuid=inst,
                          ignore_hosts=['skl'])
    spec.scheduler_hints = {'_tern_move': ['live'], '_tern_migration_uuid': [mig]}
    got = sorted(s.service_host for s in hosts_for(spec, [inst])[0])
    t.ok(got == ['icl', 'icl-md', 'skl-md'], 'live migration of a Skylake guest: never Broadwell',
         got)
    rows = db.sql("SELECT n.host FROM allocations a JOIN compute_nodes n ON n.id = a.node_id "
                  "WHERE a.consumer_uuid = %s", (mig,))
    t.ok(len(rows) == 1 and rows[0][0] in ('icl', 'icl-md', 'skl-md'),
         'move claim held by the migration uuid', rows)
    # A Nova conductor sends no hints, but puts the source in ignore_hosts
    # (its live migration task's attempted hosts): an instance with a host
    # is a move too.
    inst2 = str(uuidlib.uuid4())
    db.sql("INSERT INTO instances (uuid, host, node, vm_state, arch, guest_cpu, vcpus, memory_mb)"
           " VALUES (%s, 'icl-md', 'icl-md', 'active', 'x86_64', %s, 1, 512)",
           (inst2, json.dumps({'arch': 'x86_64', 'mode': 'custom', 'model': 'Icelake-Server',
                               'features': ['md-clear']})))
    spec = H.request_spec({}, {}, instance_uuid=inst2, ignore_hosts=['icl-md'])
    try:
        hosts_for(spec, [inst2])
        t.ok(False, 'Icelake+md-clear guest on icl-md has nowhere to go')
    except exception.NoValidHost as e:
        t.ok('CpuModelFilter' in str(e) and 'missing md-clear' in str(e) and
             'source host' in str(e),
             'Icelake+md-clear guest on icl-md has nowhere to go (source excluded)', str(e))

    # The change feed: a host disabled in the database is dropped without a restart.
    db.sql("UPDATE compute_nodes SET disabled = true WHERE host = 'p8'")
    deadline = time.time() + 10
    got = None
    while time.time() < deadline:
        got = host_set(H.request_spec({}, {'hw_architecture': 'ppc64le'}))
        if got == ['p9', 'tcg']:
            break
        time.sleep(0.1)
    t.ok(got == ['p9', 'tcg'], 'a host disabled in the database is dropped (change feed)', got)
    # TCG: the emulator's guests get what its QEMU emulates, not its x86 CPU.
    # An older QEMU there (POWER7/POWER8 only) takes no POWER9 guest.
    db.sql("UPDATE compute_nodes SET guest_cpu = jsonb_set(guest_cpu, '{tcg_models}',"
           " '{\"ppc64le\": [\"POWER8\", \"POWER7\"]}') WHERE host = 'tcg'")
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            got = host_set(H.request_spec({'tern:cpu_model': 'POWER9'},
                                          {'hw_architecture': 'ppc64le'}))
        except exception.NoValidHost as e:
            got = str(e)
        if got == ['p9']:
            break
        time.sleep(0.1)
    t.ok(got == ['p9'], 'a TCG host whose QEMU emulates up to POWER8: no POWER9 guest', got)
    try:
        got = host_set(H.request_spec({'tern:cpu_model': 'POWER10'},
                                      {'hw_architecture': 'ppc64le'}))
    except exception.NoValidHost as e:
        got = str(e)
    t.ok('CpuModelFilter removed' in got and
         'no CPU model QEMU emulates there under TCG gives it (1)' in got,
         'POWER10 now: NoValidHost, the reason naming the TCG host', got)
    # A claim by another scheduler changes only the usage columns: seen from
    # them (same inventory fingerprint); an inventory change reads the row.
    def wait_set(want, *a, **kw):
        got = None
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                got = host_set(H.request_spec(*a, **kw))
            except exception.NoValidHost as e:
                got = str(e)
            if got == want:
                break
            time.sleep(0.1)
        return got
    # as a claim writes it: usage and a new generation (the notification
    # carries the usage, docs/db.md)
    db.sql("UPDATE compute_nodes SET vcpus_used = vcpus, generation = generation + 1"
           " WHERE host = 'p9'")
    got = wait_set(['tcg'], {}, {'hw_architecture': 'ppc64le'})
    t.ok(got == ['tcg'], 'p9 filled by another scheduler\'s claims: not chosen', got)
    db.sql("UPDATE compute_nodes SET vcpus_used = 0, vcpus = 1 WHERE host = 'p9'")
    got = wait_set(['p9', 'tcg'], {}, {'hw_architecture': 'ppc64le'})
    t.ok(got == ['p9', 'tcg'] and
         wait_set(['tcg'], {}, {'hw_architecture': 'ppc64le'}, vcpus=2) == ['tcg'],
         'p9 released and shrunk to 1 vCPU (a new inventory): 1-vCPU guests only', got)
    db.sql("UPDATE compute_nodes SET vcpus = 32 WHERE host = 'p9'")
    # A new host appears, and a deleted one goes.
    db.fleet('small', '3', '32', '65536')   # adds h02 (h00, h01 exist)
    db.sql("UPDATE services SET last_seen_up = now() - interval '5 minutes' WHERE host = 'h00'")
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            got = host_set(H.request_spec({}, {}, force_hosts=['h02']))
        except exception.NoValidHost as e:
            got = str(e)
        if got == ['h02']:
            break
        time.sleep(0.1)
    t.ok(got == ['h02'], 'a new host is scheduled to (change feed)', got)
    # A stale heartbeat that comes back: h00 is chosen again (heartbeat poll).
    db.sql("UPDATE services SET last_seen_up = now() WHERE host = 'h00'")
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            got = host_set(H.request_spec({}, {}, force_hosts=['h00']))
        except exception.NoValidHost as e:
            got = str(e)
        if got == ['h00']:
            break
        time.sleep(0.2)
    t.ok(got == ['h00'], 'a host whose heartbeat resumes is chosen again', got)
    # A change pruned while the scheduler's feed connection was down (h02
    # disabled, then the changes table emptied, before it could reconnect):
    # catching up finds it gone, and the scheduler reloads every host.
    loads = open(sched.log).read().count('host cache loaded')
    me = db.conn.get_backend_pid()
    db.admin(lambda cur: cur.execute('ALTER DATABASE %s ALLOW_CONNECTIONS false' % db.name))
    try:
        db.admin(lambda cur: cur.execute(
            'SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity'
            ' WHERE datname = %s AND pid <> %s', (db.name, me)))
        db.sql("UPDATE compute_nodes SET disabled = true WHERE host = 'h02'")
        db.sql('DELETE FROM changes')
    finally:
        db.admin(lambda cur: cur.execute('ALTER DATABASE %s ALLOW_CONNECTIONS true' % db.name))
    got = None
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            got = host_set(H.request_spec({}, {}, force_hosts=['h02']))
        except exception.NoValidHost as e:
            got = str(e)
            break
        except Exception as e:  # noqa: BLE001 (the scheduler's database reconnecting)
            got = repr(e)
        time.sleep(0.2)
    log = open(sched.log).read()
    t.ok(isinstance(got, str) and 'ComputeFilter removed 1 host' in got and
         'were pruned before they could be read' in log and
         log.count('host cache loaded') == loads + 1,
         'changes pruned while the feed was down: the scheduler reloads its hosts', got)
    rc = sched.stop()
    sched = None
    t.ok(rc == 0, 'tern-scheduler exits 0 on SIGTERM (rc=%s)' % rc)
finally:
    if sched:
        sched.stop()
    db.close()
    H.drop_vhost()
if not t.failed:
    shutil.rmtree(work, ignore_errors=True)   # kept when a test failed: the logs
sys.exit(t.done())
