// The dashboard's files as a browser gets them: the page never cached, hashed assets cached
// forever, text sent compressed as the build wrote it (brotli, else gzip) to a browser that
// accepts it (and plain to one that does not),
// and a Content-Security-Policy that lets canvas-confetti start its blob: worker. The REST API's
// answers are compressed too (at run time), and the event stream never is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { useServer, board, restCreate, uid } from './helpers.mjs';

useServer();
const T = { timeout: 20000 };

/** A GET with exactly the headers given (fetch would decompress and hide the encoding). */
function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, board.url), { headers }, (res) => {
      // A stream that never ends: its headers are the answer.
      if (/event-stream/.test(res.headers['content-type'] ?? '')) {
        res.destroy();
        return resolve({ status: res.statusCode, headers: res.headers });
      }
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the dashboard script is sent in brotli or gzip when accepted and plain otherwise, the same bytes each way', T, async () => {
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.equal(page.headers['cache-control'], 'no-cache');
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.body.toString())?.[1];
  assert.ok(script, 'index.html names its script');

  const plain = await get(script, { 'accept-encoding': 'identity' });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.match(plain.headers['cache-control'], /immutable/);
  assert.match(plain.headers['content-type'], /javascript/);

  const brotli = await get(script, { 'accept-encoding': 'gzip, deflate, br, zstd' });
  assert.equal(brotli.status, 200);
  assert.equal(brotli.headers['content-encoding'], 'br', 'brotli is preferred when both are accepted');
  assert.match(brotli.headers.vary ?? '', /accept-encoding/i);
  assert.match(brotli.headers['cache-control'], /immutable/);
  assert.match(brotli.headers['content-type'], /javascript/);
  assert.ok(brotliDecompressSync(brotli.body).equals(plain.body), 'the brotli script is the same script');

  const zipped = await get(script, { 'accept-encoding': 'gzip, deflate' });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.ok(gunzipSync(zipped.body).equals(plain.body), 'the gzipped script is the same script');
  assert.ok(brotli.body.length < zipped.body.length, `brotli (${brotli.body.length} bytes) is smaller than gzip (${zipped.body.length})`);
  assert.ok(zipped.body.length * 2 < plain.body.length, `gzip shrinks the script (${zipped.body.length} of ${plain.body.length} bytes)`);

  const refused = await get(script, { 'accept-encoding': 'br;q=0, gzip;q=0' });
  assert.equal(refused.headers['content-encoding'], undefined);
  assert.ok(refused.body.equals(plain.body));

  // A page route (the single-page app) is the same index.html, never cached.
  const route = await get('/b/main/t/1', { 'accept-encoding': 'br' });
  assert.equal(route.status, 200);
  assert.equal(route.headers['cache-control'], 'no-cache');
  const routeBody = route.headers['content-encoding'] === 'br' ? brotliDecompressSync(route.body) : route.body;
  assert.ok(routeBody.equals(page.body));
});

test('the Content-Security-Policy allows blob: workers (confetti) and still no foreign or inline script', T, async () => {
  const page = await get('/');
  const csp = page.headers['content-security-policy'] ?? '';
  const directive = (name) => csp.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `)) ?? '';
  assert.match(directive('worker-src'), /blob:/);
  assert.equal(directive('script-src'), "script-src 'self'");
});

test('the REST API answers in brotli or gzip when accepted, the same JSON each way; the event stream stays plain', T, async () => {
  const tag = uid('zip');
  for (let i = 0; i < 20; i++) await restCreate({ title: `${tag} ${i}`, description: 'Some context for whoever picks this up.' });
  const key = { 'x-api-key': board.key };
  const plain = await get('/api/boards/main/tasks', { ...key, 'accept-encoding': 'identity' });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-encoding'], undefined);
  const tasks = JSON.parse(plain.body.toString());
  assert.ok(tasks.filter((t) => t.title.startsWith(tag)).length === 20);

  const brotli = await get('/api/boards/main/tasks', { ...key, 'accept-encoding': 'gzip, deflate, br, zstd' });
  assert.equal(brotli.headers['content-encoding'], 'br');
  assert.match(brotli.headers.vary ?? '', /accept-encoding/i);
  assert.deepEqual(JSON.parse(brotliDecompressSync(brotli.body).toString()), tasks);
  assert.ok(brotli.body.length * 4 < plain.body.length, `brotli shrinks the tasks (${brotli.body.length} of ${plain.body.length} bytes)`);

  const zipped = await get('/api/boards/main/tasks', { ...key, 'accept-encoding': 'gzip' });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.deepEqual(JSON.parse(gunzipSync(zipped.body).toString()), tasks);

  // An error is JSON in the same shape, whichever way it travels.
  const refused = await get('/api/boards/main/tasks', { 'accept-encoding': 'gzip' });
  assert.equal(refused.status, 401);
  const error = refused.headers['content-encoding'] === 'gzip' ? gunzipSync(refused.body) : refused.body;
  assert.equal(JSON.parse(error.toString()).error.code, 'UNAUTHORIZED');

  // Compressed, the events would wait in the compressor's buffer instead of reaching the watcher.
  const events = await get('/api/events', { ...key, 'accept-encoding': 'gzip, br' });
  assert.equal(events.status, 200);
  assert.equal(events.headers['content-encoding'], undefined);
});
