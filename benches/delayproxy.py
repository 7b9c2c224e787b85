#!/usr/bin/env python3
"""A TCP forwarder on loopback that delays every chunk by a fixed time in each direction.

A stand-in for a network link with latency where the kernel has no netem: each chunk read from
one side is written to the other DELAY seconds after it was read, in order. The TCP handshake
itself is not delayed (the listening socket completes it at once), so a real link of the same
latency costs one more round trip per connection, for every client alike.

    delayproxy.py --delay 0.025 --log FILE --lifetime SECS LISTEN_PORT:TARGET_PORT ...

Listens on 127.0.0.1 only and connects only to 127.0.0.1. Prints "ready" once listening. For
every connection, when both directions are done, appends one JSON line to FILE: the listening
port, bytes each way, and the number of "flights" each way: a client flight is a run of
client-to-server chunks with no server-to-client chunk in between, i.e. what the client sent
before it waited for an answer (TLS handshake messages included). Exits after --lifetime seconds
whatever happens, so a forgotten proxy cannot outlive the benchmark.
"""

import argparse
import asyncio
import json
import socket
import sys
import time

HOST = "127.0.0.1"


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Connection:
    def __init__(self, listen_port):
        self.listen_port = listen_port
        self.start = time.time()
        self.events = []  # (monotonic time read, "c2s" | "s2c", bytes)

    def flights(self, direction):
        count, last = 0, None
        for _, d, _ in self.events:
            if d == direction and last != direction:
                count += 1
            last = d
        return count

    def record(self):
        return {
            "listen": self.listen_port,
            "start": self.start,
            "end": time.time(),
            "c2s_flights": self.flights("c2s"),
            "s2c_flights": self.flights("s2c"),
            "c2s_bytes": sum(n for _, d, n in self.events if d == "c2s"),
            "s2c_bytes": sum(n for _, d, n in self.events if d == "s2c"),
        }


async def pump(reader, writer, delay, conn, direction):
    """Reads chunks as they come and writes each one DELAY seconds after it was read."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def read_side():
        try:
            while True:
                data = await reader.read(65536)
                now = loop.time()
                if not data:
                    break
                conn.events.append((now, direction, len(data)))
                queue.put_nowait((now + delay, data))
        except (ConnectionError, OSError):
            pass
        queue.put_nowait((loop.time() + delay, None))

    async def write_side():
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    if writer.can_write_eof():
                        writer.write_eof()
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass

    await asyncio.gather(read_side(), write_side())


async def handle(client_reader, client_writer, listen_port, target_port, delay, log):
    conn = Connection(listen_port)
    nodelay(client_writer)
    try:
        server_reader, server_writer = await asyncio.open_connection(HOST, target_port)
    except OSError:
        client_writer.close()
        return
    nodelay(server_writer)
    try:
        await asyncio.gather(
            pump(client_reader, server_writer, delay, conn, "c2s"),
            pump(server_reader, client_writer, delay, conn, "s2c"),
        )
    finally:
        for w in (client_writer, server_writer):
            w.close()
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps(conn.record()) + "\n")


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay", type=float, default=0.025, help="seconds, each direction")
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=float, default=900)
    ap.add_argument("pairs", nargs="+", metavar="LISTEN_PORT:TARGET_PORT")
    args = ap.parse_args()
    servers = []
    for pair in args.pairs:
        listen, target = (int(p) for p in pair.split(":"))

        def handler(r, w, listen=listen, target=target):
            return handle(r, w, listen, target, args.delay, args.log)

        servers.append(await asyncio.start_server(handler, HOST, listen))
    print("ready", flush=True)
    try:
        await asyncio.sleep(args.lifetime)
    finally:
        for s in servers:
            s.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
