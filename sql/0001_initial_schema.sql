-- 0001: the whole data model of ARCHITECTURE.md; later migrations only add to it.
--
-- Conventions:
--  * ids are bigint identity; timestamps are timestamptz; states are enums.
--  * "desired" columns are written by the pool manager / broker, "actual" columns by the host
--    agent that runs the desktop; components reconcile towards desired state.
--  * secrets (passwords, bearer tokens, display tickets) are only ever stored hashed.
--  * changes that a component waits for are announced with NOTIFY (see the triggers at the end).
-- The migration runner wraps this file in a transaction and records it in schema_migrations.

-- ---------------------------------------------------------------------------------------------
-- Users, groups, roles
-- ---------------------------------------------------------------------------------------------
CREATE TYPE user_role AS ENUM ('user', 'admin');

CREATE TABLE users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text        NOT NULL,
    display_name    text        NOT NULL DEFAULT '',
    -- libsodium crypto_pwhash_str() output: "$argon2id$v=19$m=...,t=...,p=...$salt$hash"
    password_hash   text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    role            user_role   NOT NULL DEFAULT 'user',
    disabled        boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz,
    CONSTRAINT users_username_valid CHECK (username ~ '^[A-Za-z0-9._@-]{1,64}$')
);
-- user names are case-insensitive at login ("Alice" and "alice" are one account)
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

CREATE TABLE groups (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT groups_name_valid CHECK (name ~ '^[A-Za-z0-9._@ -]{1,64}$')
);
CREATE UNIQUE INDEX groups_name_key ON groups (lower(name));

CREATE TABLE group_members (
    group_id    bigint      NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

-- ---------------------------------------------------------------------------------------------
-- Golden images and hypervisor hosts
-- ---------------------------------------------------------------------------------------------
CREATE TYPE image_state AS ENUM ('building', 'ready', 'failed', 'retired');

CREATE TABLE golden_images (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text        NOT NULL CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
    version         integer     NOT NULL CHECK (version > 0),
    state           image_state NOT NULL DEFAULT 'building',
    -- the snapshot: a state file and a memory file (hypervisor-core's golden image directory)
    state_path      text        NOT NULL,
    memory_path     text        NOT NULL,
    memory_mib      integer     NOT NULL CHECK (memory_mib > 0),
    vcpus           integer     NOT NULL DEFAULT 1 CHECK (vcpus BETWEEN 1 AND 64),
    fb_width        integer     NOT NULL DEFAULT 1024 CHECK (fb_width > 0),
    fb_height       integer     NOT NULL DEFAULT 768 CHECK (fb_height > 0),
    description     text        NOT NULL DEFAULT '',
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, version)
);

CREATE TYPE host_state AS ENUM ('online', 'draining', 'lost', 'offline');

CREATE TABLE hosts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text        NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._-]{1,253}$'),
    -- address thin clients use to reach display servers on this host
    address             text        NOT NULL CHECK (address <> ''),
    vcpus_total         integer     NOT NULL CHECK (vcpus_total > 0),
    memory_mib_total    bigint      NOT NULL CHECK (memory_mib_total > 0),
    -- provisioning operations the pool manager may run on this host at once
    max_concurrent_ops  integer     NOT NULL DEFAULT 4 CHECK (max_concurrent_ops > 0),
    state               host_state  NOT NULL DEFAULT 'online',
    agent_version       text        NOT NULL DEFAULT '',
    registered_at       timestamptz NOT NULL DEFAULT now(),
    last_heartbeat_at   timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------------------------------------
-- Pools and entitlements
-- ---------------------------------------------------------------------------------------------
CREATE TYPE pool_assignment AS ENUM ('floating', 'dedicated');
CREATE TYPE display_protocol AS ENUM ('vnc', 'rdp');
-- what happens to a floating desktop when its session ends
CREATE TYPE refresh_policy AS ENUM ('on_logoff', 'never');

