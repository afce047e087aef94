import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeOption } from '../../src/config/option.js';
import { AUDIT_OPTION_SPECS } from '../../src/audit/options.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const start = readme.indexOf('## `crosstalk audit`');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

it("the README's audit flag table is the declared options, row for row, in declaration order", () => {
  const rows = section.split('\n').filter((line) => /^\| `--[a-z-]+( <[^>]+>)?` \| `CROSSTALK_/.test(line));
  expect(rows).toEqual(AUDIT_OPTION_SPECS.map((o) => `| \`${o.flags}\` | \`${o.env}\` | ${describeOption(o)} |`));
});

it('the README documents every exit code of the audit and both grace defaults', () => {
  for (const row of ['| 0 | clean |', '| 1 | violation |', '| 2 | could not run |', '| 3 | unverified |']) {
    expect(section).toContain(row);
  }
  expect(section).toContain('| `--sessions-grace <duration>` | `15m`');
  expect(section).toContain('| `--routed-grace <duration>` | `30s`');
});
