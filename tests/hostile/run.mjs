// Runs the hostile-load suite: `node run.mjs --short` (make test: smaller counts and floods, the same assertions) or
// `node run.mjs --full` (make bench: the counts and 60-s floods). Further arguments go to `node --test`
// (e.g. `node run.mjs --short keyless.test.mjs`). Scenarios run one at a time: each measures the server alone.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const mode = args.includes('--full') ? 'full' : 'short';
const rest = args.filter((a) => a !== '--full' && a !== '--short');
const files = rest.some((a) => a.endsWith('.mjs')) ? [] : readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort();
// --test-force-exit: a scenario that times out must not leave its file's process (and its server) running.
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-force-exit', ...rest, ...files], {
  cwd: here, stdio: 'inherit', env: { ...process.env, HOSTILE_MODE: mode },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
