-- 003_server_groups: Nova's server groups as the scheduler enforces them
-- (docs/fleet.md §5). A group's row is the lock its claims take (SELECT ...
-- FOR UPDATE) so that the membership check and the claim are one
-- transaction per group: two schedulers placing members of one
-- anti-affinity group are serialised and never co-locate them.
-- Applied by `tern-manage db sync` inside a transaction (advisory lock).

CREATE TABLE server_groups (
    uuid       uuid PRIMARY KEY,
    policy     text NOT NULL CHECK (policy IN ('affinity', 'anti-affinity',
                                               'soft-affinity', 'soft-anti-affinity')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE server_group_members (
    group_uuid    uuid NOT NULL REFERENCES server_groups (uuid) ON DELETE CASCADE,
    consumer_uuid uuid NOT NULL,           -- the instance
    host          text NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_uuid, consumer_uuid)
);
CREATE INDEX server_group_members_consumer_idx ON server_group_members (consumer_uuid);
