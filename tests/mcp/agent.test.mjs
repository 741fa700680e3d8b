// warroom's MCP tools driven by the official TypeScript SDK client (what most MCP hosts embed):
// `warroom mcp` over stdio, started as a child process, and `/mcp` over streamable HTTP.
// The REST history of each task is the observer: every step the agent took is on the board.
//
//   cd tests/mcp && npm ci && npm test        (WARROOM_BIN picks the binary; default: target/debug/warroom)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { BIN, startServer } from '../protocol/server.mjs';

const TOOLS = [
  'add_comment', 'claim_next_task', 'complete_task', 'create_task', 'get_task', 'list_boards', 'list_comments',
  'list_notifications', 'list_tasks', 'report_progress', 'report_status', 'update_task',
];

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.close(); });

async function rest(method, path, body) {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    headers: { 'X-API-Key': srv.key, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

/** The task's activity types, oldest first. */
async function steps(id) {
  const { body } = await rest('GET', `/api/tasks/${id}/history`);
  return body.map((e) => e.type).reverse();
}

async function connect(transport) {
  const client = new Client({ name: 'warroom-node-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** Calls a tool; its structured result (and `isError`). */
async function call(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.ok(result.structuredContent, `${name} gave structured content`);
  return { ...result.structuredContent, isError: result.isError === true };
}

/** The agent's day against whichever transport: claim, progress, complete, nothing left. */
async function workThroughTheQueue(client, agentId) {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
  for (const tool of tools) {
    assert.ok(tool.description.length > 40, `${tool.name} is described`);
    assert.equal(tool.inputSchema.type, 'object');
  }
  const { id } = (await rest('POST', '/api/tasks', { title: `Work for ${agentId}` })).body;

  const claimed = await call(client, 'claim_next_task');
  assert.equal(claimed.isError, false);
  assert.equal(claimed.task.id, id);
  assert.equal(claimed.task.status, 'IN_PROGRESS');
  assert.equal(claimed.task.claimedBy, agentId);

  const noted = await call(client, 'report_progress', { taskId: id, message: 'half way', percent: 50 });
  assert.deepEqual([noted.task.progress.message, noted.task.progress.percent], ['half way', 50]);
  const agent = await rest('GET', `/api/agents/${agentId}`);
  assert.deepEqual([agent.body.status, agent.body.currentTaskId], ['busy', id]);

  const done = await call(client, 'complete_task', { taskId: id, summary: 'finished' });
  assert.equal(done.task.status, 'DONE');
  assert.deepEqual(await steps(id), ['task.created', 'task.claimed', 'task.progress', 'task.progress', 'task.moved']);
  assert.equal((await rest('GET', `/api/agents/${agentId}`)).body.status, 'idle');

  assert.deepEqual(await call(client, 'claim_next_task'), { task: null, isError: false });
  const missing = await call(client, 'get_task', { taskId: 9999 });
  assert.equal(missing.isError, true);
  assert.equal(missing.error.code, 'TASK_NOT_FOUND');
}

test('an agent works through the queue over stdio (warroom mcp)', async () => {
  const transport = new StdioClientTransport({
    command: BIN,
    args: ['mcp', '--url', srv.url, '--key', srv.key, '--agent-id', 'node-stdio'],
    env: { PATH: process.env.PATH ?? '', RUST_LOG: 'warn' },
    stderr: 'pipe',
  });
  const client = await connect(transport);
  try {
    assert.equal(client.getServerVersion()?.name, 'warroom');
    assert.match(client.getInstructions() ?? '', /node-stdio/);
    await workThroughTheQueue(client, 'node-stdio');
  } finally {
    await client.close();
  }
});

test('an agent works through the queue over streamable HTTP (/mcp)', async () => {
  const transport = new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${srv.key}`, 'X-Agent-Id': 'node-http' } },
  });
  const client = await connect(transport);
  try {
    assert.equal(client.getServerVersion()?.name, 'warroom');
    await workThroughTheQueue(client, 'node-http');
  } finally {
    await client.close();
  }
});

test('streamable HTTP without a key is refused before any MCP traffic', async () => {
  const client = new Client({ name: 'warroom-node-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`));
  await assert.rejects(client.connect(transport), /401|Unauthorized/i);
});
