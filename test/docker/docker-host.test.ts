import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeDockerTarget, parseDockerHost } from '../../src/docker/docker-host';

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
  ];
  for (const [value, why] of bad) {
    it(`rejects ${JSON.stringify(value)} with an error naming DOCKER_HOST`, () => {
      assert.throws(() => parseDockerHost(value), (err: unknown) => {
        assert.ok(err instanceof Error);
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
  });
});
