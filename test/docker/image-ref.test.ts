import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageTag, parseImageRef } from '../../src/docker/image-ref';
import type { ImageRef } from '../../src/docker/image-ref';

const SHA = 'sha256:' + 'a'.repeat(64);

function ok(image: string): ImageRef {
  const result = parseImageRef(image);
  if (!result.ok) assert.fail(`${image} rejected: ${result.reason}`);
  return result.ref;
}

function reason(image: string): string {
  const result = parseImageRef(image);
  if (result.ok) assert.fail(`${image} accepted`);
  return result.reason;
}

test('imageTag: the part after the last colon that follows the last slash', () => {
  assert.equal(imageTag('foo/foo:1.0.0'), '1.0.0');
  assert.equal(imageTag('nginx:latest'), 'latest');
  assert.equal(imageTag('registry:5000/app:1.2'), '1.2');
  assert.equal(imageTag('registry.example.com:5000/team/app:v2-rc.1'), 'v2-rc.1');
  assert.equal(imageTag('localhost:5000/app:1.2@' + SHA), '1.2');
});

test('imageTag: none for untagged images, ports and digests', () => {
  assert.equal(imageTag('nginx'), undefined);
  assert.equal(imageTag('registry:5000/app'), undefined);
  assert.equal(imageTag('app@' + SHA), undefined);
  assert.equal(imageTag('registry:5000/app@' + SHA), undefined);
  assert.equal(imageTag('app:'), undefined);
  assert.equal(imageTag(''), undefined);
});

test('parses the parts of a reference', () => {
  assert.deepEqual(ok('nginx'), { domain: undefined, path: 'nginx', tag: undefined, digest: undefined });
  assert.deepEqual(ok('foo/foo:1.0.0'), { domain: undefined, path: 'foo/foo', tag: '1.0.0', digest: undefined });
  assert.deepEqual(ok('registry:5000/app:1.2'), { domain: 'registry:5000', path: 'app', tag: '1.2', digest: undefined });
  assert.deepEqual(ok('localhost/app'), { domain: 'localhost', path: 'app', tag: undefined, digest: undefined });
  assert.deepEqual(ok('quay.io/org/sub/app:v1@' + SHA), { domain: 'quay.io', path: 'org/sub/app', tag: 'v1', digest: SHA });
  assert.deepEqual(ok('app@' + SHA), { domain: undefined, path: 'app', tag: undefined, digest: SHA });
  assert.deepEqual(ok('[::1]:5000/app:x'), { domain: '[::1]:5000', path: 'app', tag: 'x', digest: undefined });
  // Docker's own rule: a first component with uppercase is a registry host, which may have it.
  assert.deepEqual(ok('MyRegistry/app'), { domain: 'MyRegistry', path: 'app', tag: undefined, digest: undefined });
  // Without a slash the colon is a tag, as Docker reads it.
  assert.deepEqual(ok('registry:5000'), { domain: undefined, path: 'registry', tag: '5000', digest: undefined });
});

test('accepts the separators Docker accepts', () => {
  for (const image of ['a_b', 'a__b', 'a.b', 'a-b', 'a---b', 'gonitro/sidecar-executor', 'my.registry-1.io:443/a/b_c/d.e:Tag_1.x-y', 'x:' + 'T'.repeat(128)]) {
    ok(image);
  }
  ok('app@sha512:' + 'b'.repeat(128));
  ok('app@md5x:' + 'C'.repeat(32)); // an unregistered algorithm: only the general form applies
});

test('rejects empty names and whitespace', () => {
  assert.equal(reason(''), 'the image name is empty');
  assert.equal(reason(' nginx'), 'the image name contains whitespace');
  assert.equal(reason('nginx :1'), 'the image name contains whitespace');
  assert.equal(reason('nginx\n'), 'the image name contains whitespace');
  assert.equal(reason(':1.0'), 'the repository name is empty');
  assert.equal(reason('@' + SHA), 'the repository name is empty');
  assert.equal(reason('registry.io/'), 'the repository name is empty');
});

test('rejects uppercase in the repository path, as docker pull does', () => {
  assert.equal(reason('Nginx'), 'repository name "Nginx" must be lowercase');
  assert.equal(reason('foo/Bar:1'), 'repository name "foo/Bar" must be lowercase');
  assert.equal(reason('registry.io/Team/app'), 'repository name "Team/app" must be lowercase');
});

test('rejects bad characters and separators in the path', () => {
  const component = (c: string): string => `repository path component "${c}" may only hold lowercase letters and digits, joined by ".", "_", "__" or "-"`;
  assert.equal(reason('foo/ba$r'), component('ba$r'));
  assert.equal(reason('-app'), component('-app'));
  assert.equal(reason('app-'), component('app-'));
  assert.equal(reason('a___b'), component('a___b'));
  assert.equal(reason('a..b'), component('a..b'));
  assert.equal(reason('a_-b'), component('a_-b'));
  assert.equal(reason('foo//bar'), 'repository name "foo//bar" has an empty path component (a leading, trailing or doubled "/")');
  assert.equal(reason('foo/bar/'), 'repository name "foo/bar/" has an empty path component (a leading, trailing or doubled "/")');
});

test('rejects bad registries', () => {
  assert.equal(reason('-bad.io/app'), 'registry "-bad.io" is not a valid host[:port]');
  assert.equal(reason('reg.io:port/app'), 'registry "reg.io:port" is not a valid host[:port]');
  assert.equal(reason('reg_x.io/app'), 'registry "reg_x.io" is not a valid host[:port]');
});

test('rejects bad tags', () => {
  const msg = (t: string): string => `tag "${t}" must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`;
  assert.equal(reason('app:'), msg(''));
  assert.equal(reason('app:.x'), msg('.x'));
  assert.equal(reason('app:-x'), msg('-x'));
  assert.equal(reason('app:a+b'), msg('a+b'));
  assert.equal(reason('app:' + 'a'.repeat(129)), msg('a'.repeat(129)));
});

test('rejects bad digests', () => {
  assert.equal(reason('app@sha256'), 'digest "sha256" is not of the form algorithm:hex (e.g. sha256: followed by 64 hex digits)');
  assert.equal(reason('app@sha256:xyz'), 'digest "sha256:xyz" is not of the form algorithm:hex (e.g. sha256: followed by 64 hex digits)');
  assert.equal(reason('app@sha256:' + 'a'.repeat(63)), 'digest "sha256:' + 'a'.repeat(63) + '" must have exactly 64 lowercase hex digits after "sha256:"');
  assert.equal(reason('app@sha256:' + 'A'.repeat(64)), 'digest "sha256:' + 'A'.repeat(64) + '" must have exactly 64 lowercase hex digits after "sha256:"');
  assert.match(reason('app@' + SHA + '@' + SHA), /^digest ".*" is not of the form algorithm:hex/);
});

test('rejects over-long names and bare image ids', () => {
  assert.equal(reason('a'.repeat(256)), 'the repository name is longer than 255 characters');
  ok('a'.repeat(255));
  const id = 'f'.repeat(64);
  assert.equal(reason(id), `"${id}" looks like an image id (64 hex digits), not a repository name`);
});
