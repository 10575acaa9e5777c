-- Logon timing (issue 14): every connect traced stage by stage, by each component on its own
-- clock, stored with the session (docs/logon-timing.md).
--
-- A trace is keyed by its connect's display ticket. Whoever reports first creates it: the broker
-- (its own stages and the host agent's, which come with the ticket's acknowledgement, written in
-- batches off the request path), the host agent (the display server's) or the thin client (its
-- own, posted after the first picture). Durations and starts are each component's own, in
-- microseconds from that component's first moment in the trace; GET
-- /api/v1/admin/sessions/{id}/timing aligns them by request and response.
CREATE TABLE logon_traces (
    -- the connect's display ticket. No references: a trace is a record of what happened, kept
    -- after its ticket is purged, and a connect must not lock its session's or pool's row for it
    ticket_id  bigint           PRIMARY KEY,
    session_id bigint           NOT NULL,
    pool_id    bigint           NOT NULL,
    protocol   display_protocol NOT NULL,
    -- the broker's word: it picked up the user's live session (NULL until the broker reports)
    resumed    boolean,
    -- the thin client's word: an automatic reconnect after a drop (NULL until it reports)
    reconnect  boolean,
    created_at timestamptz      NOT NULL DEFAULT now(),
    -- each component's stages, {"stage": [start_us, duration_us], ...}, NULL until it reports:
    -- one row per connect, written once by each component
    broker     jsonb,
    host       jsonb,
    display    jsonb,
    client     jsonb
);
CREATE INDEX logon_traces_pool_idx ON logon_traces (pool_id, created_at);
CREATE INDEX logon_traces_session_idx ON logon_traces (session_id, created_at DESC);

-- One row per stage, for reading.
CREATE VIEW logon_stages AS
SELECT t.ticket_id, t.pool_id, t.created_at, c.component, e.key AS stage, (e.value ->> 0)::bigint AS start_us,
       (e.value ->> 1)::bigint AS duration_us
  FROM logon_traces t
 CROSS JOIN LATERAL (VALUES ('client', t.client), ('broker', t.broker), ('host', t.host),
                            ('display', t.display)) AS c (component, stages)
 CROSS JOIN LATERAL jsonb_each(coalesce(c.stages, '{}'::jsonb)) AS e;

-- broker_connect() as in 0004, and its three parts timed (token check, claim or reconnect,
-- ticket) for the broker's stages.
DROP FUNCTION broker_connect(bytea, text, display_protocol, text, bytea, text, integer);

CREATE FUNCTION broker_connect(p_token_hash bytea, p_pool text, p_protocol display_protocol,
                               p_client_address text, p_ticket_hash bytea, p_ticket text, p_ticket_ttl_s integer)
RETURNS TABLE (outcome text, pool_id bigint, session_id bigint, desktop_id bigint, desktop_name text,
               generation bigint, host_address text, port integer, ticket_id bigint,
               ticket_expires_at timestamptz, token_us bigint, claim_us bigint, ticket_us bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_user               users;
    v_pool_id            bigint;
    v_dedicated          boolean;
    v_session_id         bigint;
    v_session_generation bigint;
    v_ticket_id          bigint;
    v_reconnect          boolean := false;
    -- the desktop: id, name, generation, actual_state, actual_generation, port (for p_protocol),
    -- host_id, host_address
    v                    record;
    -- the statement's own stages (clock_timestamp(): the database server's clock, durations only)
    v_started            timestamptz := clock_timestamp();
    v_token_checked      timestamptz;
    v_claimed            timestamptz;