CREATE TABLE pools (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                    text            NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
    display_name            text            NOT NULL DEFAULT '',
    assignment              pool_assignment NOT NULL DEFAULT 'floating',
    golden_image_id         bigint          NOT NULL REFERENCES golden_images (id),
    -- desktops kept ready (running, unassigned) beyond those in use
    min_ready               integer         NOT NULL DEFAULT 1 CHECK (min_ready >= 0),
    max_size                integer         NOT NULL DEFAULT 10 CHECK (max_size > 0),
    protocols               display_protocol[] NOT NULL DEFAULT '{vnc,rdp}'
                                CHECK (cardinality(protocols) > 0 AND array_position(protocols, NULL) IS NULL),
    refresh_policy          refresh_policy  NOT NULL DEFAULT 'on_logoff',
    -- five-field cron expression for scheduled refresh of every desktop (NULL: none)
    refresh_cron            text            CHECK (refresh_cron IS NULL OR refresh_cron ~ '^\S+(\s+\S+){4}$'),
    -- session limits in seconds (NULL: no limit)
    idle_timeout_s          integer         CHECK (idle_timeout_s > 0),
    disconnected_timeout_s  integer         CHECK (disconnected_timeout_s > 0),
    max_session_s           integer         CHECK (max_session_s > 0),
    enabled                 boolean         NOT NULL DEFAULT true,
    created_at              timestamptz     NOT NULL DEFAULT now(),
    updated_at              timestamptz     NOT NULL DEFAULT now(),
    CONSTRAINT pools_size_bounds CHECK (min_ready <= max_size)
);

