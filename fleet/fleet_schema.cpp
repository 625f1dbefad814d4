#include "fleet/fleet_schema.hpp"

namespace apitoken::fleet {
namespace {

// Version 1. Hosts never write tables: they call the functions, which
// record the writing role (session_user) next to the host name, append to
// the change log and announce the change in one step. A host role (member
// of apitoken_host, not of apitoken_fleet_admin) writes in its own name
// only, creates and changes only tokens for itself alone, and revokes only
// tokens it could authenticate: a compromised host cannot mint or take
// over tokens for the rest of the fleet. The hosts column is what
// replicas obey (not the copy inside the record).
constexpr const char* kSchemaV1 = R"sql(
CREATE SCHEMA IF NOT EXISTS apitoken_fleet;
CREATE TABLE apitoken_fleet.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE apitoken_fleet.tokens (
    id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{12}$'),
    user_name text NOT NULL,
    hosts text[] NOT NULL,
    record bytea NOT NULL CHECK (octet_length(record) <= 65536),
    made_by_host text NOT NULL,
    made_by_role text NOT NULL DEFAULT session_user,
    version bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now());
-- What was revoked stays revoked: no write brings an id back.
CREATE TABLE apitoken_fleet.revoked (
    id text PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now());
CREATE TABLE apitoken_fleet.changes (
    seq bigserial PRIMARY KEY,
    token_id text NOT NULL,
    op text NOT NULL CHECK (op IN ('upsert', 'delete')),
    hosts text[],
    record bytea CHECK (octet_length(record) <= 65536),
    host text NOT NULL,
    role text NOT NULL DEFAULT session_user,
    at timestamptz NOT NULL DEFAULT now());
-- Each host's share of a token's uses, one row per token and host,
-- upserted in batches (record_usage).
CREATE TABLE apitoken_fleet.usage (
    token_id text NOT NULL,
    host text NOT NULL,
    use_count bigint NOT NULL,
    last_used bigint NOT NULL,
    last_service text NOT NULL,
    last_rhost text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, host));
CREATE INDEX usage_updated_at ON apitoken_fleet.usage (updated_at);
-- Whether the calling role is a host role, held to its own scope.
CREATE FUNCTION apitoken_fleet.restricted_host() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'apitoken_host')
       AND pg_has_role(session_user, 'apitoken_host', 'MEMBER')
       AND NOT (EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'apitoken_fleet_admin')
                AND pg_has_role(session_user, 'apitoken_fleet_admin', 'MEMBER'))
