#!/usr/bin/python3
# test-scheduler-fleet.py: the mixed-fleet rules of the scheduler
# (docs/fleet.md), through python3-nova's SchedulerQueryClient on a simulated
# fleet in PostgreSQL (real RabbitMQ, real tern-scheduler processes):
#  - guest endianness on POWER: ppc64 (big-endian) and ppc64le are distinct
#    arches; with [filter_scheduler] single_guest_endianness a host that runs
#    (or has claims in flight for) guests of one endianness takes none of the
#    other, even when two schedulers race opposite requests onto one empty host;
#  - emulated arches: hw_emulation_architecture lands only on an emulating host;
#  - guest OS rules: os_distro (osinfo-db + guest-os-rules.ini) keeps only
#    hosts whose arch the OS is built for, NoValidHost naming the rule;
#  - machine types: a live migration is refused on hosts without the
#    instance's versioned machine type, the reason naming it;
#  - server groups: anti-affinity with two racing schedulers never co-locates
#    two members; affinity keeps them together; the "group" hint; the soft
#    policies' weighers;
#  - feature gates: a ppc64le live migration to a TCG host on QEMU 7.2 is
#    refused naming the gate, allowed on 10.0.2 and with the override.
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid as uuidlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sched_harness as H

H.skip_unless_services('test-scheduler-fleet')

RACE_ROUNDS = 12
GATES = os.path.join(H.S, 'etc', 'tern', 'feature-gates.ini')

work = tempfile.mkdtemp(prefix='tern-fleet-')
t = H.Tap()
db = H.Database(work)
scheds = []


def reset_claims():
    """Drop every claim (as releases would), then let the caches catch up."""
    db.sql("DELETE FROM allocations")
    db.sql("UPDATE compute_nodes SET vcpus_used = 0, memory_mb_used = 0, local_gb_used = 0,"
           " running_vms = 0, le_guests = 0, be_guests = 0")
    time.sleep(0.3)


