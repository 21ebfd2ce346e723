import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ENV_VARIABLES } from './env.validation.js';

// The variables a user can set are documented in one table and passed through by the compose file;
// a new variable that misses either fails here.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');

describe('the environment variables', () => {
  it('are each a row of the README configuration table', () => {
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## API'));
    const documented = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect([...documented].sort()).toEqual([...ENV_VARIABLES].sort());
  });

  it('are each set for the containers by docker-compose.yml', () => {
    const set = new Set([...compose.matchAll(/^ +([A-Z_]+): /gm)].map((match) => match[1]));
    for (const variable of ENV_VARIABLES) expect({ variable, set: set.has(variable) }).toEqual({ variable, set: true });
  });
});
