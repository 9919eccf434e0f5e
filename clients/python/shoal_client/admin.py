"""Admin: a running engine's admin socket (README "Admin socket"): newline-delimited JSON,
`{"cmd": "inspect", "node": "z"}` answered by `{"ok": true, …}` or `{"ok": false, "error": …}`.

The Unix socket is `<data dir>/shoal.sock` unless `[engine] admin` says otherwise; loopback TCP
(`admin_tcp`) needs the `admin_token`.
"""
import json
import os
import socket
from typing import Optional


class AdminError(RuntimeError):
    """The engine answered {"ok": false, "error": …}, or the connection failed."""


class Admin:
    def __init__(self, socket_path: Optional[str] = None, *, tcp: Optional[str] = None,
                 token: Optional[str] = None, data_dir: Optional[str] = None,
                 timeout: float = 30.0):
        if sum(x is not None for x in (socket_path, tcp, data_dir)) != 1:
            raise ValueError("give one of socket_path, tcp=HOST:PORT or data_dir")
        if data_dir is not None:
            socket_path = os.path.join(data_dir, "shoal.sock")
        self.where = socket_path or tcp
        try:
            if tcp is not None:
                host, port = tcp.rsplit(":", 1)
                self._sock = socket.create_connection((host, int(port)), timeout=timeout)
            else:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self._sock.settimeout(timeout)
                self._sock.connect(socket_path)
        except OSError as e:
            raise AdminError(f"cannot reach the admin socket {self.where}: {e}") from None
        self._token = token
        self._buffer = b""

    def request(self, cmd: str, **args):
        """Send one request; return the answer (a dict), or raise AdminError with its error."""
        message = {"cmd": cmd, **{k: v for k, v in args.items() if v is not None}}
        if self._token is not None:
            message["token"] = self._token
        try:
            self._sock.sendall(json.dumps(message).encode() + b"\n")
            while b"\n" not in self._buffer:
                chunk = self._sock.recv(1 << 16)
                if not chunk:
                    raise AdminError(f"{self.where} closed the connection")
                self._buffer += chunk
        except OSError as e:
            # A timeout mid-answer leaves the rest of it in flight: this connection can no
            # longer pair answers with requests.
            self._sock.close()
            raise AdminError(f"{self.where}: {e} (connection closed)") from None
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer = json.loads(line)
        if not answer.get("ok"):
            raise AdminError(answer.get("error", f"{cmd}: failed"))
        return answer

    # One method per command (`shoal admin help` lists them).
    def version(self):
        return self.request("version")

    def graph(self):
        return self.request("graph")

    def nodes(self):
        return self.request("nodes")["nodes"]

    def state(self, node: str) -> str:
        return self.inspect(node)["state"]

    def inspect(self, node: str):
        return self.request("inspect", node=node)

    def window(self, node: str):
        return self.request("window", node=node)

    def outputs(self, node: str, n: int = 100):
        """The node's last n stored outputs (at most 1000), oldest first, as Outputs."""
        from .output import Output
        return [Output.from_map(m) for m in self.request("outputs", node=node, n=n)["outputs"]]

    def pause(self, node: Optional[str] = None):
        return self.request("pause", node=node)

    def resume(self, node: Optional[str] = None):
        return self.request("resume", node=node)

    def restart(self, node: str, fresh: bool = False):
        return self.request("restart", node=node, fresh=fresh or None)

    def metrics(self) -> str:
        return self.request("metrics")["text"]

    def strategies(self):
        return self.request("strategies")

    def subscribers(self):
        return self.request("subscribers")

    def submit(self, text: Optional[str] = None, *, file: Optional[str] = None, dry_run=False):
        return self.request("submit", text=text, file=file, dry_run=dry_run or None)

    def remove(self, strategy: str, dry_run=False):
        return self.request("remove", strategy=strategy, dry_run=dry_run or None)

    def checkpoint(self):
        return self.request("checkpoint")

    def explain(self, node: str, bucket: int, depth: Optional[int] = None):
        return self.request("explain", node=node, bucket=bucket, depth=depth)

    def close(self):
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
