/** @module Test certificates made with the machine's openssl at test time: a CA and server certificates it signs. */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCa {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA certificate's PEM, for clients to trust. */
  readonly pem: string;
}

export interface ServerCert {
  readonly certFile: string;
  readonly keyFile: string;
  /** Uppercase hex, as X509Certificate and getPeerCertificate() give it. */
  readonly serial: string;
}

const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });

export function makeCa(dir: string): TestCa {
  const certFile = join(dir, "ca.pem");
  const keyFile = join(dir, "ca.key");
  openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "2",
    "-subj",
    "/CN=Flotilla test CA",
  ]);
  return { dir, certFile, keyFile, pem: readFileSync(certFile, "utf8") };
}

/** A certificate for 127.0.0.1 and localhost, with a fresh key, signed by the CA; `name` tells the files apart. */
export function makeServerCert(ca: TestCa, name: string): ServerCert {
  const keyFile = join(ca.dir, `${name}.key`);
  const csr = join(ca.dir, `${name}.csr`);
  const certFile = join(ca.dir, `${name}.pem`);
  const ext = join(ca.dir, `${name}.ext`);
  writeFileSync(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  openssl([
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    csr,
    "-subj",
    `/CN=${name}`,
  ]);
  openssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.certFile,
    "-CAkey",
    ca.keyFile,
    "-CAcreateserial",
    "-out",
    certFile,
    "-days",
    "2",
    "-extfile",
    ext,
  ]);
  return { certFile, keyFile, serial: new X509Certificate(readFileSync(certFile)).serialNumber };
}
