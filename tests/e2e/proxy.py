"""A TCP relay that can hold traffic, to catch a process in the middle of a request to DynamoDB."""

from __future__ import annotations

import contextlib
import socket
import threading

from devstack.services import free_port


class PausableProxy:
    """Relays 127.0.0.1:<port> to an upstream port. While paused, requests are held, not forwarded;
    `sever()` then drops every held request and connection, as if the network had eaten them."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self._flowing = threading.Event()
        self._flowing.set()
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._holding = threading.Event()  # some request is held now
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def pause(self) -> None:
        self._holding.clear()
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def wait_until_holding(self, timeout: float = 10) -> None:
        """Until some request has reached the proxy while it is paused, and is held."""
        if not self._holding.wait(timeout):
            raise AssertionError(f"no request reached the paused proxy in {timeout} s")

    def sever(self) -> None:
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.close()
            self._connections.clear()

    def close(self) -> None:
        self.sever()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self._connections += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, holds: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if holds:
                    if not self._flowing.is_set():
                        self._holding.set()
                    self._flowing.wait()
                    if source.fileno() == -1:
                        return  # severed while held: the request is dropped
                target.sendall(data)
        for connection in (source, target):
            with contextlib.suppress(OSError):
                connection.close()
