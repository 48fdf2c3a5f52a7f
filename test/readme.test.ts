import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_VARIABLES } from '../src/config.ts';

describe('README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it.each(ENVIRONMENT_VARIABLES)('documents %s in the configuration table', (name) => {
    expect(readme).toContain(`| \`${name}\` |`);
  });

  it('shows the quick start and the test command', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