-- a pool is entitled to exactly one user or one group per row
CREATE TABLE entitlements (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pool_id     bigint      NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    user_id     bigint      REFERENCES users (id) ON DELETE CASCADE,
    group_id    bigint      REFERENCES groups (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT entitlements_one_subject CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX entitlements_pool_user_key ON entitlements (pool_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX entitlements_pool_group_key ON entitlements (pool_id, group_id) WHERE group_id IS NOT NULL;
CREATE INDEX entitlements_user_idx ON entitlements (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX entitlements_group_idx ON entitlements (group_id) WHERE group_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- Desktops
-- ---------------------------------------------------------------------------------------------
-- desired: what the pool manager wants of the desktop's VM
CREATE TYPE desktop_desired_state AS ENUM ('running', 'stopped', 'deleted');
-- actual: what the host agent last reported
CREATE TYPE desktop_actual_state AS ENUM ('pending', 'starting', 'running', 'stopping', 'stopped', 'failed', 'lost');

CREATE TABLE desktops (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pool_id                 bigint                NOT NULL REFERENCES pools (id),
    name                    text                  NOT NULL CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
    host_id                 bigint                REFERENCES hosts (id),
    golden_image_id         bigint                NOT NULL REFERENCES golden_images (id),
    desired_state           desktop_desired_state NOT NULL DEFAULT 'running',
    actual_state            desktop_actual_state  NOT NULL DEFAULT 'pending',
    -- fencing token: bumped on every refresh; the host agent runs a fresh clone per generation
    generation              bigint                NOT NULL DEFAULT 1 CHECK (generation > 0),
    -- the generation the host agent confirms it instantiated from the golden image
    actual_generation       bigint                CHECK (actual_generation > 0),
    -- the generation whose guest signalled "desktop ready" over the agent channel
    ready_generation        bigint                CHECK (ready_generation > 0),
    vnc_port                integer               CHECK (vnc_port BETWEEN 1 AND 65535),
    rdp_port                integer               CHECK (rdp_port BETWEEN 1 AND 65535),
    vmm_pid                 integer               CHECK (vmm_pid > 0),
    -- dedicated pools: the user this desktop belongs to for good
    owner_user_id           bigint                REFERENCES users (id),
    -- floating pools: the user holding it now; cleared (with a generation bump) on release
    assigned_user_id        bigint                REFERENCES users (id),
    assigned_at             timestamptz,
    error                   text,
    created_at              timestamptz           NOT NULL DEFAULT now(),
    updated_at              timestamptz           NOT NULL DEFAULT now(),
    state_changed_at        timestamptz           NOT NULL DEFAULT now(),
    UNIQUE (pool_id, name),
    CONSTRAINT desktops_generation_order CHECK (actual_generation IS NULL OR actual_generation <= generation),
    CONSTRAINT desktops_assigned_at CHECK ((assigned_user_id IS NULL) = (assigned_at IS NULL))
);
CREATE INDEX desktops_host_idx ON desktops (host_id) WHERE host_id IS NOT NULL;
CREATE INDEX desktops_pool_idx ON desktops (pool_id);
-- the ready set: running the current generation, guest ready, nobody on it
CREATE INDEX desktops_ready_idx ON desktops (pool_id, id)
    WHERE desired_state = 'running' AND actual_state = 'running'
      AND actual_generation = generation AND ready_generation = generation
      AND assigned_user_id IS NULL AND owner_user_id IS NULL;
-- a dedicated user owns at most one desktop per pool
CREATE UNIQUE INDEX desktops_owner_key ON desktops (pool_id, owner_user_id) WHERE owner_user_id IS NOT NULL;
-- a floating user holds at most one desktop per pool
CREATE UNIQUE INDEX desktops_assigned_key ON desktops (pool_id, assigned_user_id) WHERE assigned_user_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- Desktop sessions and one-time display tickets
-- ---------------------------------------------------------------------------------------------
CREATE TYPE session_state AS ENUM ('active', 'disconnected', 'ended');

CREATE TABLE sessions (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             bigint           NOT NULL REFERENCES users (id),
    desktop_id          bigint           NOT NULL REFERENCES desktops (id),
    pool_id             bigint           NOT NULL REFERENCES pools (id),
    -- the desktop generation this session runs on; a refresh ends the session
    desktop_generation  bigint           NOT NULL CHECK (desktop_generation > 0),
    protocol            display_protocol NOT NULL,
    state               session_state    NOT NULL DEFAULT 'active',
    client_address      text,
    started_at          timestamptz      NOT NULL DEFAULT now(),
    last_activity_at    timestamptz      NOT NULL DEFAULT now(),
    disconnected_at     timestamptz,
    ended_at            timestamptz,
    end_reason          text,
    CONSTRAINT sessions_ended CHECK ((state = 'ended') = (ended_at IS NOT NULL)),
    CONSTRAINT sessions_disconnected CHECK (state <> 'disconnected' OR disconnected_at IS NOT NULL)
);
-- at most one live session per desktop, and per user and pool
CREATE UNIQUE INDEX sessions_live_desktop_key ON sessions (desktop_id) WHERE state <> 'ended';
CREATE UNIQUE INDEX sessions_live_user_pool_key ON sessions (user_id, pool_id) WHERE state <> 'ended';
CREATE INDEX sessions_user_idx ON sessions (user_id, started_at DESC);

CREATE TABLE display_tickets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  bigint           NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    desktop_id  bigint           NOT NULL REFERENCES desktops (id),
    protocol    display_protocol NOT NULL,
    -- SHA-256 of the ticket; the plaintext goes to the host agent only and is never stored
    ticket_hash bytea            NOT NULL UNIQUE CHECK (octet_length(ticket_hash) = 32),
    created_at  timestamptz      NOT NULL DEFAULT now(),
    expires_at  timestamptz      NOT NULL,
    used_at     timestamptz,
    CONSTRAINT display_tickets_expiry CHECK (expires_at > created_at)
);
CREATE INDEX display_tickets_desktop_idx ON display_tickets (desktop_id);

-- bearer tokens of logged-in API clients (thin clients, admin GUI, vdictl)
CREATE TABLE api_tokens (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the 256-bit random token
    token_hash      bytea       NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    client_address  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- ---------------------------------------------------------------------------------------------
-- Login throttling (shared by every broker replica)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE login_attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the name as typed (the account may not exist)
    username        text        NOT NULL,
    source_address  text        NOT NULL,
    succeeded       boolean     NOT NULL,
    attempted_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_user_idx ON login_attempts (lower(username), attempted_at);
CREATE INDEX login_attempts_source_idx ON login_attempts (source_address, attempted_at);

CREATE TYPE lockout_scope AS ENUM ('user', 'address');

-- consecutive failures per user name and per source address, with the resulting back-off
CREATE TABLE login_lockouts (
    scope               lockout_scope NOT NULL,
    subject             text          NOT NULL,
    consecutive_failures integer      NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    last_failure_at     timestamptz,
    locked_until        timestamptz,
    PRIMARY KEY (scope, subject)
);

-- ---------------------------------------------------------------------------------------------
-- Jobs (refresh, image push), claimed by pool managers with SKIP LOCKED
-- ---------------------------------------------------------------------------------------------
CREATE TYPE job_type AS ENUM ('refresh_pool', 'image_push');
CREATE TYPE job_state AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

CREATE TABLE jobs (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type                job_type    NOT NULL,
    pool_id             bigint      NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    -- image_push: the image the pool moves to
    target_image_id     bigint      REFERENCES golden_images (id),
    state               job_state   NOT NULL DEFAULT 'queued',
    -- when the job becomes due
    run_at              timestamptz NOT NULL DEFAULT now(),
    -- the cron tick this job was created for (NULL for jobs an admin started)
    scheduled_for       timestamptz,
    -- in-use desktops are refreshed forcibly (after a warning) once this passes
    force_after         timestamptz,
    progress_done       integer     NOT NULL DEFAULT 0 CHECK (progress_done >= 0),
    progress_total      integer     NOT NULL DEFAULT 0 CHECK (progress_total >= 0),
    cancel_requested    boolean     NOT NULL DEFAULT false,
    error               text,
    created_by          bigint      REFERENCES users (id),
    claimed_by          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jobs_progress CHECK (progress_done <= progress_total),
    CONSTRAINT jobs_push_target CHECK ((type = 'image_push') = (target_image_id IS NOT NULL)),
    CONSTRAINT jobs_finished CHECK ((state IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
);
CREATE INDEX jobs_due_idx ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_pool_idx ON jobs (pool_id, created_at DESC);
-- one job per pool and cron tick, however many pool managers see the tick
CREATE UNIQUE INDEX jobs_schedule_key ON jobs (pool_id, type, scheduled_for) WHERE scheduled_for IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- Audit log (append-only)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_user_id   bigint      REFERENCES users (id) ON DELETE SET NULL,
    -- who acted, as a name: a user name or a component ("pool-manager@host1")
    actor           text        NOT NULL,
    action          text        NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)*$'),
    target_type     text,
    target_id       text,
    success         boolean     NOT NULL DEFAULT true,
    source_address  text,
    details         jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, at DESC) WHERE actor_user_id IS NOT NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- ---------------------------------------------------------------------------------------------
-- Change notifications (LISTEN/NOTIFY): components wake on these and resync periodically
-- ---------------------------------------------------------------------------------------------
-- channel "vdi_desktops", payload {"id": desktop, "host_id": host or null, "pool_id": pool}
CREATE FUNCTION notify_desktop_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_data desktops;
BEGIN
    row_data := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    PERFORM pg_notify('vdi_desktops', json_build_object(
        'id', row_data.id, 'host_id', row_data.host_id, 'pool_id', row_data.pool_id)::text);
    -- a desktop moved between hosts: the old host must hear of it too
    IF TG_OP = 'UPDATE' AND OLD.host_id IS DISTINCT FROM NEW.host_id AND OLD.host_id IS NOT NULL THEN
        PERFORM pg_notify('vdi_desktops', json_build_object(
            'id', OLD.id, 'host_id', OLD.host_id, 'pool_id', OLD.pool_id)::text);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER desktops_notify AFTER INSERT OR UPDATE OR DELETE ON desktops
    FOR EACH ROW EXECUTE FUNCTION notify_desktop_change();

-- channel "vdi_pools": pool definitions changed (sizing, image, policy)
CREATE FUNCTION notify_pool_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vdi_pools', json_build_object(
        'id', CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER pools_notify AFTER INSERT OR UPDATE OR DELETE ON pools
    FOR EACH ROW EXECUTE FUNCTION notify_pool_change();

-- channel "vdi_jobs": a job was queued or changed
CREATE FUNCTION notify_job_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vdi_jobs', json_build_object('id', NEW.id, 'state', NEW.state)::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION notify_job_change();
