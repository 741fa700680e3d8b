#!/usr/bin/env python3
"""Keyless flood against a warroom on loopback, with the server's RSS sampled before, during and after.

Usage: scripts/keyless-flood.py PID PORT SCENARIO [SECONDS] [PARALLEL]
SCENARIO: ws-drop (WebSocket opened, dropped without joining the namespace), polling (keyless polling handshakes),
wrong-key (polling handshake + CONNECT with a wrong key), huge-auth (WebSocket + a 7.8 MB CONNECT auth payload), huge-poll (the same over polling),
idle (TCP connections that never send a byte), slowloris (headers sent one byte a second).
Refuses any address but 127.0.0.1. Prints one line per second: elapsed, RSS in MB, operations done, /api/health
latency in ms; then the RSS for `SECONDS` more after the flood stops.
"""
import asyncio
import base64
import os
import sys
import time

HOST = "127.0.0.1"


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def http(port, request, read=True):
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(request)
    await writer.drain()
    data = b""
    if read:
        data = await asyncio.wait_for(reader.read(65536), 10)
    return reader, writer, data


def ws_frame(payload: bytes) -> bytes:
    """One masked text frame, as a client sends it."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes([0x81, 0x80 | n])
    elif n < 65536:
        head = bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + n.to_bytes(8, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 65536 else _mask_big(payload, mask)
    return head + mask + masked


def _mask_big(payload, mask):
    m = int.from_bytes(mask * (len(payload) // 4 + 1), "big") >> (8 * ((4 - len(payload) % 4) % 4))
    return (int.from_bytes(payload, "big") ^ m).to_bytes(len(payload), "big")


def ws_upgrade(port):
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


POLL = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {h}\r\nConnection: close\r\n\r\n"

HUGE = None


async def once(port, scenario):
    global HUGE
    if scenario == "ws-drop":
        _, w, _ = await http(port, ws_upgrade(port))
        w.close()
    elif scenario == "polling":
        _, w, _ = await http(port, POLL.format(h=f"{HOST}:{port}").encode())
        w.close()
    elif scenario == "wrong-key":
        _, w, data = await http(port, POLL.format(h=f"{HOST}:{port}").encode())
        w.close()
        sid = data.split(b'"sid":"')[1].split(b'"')[0].decode()
        body = b'40{"apiKey":"wrong"}'
        req = (
            f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode() + body
        _, w, _ = await http(port, req)
        w.close()
    elif scenario == "huge-auth":
        if HUGE is None:
            names = ",".join(['"abcdefgh"'] * 700_000)
            HUGE = ws_frame(('40{"apiKey":"wrong","name":[' + names + "]}").encode())
        r, w, _ = await http(port, ws_upgrade(port))
        w.write(HUGE)
        await w.drain()
        try:
            await asyncio.wait_for(r.read(65536), 5)
        except asyncio.TimeoutError:
            pass
        w.close()
    elif scenario == "huge-poll":
        if HUGE is None:
            names = ",".join(['"abcdefgh"'] * 700_000)
            HUGE = ('40{"apiKey":"wrong","name":[' + names + "]}").encode()
        _, w, data = await http(port, POLL.format(h=f"{HOST}:{port}").encode())
        w.close()
        sid = data.split(b'"sid":"')[1].split(b'"')[0].decode()
        req = (
            f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {len(HUGE)}\r\nConnection: close\r\n\r\n"
        ).encode() + HUGE
        _, w, _ = await http(port, req)
        w.close()
    elif scenario == "idle":
        _, w, _ = await http(port, b"", read=False)
        IDLE.append(w)
    elif scenario == "slowloris":
        r, w, _ = await http(port, b"GET / HTTP/1.1\r\n", read=False)
        IDLE.append(w)
        asyncio.get_running_loop().create_task(drip(r, w))


IDLE = []


async def drip(reader, writer):
    try:
        while True:
            await asyncio.sleep(1)
            writer.write(b"X")
            await writer.drain()
    except Exception:
        pass


async def health(port):
    started = time.monotonic()
    try:
        _, w, data = await http(port, f"GET /api/health HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        w.close()
        ok = data.startswith(b"HTTP/1.1 200")
    except Exception:
        ok = False
    return (time.monotonic() - started) * 1000 if ok else float("inf")


async def main():
    pid, port, scenario = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 15
    parallel = int(sys.argv[5]) if len(sys.argv) > 5 else 50
    base = rss_mb(pid)
    print(f"baseline RSS {base:.1f} MB, scenario {scenario}, {seconds:.0f} s, {parallel} at a time", flush=True)
    done = errors = 0
    deadline = time.monotonic() + seconds

    async def worker():
        nonlocal done, errors
        while time.monotonic() < deadline:
            try:
                await once(port, scenario)
                done += 1
            except Exception:
                errors += 1
                await asyncio.sleep(0.01)
            if scenario in ("idle", "slowloris"):
                await asyncio.sleep(0.05)

    workers = [asyncio.create_task(worker()) for _ in range(parallel)]
    peak, lat = base, []
    start = time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(1)
        h = await health(port)
        lat.append(h)
        peak = max(peak, rss_mb(pid))
        print(f"t={time.monotonic() - start:5.1f}s rss={rss_mb(pid):8.1f} MB ops={done} errors={errors} "
              f"health={h:.1f} ms", flush=True)
    await asyncio.gather(*workers, return_exceptions=True)
    for w in IDLE:
        w.close()
    end = rss_mb(pid)
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0
    for i in range(int(seconds)):
        await asyncio.sleep(1)
        if i % 5 == 4:
            print(f"after +{i + 1}s rss={rss_mb(pid):8.1f} MB", flush=True)
    print(f"SUMMARY {scenario}: baseline {base:.1f} MB, peak {peak:.1f} MB (+{peak - base:.1f}), at end {end:.1f} MB, "
          f"{seconds:.0f} s later {rss_mb(pid):.1f} MB; {done} operations, {errors} errors; health p99 {p99:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
