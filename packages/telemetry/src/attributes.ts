/** @module Span attribute names: OpenTelemetry semantic conventions for RPC and messaging, plus Flotilla's own. */

export const RPC_SYSTEM = "rpc.system";
export const RPC_SERVICE = "rpc.service";
export const RPC_METHOD = "rpc.method";

export const MESSAGING_SYSTEM = "messaging.system";
export const MESSAGING_DESTINATION = "messaging.destination.name";
export const MESSAGING_MESSAGE_ID = "messaging.message.id";
export const MESSAGING_OPERATION_TYPE = "messaging.operation.type";
export const MESSAGING_OPERATION_NAME = "messaging.operation.name";
export const MESSAGING_CONSUMER_GROUP = "messaging.consumer.group.name";

export const ERROR_TYPE = "error.type";
export const ERROR_CODE = "error.code";

/** Value of `rpc.system` and `messaging.system` on every Flotilla span. */
export const FLOTILLA_SYSTEM = "flotilla";
/**
 * The service whose code made the span. Resource attributes cannot say it when several services share
 * one process (the embedded topology), so every span carries it.
 */
export const FLOTILLA_SERVICE = "flotilla.service";
export const FLOTILLA_INSTANCE = "flotilla.instance";
/** Status category of a failure (`NOT_FOUND`, `UNAVAILABLE`, …); `error.code` holds the precise code. */
export const FLOTILLA_STATUS = "flotilla.status";
export const FLOTILLA_DELIVERY_ATTEMPT = "flotilla.delivery.attempt";
