/**
 * @module The gRPC benchmark's floor: a bare @grpc/grpc-js server answering `GetProduct` with fixed bytes (no
 * gateway, no policies, no call), so the table shows what gRPC itself costs on this machine.
 */
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { announceReady } from "../edge/processes.js";

const Product = new protobuf.Type("GetProductResponse")
  .add(new protobuf.Field("id", 1, "string"))
  .add(new protobuf.Field("name", 2, "string"));
const answer = Buffer.from(Product.encode({ id: "prod-french-press", name: "French press" }).finish());
const pass = (b: Buffer) => b;
const server = new grpc.Server();
server.addService(
  {
    GetProduct: {
      path: "/flotilla.shop.v1.CatalogService/GetProduct",
      requestStream: false,
      responseStream: false,
      requestSerialize: pass,
      requestDeserialize: pass,
      responseSerialize: pass,
      responseDeserialize: pass,
    },
  },
  { GetProduct: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, answer) },
);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err !== null) throw err;
  announceReady({ grpc: `127.0.0.1:${port}` });
});
