// Certificates for the TLS Vault double, made with openssl in a temp dir: a test CA, a server
// certificate for 127.0.0.1 and localhost, a client certificate the CA signed (for a listener
// with tls_require_and_verify_client_cert) and a self-signed client certificate it must refuse.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface TestCertificates {
  caFile: string;
  caPem: Buffer;
  serverKey: Buffer;
  serverCert: Buffer;
  /** A client certificate signed by the test CA, and its key (PEM files). */
  clientCertFile: string;
  clientKeyFile: string;
  /** A self-signed client certificate the double does not trust, and its key. */
  strangerCertFile: string;
  strangerKeyFile: string;
}

/** A certificate for `cn` signed by the test CA in `dir`, with the given extensions. */
async function signed(dir: string, name: string, cn: string, extensions: string): Promise<void> {
  const p = (file: string): string => join(dir, file);
  await run('openssl', ['req', ...EC, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`]);
  await writeFile(p(`${name}.ext`), extensions);
  await run('openssl', ['x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p(`${name}.pem`), '-days', '2', '-extfile', p(`${name}.ext`)]);
}

export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const p = (name: string): string => join(dir, name);
  await run('openssl', ['req', '-x509', ...EC, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=sidecar-executor test Vault CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await signed(dir, 'server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  await signed(dir, 'client', 'sidecar-executor', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');
  await run('openssl', ['req', '-x509', ...EC, '-keyout', p('stranger.key'), '-out', p('stranger.pem'), '-days', '2', '-subj', '/CN=not-from-the-test-ca']);
  return {
    caFile: p('ca.pem'), caPem: await readFile(p('ca.pem')), serverKey: await readFile(p('server.key')), serverCert: await readFile(p('server.pem')),
    clientCertFile: p('client.pem'), clientKeyFile: p('client.key'), strangerCertFile: p('stranger.pem'), strangerKeyFile: p('stranger.key'),
  };
}