try:
    # pw0, pw1: POWER9 KVM hosts running ppc64le and ppc64; plus the mixed
    # fleet (x86_64 hosts, ppc64le-only p8/p9, tcg: x86_64 emulating ppc64le).
    db.fleet('power', '2')
    db.fleet('mixed')
    for name in ('fleet-a', 'fleet-b'):
        scheds.append(H.Scheduler(work, db, name, 'debug = true\n[filter_scheduler]\n'
                                  'single_guest_endianness = true\nhost_subset_size = 2\n'
                                  '[scheduler]\nmax_attempts = 20\n'
                                  '[feature_gates]\nfile = %s\n' % GATES))
    ctx, client = H.nova_client(work)
    from nova import exception

    def place(spec, uuids=None):
        res = client.select_destinations(ctx, spec, uuids or [spec.instance_uuid],
                                         return_objects=True, return_alternates=True)
        return res[0][0].service_host

    def host_set(spec):
        spec.num_instances = 1
        res = client.select_destinations(ctx, spec, None, return_objects=True,
                                         return_alternates=True)
        return sorted(s.service_host for s in res[0])

    def outcome(spec):
        try:
            return place(spec)
        except exception.NoValidHost as e:
            return 'NoValidHost: ' + str(e)

    # Distinct arches: ppc64 only where a host offers ppc64, ppc64le not there
    # alone.
    t.ok(host_set(H.request_spec({}, {'hw_architecture': 'ppc64'})) == ['pw0', 'pw1'],
         'ppc64 (big-endian) guests: only the hosts that offer ppc64')
    got = host_set(H.request_spec({}, {'hw_architecture': 'ppc64le', 'img_hv_type': 'kvm'}))
    t.ok(got == ['p8', 'p9', 'pw0', 'pw1'], 'ppc64le guests under KVM: every POWER host', got)
    got = outcome(H.request_spec({}, {'hw_architecture': 'ppc64'}, ignore_hosts=['pw0', 'pw1']))
    t.ok(got.startswith('NoValidHost') and 'no ppc64 ' in got,
         'ppc64 is not ppc64le: the ppc64le-only hosts refuse it, reason naming ppc64', got)

    # The PowerKVM rule, sequentially: a big-endian guest on pw0, then a
    # little-endian one forced there is refused with the reason.
    be = H.request_spec({}, {'hw_architecture': 'ppc64'}, force_hosts=['pw0'])
    t.ok(outcome(be) == 'pw0', 'a big-endian guest lands on the empty pw0')
    rows = db.sql("SELECT le_guests, be_guests FROM compute_nodes WHERE host = 'pw0'")
    t.ok(rows == [(0, 1)], 'pw0 counts one big-endian guest', rows)
    le = H.request_spec({}, {'hw_architecture': 'ppc64le'}, force_hosts=['pw0'])
    got = outcome(le)
    t.ok(got.startswith('NoValidHost') and 'big-endian' in got and
         'single_guest_endianness' in got,
         'a little-endian guest is refused on pw0, the reason naming the rule', got)
    le2 = H.request_spec({}, {'hw_architecture': 'ppc64le'}, ignore_hosts=['p8', 'p9', 'tcg'])
    t.ok(outcome(le2) == 'pw1', 'an unforced little-endian guest goes to pw1, not pw0')
    be2 = H.request_spec({}, {'hw_architecture': 'ppc64'})
    got = outcome(be2)
    t.ok(got == 'pw0', 'a second big-endian guest goes to pw0, not pw1 (little)', got)
    # A release gives the host back to either endianness.
    reset_claims()
    le3 = H.request_spec({}, {'hw_architecture': 'ppc64le'}, force_hosts=['pw0'])
    t.ok(outcome(le3) == 'pw0', 'once its guests are gone, pw0 takes a little-endian guest')
    reset_claims()

    # Two requests of opposite endianness racing onto one empty host, two
    # schedulers: exactly one lands, every round.
    bad_rounds = []
    both_served = set()
    for rnd in range(RACE_ROUNDS):
        specs = [H.request_spec({}, {'hw_architecture': a}, force_hosts=['pw1'])
                 for a in ('ppc64', 'ppc64le')]
        out = [None, None]
        go = threading.Barrier(2)

        def run(i):
            go.wait()
            out[i] = outcome(specs[i])
        th = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for x in th:
            x.start()
        for x in th:
            x.join()
        landed = [o for o in out if o == 'pw1']
        rows = db.sql("SELECT le_guests, be_guests FROM compute_nodes WHERE host = 'pw1'")
        if len(landed) != 1 or sorted(rows[0]) != [0, 1]:
            bad_rounds.append((rnd, out, rows))
        reset_claims()
    t.ok(not bad_rounds, '%d rounds of opposite-endianness requests racing onto empty pw1: '
         'exactly one lands each time' % RACE_ROUNDS, bad_rounds[:3])
    served = [open(s.log).read().count(' -> ') for s in scheds]
    t.ok(all(n > 0 for n in served), 'both schedulers placed guests %s' % served)

    # Emulated arches: a ppc64le guest asked emulated lands only on the x86_64
    # host that emulates ppc64le.
    spec = H.request_spec({}, {'hw_architecture': 'ppc64le',
                               'hw_emulation_architecture': 'ppc64le'})
    got = host_set(spec)
    t.ok(got == ['p8', 'p9', 'pw0', 'pw1', 'tcg'],
         'emulated ppc64le: the hosts offering (ppc64le, qemu), no x86_64 host but tcg', got)
    spec = H.request_spec({}, {'hw_architecture': 'x86_64', 'hw_emulation_architecture': 'ppc64le'},
                          ignore_hosts=['p8', 'p9', 'pw0', 'pw1'])
    t.ok(host_set(spec) == ['tcg'], 'emulated ppc64le on x86_64 hosts: only tcg, the emulator')

    # Guest OS rules (GuestOSArchFilter; osinfo-db + etc/tern/guest-os-rules.ini):
    # Windows 10 is built for x86 only, Debian 12 also for ppc64le.
    got = host_set(H.request_spec({}, {'os_distro': 'win10'}))
    t.ok(got == ['bdw', 'bdw-md', 'hsw', 'hsw-md', 'icl', 'icl-md', 'skl', 'skl-md', 'tcg'],
         'os_distro win10: only the x86_64 hosts', got)
    got = outcome(H.request_spec({}, {'os_distro': 'win10', 'hw_architecture': 'ppc64le'}))
    t.ok(got.startswith('NoValidHost') and 'GuestOSArchFilter removed 5 hosts: guest OS win10 '
         'is built for i686, x86_64 only, not for ppc64le (5)' in got,
         'win10 as a ppc64le guest: NoValidHost naming the rule', got)
    got = host_set(H.request_spec({}, {'os_distro': 'debian12', 'hw_architecture': 'ppc64le'}))
    t.ok(got == ['p8', 'p9', 'pw0', 'pw1', 'tcg'],
         'os_distro debian12 (ppc64le added by guest-os-rules.ini) on ppc64le: the POWER hosts '
         'and the emulator', got)
    got = outcome(H.request_spec({}, {'os_distro': 'no-such-os'}))
    t.ok(got.startswith('NoValidHost') and "os_distro 'no-such-os' is unknown" in got,
         'an os_distro neither osinfo-db nor the overrides know: NoValidHost saying so', got)

    # Machine types: the instance booted with pseries-9.0 cannot move to a
    # host whose QEMU offers only pseries-10.0; the reason names it.
    inst = str(uuidlib.uuid4())
    mig = str(uuidlib.uuid4())
    db.sql("INSERT INTO instances (uuid, host, node, vm_state, arch, guest_cpu, vcpus, memory_mb,"
           " image_properties) VALUES (%s, 'p9', 'p9', 'active', 'ppc64le', %s, 1, 512, %s)",
           (inst, json.dumps({'arch': 'ppc64le', 'mode': 'custom', 'model': 'POWER9',
                              'features': []}),
            json.dumps({'hw_machine_type': 'pseries-9.0'})))
    spec = H.request_spec({}, {'hw_architecture': 'ppc64le'}, instance_uuid=inst,
                          ignore_hosts=['p9'])
    spec.scheduler_hints = {'_tern_move': ['live'], '_tern_migration_uuid': [mig]}
    got = outcome(spec)
    t.ok(got.startswith('NoValidHost') and 'pseries-9.0' in got,
         'live migration to hosts without pseries-9.0 refused, the reason naming it', got)
    db.sql("UPDATE instances SET image_properties = %s WHERE uuid = %s",
           (json.dumps({'hw_machine_type': 'pseries-10.0'}), inst))
    got = outcome(spec)
    t.ok(got in ('p8', 'pw0', 'pw1'), 'with pseries-10.0 recorded it moves to a POWER host', got)

    # Feature gates: pw1 becomes a TCG-only POWER host on QEMU 7.2; a
    # ppc64le guest may not live-migrate there (the measured stall), the
    # reason naming the gate; on QEMU 10.0.2 it may.
    db.sql("UPDATE compute_nodes SET hypervisor_version = 7002000,"
           " supported_instances = '[[\"ppc64le\", \"qemu\", \"hvm\"]]' WHERE host = 'pw1'")
    time.sleep(0.5)
    gated = str(uuidlib.uuid4())
    db.sql("INSERT INTO instances (uuid, host, node, vm_state, arch, guest_cpu, vcpus, memory_mb,"
           " image_properties) VALUES (%s, 'p9', 'p9', 'active', 'ppc64le', %s, 1, 512, %s)",
           (gated, json.dumps({'arch': 'ppc64le', 'mode': 'custom', 'model': 'POWER9',
                               'features': []}),
            json.dumps({'hw_machine_type': 'pseries-10.0'})))

    def gated_move():
        spec = H.request_spec({}, {'hw_architecture': 'ppc64le'}, instance_uuid=gated,
                              ignore_hosts=['p9', 'p8', 'pw0'])
        spec.scheduler_hints = {'_tern_move': ['live'],
                                '_tern_migration_uuid': [str(uuidlib.uuid4())]}
        return outcome(spec)
    got = gated_move()
    t.ok(got.startswith('NoValidHost') and 'FeatureGatesFilter' in got and
         'ppc64le-tcg-live-migration' in got and 'QEMU 7.2.0' in got,
         'live migration of a ppc64le guest to a TCG host on QEMU 7.2 refused by its gate', got)
    db.sql("UPDATE compute_nodes SET hypervisor_version = 10000002 WHERE host = 'pw1'")
    time.sleep(0.5)
    t.ok(gated_move() == 'pw1', 'the same move to QEMU 10.0.2 is let through')
    db.sql("UPDATE compute_nodes SET hypervisor_version = 7002000 WHERE host = 'pw1'")
    time.sleep(0.5)

    # Server groups. Anti-affinity: 12 members at once over both schedulers
    # onto the 9 x86_64 hosts: 9 land, each on its own host, 3 NoValidHost.
    from nova import objects
    reset_claims()

    def group(policy):
        return objects.InstanceGroup(uuid=str(uuidlib.uuid4()), policy=policy, hosts=[],
                                     members=[], name='g', project_id='p1', user_id='u1')

    def racing(specs):
        out = [None] * len(specs)
        go = threading.Barrier(len(specs))

        def run(i):
            go.wait()
            out[i] = outcome(specs[i])
        th = [threading.Thread(target=run, args=(i,)) for i in range(len(specs))]
        for x in th:
            x.start()
        for x in th:
            x.join()
        return out

    anti = group('anti-affinity')
    out = racing([H.request_spec({}, {'hw_architecture': 'x86_64', 'img_hv_type': 'qemu'},
                                 instance_group=anti) for _ in range(12)])
    landed = [o for o in out if not o.startswith('NoValidHost')]
    t.ok(len(landed) == 9 and len(set(landed)) == 9,
         'anti-affinity, 12 racing members, two schedulers: 9 land on 9 distinct hosts',
         sorted(out))
    refused = [o for o in out if o.startswith('NoValidHost')]
    t.ok(len(refused) == 3 and all(anti.uuid in o for o in refused),
         'the 3 others get NoValidHost naming the group', refused[:1])
    rows = db.sql("SELECT host, count(*) FROM server_group_members WHERE group_uuid = %s"
                  " GROUP BY host HAVING count(*) > 1", (anti.uuid,))
    t.ok(rows == [] and db.sql("SELECT count(*) FROM server_group_members WHERE group_uuid = %s",
                               (anti.uuid,)) == [(9,)],
         'the database holds 9 members, never two on one host', rows)
    # The "group" hint alone names the recorded group.
    reset_claims()
    db.sql("DELETE FROM server_group_members")
    anti2 = group('anti-affinity')
    first = outcome(H.request_spec({}, {'hw_architecture': 'x86_64'}, instance_group=anti2))
    spec = H.request_spec({}, {'hw_architecture': 'x86_64'}, force_hosts=[first])
    spec.scheduler_hints = {'group': [anti2.uuid]}
    got = outcome(spec)
    t.ok(got.startswith('NoValidHost') and 'ServerGroupAntiAffinityFilter' in got,
         'the group hint: a second member is refused on the first one\'s host', got)
    # Affinity: 6 racing members all land on one host.
    aff = group('affinity')
    out = racing([H.request_spec({}, {'hw_architecture': 'x86_64'}, instance_group=aff)
                  for _ in range(6)])
    t.ok(len(set(out)) == 1 and not out[0].startswith('NoValidHost'),
         'affinity, 6 racing members: all on one host', out)
    bad = group('anti-affinity')
    bad.policy = 'mostly-apart'
    got = outcome(H.request_spec({}, {}, instance_group=bad))
    t.ok(got.startswith('NoValidHost') and 'mostly-apart' in got,
         'an unknown policy is a NoValidHost naming it', got)
    # Live migrations of two anti-affinity members to one host: the filter
    # sees where members are, not where they are moving; the move claim
    # checks both under the group's lock, so the second move is refused.
    reset_claims()
    db.sql("DELETE FROM server_group_members")
    mv = group('anti-affinity')
    db.sql("INSERT INTO server_groups (uuid, policy) VALUES (%s, 'anti-affinity')", (mv.uuid,))
    movers = {}
    for name, host in (('a', 'hsw'), ('b', 'bdw')):
        movers[name] = str(uuidlib.uuid4())
        db.sql("INSERT INTO instances (uuid, host, node, vm_state, arch, guest_cpu, vcpus,"
               " memory_mb) VALUES (%s, %s, %s, 'active', 'x86_64', %s, 1, 512)",
               (movers[name], host, host, json.dumps({'arch': 'x86_64', 'mode': 'custom',
                                                      'model': 'Nehalem', 'features': []})))
        db.sql("INSERT INTO server_group_members (group_uuid, consumer_uuid, host)"
               " VALUES (%s, %s, %s)", (mv.uuid, movers[name], host))

    def group_move(name, dest):
        # as tern-conductor does: the migration is recorded, then scheduled
        mig = str(uuidlib.uuid4())
        db.sql("INSERT INTO migrations (uuid, instance_uuid, source_compute, status)"
               " SELECT %s, uuid, host, 'queued' FROM instances WHERE uuid = %s",
               (mig, movers[name]))
        spec = H.request_spec({}, {'hw_architecture': 'x86_64'}, instance_uuid=movers[name],
                              instance_group=mv, force_hosts=[dest])
        spec.scheduler_hints = {'_tern_move': ['live'], '_tern_migration_uuid': [mig]}
        return outcome(spec)
    got = group_move('b', 'skl')
    t.ok(got == 'skl', 'anti-affinity member b live-migrates to skl (no member there)', got)
    got = group_move('a', 'skl')
    t.ok(got.startswith('NoValidHost') and mv.uuid in got and 'moving to' in got,
         'member a may not follow to skl while b\'s move there holds it: the group move '
         'claim refuses, naming the group', got)
    t.ok(db.sql("SELECT count(*) FROM allocations a JOIN compute_nodes n ON n.id = a.node_id"
                " WHERE n.host = 'skl'") == [(1,)], 'skl holds b\'s move claim only')

    for s in scheds:
        t.ok(s.stop() == 0, '%s exits 0' % os.path.basename(s.log))
    scheds = []

    # Without the rule: both endiannesses share a host.
    reset_claims()
    scheds.append(H.Scheduler(work, db, 'fleet-off', 'debug = true\n[filter_scheduler]\n'
                              'soft_affinity_weight_multiplier = 10.0\n'
                              'soft_anti_affinity_weight_multiplier = 10.0\n'
                              '[feature_gates]\nfile = %s\n'
                              'overrides = ppc64le-tcg-live-migration\n' % GATES))
    got = [outcome(H.request_spec({}, {'hw_architecture': a}, force_hosts=['pw0']))
           for a in ('ppc64', 'ppc64le')]
    t.ok(got == ['pw0', 'pw0'], 'rule off: a big- and a little-endian guest share pw0', got)
    # Soft policies (weighers): soft-affinity members gather although the
    # RAM weigher spreads; soft-anti-affinity members spread.
    from nova import objects
    soft = objects.InstanceGroup(uuid=str(uuidlib.uuid4()), policy='soft-affinity', hosts=[],
                                 members=[], name='s', project_id='p1', user_id='u1')
    got = [outcome(H.request_spec({}, {'hw_architecture': 'x86_64'}, ram=4096,
                                  instance_group=soft)) for _ in range(4)]
    t.ok(len(set(got)) == 1 and not got[0].startswith('NoValidHost'),
         'soft-affinity (multiplier 10): 4 members on one host', got)
    softa = objects.InstanceGroup(uuid=str(uuidlib.uuid4()), policy='soft-anti-affinity',
                                  hosts=[], members=[], name='s', project_id='p1', user_id='u1')
    got = [outcome(H.request_spec({}, {'hw_architecture': 'x86_64'}, ram=16,
                                  instance_group=softa, force_hosts=['hsw', 'bdw']))
           for _ in range(4)]
    t.ok(sorted(got) == ['bdw', 'bdw', 'hsw', 'hsw'],
         'soft-anti-affinity (multiplier 10): 4 members over 2 hosts, 2 each', got)
    t.ok(gated_move() == 'pw1', 'with the gate overridden the move to QEMU 7.2 goes through')
    t.ok(scheds[0].stop() == 0, 'fleet-off exits 0')
    scheds = []
finally:
    for s in scheds:
        s.stop()
    db.close()
    H.drop_vhost()
if not t.failed:
    shutil.rmtree(work, ignore_errors=True)   # kept when a test failed: the logs
sys.exit(t.done())
