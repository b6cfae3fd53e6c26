import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findRegistryAuth, loadRegistryAuth, registryAuthFiles, registryHostname, type ReadFile } from '../../src/docker/registry-auth';

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

const legacy = (user: string): string => JSON.stringify({ [HUB]: { auth: b64(`${user}:pw`), email: 'ops@example.com' } });
const ENV = { DOCKER_CONFIG: '/etc/docker-cfg', HOME: '/home/u' };

describe('registryAuthFiles', () => {
  it('with DOCKER_CONFIG: its config.json, then the HOME files, then the same with HOME=/root', () => {
    assert.deepEqual(registryAuthFiles(ENV), [
      '/etc/docker-cfg/config.json', '/home/u/.docker/config.json', '/home/u/.dockercfg', '/root/.docker/config.json', '/root/.dockercfg',
    ]);
  });

  it('without DOCKER_CONFIG (unset or empty): the HOME files, then /root\'s', () => {
    const expected = ['/home/u/.docker/config.json', '/home/u/.dockercfg', '/root/.docker/config.json', '/root/.dockercfg'];
    assert.deepEqual(registryAuthFiles({ HOME: '/home/u' }), expected);
    assert.deepEqual(registryAuthFiles({ DOCKER_CONFIG: '', HOME: '/home/u' }), expected);
  });

  it('without HOME (Mesos may start executors without it): /root\'s only, each file once', () => {
    assert.deepEqual(registryAuthFiles({}), ['/root/.docker/config.json', '/root/.dockercfg']);
    assert.deepEqual(registryAuthFiles({ HOME: '/root' }), ['/root/.docker/config.json', '/root/.dockercfg']);
    assert.deepEqual(registryAuthFiles({ DOCKER_CONFIG: '/d' }), ['/d/config.json', '/root/.docker/config.json', '/root/.dockercfg']);
  });
});

