import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { tempDir } from '../../test/temp-dir.ts';
import { checkBundlePath, checkCreatableDirectory, checkReadableFile, checkWritableFile } from './path-options.ts';

const dir = tempDir('camfleet-paths-');
const file = join(dir, 'file.txt');
writeFileSync(file, 'x');
const bundle = join(dir, 'bundle-seed1');
mkdirSync(bundle);
writeFileSync(join(bundle, 'bundle.json'), '{}');

describe('checkWritableFile (--history)', () => {
  test('a new or existing file in a writable directory passes', () => {
    expect(() => checkWritableFile('history', join(dir, 'h.ndjson'))).not.toThrow();
    expect(() => checkWritableFile('history', file)).not.toThrow();
  });
  test.each([
    [join(dir, 'no', 'such', 'h.ndjson'), `--history ${join(dir, 'no', 'such', 'h.ndjson')}: no such directory`],
    [dir, `--history ${dir}: is a directory`],
    [join(file, 'h.ndjson'), `--history ${join(file, 'h.ndjson')}: ${file} is not a directory`],
    ['', '--history : needs a file name'],
  ])('%s is refused, naming the option and the path', (path, message) => {
    expect(() => checkWritableFile('history', path)).toThrow(message);
  });
});

describe('checkCreatableDirectory (--report)', () => {
  test('an existing directory or one mkdir -p can create passes', () => {
    expect(() => checkCreatableDirectory('report', dir)).not.toThrow();
    expect(() => checkCreatableDirectory('report', join(dir, 'a', 'b', 'c'))).not.toThrow();
  });
  test('a file, or a path below a file, is refused', () => {
    expect(() => checkCreatableDirectory('report', file)).toThrow(`--report ${file}: is a file, not a directory`);
    expect(() => checkCreatableDirectory('report', join(file, 'r'))).toThrow(`${file} is not a directory`);
  });
});

describe('checkBundlePath (--replay) and checkReadableFile (--file)', () => {
  test('a bundle is its folder or its bundle.json; both give the folder', () => {
    expect(checkBundlePath('replay', bundle)).toBe(bundle);
    expect(checkBundlePath('replay', join(bundle, 'bundle.json'))).toBe(bundle);
  });
  test('a missing path, a folder without bundle.json, another file are refused', () => {
    expect(() => checkBundlePath('replay', join(dir, 'gone'))).toThrow(`--replay ${join(dir, 'gone')}: no such bundle`);
    expect(() => checkBundlePath('replay', dir)).toThrow(`--replay ${dir}: no bundle.json in this folder`);
    expect(() => checkBundlePath('replay', file)).toThrow(`--replay ${file}: not a bundle`);
  });
  test('--file must be an existing file', () => {
    expect(() => checkReadableFile('file', file)).not.toThrow();
    expect(() => checkReadableFile('file', join(dir, 'gone.json'))).toThrow('no such file');
    expect(() => checkReadableFile('file', dir)).toThrow('is a directory');
  });
});
