import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findRegistryAuth, loadRegistryAuth, registryHostname, type ReadFile } from '../../src/docker/registry-auth';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const HUB = 'https://index.docker.io/v1/';

describe('registryHostname', () => {
  const cases: [string, string][] = [
    ['https://index.docker.io/v1/', 'index.docker.io'],
    ['index.docker.io', 'index.docker.io'],
    ['docker.io', 'index.docker.io'],
    ['registry-1.docker.io', 'index.docker.io'],
    ['https://registry-1.docker.io/v2/', 'index.docker.io'],
    ['http://registry.example.com:5000/v2/', 'registry.example.com:5000'],
    ['registry.example.com:5000', 'registry.example.com:5000'],
    ['Registry.Example.com', 'registry.example.com'],
    ['registry.example.com/team/app', 'registry.example.com'],
    [' quay.io ', 'quay.io'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} is ${expected}`, () => assert.equal(registryHostname(input), expected));
  }
});

describe('findRegistryAuth', () => {
  it('decodes the auth field of the exact entry into username and password', () => {
    const config = { auths: { [HUB]: { auth: b64('alice:s3cret') } } };
    assert.deepEqual(findRegistryAuth(config, HUB), { serveraddress: HUB, username: 'alice', password: 's3cret' });
  });

  it('splits at the first colon only: passwords may contain colons', () => {
    const config = { auths: { 'reg.example.com': { auth: b64('bob:pa:ss:word') } } };
    assert.deepEqual(findRegistryAuth(config, 'reg.example.com'), { serveraddress: 'reg.example.com', username: 'bob', password: 'pa:ss:word' });
  });

  it('keeps UTF-8 credentials intact', () => {
    const config = { auths: { 'reg.example.com': { auth: b64('zoë:pässwörd') } } };
    assert.deepEqual(findRegistryAuth(config, 'reg.example.com'), { serveraddress: 'reg.example.com', username: 'zoë', password: 'pässwörd' });
  });

  it('prefers the exact key over an entry that only normalises to the same host', () => {
    const config = { auths: { 'index.docker.io': { auth: b64('other:x') }, [HUB]: { auth: b64('exact:y') } } };
    assert.equal(findRegistryAuth(config, HUB)?.username, 'exact');
  });

  it('matches by hostname when there is no exact key, as docker/cli does', () => {
    const config = { auths: { 'https://registry.example.com:5000/v2/': { auth: b64('carol:z') } } };
    const found = findRegistryAuth(config, 'registry.example.com:5000');
    assert.deepEqual(found, { serveraddress: 'https://registry.example.com:5000/v2/', username: 'carol', password: 'z' });
    assert.equal(findRegistryAuth(config, 'http://registry.example.com:5000')?.username, 'carol');
  });

  it('treats index.docker.io, docker.io and registry-1.docker.io as the same registry', () => {
    for (const key of ['index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/']) {
      const config = { auths: { [key]: { auth: b64('hub:pw') } } };
      for (const repo of [HUB, 'docker.io', 'registry-1.docker.io', 'index.docker.io']) {
        assert.equal(findRegistryAuth(config, repo)?.username, 'hub', `${key} for ${repo}`);
      }
    }
  });

  it('does not match a different port or a different host', () => {
    const config = { auths: { 'registry.example.com:5000': { auth: b64('a:b') }, 'quay.io': { auth: b64('c:d') } } };
    assert.equal(findRegistryAuth(config, 'registry.example.com'), undefined);
    assert.equal(findRegistryAuth(config, 'registry.example.com:5001'), undefined);
    assert.equal(findRegistryAuth(config, 'example.com'), undefined);
    assert.equal(findRegistryAuth(config, HUB), undefined);
  });

  it('picks among equivalent entries independently of the file\'s key order', () => {
    const one = { auths: { 'docker.io': { auth: b64('d:1') }, 'index.docker.io': { auth: b64('i:2') } } };
    const two = { auths: { 'index.docker.io': { auth: b64('i:2') }, 'docker.io': { auth: b64('d:1') } } };
    assert.deepEqual(findRegistryAuth(one, HUB), findRegistryAuth(two, HUB));
  });

  it('keeps an identity token, with or without username and password', () => {
    const config = {
      auths: {
        'a.example.com': { auth: b64('<token>:'), identitytoken: 'refresh-token' },
        'b.example.com': { identitytoken: 'only-token' },
      },
    };
    assert.deepEqual(findRegistryAuth(config, 'a.example.com'), { serveraddress: 'a.example.com', username: '<token>', password: '', identitytoken: 'refresh-token' });
    assert.deepEqual(findRegistryAuth(config, 'b.example.com'), { serveraddress: 'b.example.com', identitytoken: 'only-token' });
  });

  it('accepts plain username and password fields when there is no auth field', () => {
    const config = { auths: { 'reg.example.com': { username: 'u', password: 'p' } } };
    assert.deepEqual(findRegistryAuth(config, 'reg.example.com'), { serveraddress: 'reg.example.com', username: 'u', password: 'p' });
  });

  it('gives nothing for an entry with no credentials in it (a credsStore holds them)', () => {
    const config = { auths: { [HUB]: {} }, credsStore: 'desktop' };
    assert.equal(findRegistryAuth(config, HUB), undefined);
    assert.equal(findRegistryAuth({ auths: { [HUB]: { auth: '' } } }, HUB), undefined);
  });

  it('gives nothing when there is no entry, or no auths at all', () => {
    assert.equal(findRegistryAuth({ auths: {} }, HUB), undefined);
    assert.equal(findRegistryAuth({}, HUB), undefined);
    assert.equal(findRegistryAuth({ credsStore: 'pass', HttpHeaders: { 'User-Agent': 'x' } }, HUB), undefined);
  });

  it('reads the legacy .dockercfg shape (entries at the top level)', () => {
    const config = { [HUB]: { auth: b64('old:school'), email: 'x@example.com' } };
    assert.deepEqual(findRegistryAuth(config, HUB), { serveraddress: HUB, username: 'old', password: 'school' });
  });

  it('does not look up inherited properties', () => {
    assert.equal(findRegistryAuth({ auths: {} }, 'constructor'), undefined);
    assert.equal(findRegistryAuth({ auths: {} }, '__proto__'), undefined);
  });

  it('rejects a config that is not an object', () => {
    for (const value of [null, [], 'text', 42]) assert.throws(() => findRegistryAuth(value, HUB), /not a JSON object/);
  });

  it('rejects a corrupt auth field naming the entry, never the value', () => {
    const corrupt = ['bm9jb2xvbg==' /* "nocolon" */, 'not base64!', 'c2VjcmV0:'];
    for (const auth of corrupt) {
      assert.throws(() => findRegistryAuth({ auths: { 'reg.example.com': { auth } } }, 'reg.example.com'), (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.match(err.message, /the auth field of "reg.example.com" is not base64 of "username:password"/);
        assert.ok(!err.message.includes(auth));
        return true;
      });
    }
  });

  it('rejects an entry that is not an object', () => {
    assert.throws(() => findRegistryAuth({ auths: { [HUB]: 'oops' } }, HUB), /auths entry "https:\/\/index.docker.io\/v1\/" is not an object/);
  });
});

/** A fake filesystem: path → content; a missing path fails as fs does. */
function files(map: Record<string, string | NodeJS.ErrnoException>): { readFile: ReadFile; reads: string[] } {
  const reads: string[] = [];
  const readFile: ReadFile = (file) => {
    reads.push(file);
    const found = map[file];
    if (typeof found === 'string') return found;
    throw found ?? Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });
  };
  return { readFile, reads };
}

const config = (user: string): string => JSON.stringify({ auths: { [HUB]: { auth: b64(`${user}:pw`) } } });

describe('loadRegistryAuth', () => {
  it('reads $DOCKER_CONFIG/config.json first', () => {
    const fs = files({ '/etc/docker-cfg/config.json': config('from-docker-config'), '/home/u/.docker/config.json': config('from-home') });
    assert.equal(loadRegistryAuth({ DOCKER_CONFIG: '/etc/docker-cfg', HOME: '/home/u' }, HUB, fs.readFile)?.username, 'from-docker-config');
    assert.deepEqual(fs.reads, ['/etc/docker-cfg/config.json']);
  });

  it('reads $HOME/.docker/config.json when DOCKER_CONFIG is unset or empty', () => {
    const fs = files({ '/home/u/.docker/config.json': config('from-home') });
    assert.equal(loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile)?.username, 'from-home');
    assert.equal(loadRegistryAuth({ DOCKER_CONFIG: '', HOME: '/home/u' }, HUB, fs.readFile)?.username, 'from-home');
  });

  it('retries with HOME=/root when the file is not in HOME, as the Go original does', () => {
    const fs = files({ '/root/.docker/config.json': config('from-root') });
    assert.equal(loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile)?.username, 'from-root');
    assert.deepEqual(fs.reads, ['/home/u/.docker/config.json', '/root/.docker/config.json']);
  });

  it('uses /root when HOME is unset (Mesos may start executors without it)', () => {
    const fs = files({ '/root/.docker/config.json': config('from-root') });
    assert.equal(loadRegistryAuth({}, HUB, fs.readFile)?.username, 'from-root');
    assert.deepEqual(fs.reads, ['/root/.docker/config.json']);
  });

  it('does not fall back to /root when HOME has a config without the entry', () => {
    const fs = files({ '/home/u/.docker/config.json': JSON.stringify({ auths: {} }), '/root/.docker/config.json': config('from-root') });
    assert.equal(loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile), undefined);
  });

  it('keeps to DOCKER_CONFIG when it is set: HOME=/root changes nothing then', () => {
    const fs = files({ '/root/.docker/config.json': config('from-root') });
    assert.equal(loadRegistryAuth({ DOCKER_CONFIG: '/etc/docker-cfg', HOME: '/home/u' }, HUB, fs.readFile), undefined);
    assert.deepEqual(fs.reads, ['/etc/docker-cfg/config.json']);
  });

  it('reads HOME=/root once, not twice', () => {
    const fs = files({});
    assert.equal(loadRegistryAuth({ HOME: '/root' }, HUB, fs.readFile), undefined);
    assert.deepEqual(fs.reads, ['/root/.docker/config.json']);
  });

  it('treats ENOTDIR (HOME is a file) as missing', () => {
    const notDir = Object.assign(new Error('ENOTDIR'), { code: 'ENOTDIR' });
    const fs = files({ '/home/u/.docker/config.json': notDir, '/root/.docker/config.json': config('from-root') });
    assert.equal(loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile)?.username, 'from-root');
  });

  it('fails clearly on an unreadable file, naming the path and the reason', () => {
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const fs = files({ '/home/u/.docker/config.json': denied });
    assert.throws(() => loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile), /cannot read the Docker config file \/home\/u\/.docker\/config.json: EACCES/);
  });

  it('fails on an unparsable file naming the path, never quoting the content', () => {
    const secret = '{"auths": {"x": {"auth": "SECRETVALUE"}} oops';
    const fs = files({ '/home/u/.docker/config.json': secret });
    assert.throws(() => loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.equal(err.message, 'the Docker config file /home/u/.docker/config.json is not valid JSON');
      assert.ok(!String(err.stack).includes('SECRETVALUE'));
      return true;
    });
  });

  it('fails on a corrupt entry naming the path and the entry', () => {
    const fs = files({ '/home/u/.docker/config.json': JSON.stringify({ auths: { [HUB]: { auth: b64('nocolon') } } }) });
    assert.throws(() => loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile),
      /the Docker config file \/home\/u\/.docker\/config.json is not usable: .*auth field of "https:\/\/index.docker.io\/v1\/"/);
  });

  it('reads the real filesystem by default', () => {
    assert.equal(loadRegistryAuth({ DOCKER_CONFIG: '/nonexistent/sce-test' }, HUB), undefined);
  });
});