describe('loadRegistryAuth', () => {
  it('reads $DOCKER_CONFIG/config.json first, and says which file and entry it used', () => {
    const fs = files({ '/etc/docker-cfg/config.json': config('from-docker-config'), '/home/u/.docker/config.json': config('from-home') });
    const found = loadRegistryAuth(ENV, HUB, fs.readFile);
    assert.equal(found.auth?.username, 'from-docker-config');
    assert.equal(found.file, '/etc/docker-cfg/config.json');
    assert.equal(found.entry, HUB);
    assert.deepEqual(fs.reads, ['/etc/docker-cfg/config.json']);
  });

  it('reads the HOME files when $DOCKER_CONFIG/config.json is missing (DOCKER_CONFIG set)', () => {
    const fs = files({ '/home/u/.docker/config.json': config('from-home') });
    const found = loadRegistryAuth(ENV, HUB, fs.readFile);
    assert.equal(found.auth?.username, 'from-home');
    assert.equal(found.file, '/home/u/.docker/config.json');
    assert.deepEqual(found.searched, ['/etc/docker-cfg/config.json', '/home/u/.docker/config.json']);
  });

  it('reads $HOME/.docker/config.json when DOCKER_CONFIG is unset or empty', () => {
    const fs = files({ '/home/u/.docker/config.json': config('from-home') });
    assert.equal(loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile).auth?.username, 'from-home');
    assert.equal(loadRegistryAuth({ DOCKER_CONFIG: '', HOME: '/home/u' }, HUB, fs.readFile).auth?.username, 'from-home');
  });

  it('reads the legacy $HOME/.dockercfg (registry → {auth, email} at the top level) after config.json', () => {
    const fs = files({ '/home/u/.dockercfg': legacy('from-dockercfg') });
    const found = loadRegistryAuth(ENV, HUB, fs.readFile);
    assert.deepEqual(found.auth, { serveraddress: HUB, username: 'from-dockercfg', password: 'pw' });
    assert.equal(found.file, '/home/u/.dockercfg');
    assert.equal(found.entry, HUB);
  });

  it('finds the entry by registry host in .dockercfg too', () => {
    const fs = files({ '/home/u/.dockercfg': JSON.stringify({ 'https://registry.example.com:5000': { auth: b64('reg:pw'), email: '' } }) });
    const found = loadRegistryAuth({ HOME: '/home/u' }, 'registry.example.com:5000', fs.readFile);
    assert.equal(found.auth?.username, 'reg');
    assert.equal(found.entry, 'https://registry.example.com:5000');
  });

  it('retries with HOME=/root when no HOME file has it, as the Go executor does', () => {
    const fs = files({ '/root/.dockercfg': legacy('from-root') });
    const found = loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile);
    assert.equal(found.auth?.username, 'from-root');
    assert.equal(found.file, '/root/.dockercfg');
    assert.deepEqual(fs.reads, ['/home/u/.docker/config.json', '/home/u/.dockercfg', '/root/.docker/config.json', '/root/.dockercfg']);
  });

  it('goes on past a file without the entry (or with an entry without credentials) to the next', () => {
    const fs = files({
      '/etc/docker-cfg/config.json': JSON.stringify({ auths: { 'quay.io': { auth: b64('q:pw') } } }),
      '/home/u/.docker/config.json': JSON.stringify({ auths: { [HUB]: {} }, credsStore: 'pass' }),
      '/root/.docker/config.json': config('from-root'),
    });
    const found = loadRegistryAuth(ENV, HUB, fs.readFile);
    assert.equal(found.auth?.username, 'from-root');
    assert.deepEqual(found.skipped, []);
  });

  it('uses /root when HOME is unset', () => {
    const fs = files({ '/root/.docker/config.json': config('from-root') });
    assert.equal(loadRegistryAuth({}, HUB, fs.readFile).auth?.username, 'from-root');
    assert.deepEqual(fs.reads, ['/root/.docker/config.json']);
  });

  it('when nothing matches: no credentials, every file searched listed, each read once', () => {
    const fs = files({});
    const found = loadRegistryAuth({ HOME: '/root' }, HUB, fs.readFile);
    assert.deepEqual(found, { searched: ['/root/.docker/config.json', '/root/.dockercfg'], skipped: [] });
    assert.deepEqual(fs.reads, ['/root/.docker/config.json', '/root/.dockercfg']);
  });

  it('treats ENOTDIR (HOME is a file) as missing', () => {
    const notDir = Object.assign(new Error('ENOTDIR'), { code: 'ENOTDIR' });
    const fs = files({ '/home/u/.docker/config.json': notDir, '/root/.docker/config.json': config('from-root') });
    const found = loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile);
    assert.equal(found.auth?.username, 'from-root');
    assert.deepEqual(found.skipped, []);
  });

  it('skips an unreadable file, as go-dockerclient does, reporting the path and the reason', () => {
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const fs = files({ '/home/u/.docker/config.json': denied, '/home/u/.dockercfg': legacy('next') });
    const found = loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile);
    assert.equal(found.auth?.username, 'next');
    assert.deepEqual(found.skipped, [{ file: '/home/u/.docker/config.json', reason: 'cannot be read: EACCES' }]);
  });

  it('skips an unparsable file, never quoting its content', () => {
    const fs = files({ '/home/u/.docker/config.json': '{"auths": {"x": {"auth": "SECRETVALUE"}} oops' });
    const found = loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile);
    assert.equal(found.auth, undefined);
    assert.deepEqual(found.skipped, [{ file: '/home/u/.docker/config.json', reason: 'not valid JSON' }]);
    assert.ok(!JSON.stringify(found).includes('SECRETVALUE'));
  });

  it('skips a file whose entry is corrupt, naming the entry, never the value', () => {
    const fs = files({ '/home/u/.docker/config.json': JSON.stringify({ auths: { [HUB]: { auth: b64('nocolon') } } }), '/root/.dockercfg': legacy('from-root') });
    const found = loadRegistryAuth({ HOME: '/home/u' }, HUB, fs.readFile);
    assert.equal(found.auth?.username, 'from-root');
    assert.equal(found.skipped.length, 1);
    assert.match(found.skipped[0]!.reason, /auth field of "https:\/\/index.docker.io\/v1\/" is not base64/);
    assert.ok(!JSON.stringify(found.skipped).includes(b64('nocolon')));
  });

  it('reads the real filesystem by default', () => {
    const found = loadRegistryAuth({ DOCKER_CONFIG: '/nonexistent/sce-test', HOME: '/nonexistent/sce-home' }, 'sce-test.invalid:1');
    assert.equal(found.auth, undefined);
    assert.equal(found.searched[0], '/nonexistent/sce-test/config.json');
  });
});
