/** @module What `flotilla --help` and a usage error print; apart from the commands, which load only when run. */

export const START_USAGE = `usage: flotilla start [options]

Runs services of an app in this process.

  --app PATH          the app module (default: package.json "flotilla": { "app": PATH })
  --services A,B      services to run here: "all", "none" (a gateway alone) or names (default: all;
                      over NATS, --gateway needs --services or --unit)
  --unit NAME         run one deployment unit: its services, and the gateway if it serves it
                      (docs/deployment.md); excludes --services
  --layout L          where --unit's name comes from: app (the app's units, default), single (one unit
                      named after the app) or per-service (a unit per service, and "gateway")
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
  --layout L              the units: app (the app's own, default), single or per-service
                          (docs/deployment.md); the units "flotilla start --unit" runs
  --group NAME=A,B        services sharing one unit (process); "gateway" names the gateway. Repeatable;
                          regroups the per-service layout unless --layout is given: the units' members
                          left out stay in their units
  --server URL            the nats:// address processes connect to (default nats://127.0.0.1:4222)
  --out FILE              the configuration (default nats.conf; refuses to replace one without --force)
  --credentials DIR       where the <unit>.env files go (default nats-credentials)
  --store-dir DIR         JetStream's store directory (default: nats-server's own)
  --registry              the processes also use the NATS KV registry (start --registry with the same URL)
  --force                 replace an existing configuration (every password changes)
`;

export const DEPLOY_K8S_USAGE = `usage: flotilla deploy k8s [options]

Writes Kubernetes manifests for the app's deployment units (docs/kubernetes.md): per unit a Deployment
running "flotilla start --unit <name>", a Service, an HPA on CPU or, for units that consume events, a
KEDA ScaledObject on CPU and JetStream lag, a NetworkPolicy and a Secret (its least-privilege NATS user,
its services' database URLs); the edge keys; NATS as a JetStream StatefulSet or an external URL.

  --app PATH                     the app module (default: package.json "flotilla": { "app": PATH })
  --layout L                     app (the app's units), single or per-service (default app)
  --out DIR                      a file per unit in DIR (default: one YAML stream on stdout)
  --image IMG                    the image every unit runs, with flotilla and the app (default <app>:latest)
  --namespace NS                 the namespace of every object (default: the app's name)
  --nats statefulset             run NATS in the cluster: a one-server JetStream StatefulSet (the default)
  --nats-url URL                 or use the NATS server at this nats:// URL
  --nats-monitoring HOST:PORT    its monitoring endpoint, read by KEDA (default <nats-url host>:8222)
  --database-url-template URL    each service's PostgreSQL URL; {service} is its name, {password} a new
                                 random password (default: SQLite files in the pods, lost with them)
  --edge-keys FILE               the edge keys to ship (default: a new key)
  --upstream NAME=URL            where the app's HTTP upstream NAME runs (FLOTILLA_UPSTREAM_<NAME>); repeatable
  --monitoring-namespace NS      whose pods may scrape the ops port (default monitoring)
  --keda-namespace NS            where KEDA runs, allowed to NATS's monitoring port (default keda)
  --registry                     the units also use the NATS KV registry (start --registry)
`;

export const UP_USAGE = `usage: flotilla up [options]

Runs the app split, one process per deployment unit and N instances of each, over NATS, under a
supervisor that restarts crashed instances, scales units between their min and max, and balances the
gateway's port over its instances (docs/supervisor.md). Ctrl-C stops everything.

  --app PATH              the app module (default: package.json "flotilla": { "app": PATH })
  --layout L              app (the app's units, default), single (one unit) or per-service
  --nats URL              an existing NATS server (default: start nats-server with JetStream on a free port)
  --database URL          the services' databases, as FLOTILLA_DB (postgres://…/{service}); default: start
                          PostgreSQL under the data dir when a unit may run more than one instance
  --port N                the public gateway port (default 8080; 0 picks a free one)
  --data-dir DIR          the supervisor's files (default .flotilla/up)
  --instances U=N,…       instances to start with, per unit
  --no-autoscale          keep each unit at its count; only flotilla scale changes it
  --sync-period MS        how often the autoscaler reads the signals (default 15000)
  --companion NAME=CMD    a process the system needs (e.g. a legacy service), started first; repeatable
  --env K=V               environment for every instance and companion; repeatable
  --dashboard-port N      the web dashboard's port on 127.0.0.1 (default: a free one); its admin token is
                          printed and kept in <data dir>/dashboard.json; every instance sends it its spans
  --no-dashboard          no dashboard
  --plain                 log lines instead of the live status view (the default when stdout is no terminal)
`;

export const PS_USAGE = `usage: flotilla ps [--json] [--data-dir DIR]

Shows a running supervisor's units, instances, load and last decisions.

  --json                  the status as JSON
  --data-dir DIR          the supervisor's data dir (default .flotilla/up)
`;

export const SCALE_USAGE = `usage: flotilla scale UNIT=N [UNIT=N…] [--data-dir DIR]

Sets a unit's wanted instance count on a running supervisor (within the unit's min..max); returns once
the new instances are ready or the removed ones have drained.

  --data-dir DIR          the supervisor's data dir (default .flotilla/up)
`;

export const RESTART_USAGE = `usage: flotilla restart UNIT [--data-dir DIR]

Restarts a unit's instances one at a time on a running supervisor: a new instance is started and ready
before an old one drains and stops, so no request fails.

  --data-dir DIR          the supervisor's data dir (default .flotilla/up)
`;

export const DASHBOARD_USAGE = `usage: flotilla dashboard --nats URL [options]

Serves the web dashboard of a split system on its own (docs/dashboard.md): the instances from the NATS
registry, the events and dead letters from the broker, the traces the instances send to its OTLP
receiver (set their FLOTILLA_TRACE_COLLECTOR to the URL it prints), scaling through a supervisor. Its API
needs the admin token it prints and writes to <data dir>/dashboard.json (mode 0600). Ctrl-C stops it.

  --app PATH          the app module (default: package.json "flotilla": { "app": PATH })
  --nats URL          the system's NATS server, nats://host:4222 (default: FLOTILLA_TRANSPORT)
  --port N            the port (default 9400; 0 picks a free one)
  --host NAME         the interface to listen on, and no other (default 127.0.0.1)
  --data-dir DIR      its trace store and dashboard.json (default .flotilla/dashboard)
  --supervisor DIR    the data dir of a flotilla up whose units it may scale and restart
  --open              no token: anyone reaching the port may use it (development only)
`;

export const DEV_USAGE = `usage: flotilla dev [options]

Runs the app split into its deployment units (as flotilla up does, one instance per unit, no autoscaling)
and watches its source: a change restarts only the units whose modules reach the changed file, one rolling
restart each (the new instance is ready before the old one drains), while the gateway and the other units
keep serving. A change to the app module or a package manifest restarts every unit (docs/hot-reload.md).
The web dashboard runs open (no token: development) on a free port of 127.0.0.1; its URL is printed.

  --app PATH          the app module (default: package.json "flotilla": { "app": PATH })
  --layout L          app (the app's units, default), single (one unit) or per-service
  --port N            the gateway's port (default: PORT or 8080; 0 picks a free one)
  --transport URL     an existing nats://host:4222 (default: FLOTILLA_TRANSPORT, else a local nats-server)
  --data-dir DIR      where the units keep their files (default: FLOTILLA_DATA_DIR or .flotilla/data)
`;
