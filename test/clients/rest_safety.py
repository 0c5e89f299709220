#!/usr/bin/env python3
"""rest_safety.py: bad and hostile clients against fhir-server (issue 13, item 5), with
raw sockets so every byte and every timing is the test's own. Run by
test/scripts/rest_server.sh, which starts the server with short limits:
--read-timeout 2 --max-header 8k --max-body 1m --pool 4 --pool-wait 0.5.

  rest_safety.py bad HOST PORT BASEPATH          malformed requests, limits, slowloris
  rest_safety.py concurrent HOST PORT PATH N     N reads at once; prints "status seconds retry-after" per read
  rest_safety.py slowreader HOST PORT PATH       asks for a large response and does not read it:
                                                 the server must give up at --write-timeout (2 s)
  rest_safety.py load HOST PORT PATH SECONDS     4 clients in a loop; prints per-status counts and
                                                 the statuses of the last second (JSON)
Prints "ok"/"FAIL" lines and a summary for `bad`; exits non-zero on a failure.
"""
import json
import socket
import sys
import threading
import time
import http.client

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   - {name}")
    else:
        failed += 1
        print(f"FAIL - {name}" + (f": {detail}" if detail else ""))


def raw(host, port, data, timeout=5.0, send_delay=None):
    """Sends bytes, returns (status, head+body text, seconds) of the first response."""
    s = socket.create_connection((host, port), timeout=timeout)
    t0 = time.monotonic()
    try:
        s.sendall(data)
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                break
            if not chunk:
                break
            buf += chunk
            if b"\r\n\r\n" in buf:
                head, _, rest = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip())
                if len(rest) >= length:
                    break
        text = buf.decode("utf-8", "replace")
        status = int(text.split(" ")[1]) if text.startswith("HTTP/1.1 ") else 0
        return status, text, time.monotonic() - t0
    finally:
        s.close()


def get(host, port, path, headers=None, method="GET", body=None, timeout=10):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    t0 = time.monotonic()
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data, time.monotonic() - t0
    except (OSError, http.client.HTTPException) as e:
        return 0, {}, str(e).encode(), time.monotonic() - t0
    finally:
        c.close()


def is_outcome(text):
    body = text.split("\r\n\r\n", 1)[-1]
    try:
        return json.loads(body)["resourceType"] == "OperationOutcome"
    except (ValueError, KeyError, TypeError):
        return False


