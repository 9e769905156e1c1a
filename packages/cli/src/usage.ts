/** @module What `flotilla --help` and a usage error print; apart from the commands, which load only when run. */

export const START_USAGE = `usage: flotilla start [options]

Runs services of an app in this process.

  --app PATH          the app module (default: package.json "flotilla": { "app": PATH })
  --services A,B      services to run here (default: all; "none" for a gateway alone)
  --transport URL     memory:// (default) or nats://host:4222
  --registry URL      service discovery for client-side balancing: nats://host:4222 (NATS KV) or memory://
  --gateway           serve the app's HTTP gateway on --port
  --port N            gateway port (default: PORT or 8080)
  --grpc-port N       also serve the gateway's routes over gRPC on this port (default: FLOTILLA_GRPC_PORT)
  --host NAME         interface to listen on (default: HOST or localhost)
  --ops-port N        serve /livez, /readyz, /metrics on this port
  --tls-cert FILE     serve the gateway over TLS (HTTP/2 and HTTP/1.1) with this PEM certificate chain
  --tls-key FILE      and this key; both reloaded when the files change (default: FLOTILLA_TLS_CERT and
                      FLOTILLA_TLS_KEY; neither: plain HTTP)
  --data-dir DIR      where services keep their SQLite files and the in-process transport its event journal
                      (default: FLOTILLA_DATA_DIR or .flotilla/data)
`;

export const PROTO_USAGE = `usage: flotilla proto [--check] [--out FILE] [--app PATH]

Writes the .proto of the app's routed actions (docs/grpc.md): one gRPC service per service, one rpc per
routed action, the live stream when the app pushes live events. Field numbers are kept from the file
already there; removed fields become reserved, new ones take the next free number.

  --out FILE          the file (default: the app's gateway.grpc.protoFile)
  --check             write nothing; exit 1 when the file is not what the contracts give (for CI)
  --app PATH          the app module (default: package.json "flotilla": { "app": PATH })
`;

export const DLQ_USAGE = `usage: flotilla dlq list [--group G] [--json] [options]
       flotilla dlq show ID [--json] [options]
       flotilla dlq retry ID [options]
       flotilla dlq drop ID [options]

Dead letters: events a consumer group gave up on (its handler failed on every delivery, or the event
was poison). "retry" delivers the event again to that group only, then removes the letter; "drop"
removes it for good. Works while the app runs, and while it is down.

  --group G           list only this consumer group's letters (groups are <service>.<subscription>)
  --json              print JSON instead of text
  --app PATH          the app module; with --group, the group must be one of the app's
  --transport URL     the app's transport: memory:// (the event journal in --data-dir) or nats://host:4222
                      (default: FLOTILLA_TRANSPORT or memory://)
  --data-dir DIR      the app's data directory (default: FLOTILLA_DATA_DIR or .flotilla/data)
`;

export const REPLAY_USAGE = `usage: flotilla replay SERVICE.PROJECTION [options]

Rebuilds a projection (a read model declared with defineProjection) from the event history, while the
app keeps running: the projection is emptied, every retained event of its types is applied once, and
live events that arrive meanwhile are parked and applied at the end. A replay that is stopped or
killed leaves the projection rebuilding (still parking live events); run it again to finish.

  --batch N           events applied per transaction (default 500)
  --app PATH          the app module (default: package.json "flotilla": { "app": PATH })
  --transport URL     the app's transport, where the history is: memory:// (the event journal in --data-dir)
                      or nats://host:4222 (default: FLOTILLA_TRANSPORT or memory://)
  --data-dir DIR      the app's data directory (default: FLOTILLA_DATA_DIR or .flotilla/data); the service's
                      database is FLOTILLA_DB_<SERVICE> or FLOTILLA_DB when set, as for flotilla start
`;

