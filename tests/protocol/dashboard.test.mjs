// The dashboard's files as a browser gets them: the page never cached, hashed assets cached
// forever, text sent gzipped to a browser that accepts it (and plain to one that does not),
// and a Content-Security-Policy that lets canvas-confetti start its blob: worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { useServer, board } from './helpers.mjs';

useServer();
const T = { timeout: 20000 };

/** A GET with exactly the headers given (fetch would decompress and hide the encoding). */
function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, board.url), { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the dashboard script is sent gzipped when accepted and plain otherwise, the same bytes either way', T, async () => {
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.equal(page.headers['cache-control'], 'no-cache');
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.body.toString())?.[1];
  assert.ok(script, 'index.html names its script');

  const plain = await get(script, { 'accept-encoding': 'identity' });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.match(plain.headers['cache-control'], /immutable/);

  const zipped = await get(script, { 'accept-encoding': 'gzip, deflate, br' });
  assert.equal(zipped.status, 200);
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.match(zipped.headers.vary ?? '', /accept-encoding/i);
  assert.ok(zipped.body.length * 2 < plain.body.length, `gzip shrinks the script (${zipped.body.length} of ${plain.body.length} bytes)`);
  assert.ok(gunzipSync(zipped.body).equals(plain.body), 'the gzipped script is the same script');

  const refused = await get(script, { 'accept-encoding': 'gzip;q=0' });
  assert.equal(refused.headers['content-encoding'], undefined);
});

test('the Content-Security-Policy allows blob: workers (confetti) and still no foreign or inline script', T, async () => {
  const page = await get('/');
  const csp = page.headers['content-security-policy'] ?? '';
  const directive = (name) => csp.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `)) ?? '';
  assert.match(directive('worker-src'), /blob:/);
  assert.equal(directive('script-src'), "script-src 'self'");
});