def bad(host, port, base):
    hp = f"Host: {host}:{port}\r\n"
    # malformed request line and URL
    st, text, _ = raw(host, port, b"GET /fhir/Patient HTTP/1.1 extra\r\n" + hp.encode() + b"\r\n")
    check("malformed request line: 400", st == 400, f"{st}")
    st, text, _ = raw(host, port, b"BREW\x01 / HTTP/1.1\r\n\r\n")
    check("garbage method: 400", st == 400, f"{st}")
    st, text, _ = raw(host, port, f"GET {base}/Patient/%zz HTTP/1.1\r\n{hp}\r\n".encode())
    check("bad percent escape in the path: 400 with an OperationOutcome", st == 400 and is_outcome(text), f"{st}")
    st, text, _ = raw(host, port, f"GET {base}/Patient?name=%C3%28 HTTP/1.1\r\n{hp}\r\n".encode())
    check("query that decodes to invalid UTF-8: 400", st == 400 and is_outcome(text), f"{st}")
    st, text, _ = raw(host, port, f"GET {base}/Patient/{'x' * 100}/_history/abc HTTP/1.1\r\n{hp}\r\n".encode())
    check("bad id and version: 4xx", 400 <= st < 500 and is_outcome(text), f"{st}")
    # huge headers and bodies are refused fast, before anything is read or stored
    st, text, secs = raw(host, port, f"GET {base}/metadata HTTP/1.1\r\n{hp}X-Big: {'a' * 20000}\r\n\r\n".encode())
    check(f"20 kB header: 431 in {secs * 1000:.0f} ms", st == 431 and secs < 1 and is_outcome(text), f"{st} {secs:.2f}s")
    st, text, secs = raw(host, port, f"GET /{'p' * 12000} HTTP/1.1\r\n{hp}\r\n".encode())
    check(f"12 kB URL: 431 in {secs * 1000:.0f} ms", st == 431 and secs < 1, f"{st} {secs:.2f}s")
    st, text, secs = raw(host, port, f"POST {base}/Patient HTTP/1.1\r\n{hp}Content-Type: application/fhir+json\r\n"
                                      f"Content-Length: 50000000\r\n\r\n{{".encode())
    check(f"50 MB declared body: 413 in {secs * 1000:.0f} ms without reading it", st == 413 and secs < 1 and is_outcome(text),
          f"{st} {secs:.2f}s")
    chunked = f"POST {base}/Patient HTTP/1.1\r\n{hp}Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = "x" * 65536
    payload = chunked + "".join(f"{len(chunk):x}\r\n{chunk}\r\n" for _ in range(20)) + "0\r\n\r\n"
    st, text, secs = raw(host, port, payload.encode())
    check(f"1.3 MB chunked body past --max-body: 413 in {secs * 1000:.0f} ms", st == 413 and secs < 2, f"{st} {secs:.2f}s")
    # bodies that are not what they claim
    body = b'{"resourceType": "Patient", '
    st, text, _ = raw(host, port, f"POST {base}/Patient HTTP/1.1\r\n{hp}Content-Type: application/fhir+json\r\n"
                                   f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    check("invalid JSON: 400 with an OperationOutcome", st == 400 and is_outcome(text), f"{st}")
    body = b'<Patient xmlns="http://hl7.org/fhir"/>'
    st, text, _ = raw(host, port, f"POST {base}/Patient HTTP/1.1\r\n{hp}Content-Type: application/fhir+xml\r\n"
                                   f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    check("XML body: 415 Unsupported Media Type", st == 415 and is_outcome(text), f"{st}")
    st, text, _ = raw(host, port, f"POST {base}/Patient HTTP/1.1\r\n{hp}Content-Type: application/fhir+json\r\n"
                                   f"Content-Encoding: br\r\nContent-Length: 2\r\n\r\n{{}}".encode())
    check("unknown Content-Encoding: 415", st == 415, f"{st}")
    st, text, _ = raw(host, port, f"GET {base}/metadata HTTP/1.1\r\n{hp}Accept: application/fhir+xml\r\n\r\n".encode())
    check("Accept: application/fhir+xml: 406", st == 406 and is_outcome(text), f"{st}")
    st, text, _ = raw(host, port, f"GET {base}/metadata HTTP/1.1\r\n{hp}Accept: text/html, application/*;q=0.5\r\n\r\n".encode())
    check("Accept with application/*: 200", st == 200, f"{st}")
    st, text, _ = raw(host, port, f"PUT {base}/Patient/x1 HTTP/1.1\r\n{hp}Content-Type: application/fhir+json\r\n"
                                   f"Content-Length: 41\r\n\r\n{{\"resourceType\":\"Patient\",\"id\":\"other\"}}  ".encode())
    check("update whose id is not the URL's: 400", st == 400 and is_outcome(text), f"{st}")
    st, _, _ = raw(host, port, f"DELETE {base}/metadata HTTP/1.1\r\n{hp}\r\n".encode())
    check("DELETE on metadata: 4xx", 400 <= st < 500, f"{st}")
    # Expect: 100-continue gets its interim response, then the body is read
    s = socket.create_connection((host, port), timeout=5)
    body = b'{"resourceType":"Patient","gender":"other"}'
    s.sendall(f"POST {base}/Patient HTTP/1.1\r\n{hp}Content-Type: application/fhir+json\r\nExpect: 100-continue\r\n"
              f"Content-Length: {len(body)}\r\n\r\n".encode())
    interim = s.recv(100)
    s.sendall(body)
    final = s.recv(65536)
    s.close()
    check("Expect: 100-continue, then 201", interim.startswith(b"HTTP/1.1 100") and b"201 Created" in final,
          f"{interim[:20]} {final[:20]}")

    # slowloris: headers trickled one byte at a time are cut off at --read-timeout (2 s),
    # and other clients are served meanwhile
    s = socket.create_connection((host, port), timeout=10)
    t0 = time.monotonic()
    line = f"GET {base}/metadata HTTP/1.1\r\n{hp}X-Slow: " + "a" * 200
    closed_after = None
    result = {}

    def normal():
        time.sleep(0.5)
        result["status"], _, _, result["secs"] = get(host, port, f"{base}/Patient?_count=1")

    t = threading.Thread(target=normal)
    t.start()
    for ch in line:
        try:
            s.sendall(ch.encode())
            s.settimeout(0.25)
            data = s.recv(100)
            if data == b"":
                closed_after = time.monotonic() - t0
                break
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            closed_after = time.monotonic() - t0
            break
        if time.monotonic() - t0 > 8:
            break
    s.close()
    t.join()
    check(f"slowloris client cut off after {closed_after or 0:.1f} s (read timeout 2 s)",
          closed_after is not None and 1.5 < closed_after < 4, f"{closed_after}")
    check("another client is served while the slow one trickles", result.get("status") == 200 and result.get("secs", 9) < 1,
          f"{result}")
    # a connection that opens and sends nothing is closed at the idle timeout, not kept forever
    # (idle timeout 3 s in the test); many at once do not block others
    idle = [socket.create_connection((host, port), timeout=10) for _ in range(50)]
    st, _, _, secs = get(host, port, f"{base}/metadata")
    check("50 idle connections open: a request is still served", st == 200, f"{st}")
    t0 = time.monotonic()
    idle[0].settimeout(10)
    try:
        gone = idle[0].recv(1) == b""
    except OSError:
        gone = True
    waited = time.monotonic() - t0
    for c in idle:
        c.close()
    check(f"idle connection closed after {waited:.1f} s (idle timeout 3 s)", gone and waited < 5, f"{gone} {waited:.1f}")
    # keep-alive: several requests on one connection
    c = http.client.HTTPConnection(host, port, timeout=5)
    statuses = []
    for _ in range(5):
        c.request("GET", f"{base}/Patient?_count=1")
        r = c.getresponse()
        r.read()
        statuses.append(r.status)
    c.close()
    check("keep-alive: 5 requests on one connection", statuses == [200] * 5, f"{statuses}")
    st, _, _, _ = get(host, port, f"{base}/metadata")
    check("the server is still up after all of that", st == 200, f"{st}")
    print(f"rest safety: {passed} passed, {failed} failed")
    return failed == 0


def concurrent(host, port, path, n):
    out = [None] * n

    def one(i):
        st, hdrs, _, secs = get(host, port, path, timeout=30)
        out[i] = (st, secs, hdrs.get("retry-after", "-"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for st, secs, retry in out:
        print(f"{st} {secs:.3f} {retry}")
    return True


def slowreader(host, port, path):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    s.connect((host, port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    time.sleep(0.5)
    st, _, _, secs = get(host, port, path.rsplit("/", 1)[0] + "?_count=1")
    check(f"while a client does not read its response, another is served ({secs * 1000:.0f} ms)", st == 200 and secs < 1,
          f"{st} {secs:.2f}")
    time.sleep(3.5)  # past the write timeout
    s.settimeout(10)
    data = b""
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    check(f"a client that does not read is cut off at --write-timeout ({len(body):,} of {length:,} bytes sent)",
          head.startswith(b"HTTP/1.1 200") and length > 0 and len(body) < length, f"{head[:40]} {len(body)} {length}")
    print(f"rest safety: {passed} passed, {failed} failed")
    return failed == 0


def load(host, port, path, seconds):
    counts = {}
    last = []
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker():
        while time.monotonic() < end:
            st, _, _, _ = get(host, port, path, timeout=10)
            now = time.monotonic()
            with lock:
                counts[st] = counts.get(st, 0) + 1
                if now > end - 1:
                    last.append(st)
            if st != 200:
                time.sleep(0.02)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"counts": counts, "last_second": sorted(set(last))}))
    return True


if __name__ == "__main__":
    cmd = sys.argv[1]
    host, port = sys.argv[2], int(sys.argv[3])
    if cmd == "bad":
        ok = bad(host, port, sys.argv[4])
    elif cmd == "slowreader":
        ok = slowreader(host, port, sys.argv[4])
    elif cmd == "concurrent":
        ok = concurrent(host, port, sys.argv[4], int(sys.argv[5]))
    elif cmd == "load":
        ok = load(host, port, sys.argv[4], float(sys.argv[5]))
    else:
        sys.exit(f"unknown command {cmd}")
    sys.exit(0 if ok else 1)
