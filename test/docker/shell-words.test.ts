import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShellWordsError, splitShellWords } from '../../src/docker/shell-words';

test('splits on runs of blanks, ignoring leading and trailing ones', () => {
  assert.deepEqual(splitShellWords('date'), ['date']);
  assert.deepEqual(splitShellWords('  java   -jar\tapp.jar \n--port 8080  '), ['java', '-jar', 'app.jar', '--port', '8080']);
  assert.deepEqual(splitShellWords(''), []);
  assert.deepEqual(splitShellWords(' \t\n '), []);
});

test('keeps a double-quoted argument whole (the case the Go original broke)', () => {
  assert.deepEqual(splitShellWords('sh -c "echo a b"'), ['sh', '-c', 'echo a b']);
});

test('single quotes are literal, backslashes and double quotes included', () => {
  assert.deepEqual(splitShellWords(`sh -c 'echo "$HOME" \\n'`), ['sh', '-c', 'echo "$HOME" \\n']);
});

test('inside double quotes a backslash escapes only " \\ $ and backquote', () => {
  assert.deepEqual(splitShellWords('"a\\"b"'), ['a"b']);
  assert.deepEqual(splitShellWords('"a\\\\b"'), ['a\\b']);
  assert.deepEqual(splitShellWords('"\\$HOME"'), ['$HOME']);
  assert.deepEqual(splitShellWords('"\\`x\\`"'), ['`x`']);
  assert.deepEqual(splitShellWords('"a\\nb"'), ['a\\nb']);
  assert.deepEqual(splitShellWords('"C:\\dir"'), ['C:\\dir']);
  assert.deepEqual(splitShellWords('"single \' inside"'), ["single ' inside"]);
});

test('outside quotes a backslash escapes any character', () => {
  assert.deepEqual(splitShellWords('a\\ b c'), ['a b', 'c']);
  assert.deepEqual(splitShellWords('\\"x\\"'), ['"x"']);
  assert.deepEqual(splitShellWords("it\\'s"), ["it's"]);
  assert.deepEqual(splitShellWords('\\\\'), ['\\']);
});

test('backslash-newline is a line continuation, inside and outside double quotes', () => {
  assert.deepEqual(splitShellWords('run \\\n--fast'), ['run', '--fast']);
  assert.deepEqual(splitShellWords('ab\\\ncd'), ['abcd']);
  assert.deepEqual(splitShellWords('"ab\\\ncd"'), ['abcd']);
});

test('quoted pieces join the word they touch', () => {
  assert.deepEqual(splitShellWords(`--name="my app"'s'x`), ['--name=my apps' + 'x']);
  assert.deepEqual(splitShellWords(`a"b c"d e`), ['ab cd', 'e']);
});

test('empty quotes make an empty word', () => {
  assert.deepEqual(splitShellWords(`cmd '' ""`), ['cmd', '', '']);
  assert.deepEqual(splitShellWords(`""`), ['']);
});

test('shell syntax other than quoting stays literal: no shell runs the command', () => {
  assert.deepEqual(splitShellWords('echo $HOME *.txt # not a comment; ls | wc'), ['echo', '$HOME', '*.txt', '#', 'not', 'a', 'comment;', 'ls', '|', 'wc']);
  assert.deepEqual(splitShellWords('héllo wörld'), ['héllo', 'wörld']);
});

test('an unterminated quote is an error that says which quote and where', () => {
  assert.throws(() => splitShellWords('sh -c "echo a b'), (error: unknown) => {
    assert.ok(error instanceof ShellWordsError);
    assert.ok(error instanceof Error);
    assert.equal(error.code, 'E_SHELL_WORDS');
    assert.equal(error.message, 'unterminated double quote (opened at character 7)');
    return true;
  });
  assert.throws(() => splitShellWords("echo 'it"), { message: 'unterminated single quote (opened at character 6)' });
  assert.throws(() => splitShellWords('"a\\"'), { message: 'unterminated double quote (opened at character 1)' });
  assert.throws(() => splitShellWords(`'a"b`), { message: 'unterminated single quote (opened at character 1)' });
});

test('a trailing lone backslash is an error', () => {
  assert.throws(() => splitShellWords('echo \\'), { message: 'ends with a backslash that escapes nothing (character 6)' });
});