BEGIN
    SELECT u.* INTO v_user FROM api_token_user(p_token_hash) u;
    v_token_checked := clock_timestamp();
    IF NOT FOUND THEN
        outcome := 'unauthenticated';
        RETURN NEXT;
        RETURN;
    END IF;
    -- the pool (if the user is entitled), and the user's live session in it with its desktop
    SELECT p.id AS pool_id, p.assignment, p_protocol = ANY (p.protocols) AS offered,
           s.id AS session_id, s.desktop_generation, d.id, d.name, d.generation, d.actual_state,
           d.actual_generation, CASE p_protocol WHEN 'vnc' THEN d.vnc_port ELSE d.rdp_port END AS port,
           h.id AS host_id, h.address AS host_address
      INTO v
      FROM pools p
      LEFT JOIN sessions s ON s.user_id = v_user.id AND s.pool_id = p.id AND s.state <> 'ended'
      LEFT JOIN desktops d ON d.id = s.desktop_id
      LEFT JOIN hosts h ON h.id = d.host_id
     WHERE p.name = p_pool AND p.enabled
       AND EXISTS (SELECT 1 FROM entitlements e
                     LEFT JOIN group_members m ON m.group_id = e.group_id AND m.user_id = v_user.id
                    WHERE e.pool_id = p.id AND (e.user_id = v_user.id OR m.user_id IS NOT NULL));
    IF NOT FOUND THEN
        outcome := 'no_pool';
        RETURN NEXT;
        RETURN;
    END IF;
    v_pool_id := v.pool_id;
    pool_id := v_pool_id;
    IF NOT v.offered THEN
        outcome := 'no_protocol';
        RETURN NEXT;
        RETURN;
    END IF;
    v_dedicated := v.assignment = 'dedicated';

    IF v.session_id IS NOT NULL THEN
        v_reconnect := true;
        v_session_id := v.session_id;
        v_session_generation := v.desktop_generation;
    ELSIF v_dedicated THEN
        -- the user's own desktop, once assigned
        SELECT d.id, d.name, d.generation, d.actual_state, d.actual_generation,
               CASE p_protocol WHEN 'vnc' THEN d.vnc_port ELSE d.rdp_port END AS port,
               h.id AS host_id, h.address AS host_address
          INTO v
          FROM desktops d LEFT JOIN hosts h ON h.id = d.host_id
         WHERE d.pool_id = v_pool_id AND d.owner_user_id = v_user.id AND d.desired_state <> 'deleted';
    END IF;
    IF v_reconnect OR (v_dedicated AND FOUND) THEN
        -- (the user's own desktop may be being refreshed right now)
        IF v.actual_state <> 'running'
           OR v.actual_generation IS DISTINCT FROM coalesce(v_session_generation, v.generation) THEN
            outcome := 'not_running';
            RETURN NEXT;
            RETURN;
        END IF;
    ELSE
        SELECT c.id, c.name, c.generation, c.actual_state, c.actual_generation,
               CASE p_protocol WHEN 'vnc' THEN c.vnc_port ELSE c.rdp_port END AS port,
               h.id AS host_id, h.address AS host_address
          INTO v
          FROM desktop_claim(v_pool_id, v_user.id, v_dedicated, p_protocol) c
          LEFT JOIN hosts h ON h.id = c.host_id;
        IF NOT FOUND THEN
            PERFORM pg_notify('vdi_pools', json_build_object('pool_id', v_pool_id, 'event', 'demand')::text);
            outcome := 'none_ready';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    IF v.host_id IS NULL OR v.port IS NULL THEN
        outcome := 'no_display';
        RETURN NEXT;
        RETURN;
    END IF;

    IF v_reconnect THEN
        -- (a logoff may have ended the session since the lookup: then the statement fails as a
        -- serialization failure, and the broker runs it again, which claims as for a first connect)
        UPDATE sessions SET state = 'active', disconnected_at = NULL, last_activity_at = now(),
                            protocol = p_protocol, client_address = coalesce(p_client_address, client_address)
         WHERE id = v_session_id AND state <> 'ended';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'session % ended while the user reconnected', v_session_id
                USING ERRCODE = 'serialization_failure';
        END IF;
    ELSE
        INSERT INTO sessions (user_id, desktop_id, pool_id, desktop_generation, protocol, client_address)
        VALUES (v_user.id, v.id, v_pool_id, v.generation, p_protocol, p_client_address)
        RETURNING id INTO v_session_id;
    END IF;
    v_claimed := clock_timestamp();

    -- the ticket (its hash), its plaintext to the host agent and the audit record: one statement
    WITH t AS (
        INSERT INTO display_tickets (session_id, desktop_id, protocol, ticket_hash, expires_at)
        VALUES (v_session_id, v.id, p_protocol, p_ticket_hash, now() + p_ticket_ttl_s * interval '1 second')
        RETURNING id, expires_at),
    n AS (
        SELECT pg_notify('vdi_tickets_' || v.host_id,
                         json_build_object('ticket_id', t.id, 'desktop_id', v.id, 'generation', v.generation,
                                           'protocol', p_protocol, 'ticket', p_ticket, 'ttl_s', p_ticket_ttl_s)::text)
          FROM t),
    a AS (
        INSERT INTO audit_log (actor_user_id, actor, action, target_type, target_id, source_address, details)
        VALUES (v_user.id, v_user.username, CASE WHEN v_reconnect THEN 'session.reconnect' ELSE 'desktop.assign' END,
                'desktop', v.id::text, p_client_address,
                jsonb_build_object('pool', p_pool, 'session_id', v_session_id, 'protocol', p_protocol,
                                   'generation', v.generation)))
    SELECT t.id, t.expires_at INTO v_ticket_id, ticket_expires_at FROM t, n;

    outcome := CASE WHEN v_reconnect THEN 'reconnected' ELSE 'assigned' END;
    session_id := v_session_id;
    desktop_id := v.id;
    desktop_name := v.name;
    generation := v.generation;
    host_address := v.host_address;
    port := v.port;
    ticket_id := v_ticket_id;
    token_us := (extract(epoch FROM v_token_checked - v_started) * 1e6)::bigint;
    claim_us := (extract(epoch FROM v_claimed - v_token_checked) * 1e6)::bigint;
    ticket_us := (extract(epoch FROM clock_timestamp() - v_claimed) * 1e6)::bigint;
    RETURN NEXT;
END;
$$;