export const EDGE_KEYS_USAGE = `usage: flotilla edge-keys create|rotate|public [options]

The Ed25519 keys the gateway signs each request's caller with, and services verify callers with (see
docs/security.md). Every process of one system must use the same file.

  create              write a new file with one key (refuses to replace an existing one)
  rotate              put a new signing key first; older keys keep verifying until removed by hand
  public              print the file's public keys (for processes that only verify callers)
  --file PATH         the key file (default: FLOTILLA_EDGE_KEYS, else <data dir>/edge-keys.json)
  --data-dir DIR      the app's data directory (default: FLOTILLA_DATA_DIR or .flotilla/data)
`;

export const TRACE_USAGE = `usage: flotilla trace ID [options]

Draws one trace as a waterfall: its spans nested by parent, each with its service, its duration and a
bar on the trace's timeline; failed spans are marked with their error. Colours on a terminal unless
NO_COLOR is set.

  --width N           columns to fit (default: the terminal's, else 100)
  --json              print the spans as JSON instead
  --file PATH         the trace file to read (default: <data dir>/flotilla.traces.sqlite)
  --data-dir DIR      the app's data directory (default: FLOTILLA_DATA_DIR or .flotilla/data)
  --url URL           ask a running instance's ops port instead (http://host:opsPort)
`;

export const TRACES_USAGE = `usage: flotilla traces [--slow] [--errors] [--service S] [--route R] [--min-ms N] [--limit N] [options]

Lists recent traces, newest first: trace id, start, duration, spans, errors, name and services.

  --slow              slowest first
  --errors            only traces with a failed span
  --service S         only traces with a span of service S
  --route R           only traces whose root has this http.route (/api/v1/orders, POST /api/v1/orders) or name
  --min-ms N          only traces that lasted N ms or more
  --limit N           at most N traces (default 20)
  --json              print JSON instead of a table
  --file PATH         the trace file to read (default: <data dir>/flotilla.traces.sqlite)
  --data-dir DIR      the app's data directory (default: FLOTILLA_DATA_DIR or .flotilla/data)
  --url URL           ask a running instance's ops port instead (http://host:opsPort)
`;

export const NATS_CONFIG_USAGE = `usage: flotilla nats-config [options]

Writes a nats-server configuration (JetStream on) with one user per deployment unit, each allowed only
the subjects its services need: publish its events, serve its actions, call the actions they declare
(calls, saga steps), consume the events they subscribe to (docs/security.md). Passwords are random;
each unit's transport URL goes to <credentials dir>/<unit>.env as FLOTILLA_TRANSPORT=….

  --app PATH              the app module (default: package.json "flotilla": { "app": PATH })
  --group NAME=A,B        services sharing one unit (process); "gateway" names the gateway. Repeatable;
                          every service left out is a unit of its own, and so is the gateway
  --server URL            the nats:// address processes connect to (default nats://127.0.0.1:4222)
  --out FILE              the configuration (default nats.conf; refuses to replace one without --force)
  --credentials DIR       where the <unit>.env files go (default nats-credentials)
  --store-dir DIR         JetStream's store directory (default: nats-server's own)
  --registry              the processes also use the NATS KV registry (start --registry with the same URL)
  --force                 replace an existing configuration (every password changes)
`;

export const DEV_USAGE = `usage: flotilla dev [options]

Runs the app split into its deployment units (as flotilla up does, one instance per unit, no autoscaling)
and watches its source: a change restarts only the units whose modules reach the changed file, one rolling
restart each (the new instance is ready before the old one drains), while the gateway and the other units
keep serving. A change to the app module or a package manifest restarts every unit (docs/hot-reload.md).

  --app PATH          the app module (default: package.json "flotilla": { "app": PATH })
  --layout L          app (the app's units, default), single (one unit) or per-service
  --port N            the gateway's port (default: PORT or 8080; 0 picks a free one)
  --transport URL     an existing nats://host:4222 (default: FLOTILLA_TRANSPORT, else a local nats-server)
  --data-dir DIR      where the units keep their files (default: FLOTILLA_DATA_DIR or .flotilla/data)
`;
