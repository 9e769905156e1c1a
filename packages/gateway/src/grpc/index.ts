/** @module gRPC at the gateway: the `.proto` generator, the server's options, and the status mapping both ways. */
export type { GrpcEndpoint, GrpcOptions } from "./grpc-server.js";
export {
  flotillaErrorOfGrpc,
  GrpcMetadataKeys,
  grpcCodeOf,
  httpStatusOfGrpcCode,
  statusOfGrpcCode,
} from "./grpc-status.js";
export type { GeneratedProto, ProtoOptions } from "./proto/proto-generator.js";
export { generateProto } from "./proto/proto-generator.js";
