"""A loopback HTTP/1.1 proxy for bench/collect: every request waits DELAY seconds, then goes
to moto_server; each request is appended to a log, one line
`latency_seconds status target start end access_key service` (latency: the delay plus the
upstream's answer; start and end: monotonic seconds; the access key and the service of the
request's SigV4 credential scope, so the bench can tell one account's calls from another's).
Usage:
    collect_proxy.py LISTEN_PORT UPSTREAM_PORT DELAY_SECONDS LOG_FILE
"""
import asyncio
import sys
import time


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    body = await reader.readexactly(length) if length else b""
    return head, body


async def handle(reader, writer, upstream, delay, log):
    try:
        while True:
            try:
                head, body = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            start = time.monotonic()
            await asyncio.sleep(delay)
            lines = [l for l in head.split(b"\r\n") if l and not l.lower().startswith(b"connection:")]
            up_r, up_w = await asyncio.open_connection("127.0.0.1", upstream)
            up_w.write(b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n" + body)
            await up_w.drain()
            answer = await up_r.read()
            up_w.close()
            target, key, service = b"-", b"-", b"-"
            for line in lines:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"x-amz-target":
                    target = v.strip()
                if k.strip().lower() == b"authorization" and b"Credential=" in v:
                    # Credential=AKID/20261205/us-east-1/kms/aws4_request
                    scope = v.split(b"Credential=", 1)[1].split(b",", 1)[0].split(b"/")
                    key, service = scope[0], scope[3] if len(scope) > 3 else b"-"
            if target == b"-":
                target = lines[0].split(b" ")[1].split(b"?")[0]
            # moto answers a call it does not implement with an HTML page and status 500,
            # which the SDK retries as a transient server error (five attempts, seconds of
            # backoff); AWS never answers these calls so. Say 501 instead: the collector still
            # records the call as failed, once, without the emulator's retries in the timing.
            if answer.startswith(b"HTTP/1.1 500") and b"<!doctype html>" in answer[:2048].lower():
                answer = b"HTTP/1.1 501 NOT IMPLEMENTED" + answer[answer.index(b"\r\n"):]
            status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "?"
            end = time.monotonic()
            log.write(
                f"{end - start:.6f} {status} {target.decode()} {start:.6f} {end:.6f} "
                f"{key.decode()} {service.decode()}\n"
            )
            # moto answers `Connection: close`; the client reconnects for the next call.
            writer.write(answer)
            await writer.drain()
            return
    finally:
        writer.close()


async def main():
    listen, upstream, delay, path = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    log = open(path, "a", buffering=1)
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, upstream, delay, log), "127.0.0.1", listen, backlog=1024
    )
    async with server:
        await server.serve_forever()


asyncio.run(main())
