import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DockerEnvError, describeDockerTarget, dockerConnectionFromEnv, parseApiVersion, parseDockerHost, type DockerEnv } from '../../src/docker/docker-host';
import { clientDirWith, makeTestCerts, type TestCerts } from '../support/test-certs';

describe('parseDockerHost', () => {
  it('defaults to /var/run/docker.sock when DOCKER_HOST is unset or empty', () => {
    assert.deepEqual(parseDockerHost(undefined), { socketPath: '/var/run/docker.sock' });
    assert.deepEqual(parseDockerHost(''), { socketPath: '/var/run/docker.sock' });
  });

  it('reads unix:// socket paths', () => {
    assert.deepEqual(parseDockerHost('unix:///var/run/docker.sock'), { socketPath: '/var/run/docker.sock' });
    assert.deepEqual(parseDockerHost('unix:///run/user/1000/docker.sock'), { socketPath: '/run/user/1000/docker.sock' });
    assert.deepEqual(parseDockerHost('UNIX:///tmp/d.sock'), { socketPath: '/tmp/d.sock' });
  });

  it('reads tcp://host:port as plain HTTP', () => {
    assert.deepEqual(parseDockerHost('tcp://127.0.0.1:2375'), { baseUrl: 'http://127.0.0.1:2375' });
    assert.deepEqual(parseDockerHost('tcp://docker.example.com:4243'), { baseUrl: 'http://docker.example.com:4243' });
    assert.deepEqual(parseDockerHost('tcp://docker.example.com:4243/'), { baseUrl: 'http://docker.example.com:4243' });
    assert.deepEqual(parseDockerHost('tcp://[::1]:2375'), { baseUrl: 'http://[::1]:2375' });
  });

  it('uses Docker\'s default port 2375 when tcp:// has none, and keeps an explicit :80', () => {
    assert.deepEqual(parseDockerHost('tcp://dockerhost'), { baseUrl: 'http://dockerhost:2375' });
    assert.deepEqual(parseDockerHost('tcp://dockerhost:80'), { baseUrl: 'http://dockerhost:80' });
  });

  it('with TLS, reads tcp:// as https, with Docker\'s TLS port 2376 by default; a unix socket stays one', () => {
    assert.deepEqual(parseDockerHost('tcp://127.0.0.1:2376', true), { baseUrl: 'https://127.0.0.1:2376' });
    assert.deepEqual(parseDockerHost('tcp://dockerhost', true), { baseUrl: 'https://dockerhost:2376' });
    assert.deepEqual(parseDockerHost('tcp://[::1]:4243', true), { baseUrl: 'https://[::1]:4243' });
    assert.deepEqual(parseDockerHost('unix:///var/run/docker.sock', true), { socketPath: '/var/run/docker.sock' });
  });

  const bad: [string, RegExp][] = [
    ['/var/run/docker.sock', /expected unix:\/\/\/path\/to\/docker.sock or tcp:\/\/host:port/],
    ['localhost:2375', /expected unix:\/\/\/path/],
    ['unix://', /must be absolute/],
    ['unix://docker.sock', /must be absolute/],
    ['ssh://user@host', /scheme "ssh" is not supported/],
    ['npipe:////./pipe/docker_engine', /scheme "npipe" is not supported/],
    ['https://host:2376', /scheme "https" is not supported/],
    ['tcp://', /host is missing/],
    ['tcp://:2375', /host is missing/],
    ['tcp://host:notaport', /expected tcp:\/\/host:port/],
    ['tcp://host:99999', /expected tcp:\/\/host:port/],
    ['tcp://host:2375/some/path', /expected only tcp:\/\/host:port/],
    ['tcp://user:pw@host:2375', /expected only tcp:\/\/host:port/],
    ['tcp://host:2375?x=1', /expected only tcp:\/\/host:port/],
    ['tcp//x', /expected unix:\/\/\/path/],
    ['ftp://x', /scheme "ftp" is not supported/],
  ];
  for (const [value, why] of bad) {
    it(`rejects ${JSON.stringify(value)} with an error naming DOCKER_HOST`, () => {
      assert.throws(() => parseDockerHost(value), (err: unknown) => {
        assert.ok(err instanceof DockerEnvError);
        assert.ok(err.message.startsWith(`DOCKER_HOST=${JSON.stringify(value)} is not valid: `), err.message);
        assert.match(err.message, why);
        return true;
      });
    });
  }
});

