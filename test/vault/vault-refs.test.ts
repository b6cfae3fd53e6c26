// vault:// reference parsing (docs/vault-and-aws.md), case by case, including what the Go
// original's url.Parse-based parsing accepted so task definitions keep working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findVaultRefs, isVaultReference, parseVaultRef } from '../../src/vault/vault-refs';
import { VaultError } from '../../src/vault/vault-error';

const parse = (ref: string) => parseVaultRef('VAR', ref);

test('isVaultReference: exactly the vault:// prefix, case-sensitive, as Go HasPrefix', () => {
  for (const yes of ['vault://secret/x', 'vault://test', 'vault://']) assert.equal(isVaultReference(yes), true, yes);
  for (const no of ['value', '1234', 'http://url', 'VAULT://secret/x', ' vault://secret/x', 'vault:/secret/x', 'vault:secret', '']) {
    assert.equal(isVaultReference(no), false, no);
  }
});

test('path is host + path and the key defaults to "value"', () => {
  assert.deepEqual(parse('vault://secret/db_pass'), { path: 'secret/db_pass', key: 'value', ignoredParams: [] });
  assert.deepEqual(parse('vault://test'), { path: 'test', key: 'value', ignoredParams: [] });
  assert.deepEqual(parse('vault://secret/hello-service/db'), { path: 'secret/hello-service/db', key: 'value', ignoredParams: [] });
});

test('?key= selects the field', () => {
  assert.deepEqual(parse('vault://secret/prod-database?key=username'), { path: 'secret/prod-database', key: 'username', ignoredParams: [] });
  assert.equal(parse('vault://kv/data/app?key=api_key').key, 'api_key');
  assert.equal(parse('vault://kv/data/app?key=value').key, 'value');
});

test('query decoding follows Go url.ParseQuery: percent-escapes and + as space; first key wins', () => {
  assert.equal(parse('vault://secret/x?key=my%20key').key, 'my key');
  assert.equal(parse('vault://secret/x?key=a+b').key, 'a b');
  assert.equal(parse('vault://secret/x?key=first&key=second').key, 'first');
  assert.equal(parse('vault://secret/x?key=a%3Db').key, 'a=b');
});

test('unknown query parameters are ignored but reported; an empty query is no query', () => {
  assert.deepEqual(parse('vault://secret/x?version=2&key=k&foo=1&foo=2'), { path: 'secret/x', key: 'k', ignoredParams: ['version', 'foo'] });
  assert.deepEqual(parse('vault://secret/x?'), { path: 'secret/x', key: 'value', ignoredParams: [] });
  assert.deepEqual(parse('vault://secret/x?foo'), { path: 'secret/x', key: 'value', ignoredParams: ['foo'] });
});

test('the path is percent-decoded and a #fragment is dropped, as url.Parse does', () => {
  assert.equal(parse('vault://secret/my%20app/db').path, 'secret/my app/db');
  assert.equal(parse('vault://secret/x#frag').path, 'secret/x');
  assert.deepEqual(parse('vault://secret/x?key=k#frag'), { path: 'secret/x', key: 'k', ignoredParams: [] });
  assert.equal(parse('vault://secret/a:b@c').path, 'secret/a:b@c');
});

function assertBad(ref: string, why: RegExp): void {
  assert.throws(() => parseVaultRef('DB_PASS', ref), (err: unknown) => {
    assert.ok(err instanceof VaultError);
    assert.equal(err.code, 'E_VAULT_BAD_REF');
    assert.equal(err.variable, 'DB_PASS');
    assert.match(err.message, /^DB_PASS: malformed Vault reference /);
    assert.ok(err.message.includes(JSON.stringify(ref)), 'names the reference');
    assert.match(err.message, why);
    return true;
  }, ref);
}

test('malformed references fail naming the variable, the reference and why', () => {
  assertBad('vault://', /no path/);
  assertBad('vault://?key=k', /no path/);
  assertBad('vault://#x', /no path/);
  assertBad('vault:///secret/x', /empty path segment/);
  assertBad('vault://secret/x/', /empty path segment/);
  assertBad('vault://secret//x', /empty path segment/);
  assertBad('vault://secret/../sys/x', /"\." or "\.\."/);
  assertBad('vault://./secret', /"\." or "\.\."/);
  assertBad('vault://secret/%zz', /percent-escape/);
  assertBad('vault://secret/a%0Ab', /control character in the path/);
  assertBad('vault://secret/x?key=', /empty key/);
  assertBad('vault://secret/x?key=&key=k', /empty key/);
  assertBad('vault://secret/x?key=a%00', /control character in the key/);
  assertBad('http://secret/x', /expected vault:\/\//);
});

test('findVaultRefs: entries whose value is a reference, with index and variable, in order', () => {
  const env = [
    'Key1=Value1', 'DB=vault://secret/db', 'BARE', 'URL=http://x', 'EMPTY=', 'A=B=vault://not/a/value',
    'PW=vault://secret/db?key=password', '=vault://secret/anon', 'SPACED= vault://secret/x',
  ];
  assert.deepEqual(findVaultRefs(env), [
    { index: 1, variable: 'DB', reference: 'vault://secret/db', path: 'secret/db', key: 'value', ignoredParams: [] },
    { index: 6, variable: 'PW', reference: 'vault://secret/db?key=password', path: 'secret/db', key: 'password', ignoredParams: [] },
    { index: 7, variable: '', reference: 'vault://secret/anon', path: 'secret/anon', key: 'value', ignoredParams: [] },
  ]);
});

test('findVaultRefs: a value containing vault:// after the first = is split at the first =', () => {
  assert.deepEqual(findVaultRefs(['X=a=vault://secret/x']), []);
  assert.equal(findVaultRefs(['X=vault://secret/x?key=a=b'])[0].key, 'a=b');
});

test('findVaultRefs: nothing to do for an env without references, including the empty env', () => {
  assert.deepEqual(findVaultRefs([]), []);
  assert.deepEqual(findVaultRefs(['PATH=/bin', 'JAVA_OPTS=-Xmx1g -Dvault=vault://x', 'UNSET_ME']), []);
});

test('findVaultRefs: the first malformed reference throws, naming its variable', () => {
  assert.throws(() => findVaultRefs(['OK=vault://secret/a', 'BROKEN=vault://', 'LATER=vault:///x']), (err: unknown) => {
    assert.ok(err instanceof VaultError);
    assert.equal(err.code, 'E_VAULT_BAD_REF');
    assert.equal(err.variable, 'BROKEN');
    return true;
  });
});
