// Scenario 6: a command whose ack id does not fit in 64 bits (or in 63) is either answered with that same id or
// refused cleanly (not applied, and the client is told: an error or a closed connection); the server keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawSocket, api, figure, healthOnce, server, uid } from './harness.mjs';

const IDS = ['9223372036854775807', '9223372036854775808', '18446744073709551615', '18446744073709551616', '1000000000000000000000000000000'];

test('ack ids at and beyond 2^63 are answered with the same id or refused cleanly, never applied in silence', { timeout: 60_000 }, async () => {
  const srv = await server();
  const outcomes = [];
  try {
    for (const id of IDS) {
      const s = new RawSocket(srv.url);
      const reply = await s.connect({ apiKey: srv.key });
      assert.ok(reply?.startsWith('40'), `handshake: ${reply}`);
      const title = uid('ack-id');
      s.send(`42${id}${JSON.stringify(['task:create', { title }])}`);
      const answer = await s.next((m) => m.startsWith(`43${id}[`) || m.startsWith('42["error"'), 3000);
      const closed = await Promise.race([s.closed, new Promise((r) => setTimeout(() => r(false), 100))]);
      const tasks = (await api(srv, 'GET', `/api/tasks?q=${encodeURIComponent(title)}`)).body ?? [];
      const applied = tasks.some((t) => t.title === title);
      const outcome = answer?.startsWith('43') ? 'answered' : answer ? 'refused with an error event' : closed ? 'connection closed' : 'no answer';
      outcomes.push(`${id}: ${outcome}, ${applied ? 'applied' : 'not applied'}`);
      s.close();
    }
    figure('ack ids', 'outcomes', outcomes.join('; '));
    for (const o of outcomes) {
      assert.ok(o.includes('answered') || (!o.includes('no answer') && o.includes('not applied')), `ack id ${o}`);
    }
    assert.ok(Number.isFinite(await healthOnce(srv.url)), 'the server still answers');
  } finally {
    await srv.close();
  }
});