describe('describeDockerTarget', () => {
  it('names the engine as DOCKER_HOST would', () => {
    assert.equal(describeDockerTarget({ socketPath: '/var/run/docker.sock' }), 'unix:///var/run/docker.sock');
    assert.equal(describeDockerTarget({ baseUrl: 'http://10.0.0.1:2375' }), 'tcp://10.0.0.1:2375');
    assert.equal(describeDockerTarget({ baseUrl: 'https://10.0.0.1:2376', tls: {} }), 'tcp://10.0.0.1:2376');
  });
});

describe('parseApiVersion', () => {
  it('reads dot-separated integers, written back as go-dockerclient writes them', () => {
    assert.equal(parseApiVersion(undefined), undefined);
    assert.equal(parseApiVersion(''), undefined);
    assert.equal(parseApiVersion('1.41'), '1.41');
    assert.equal(parseApiVersion('1.041'), '1.41');
    assert.equal(parseApiVersion('1.24.0'), '1.24.0');
  });

  for (const value of ['1', 'latest', 'v1.41', '1.41-beta', '1..41', ' 1.41', '1.x']) {
    it(`refuses ${JSON.stringify(value)}, naming DOCKER_API_VERSION and the value`, () => {
      assert.throws(() => parseApiVersion(value), (err: unknown) => {
        assert.ok(err instanceof DockerEnvError);
        assert.equal(err.message, `DOCKER_API_VERSION=${JSON.stringify(value)} is not valid: expected a version such as 1.41`);
        return true;
      });
    });
  }
});

