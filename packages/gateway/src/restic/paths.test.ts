import { describe, expect, it } from 'vitest';
import { parseResticPath, repoPrefix } from './paths.js';

const H = 'ab'.repeat(32);

describe('parseResticPath', () => {
  it('routes the REST API paths for the root repository and nested ones', () => {
    expect(parseResticPath('/')).toEqual({ kind: 'repo', repo: [] });
    expect(parseResticPath('/config')).toEqual({ kind: 'config', repo: [] });
    expect(parseResticPath('/data/')).toEqual({ kind: 'list', repo: [], type: 'data' });
    expect(parseResticPath(`/data/${H}`)).toEqual({
      kind: 'object',
      repo: [],
      type: 'data',
      name: H,
    });
    expect(parseResticPath('/home/laptop/')).toEqual({ kind: 'repo', repo: ['home', 'laptop'] });
    expect(parseResticPath('/home/laptop/config')).toEqual({
      kind: 'config',
      repo: ['home', 'laptop'],
    });
    expect(parseResticPath('/home/locks/')).toEqual({
      kind: 'list',
      repo: ['home'],
      type: 'locks',
    });
    expect(parseResticPath(`/home/keys/${H}`)).toEqual({
      kind: 'object',
      repo: ['home'],
      type: 'keys',
      name: H,
    });
  });

  it('refuses traversal, odd names and bad escapes', () => {
    expect(parseResticPath('/../config')).toBeUndefined();
    expect(parseResticPath('/a/%2e%2e/config')).toBeUndefined();
    expect(parseResticPath('/a%2Fb/config')).toBeUndefined();
    expect(parseResticPath('/%zz/config')).toBeUndefined();
    expect(parseResticPath('relative')).toBeUndefined();
    // a name that is not 64 hex characters is a repository path, never an object
    expect(parseResticPath('/data/abc')).toEqual({ kind: 'repo', repo: ['data', 'abc'] });
  });

  it('maps repositories under the prefix', () => {
    expect(repoPrefix('restic/', [])).toBe('restic/');
    expect(repoPrefix('restic/', ['home', 'laptop'])).toBe('restic/home/laptop/');
  });
});
