# sched_harness.py: shared by the scheduler's Python tests and bench: a
# private database on the test PostgreSQL, tern-scheduler processes, and
# python3-nova's own client (SchedulerQueryClient) to call them.
import os
import subprocess
import sys
import tempfile
import time
import uuid as uuidlib

import psycopg2

B = os.environ.get('TERN_BUILDDIR', '.')
# Tests run in parallel on one broker and every scheduler consumes the queue
# "scheduler": each test process gets its own virtual host (when
# scripts/services says how to reach the broker's node), else shares "/".
EXCHANGE = 'nova'
VHOST = None


def _rabbitmqctl(*args):
    env = dict(os.environ, HOME=os.environ['TERN_TEST_RABBITMQ_HOME'])
    subprocess.run(['/usr/lib/rabbitmq/bin/rabbitmqctl', '-q', '-n',
                    os.environ['TERN_TEST_RABBITMQ_NODE']] + list(args),
                   env=env, check=True, stdout=subprocess.DEVNULL)


def transport_url():
    """The test broker's URL, on this process's own vhost."""
    global VHOST
    url = os.environ['TERN_TEST_TRANSPORT_URL']
    if not os.environ.get('TERN_TEST_RABBITMQ_NODE') or not os.environ.get('TERN_TEST_RABBITMQ_HOME'):
        return url
    if VHOST is None:
        VHOST = 'tern_sched_%d' % os.getpid()
        _rabbitmqctl('add_vhost', VHOST)
        _rabbitmqctl('set_permissions', '-p', VHOST, 'guest', '.*', '.*', '.*')
    return url.rstrip('/') + '/' + VHOST


def drop_vhost():
    global VHOST
    try:    # stop Nova's reply listener before its vhost goes
        from nova import rpc
        rpc.cleanup()
    except Exception:
        pass
    if VHOST:
        _rabbitmqctl('delete_vhost', VHOST)
        VHOST = None
S = os.environ.get('TERN_SRCDIR', '.')


def skip_unless_services(plan_name):
    missing = [v for v in ('TERN_TEST_TRANSPORT_URL', 'TERN_TEST_DB_URL') if not os.environ.get(v)]
    if missing:
        print('1..1')
        print('ok 1 # SKIP %s needs %s (scripts/services start)' % (plan_name, ', '.join(missing)))
        sys.exit(0)


class Database:
    """A private database, migrated by tern-manage db sync; dropped on close."""

    def __init__(self, workdir):
        base = os.environ['TERN_TEST_DB_URL']
        self.base = base
        self.name = 'sched_%d_%s' % (os.getpid(), uuidlib.uuid4().hex[:8])
        self.admin(lambda cur: cur.execute('CREATE DATABASE %s' % self.name))
        self.url = base.rsplit('/', 1)[0] + '/' + self.name
        self.conf = os.path.join(workdir, 'db.conf')
        with open(self.conf, 'w') as f:
            f.write('[database]\nconnection = %s\n' % self.url)
        os.chmod(self.conf, 0o600)
        subprocess.run([B + '/tern-manage', '--config-file', self.conf, 'db', 'sync'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.conn = psycopg2.connect(self.url)
        self.conn.autocommit = True

    def admin(self, fn):
        c = psycopg2.connect(self.base)
        c.autocommit = True
        try:
            fn(c.cursor())
        finally:
            c.close()

    def sql(self, q, args=()):
        cur = self.conn.cursor()
        cur.execute(q, args)
        return cur.fetchall() if cur.description else None

    def fleet(self, *args):
        subprocess.run([B + '/tests/integration/sched-fleet', args[0], self.url] + list(args[1:]),
                       check=True)

    def close(self):
        self.conn.close()

        def drop(cur):
            cur.execute('SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                        'WHERE datname = %s AND pid <> pg_backend_pid()', (self.name,))
            cur.execute('DROP DATABASE IF EXISTS %s' % self.name)
        self.admin(drop)


class Scheduler:
    """A tern-scheduler process; waits until it serves."""

    def __init__(self, workdir, db, name, extra=''):
        self.conf = os.path.join(workdir, name + '.conf')
        with open(self.conf, 'w') as f:
            f.write('[DEFAULT]\ntransport_url = %s\ncontrol_exchange = %s\nhost = %s\n%s\n'
                    '[database]\nconnection = %s\n'
                    % (transport_url(), EXCHANGE, name, extra, db.url))
        os.chmod(self.conf, 0o600)
        self.log = os.path.join(workdir, name + '.log')
        self.proc = subprocess.Popen([B + '/tern-scheduler', '--config-file', self.conf],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, 'w'))
        deadline = time.time() + 60
        while time.time() < deadline:
            if 'serving select_destinations' in open(self.log).read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError('tern-scheduler did not start:\n' + open(self.log).read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def nova_client(workdir, extra=''):
    """python3-nova's SchedulerQueryClient on the test broker (wire-reference §4)."""
    conf = os.path.join(workdir, 'nova-harness.conf')
    with open(conf, 'w') as f:
        f.write('[DEFAULT]\ntransport_url = %s\nlong_rpc_timeout = 60\nrpc_response_timeout = 30\n'
                '[oslo_messaging_rabbit]\nrpc_conn_pool_size = 200\n'
                '[upgrade_levels]\ncompute = 6.1\nscheduler = 4.5\nconductor = 3.0\n'
                '[scheduler]\nmax_attempts = 20\n%s'
                % (transport_url(), extra))
    import nova.conf
    import nova.context
    from nova import objects, rpc
    import nova.scheduler.client.query
    CONF = nova.conf.CONF
    rpc.set_defaults(control_exchange=EXCHANGE)
    CONF([], project='nova', default_config_files=[conf])
    objects.register_all()
    rpc.init(CONF)
    ctx = nova.context.RequestContext(user_id='u1', project_id='p1', is_admin=True,
                                      roles=['admin'])
    return ctx, nova.scheduler.client.query.SchedulerQueryClient()


def request_spec(extra_specs=None, props=None, vcpus=1, ram=512, disk=1, **kw):
    from nova import objects
    flavor = objects.Flavor(id=1, name='t1', memory_mb=ram, vcpus=vcpus, root_gb=disk,
                            ephemeral_gb=0, swap=0, flavorid='1', rxtx_factor=1.0,
                            vcpu_weight=0, disabled=False, is_public=True,
                            extra_specs=extra_specs or {}, description=None)
    image = objects.ImageMeta.from_dict({'id': str(uuidlib.uuid4()), 'name': 'img',
                                         'properties': props or {}})
    args = dict(num_instances=kw.pop('num', 1), instance_uuid=str(uuidlib.uuid4()),
                project_id='p1', user_id='u1', ignore_hosts=None, force_hosts=None,
                force_nodes=None, availability_zone=None, scheduler_hints={}, is_bfv=False)
    args.update(kw)
    return objects.RequestSpec(flavor=flavor, image=image, **args)


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, diag=None):
        self.n += 1
        print('%sok %d - %s' % ('' if cond else 'not ', self.n, desc))
        if not cond:
            self.failed += 1
            if diag:
                for line in str(diag).splitlines():
                    print('# ' + line)
        sys.stdout.flush()
        return cond

    def done(self):
        print('1..%d' % self.n)
        return 1 if self.failed else 0
