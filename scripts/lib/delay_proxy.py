"""A TCP proxy that delivers what a client sends DELAY_MS later, in order, and answers at once:
a Datastore emulator as far away as a real one, for the capacity benchmark (bench-capacity.sh).
Usage: python3 delay_proxy.py LISTEN_PORT TARGET_HOST:TARGET_PORT DELAY_MS
"""

import asyncio
import sys


async def forward(reader, writer, delay):
    """Copies reader to writer, each chunk `delay` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    chunks = asyncio.Queue()

    async def send():
        while (chunk := await chunks.get()) is not None:
            due, data = chunk
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(65536):
            chunks.put_nowait((loop.time() + delay, data))
        chunks.put_nowait(None)
        await sender
    finally:
        # A reset on either side ends both directions' copies of this connection.
        sender.cancel()
        writer.close()


async def main(listen_port, target, delay):
    host, port = target.rsplit(":", 1)

    async def connect(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            forward(client_reader, server_writer, delay),
            forward(server_reader, client_writer, 0),
            return_exceptions=True,
        )

    server = await asyncio.start_server(connect, "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], float(sys.argv[3]) / 1000))
