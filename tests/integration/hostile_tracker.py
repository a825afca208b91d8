"""A small hostile tracker for the tests, on loopback: HTTP paths and UDP
ports that each misbehave in one way. It counts the requests it gets, so a
test can see that the client retried."""
import http.server
import socket
import struct
import threading

# HTTP: path -> (status, headers, body)
_HTTP = {
    "/bad-bencode": (200, {}, b"d8:intervali30e5:peers6:abc"),
    "/html": (200, {"Content-Type": "text/html"}, b"<html>tracker down</html>"),
    "/http-500": (500, {}, b"oops"),
    "/redirect-a": (302, {"Location": "/redirect-b"}, b""),
    "/redirect-b": (302, {"Location": "/redirect-a"}, b""),
    "/peers-7": (200, {}, b"d8:intervali30e5:peers7:abcdefge"),
    "/failure": (200, {}, b"d14:failure reason14:torrent bannede"),
    "/huge": (200, {}, b"d8:intervali30e5:peers" + str(2 << 20).encode() + b":" + b"\x7f" * (2 << 20) + b"e"),
}


class HostileTracker:
    UDP_MODES = ("truncated", "wrong-tid", "wrong-action", "error")

    def __init__(self):
        self.counts = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                outer._count(path)
                status, headers, body = _HTTP.get(path, (404, {}, b"no"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on the body: that is the point of /huge

            def log_message(self, *a):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # clients hanging up mid-reply are expected here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.http_port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.udp = {}
        self.stop = False
        for mode in self.UDP_MODES:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.settimeout(0.2)
            self.udp[mode] = s
            threading.Thread(target=self._serve_udp, args=(mode, s), daemon=True).start()

    def _count(self, key):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1

    def count(self, key):
        with self.lock:
            return self.counts.get(key, 0)

    def http_url(self, path):
        return f"http://127.0.0.1:{self.http_port}{path}"

    def udp_url(self, mode):
        return f"udp://127.0.0.1:{self.udp[mode].getsockname()[1]}"

    def _serve_udp(self, mode, s):
        while not self.stop:
            try:
                data, peer = s.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(data) < 16:
                continue
            self._count("udp-" + mode)
            action, tid = struct.unpack(">II", data[8:16])
            if action == 0:  # connect: answered properly, the announce gets the bad reply
                s.sendto(struct.pack(">IIQ", 0, tid, 0x1122334455667788), peer)
                continue
            if mode == "truncated":
                s.sendto(struct.pack(">II", 1, tid) + b"\x00\x00", peer)
            elif mode == "wrong-tid":
                s.sendto(struct.pack(">IIIII", 1, tid ^ 0xFFFF, 60, 0, 0), peer)
            elif mode == "wrong-action":
                s.sendto(struct.pack(">II", 2, tid) + b"\x00" * 12, peer)
            elif mode == "error":
                s.sendto(struct.pack(">II", 3, tid) + b"info_hash not allowed", peer)

    def close(self):
        self.stop = True
        self.httpd.shutdown()
        self.httpd.server_close()
        for s in self.udp.values():
            s.close()
