// Per-person tokens for protocol tests: the `warroom` command line on a running server's database, as an operator runs it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { api, sleep } from './helpers.mjs';
import { BIN } from './server.mjs';

/** The `warroom` command line: { code, stdout, stderr }. No inherited DATABASE_PATH, no backtraces in the output. */
export function cli(args) {
  const env = { ...process.env };
  for (const k of ['DATABASE_PATH', 'DATABASE_URL', 'RUST_BACKTRACE', 'RUST_LIB_BACKTRACE', 'WAAAH_API_KEY']) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    // 'close', not 'exit': only then has all of its output been read.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `warroom token create` on a running server's database, limited to `boards` when given; waits until the server
 * accepts the token (it re-reads tokens every second). Returns { id, token, name, role }. */
export async function createToken(srv, name, role, boards = []) {
  const r = await cli(['token', 'create', '--name', name, '--role', role, ...boards.flatMap((b) => ['--board', b]), '--db', srv.db]);
  assert.equal(r.code, 0, `token create failed: ${r.stderr}`);
  const lines = r.stdout.split('\n');
  const token = lines[1]?.trim();
  assert.match(token ?? '', /^wr_[0-9a-f]+_[0-9a-f]+$/, `the token is printed on the second line: ${r.stdout}`);
  const id = token.split('_')[1];
  assert.ok(lines[0].includes(id) && lines[0].includes(name) && lines[0].includes(role), `first line names the token: ${lines[0]}`);
  const deadline = Date.now() + 5000;
  for (;;) {
    const probe = await api('GET', '/api/boards', undefined, { key: token });
    if (probe.status === 200) break;
    assert.ok(Date.now() < deadline, `the running server did not pick up the new token within 5 s (${probe.status})`);
    await sleep(50);
  }
  return { id, token, name, role };
}
