// Transpiles the built component into gen/ with jco, so the tests always run
// the component that `make build` produced last. Fails with a hint when the
// component was never built.

import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { requireJco, transpile } from '../../../scripts/jco.mjs';

const gen = fileURLToPath(new URL('../gen/', import.meta.url));
const jco = requireJco(new URL('../', import.meta.url));

rmSync(gen, { recursive: true, force: true });
transpile(jco, gen);