$$;
-- fnmatch(3) as apitokend calls it (FNM_CASEFOLD): * ? [...] [!...]; a
-- glob that is no valid pattern matches nothing.
CREATE FUNCTION apitoken_fleet.glob_match(p_name text, p_glob text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE re text;
BEGIN
    re := regexp_replace(p_glob, '([.+^$(){}|\\])', '\\\1', 'g');
    re := replace(replace(replace(re, '[!', '[^'), '*', '.*'), '?', '.');
    RETURN p_name ~* ('^' || re || '$');
EXCEPTION WHEN invalid_regular_expression THEN
    RETURN false;
END $$;
-- Whether host `p_host` is within `p_hosts` (globs: * ? [...]; empty: every
-- host), as apitokend matches them (the whole name or its first label).
CREATE FUNCTION apitoken_fleet.host_in(p_host text, p_hosts text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT cardinality(p_hosts) = 0 OR EXISTS (
        SELECT 1 FROM unnest(p_hosts) AS g
        WHERE apitoken_fleet.glob_match(p_host, g)
           OR apitoken_fleet.glob_match(split_part(p_host, '.', 1), g))
$$;
CREATE FUNCTION apitoken_fleet.check_writer(p_host text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF apitoken_fleet.restricted_host() AND p_host <> session_user THEN
        RAISE EXCEPTION 'host role % may write only in its own name, not as %',
            session_user, p_host USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;
-- Creates (p_expected NULL), or changes the version the writer saw
-- (p_expected: the token's version, the sequence number of its last
-- change); -1: creates unless it exists (a host joining the fleet). A
-- revoked id never comes back, and a host that had not seen the latest
-- change cannot overwrite it.
CREATE FUNCTION apitoken_fleet.put_token(p_id text, p_user text, p_hosts text[],
                                         p_record bytea, p_host text, p_expected bigint)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE s bigint; old_hosts text[]; old_version bigint;
BEGIN
    -- One writer at a time until commit: sequence numbers then commit in
    -- order, so a follower that read up to N never misses a smaller one.
    -- (A table lock: host roles take it only through these functions;
    -- idle_in_transaction_session_timeout bounds a session sitting on it.)
    LOCK TABLE apitoken_fleet.changes IN EXCLUSIVE MODE;
    PERFORM apitoken_fleet.check_writer(p_host);
    IF EXISTS (SELECT 1 FROM apitoken_fleet.revoked WHERE id = p_id) THEN
        IF p_expected = -1 THEN
            RETURN 0;
        END IF;
        RAISE EXCEPTION 'token % was revoked (on this or another host)', p_id
            USING ERRCODE = 'unique_violation';
    END IF;
    SELECT hosts, version INTO old_hosts, old_version FROM apitoken_fleet.tokens WHERE id = p_id;
    IF FOUND AND p_expected = -1 THEN
        RETURN old_version;
    END IF;
    IF FOUND AND p_expected IS NULL THEN
        RAISE EXCEPTION 'a token with id % exists already', p_id USING ERRCODE = 'unique_violation';
    END IF;
    IF NOT FOUND AND p_expected > 0 THEN
        RAISE EXCEPTION 'token % is not in the fleet database (revoked meanwhile?)', p_id
            USING ERRCODE = 'no_data_found';
    END IF;
    IF FOUND AND old_version <> p_expected THEN
        RAISE EXCEPTION 'token % was changed on another host meanwhile; this host has not seen '
            'that yet: try again in a moment', p_id USING ERRCODE = 'serialization_failure';
    END IF;
    IF apitoken_fleet.restricted_host() THEN
        IF p_hosts IS DISTINCT FROM ARRAY[session_user::text]
           OR (FOUND AND old_hosts IS DISTINCT FROM ARRAY[session_user::text]) THEN
            RAISE EXCEPTION 'host role % may only make and change tokens for itself alone '
                '(--host=%); tokens for other hosts are made on an apitoken_fleet_admin host',
                session_user, session_user USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    INSERT INTO apitoken_fleet.changes (token_id, op, hosts, record, host)
    VALUES (p_id, 'upsert', p_hosts, p_record, p_host) RETURNING seq INTO s;
    INSERT INTO apitoken_fleet.tokens (id, user_name, hosts, record, made_by_host, version)
    VALUES (p_id, p_user, p_hosts, p_record, p_host, s)
    ON CONFLICT (id) DO UPDATE SET user_name = EXCLUDED.user_name, hosts = EXCLUDED.hosts,
        record = EXCLUDED.record, made_by_host = EXCLUDED.made_by_host,
        made_by_role = session_user, version = s, updated_at = now();
    PERFORM pg_notify('apitoken_changes', s::text);
    RETURN s;
END $$;
CREATE FUNCTION apitoken_fleet.delete_token(p_id text, p_host text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE s bigint; old_hosts text[];
BEGIN
    LOCK TABLE apitoken_fleet.changes IN EXCLUSIVE MODE;
    PERFORM apitoken_fleet.check_writer(p_host);
    SELECT hosts INTO old_hosts FROM apitoken_fleet.tokens WHERE id = p_id;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF apitoken_fleet.restricted_host() AND NOT apitoken_fleet.host_in(session_user, old_hosts) THEN
        RAISE EXCEPTION 'host role % may not revoke a token that is not valid on it',
            session_user USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM apitoken_fleet.tokens WHERE id = p_id;
    DELETE FROM apitoken_fleet.usage WHERE token_id = p_id;
    INSERT INTO apitoken_fleet.revoked (id) VALUES (p_id) ON CONFLICT DO NOTHING;
    INSERT INTO apitoken_fleet.changes (token_id, op, host) VALUES (p_id, 'delete', p_host)
    RETURNING seq INTO s;
    PERFORM pg_notify('apitoken_changes', s::text);
    RETURN s;
END $$;
-- One host's uses since its last flush, for many tokens in one statement:
-- [{"id", "count", "last_used", "service", "rhost"}, ...]. Uses of tokens
-- gone meanwhile are dropped.
CREATE FUNCTION apitoken_fleet.record_usage(p_host text, p_rows jsonb)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM apitoken_fleet.check_writer(p_host);
    INSERT INTO apitoken_fleet.usage AS u
        (token_id, host, use_count, last_used, last_service, last_rhost)
    SELECT r.id, p_host, r.count, r.last_used, r.service, r.rhost
    FROM jsonb_to_recordset(p_rows) AS r(id text, count bigint, last_used bigint, service text,
                                         rhost text)
    WHERE r.count > 0 AND EXISTS (SELECT 1 FROM apitoken_fleet.tokens t WHERE t.id = r.id)
    ON CONFLICT (token_id, host) DO UPDATE SET
        use_count = u.use_count + EXCLUDED.use_count,
        last_service = CASE WHEN EXCLUDED.last_used >= u.last_used
                            THEN EXCLUDED.last_service ELSE u.last_service END,
        last_rhost = CASE WHEN EXCLUDED.last_used >= u.last_used
                          THEN EXCLUDED.last_rhost ELSE u.last_rhost END,
        last_used = greatest(u.last_used, EXCLUDED.last_used),
        updated_at = now();
END $$;
-- Deletes the change log up to `p_through` (never its last entry); hosts
-- behind it resynchronise from a snapshot. For the owner (a cron job).
CREATE FUNCTION apitoken_fleet.prune_changes(p_through bigint)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE last bigint; upto bigint;
BEGIN
    LOCK TABLE apitoken_fleet.changes IN EXCLUSIVE MODE;
    SELECT coalesce(max(seq), 0) INTO last FROM apitoken_fleet.changes;
    upto := least(p_through, last - 1);
    DELETE FROM apitoken_fleet.changes WHERE seq <= upto;
    INSERT INTO apitoken_fleet.meta VALUES ('pruned_through', upto::text)
    ON CONFLICT (key) DO UPDATE SET value = greatest(apitoken_fleet.meta.value::bigint,
                                                     upto)::text;
    RETURN upto;
END $$;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA apitoken_fleet FROM PUBLIC;
-- The same rights for host roles and fleet admins (the functions tell
-- them apart), for those of the two roles that exist.
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['apitoken_host', 'apitoken_fleet_admin'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('GRANT USAGE ON SCHEMA apitoken_fleet TO %I', r);
            EXECUTE format('GRANT SELECT ON apitoken_fleet.meta, apitoken_fleet.tokens, '
                           'apitoken_fleet.changes, apitoken_fleet.usage TO %I', r);
            EXECUTE format('GRANT EXECUTE ON FUNCTION '
                           'apitoken_fleet.put_token(text, text, text[], bytea, text, bigint), '
                           'apitoken_fleet.delete_token(text, text), '
                           'apitoken_fleet.record_usage(text, jsonb) TO %I', r);
        END IF;
    END LOOP;
END $$;
INSERT INTO apitoken_fleet.meta VALUES ('schema_version', '1');
-- Who this database is: a replica that finds another one (restored from a
-- dump, failed over to a copy whose sequence went back) starts again from
-- a snapshot.
INSERT INTO apitoken_fleet.meta VALUES ('fleet_id', gen_random_uuid()::text);
)sql";

// The schema version the database says it has; 0 when there is none.
std::uint32_t found_version(PgConnection& pg) {
    const auto exists = pg.exec("SELECT to_regclass('apitoken_fleet.meta') IS NOT NULL");
    if (PgConnection::value(exists, 0, 0) != "t") {
        return 0;
    }
    const auto row = pg.exec("SELECT value FROM apitoken_fleet.meta WHERE key = 'schema_version'");
    if (PQntuples(row.get()) != 1) {
        throw FleetSchemaError(
            "the fleet database has a schema apitoken_fleet without a schema_version: it was "
            "changed behind apitoken's back; the replica was left as it is");
    }
    const std::string text = PgConnection::value(row, 0, 0);
    try {
        return static_cast<std::uint32_t>(std::stoul(text));
    } catch (const std::exception&) {
        throw FleetSchemaError("the fleet database's schema_version \"" + text +
                               "\" is not a number; the replica was left as it is");
    }
}

// What we use must be there: a schema changed behind our back fails here,
// with words, rather than in the middle of a sync.
void check_shape(PgConnection& pg) {
    const auto row =
        pg.exec("SELECT to_regclass('apitoken_fleet.tokens') IS NOT NULL AND "
                "to_regclass('apitoken_fleet.changes') IS NOT NULL AND "
                "to_regclass('apitoken_fleet.usage') IS NOT NULL AND "
                "to_regprocedure('apitoken_fleet.record_usage(text,jsonb)') IS NOT NULL AND "
                "to_regprocedure('apitoken_fleet.put_token(text,text,text[],bytea,text,bigint)') "
                "IS NOT NULL AND "
                "to_regprocedure('apitoken_fleet.delete_token(text,text)') IS NOT NULL");
    if (PgConnection::value(row, 0, 0) != "t") {
        throw FleetSchemaError("the fleet database's schema apitoken_fleet lacks tables or "
                               "functions of version " +
                               std::to_string(kFleetSchemaVersion) +
                               ": it was changed behind apitoken's back; the replica was left "
                               "as it is");
    }
}

// Whoever creates the schema owns it, and its SECURITY DEFINER functions
// run with the owner's rights: a host role must not be the one.
void refuse_host_role_as_owner(PgConnection& pg) {
    const auto row = pg.exec(
        "SELECT NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) AND EXISTS "
        "(SELECT 1 FROM pg_roles WHERE rolname = 'apitoken_host') AND "
        "pg_has_role(session_user, 'apitoken_host', 'MEMBER')");
    if (PgConnection::value(row, 0, 0) == "t") {
        throw FleetSchemaError("the fleet database has no schema apitoken_fleet yet, and this "
                               "host's role is a host role (apitoken_host), which must not own "
                               "it: start one apitokend with the owner role first");
    }
}

void refuse_newer(std::uint32_t found) {
    if (found > kFleetSchemaVersion) {
        throw FleetSchemaError("the fleet database has schema version " + std::to_string(found) +
                               ", newer than this apitoken's " +
                               std::to_string(kFleetSchemaVersion) +
                               ": upgrade apitoken on this host (the replica was left as it is)");
    }
}

} // namespace

void ensure_fleet_schema(PgConnection& pg) {
    std::uint32_t found = found_version(pg);
    refuse_newer(found);
    if (found < kFleetSchemaVersion) {
        in_transaction(pg, "BEGIN", [&] {
            pg.exec("SELECT pg_advisory_xact_lock(hashtext('apitoken_fleet'))");
            found = found_version(pg); // another host may have been first
            refuse_newer(found);
            if (found == 0) {
                refuse_host_role_as_owner(pg);
                pg.run_script(kSchemaV1);
            }
        });
    }
    check_shape(pg);
}

} // namespace apitoken::fleet
