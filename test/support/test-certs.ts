// Certificates for TLS tests, made with openssl as a Docker TLS set-up would be: a CA, a server
// certificate for 127.0.0.1 and localhost (subjectAltName: node and Go check only SANs), and a
// client certificate (extendedKeyUsage clientAuth, which dockerd's --tlsverify requires).
// The client files go in a directory of their own, named as DOCKER_CERT_PATH expects them.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestCerts {
  /** Everything, removed by remove(). */
  dir: string;
  /** DOCKER_CERT_PATH: ca.pem, cert.pem, key.pem. */
  clientDir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  remove(): void;
}

function openssl(cwd: string, ...args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`openssl ${args[0]} failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message}`);
  }
}

/** Signs `name`.csr with the CA, with the given X.509 v3 extensions. */
function sign(dir: string, name: string, subject: string, extensions: string): void {
  openssl(dir, 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', subject);
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
    '-days', '2', '-sha256', '-out', `${name}-cert.pem`, '-extfile', `${name}.ext`);
}

export function makeTestCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sce-certs-'));
  try {
    openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=sce test CA');
    sign(dir, 'server', '/CN=localhost', 'subjectAltName = IP:127.0.0.1,DNS:localhost\nextendedKeyUsage = serverAuth\n');
    sign(dir, 'client', '/CN=sce test client', 'extendedKeyUsage = clientAuth\n');
    const clientDir = path.join(dir, 'client');
    fs.mkdirSync(clientDir);
    fs.copyFileSync(path.join(dir, 'ca.pem'), path.join(clientDir, 'ca.pem'));
    fs.copyFileSync(path.join(dir, 'client-cert.pem'), path.join(clientDir, 'cert.pem'));
    fs.copyFileSync(path.join(dir, 'client-key.pem'), path.join(clientDir, 'key.pem'));
    return {
      dir, clientDir,
      caCert: path.join(dir, 'ca.pem'),
      serverCert: path.join(dir, 'server-cert.pem'),
      serverKey: path.join(dir, 'server-key.pem'),
      remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A copy of the client directory with only `names` in it (the rest absent), for tests of missing files. */
export function clientDirWith(certs: TestCerts, ...names: string[]): string {
  const dir = fs.mkdtempSync(path.join(certs.dir, 'only-'));
  for (const name of names) fs.copyFileSync(path.join(certs.clientDir, name), path.join(dir, name));
  return dir;
}
