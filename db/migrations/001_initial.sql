-- 001_initial.sql: tern's inventory: services, compute nodes, instances,
-- instance faults, migrations, allocations, and the change feed.
-- Applied by `tern-manage db sync` inside a transaction.

CREATE TABLE services (
    id              bigserial PRIMARY KEY,
    binary_name     text NOT NULL CHECK (length(binary_name) BETWEEN 1 AND 255),
    host            text NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
    topic           text,
    report_count    bigint NOT NULL DEFAULT 0,
    last_seen_up    timestamptz,
    disabled        boolean NOT NULL DEFAULT false,
    disabled_reason text,
    forced_down     boolean NOT NULL DEFAULT false,
    version         bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (binary_name, host)
);

CREATE TABLE compute_nodes (
    id                    bigserial PRIMARY KEY,
    uuid                  uuid NOT NULL UNIQUE,
    -- host names are at most 255 characters (as in Nova), which also keeps
    -- every change notification far below NOTIFY's 8000-byte payload limit
    host                  text NOT NULL UNIQUE CHECK (length(host) BETWEEN 1 AND 255),
    hypervisor_hostname   text,
    hypervisor_type       text,
    hypervisor_version    bigint NOT NULL DEFAULT 0,
    arch                  text,
    -- [["x86_64","qemu","hvm"], ...], Nova's supported_instances
    supported_instances   jsonb NOT NULL DEFAULT '[]',
    machine_types         text[] NOT NULL DEFAULT '{}',
    cpu_info              jsonb,
    cpu_model             text,
    cpu_features          text[] NOT NULL DEFAULT '{}',
    guest_cpu             jsonb,
    guest_cpu_model       text,
    guest_cpu_features    text[] NOT NULL DEFAULT '{}',
    vcpus                 bigint NOT NULL DEFAULT 0 CHECK (vcpus >= 0),
    memory_mb             bigint NOT NULL DEFAULT 0 CHECK (memory_mb >= 0),
    local_gb              bigint NOT NULL DEFAULT 0 CHECK (local_gb >= 0),
    reserved_vcpus        bigint NOT NULL DEFAULT 0 CHECK (reserved_vcpus >= 0),
    reserved_memory_mb    bigint NOT NULL DEFAULT 0 CHECK (reserved_memory_mb >= 0),
    reserved_disk_gb      bigint NOT NULL DEFAULT 0 CHECK (reserved_disk_gb >= 0),
    cpu_allocation_ratio  double precision NOT NULL DEFAULT 1.0 CHECK (cpu_allocation_ratio > 0),
    ram_allocation_ratio  double precision NOT NULL DEFAULT 1.0 CHECK (ram_allocation_ratio > 0),
    disk_allocation_ratio double precision NOT NULL DEFAULT 1.0 CHECK (disk_allocation_ratio > 0),
    -- owned by claims: always the sums of this node's allocations
    vcpus_used            bigint NOT NULL DEFAULT 0 CHECK (vcpus_used >= 0),
    memory_mb_used        bigint NOT NULL DEFAULT 0 CHECK (memory_mb_used >= 0),
    local_gb_used         bigint NOT NULL DEFAULT 0 CHECK (local_gb_used >= 0),
    running_vms           bigint NOT NULL DEFAULT 0 CHECK (running_vms >= 0),
    generation            bigint NOT NULL DEFAULT 0,
    disabled              boolean NOT NULL DEFAULT false,
    disabled_reason       text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE instances (
    id                bigserial PRIMARY KEY,
    uuid              uuid NOT NULL UNIQUE,
    display_name      text,
    hostname          text,
    project_id        text,
    user_id           text,
    host              text,
    node              text,
    vm_state          text NOT NULL DEFAULT 'building',
    task_state        text,
    power_state       integer NOT NULL DEFAULT 0,
    flavor            jsonb,
    vcpus             bigint NOT NULL DEFAULT 0 CHECK (vcpus >= 0),
    memory_mb         bigint NOT NULL DEFAULT 0 CHECK (memory_mb >= 0),
    root_gb           bigint NOT NULL DEFAULT 0 CHECK (root_gb >= 0),
    ephemeral_gb      bigint NOT NULL DEFAULT 0 CHECK (ephemeral_gb >= 0),
    image_ref         text,
    image_properties  jsonb NOT NULL DEFAULT '{}',
    arch              text,
    guest_cpu         jsonb,
    availability_zone text,
    metadata          jsonb NOT NULL DEFAULT '{}',
    launched_at       timestamptz,
    terminated_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    deleted           boolean NOT NULL DEFAULT false
);
CREATE INDEX instances_host_idx ON instances (host) WHERE NOT deleted;

CREATE TABLE instance_faults (
    id            bigserial PRIMARY KEY,
    instance_uuid uuid NOT NULL REFERENCES instances (uuid) ON DELETE CASCADE,
    code          integer NOT NULL DEFAULT 500,
    message       text,
    details       text,
    host          text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instance_faults_instance_idx ON instance_faults (instance_uuid);

CREATE TABLE migrations (
    id               bigserial PRIMARY KEY,
    uuid             uuid NOT NULL UNIQUE,
    instance_uuid    uuid NOT NULL,
    migration_type   text NOT NULL DEFAULT 'live-migration',
    source_compute   text,
    source_node      text,
    dest_compute     text,
    dest_node        text,
    status           text NOT NULL DEFAULT 'accepted',
    progress         integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    memory_total     bigint NOT NULL DEFAULT 0,
    memory_processed bigint NOT NULL DEFAULT 0,
    memory_remaining bigint NOT NULL DEFAULT 0,
    disk_total       bigint NOT NULL DEFAULT 0,
    disk_processed   bigint NOT NULL DEFAULT 0,
    disk_remaining   bigint NOT NULL DEFAULT 0,
    error            text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX migrations_instance_idx ON migrations (instance_uuid);
CREATE INDEX migrations_unfinished_idx ON migrations (source_compute, dest_compute)
    WHERE status NOT IN ('completed', 'failed', 'error', 'cancelled');

-- One row per (consumer, node): the consumer is an instance or a migration.
CREATE TABLE allocations (
    id            bigserial PRIMARY KEY,
    consumer_uuid uuid NOT NULL,
    node_id       bigint NOT NULL REFERENCES compute_nodes (id),
    vcpus         bigint NOT NULL CHECK (vcpus >= 0),
    memory_mb     bigint NOT NULL CHECK (memory_mb >= 0),
    disk_gb       bigint NOT NULL CHECK (disk_gb >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer_uuid, node_id)
);
CREATE INDEX allocations_node_idx ON allocations (node_id);

-- The change feed: one row per changed row, and a NOTIFY at commit.
CREATE TABLE changes (
    id         bigserial PRIMARY KEY,
    tbl        text NOT NULL,
    key        text NOT NULL,
    op         text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_created_idx ON changes (created_at);

CREATE FUNCTION tern_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    k text;
    cid bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF TG_TABLE_NAME IN ('compute_nodes', 'services') THEN
        k := r.host;
    ELSE
        k := r.uuid::text;
    END IF;
    INSERT INTO changes (tbl, key, op) VALUES (TG_TABLE_NAME, k, TG_OP) RETURNING id INTO cid;
    PERFORM pg_notify('tern_changes',
        json_build_object('id', cid, 'table', TG_TABLE_NAME, 'key', k, 'op', TG_OP)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER compute_nodes_change AFTER INSERT OR UPDATE OR DELETE ON compute_nodes
    FOR EACH ROW EXECUTE FUNCTION tern_record_change();
-- A heartbeat (report_count, last_seen_up) is not a change: liveness is
-- read from last_seen_up when needed, not pushed to every scheduler.
CREATE TRIGGER services_change AFTER INSERT OR DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION tern_record_change();
CREATE TRIGGER services_update AFTER UPDATE ON services
    FOR EACH ROW WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled
                    OR OLD.disabled_reason IS DISTINCT FROM NEW.disabled_reason
                    OR OLD.forced_down IS DISTINCT FROM NEW.forced_down
                    OR OLD.topic IS DISTINCT FROM NEW.topic
                    OR OLD.version IS DISTINCT FROM NEW.version)
    EXECUTE FUNCTION tern_record_change();
CREATE TRIGGER instances_change AFTER INSERT OR UPDATE OR DELETE ON instances
    FOR EACH ROW EXECUTE FUNCTION tern_record_change();
CREATE TRIGGER migrations_change AFTER INSERT OR UPDATE OR DELETE ON migrations
    FOR EACH ROW EXECUTE FUNCTION tern_record_change();
