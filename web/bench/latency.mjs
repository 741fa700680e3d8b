// A network farther away than localhost, for the benchmarks: a TCP proxy in front of a server that
// holds every chunk `delayMs` in each direction (a round trip of 2 × delayMs, for HTTP and
// WebSocket frames alike) and a new connection one round trip before anything passes (its
// handshake). The kernel's netem would do this, but is not there on every machine.

import { connect, createServer } from "node:net";

/** Listens on a free local port in front of `target` (a URL); resolves to `{ url, close }`. */
export function delayingProxy(target, delayMs) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  const proxy = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    }
    let open = false;
    const early = [];
    setTimeout(() => {
      open = true;
      for (const chunk of early) upstream.write(chunk);
    }, 2 * delayMs);
    // Chunks keep their order: every one waits the same delay, and timers of equal delay fire in order.
    client.on("data", (chunk) => setTimeout(() => (open ? upstream.write(chunk) : early.push(chunk)), delayMs));
    upstream.on("data", (chunk) => setTimeout(() => client.write(chunk), delayMs));
    client.on("end", () => setTimeout(() => upstream.end(), delayMs + 2 * delayMs));
    upstream.on("end", () => setTimeout(() => client.end(), delayMs));
  });
  return new Promise((resolve) => {
    proxy.listen(0, "127.0.0.1", () => {
      resolve({
        url: `http://127.0.0.1:${proxy.address().port}`,
        close: () => {
          for (const socket of sockets) socket.destroy();
          return new Promise((done) => proxy.close(done));
        },
      });
    });
  });
}
