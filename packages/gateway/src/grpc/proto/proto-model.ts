/** @module What the `.proto` generator derives from zod schemas, and what the gRPC codec walks: messages and their fields. */

/** Proto3 scalar types the generator uses. */
export type ScalarType = "string" | "bool" | "double" | "int32" | "uint32" | "int64" | "uint64";

/** What one field (or one element of a repeated field, or one value of a map) holds. */
export type FieldType =
  | { readonly kind: "scalar"; readonly scalar: ScalarType; readonly bigint?: boolean }
  | { readonly kind: "message"; readonly message: MessageModel }
  /** `google.protobuf.Timestamp`, for `z.date()`. */
  | { readonly kind: "timestamp" }
  /** `google.protobuf.Value`: any JSON value, for what proto cannot type (unions, unknown, nested optionality). */
  | { readonly kind: "json" };

export interface FieldModel {
  /** The zod key, kept as it is so the JSON the action sees and the proto field share one name. */
  readonly name: string;
  readonly type: FieldType;
  /** `repeated`: a zod array. */
  readonly repeated: boolean;
  /** `map<string, …>`: a zod record with string keys. */
  readonly map: boolean;
  /** proto3 `optional`: the field has presence (absent stays absent, or is null for a nullable field). */
  readonly optional: boolean;
  /** An absent value means `null` (a nullable field that is not optional). */
  readonly nullWhenAbsent: boolean;
}

export interface MessageModel {
  /** Name within its parent (a top-level message's name is its full name within the package). */
  readonly name: string;
  readonly fields: readonly FieldModel[];
  /** Messages declared inside this one (a nested zod object becomes one, named after its field). */
  readonly nested: readonly MessageModel[];
  /**
   * The schema was not an object (an array, a string, void…): the message carries it in one field
   * `value`, and the codec unwraps it.
   */
  readonly wrapped: boolean;
}

/** One rpc: a routed action. */
export interface RpcModel {
  /** PascalCase of the action's name, e.g. `GetProduct`. */
  readonly name: string;
  /** The action's fqn, e.g. `catalog.getProduct`. */
  readonly action: string;
  readonly request: MessageModel;
  readonly response: MessageModel;
}

/** One gRPC service per Flotilla service, e.g. `CatalogService`. */
export interface ServiceModel {
  readonly name: string;
  readonly rpcs: readonly RpcModel[];
}