describe('dockerConnectionFromEnv', () => {
  let certs: TestCerts;
  before(() => { certs = makeTestCerts(); });
  after(() => certs.remove());
  const noHome = (): string => { throw new Error('the passwd home must not be asked for'); };
  const tlsEnv = (extra: DockerEnv = {}): DockerEnv => ({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs.clientDir, ...extra });

  /** The one-line error for `env`, asserted to be a DockerEnvError. */
  function errorOf(env: DockerEnv, homeOf = noHome): string {
    try {
      dockerConnectionFromEnv(env, homeOf);
    } catch (err) {
      assert.ok(err instanceof DockerEnvError, String(err));
      assert.doesNotMatch(err.message, /\n/);
      return err.message;
    }
    assert.fail('no error');
  }

  it('without variables: the default socket, no TLS, no warnings', () => {
    const docker = dockerConnectionFromEnv({}, noHome);
    assert.deepEqual(docker.target, { socketPath: '/var/run/docker.sock' });
    assert.deepEqual(docker.fields, { host: 'unix:///var/run/docker.sock', tls: 'off', api_version: undefined });
    assert.deepEqual(docker.warnings, []);
  });

  it('DOCKER_API_VERSION goes with the target, socket or tcp', () => {
    assert.deepEqual(dockerConnectionFromEnv({ DOCKER_API_VERSION: '1.40' }, noHome).target, { socketPath: '/var/run/docker.sock', apiVersion: '1.40' });
    const tcp = dockerConnectionFromEnv({ DOCKER_HOST: 'tcp://10.0.0.1:2375', DOCKER_API_VERSION: '1.40' }, noHome);
    assert.deepEqual(tcp.target, { baseUrl: 'http://10.0.0.1:2375', apiVersion: '1.40' });
    assert.equal(tcp.fields.api_version, '1.40');
  });

  it('DOCKER_CERT_PATH without DOCKER_TLS_VERIFY is ignored, as in go-dockerclient, and the log says so', () => {
    const docker = dockerConnectionFromEnv({ DOCKER_HOST: 'tcp://10.0.0.1:2375', DOCKER_CERT_PATH: '/nonexistent' }, noHome);
    assert.deepEqual(docker.target, { baseUrl: 'http://10.0.0.1:2375' });
    assert.match(docker.warnings.join('\n'), /DOCKER_CERT_PATH is set but DOCKER_TLS_VERIFY is not: it is ignored/);
  });

  it('DOCKER_TLS_VERIFY with a unix socket: no TLS and no files read, with a warning', () => {
    const docker = dockerConnectionFromEnv({ DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }, noHome);
    assert.deepEqual(docker.target, { socketPath: '/var/run/docker.sock' });
    assert.match(docker.warnings.join('\n'), /DOCKER_HOST is a unix socket: TLS does not apply/);
  });

  it('DOCKER_TLS_VERIFY with tcp://: https, the engine verified against ca.pem, the client certificate sent', () => {
    const docker = dockerConnectionFromEnv(tlsEnv(), noHome);
    assert.ok('baseUrl' in docker.target);
    assert.equal(docker.target.baseUrl, 'https://127.0.0.1:2376');
    assert.equal(docker.target.tls?.rejectUnauthorized, true);
    assert.ok(docker.target.tls?.secureContext, 'one secure context for every connection');
    assert.deepEqual(docker.fields, {
      host: 'tcp://127.0.0.1:2376', tls: 'verified', cert_path: certs.clientDir, client_cert: path.join(certs.clientDir, 'cert.pem'), api_version: undefined,
    });
    assert.deepEqual(docker.warnings, []);
  });

  it('any non-empty DOCKER_TLS_VERIFY turns TLS on, as in docker and go-dockerclient; 0 and false get a warning', () => {
    for (const value of ['0', 'false', 'no', 'yes']) {
      const docker = dockerConnectionFromEnv(tlsEnv({ DOCKER_TLS_VERIFY: value }), noHome);
      assert.equal(docker.fields.tls, 'verified', value);
      assert.equal(docker.warnings.some((w) => w.startsWith(`DOCKER_TLS_VERIFY=${value} turns TLS on`)), value === '0' || value === 'false', value);
    }
    assert.equal(dockerConnectionFromEnv(tlsEnv({ DOCKER_TLS_VERIFY: '' }), noHome).fields.tls, 'off');
  });

  it('without DOCKER_CERT_PATH the files are in $HOME/.docker, else in the passwd home', () => {
    const home = fs.mkdtempSync(path.join(certs.dir, 'home-'));
    fs.cpSync(certs.clientDir, path.join(home, '.docker'), { recursive: true });
    const fromHome = dockerConnectionFromEnv(tlsEnv({ DOCKER_CERT_PATH: undefined, HOME: home }), noHome);
    assert.equal(fromHome.fields.cert_path, path.join(home, '.docker'));
    const fromPasswd = dockerConnectionFromEnv(tlsEnv({ DOCKER_CERT_PATH: '', HOME: '' }), () => home);
    assert.equal(fromPasswd.fields.cert_path, path.join(home, '.docker'));
    assert.equal(errorOf(tlsEnv({ DOCKER_CERT_PATH: undefined, HOME: undefined }), () => ''),
      'DOCKER_TLS_VERIFY is set, DOCKER_CERT_PATH is not, and HOME is unknown: set DOCKER_CERT_PATH');
    assert.equal(errorOf(tlsEnv({ DOCKER_CERT_PATH: undefined, HOME: path.join(certs.dir, 'nohome') })),
      `DOCKER_CERT_PATH (unset, so ${JSON.stringify(path.join(certs.dir, 'nohome', '.docker'))}) is not usable: ${path.join(certs.dir, 'nohome', '.docker')} is not a directory`);
  });

  it('without ca.pem, as go-dockerclient: the engine\'s certificate is not verified, and a warning says so', () => {
    const dir = clientDirWith(certs, 'cert.pem', 'key.pem');
    const docker = dockerConnectionFromEnv(tlsEnv({ DOCKER_CERT_PATH: dir }), noHome);
    assert.ok('baseUrl' in docker.target);
    assert.equal(docker.target.tls?.rejectUnauthorized, false);
    assert.equal(docker.fields.tls, 'unverified');
    assert.deepEqual(docker.warnings, [`${path.join(dir, 'ca.pem')} does not exist: the Docker engine's certificate is not verified (as go-dockerclient does without it)`]);
  });

  it('without cert.pem or key.pem, as go-dockerclient: no client certificate, and a warning says so', () => {
    const cases: [string[], string][] = [[['ca.pem'], 'cert.pem and key.pem'], [['ca.pem', 'cert.pem'], 'key.pem'], [['ca.pem', 'key.pem'], 'cert.pem']];
    for (const [present, missing] of cases) {
      const dir = clientDirWith(certs, ...present);
      const docker = dockerConnectionFromEnv(tlsEnv({ DOCKER_CERT_PATH: dir }), noHome);
      assert.equal(docker.fields.tls, 'verified');
      assert.equal(docker.fields.client_cert, 'none');
      assert.deepEqual(docker.warnings, [`${missing} not in ${dir}: no client certificate is sent to the Docker engine`]);
    }
  });

  it('a DOCKER_CERT_PATH that is no directory, or holds none of the files, is one line naming it', () => {
    assert.equal(errorOf(tlsEnv({ DOCKER_CERT_PATH: '/nonexistent/certs' })), 'DOCKER_CERT_PATH="/nonexistent/certs" is not usable: /nonexistent/certs is not a directory');
    const empty = clientDirWith(certs);
    assert.equal(errorOf(tlsEnv({ DOCKER_CERT_PATH: empty })), `DOCKER_CERT_PATH=${JSON.stringify(empty)} is not usable: none of ca.pem, cert.pem, key.pem is in ${empty}`);
  });

  it('a file that cannot be read is an error, as in go-dockerclient (only a missing file is skipped)', () => {
    const dir = clientDirWith(certs, 'cert.pem', 'key.pem');
    fs.mkdirSync(path.join(dir, 'ca.pem'));
    assert.equal(errorOf(tlsEnv({ DOCKER_CERT_PATH: dir })), `DOCKER_CERT_PATH=${JSON.stringify(dir)} is not usable: cannot read ${path.join(dir, 'ca.pem')}: EISDIR`);
  });

  it('a ca.pem without a certificate is an error, as Go\'s AppendCertsFromPEM failing', () => {
    const dir = clientDirWith(certs, 'cert.pem', 'key.pem');
    fs.writeFileSync(path.join(dir, 'ca.pem'), 'not a certificate\n');
    assert.match(errorOf(tlsEnv({ DOCKER_CERT_PATH: dir })), /is not usable: .*\/ca\.pem holds no PEM certificate$/);
  });

  it('a key that does not match the certificate, or is not a key, is an error that never shows the key', () => {
    const dir = clientDirWith(certs, 'ca.pem', 'cert.pem');
    fs.copyFileSync(certs.serverKey, path.join(dir, 'key.pem'));
    const mismatch = errorOf(tlsEnv({ DOCKER_CERT_PATH: dir }));
    assert.match(mismatch, new RegExp(`^DOCKER_CERT_PATH=".*" is not usable: cert.pem and key.pem in ${dir} are not a usable certificate and key: .*key values mismatch`));
    const secret = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-secret-part';
    fs.writeFileSync(path.join(dir, 'key.pem'), `-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----\n`);
    const garbage = errorOf(tlsEnv({ DOCKER_CERT_PATH: dir }));
    assert.match(garbage, /are not a usable certificate and key/);
    assert.ok(!garbage.includes('secret-part') && !mismatch.includes(fs.readFileSync(certs.serverKey, 'utf8').split('\n')[1]!));
  });

  it('a bad DOCKER_HOST or DOCKER_API_VERSION is refused before any file is read', () => {
    assert.match(errorOf(tlsEnv({ DOCKER_HOST: 'tcp//x', DOCKER_CERT_PATH: '/nonexistent' })), /^DOCKER_HOST="tcp\/\/x" is not valid/);
    assert.match(errorOf(tlsEnv({ DOCKER_API_VERSION: 'x', DOCKER_CERT_PATH: '/nonexistent' })), /^DOCKER_API_VERSION="x" is not valid/);
  });
});
