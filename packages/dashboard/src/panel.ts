/**
 * @module What a view of the dashboard brings to the server: its JSON routes under `/_flotilla/api/<id>/…`
 * and its live topics on the shared event stream. The gateway, `flotilla dashboard` and `flotilla up` mount
 * the same panels; each panel reads its data from a source given to its factory (this process, or the
 * instances of a split system).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Who made an API request, as the access check found them (absent when the dashboard is open). */
export interface DashboardCaller {
  readonly subject: string;
  readonly roles: readonly string[];
}

/** One API request, already admitted by the dashboard's access check. */
export interface PanelRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body of a POST (undefined without one). */
  readonly body: unknown;
  readonly caller: DashboardCaller | undefined;
}

/** A JSON route of a panel: `path` is under `/_flotilla/api/<panel id>`, fastify syntax (`/:id`), "" for the root. */
export interface PanelRoute {
  readonly method: "GET" | "POST";
  readonly path: string;
  /** Answers the JSON body (status 200); throws a FlotillaError for an error answer with its code. */
  handle(req: PanelRequest): Promise<unknown>;
}

/** A topic read on a timer: one read per tick, whatever the number of clients (see FeedHub). */
export interface PolledTopic {
  readonly name: string;
  readonly everyMs: number;
  read(): Promise<unknown>;
}

/**
 * A topic whose data arrives on its own (messages, decisions): `start` is called when the first client
 * subscribes and returns the function that stops it, called when the last one leaves.
 */
export interface PushTopic {
  readonly name: string;
  start(publish: (data: unknown) => void): () => void;
}

export type Topic = PolledTopic | PushTopic;

/** What `install` may use beyond plain routes: the access check and the API's base path. */
export interface PanelContext {
  /** `/_flotilla/api/<panel id>`. */
  readonly base: string;
  /** Runs the dashboard's access check; throws to refuse. */
  authorize(req: FastifyRequest, reply: FastifyReply): Promise<DashboardCaller | undefined>;
}

export interface Panel {
  /** Names the API path, the view's page module (`public/<id>-view.js`) and the navigation entry. */
  readonly id: string;
  /** The navigation's label. */
  readonly title: string;
  readonly routes?: readonly PanelRoute[];
  readonly topics?: readonly Topic[];
  /** Routes that need more than JSON in and out (an OTLP receiver): registered as they are. */
  install?(app: FastifyInstance, ctx: PanelContext): void;
  /** Releases what the panel holds (timers, subscriptions) when the server closes. */
  close?(): Promise<void>;
}

/** A panel id: a lowercase word, so it is safe in a path and a file name. */
export const PANEL_ID = /^[a-z][a-z0-9-]{0,31}$/;
