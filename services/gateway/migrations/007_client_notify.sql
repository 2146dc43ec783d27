-- Every change to a client or its keys is announced on hc_gateway_clients,
-- so that the gateways' caches of them (common/cache) go stale at once.
CREATE FUNCTION notify_clients_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hc_gateway_clients', '');
    RETURN NULL;
END $$;

CREATE TRIGGER api_clients_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_clients
    FOR EACH STATEMENT EXECUTE FUNCTION notify_clients_changed();
CREATE TRIGGER client_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON client_keys
    FOR EACH STATEMENT EXECUTE FUNCTION notify_clients_changed();
