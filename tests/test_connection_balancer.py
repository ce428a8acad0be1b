"""The parent's balancer with real sockets: each new connection goes to the worker with
the fewest open ones, closes reported back count, and a dead worker's share moves on."""

from __future__ import annotations

import select
import socket

from paperfeed.web.connection_balancer import CLOSED, ConnectionBalancer, channel_pair


def _balancer_with_workers(
    *pids: int,
) -> tuple[socket.socket, ConnectionBalancer, list[socket.socket]]:
    """A listener on loopback, its balancer, and one channel per worker pid: the ends a
    worker would read."""
    listener = socket.create_server(("127.0.0.1", 0))
    balancer = ConnectionBalancer(listener)
    worker_ends = []
    for pid in pids:
        parent_end, worker_end = channel_pair()
        balancer.add_worker(pid, parent_end)
        worker_ends.append(worker_end)
    return listener, balancer, worker_ends


def _close(balancer: ConnectionBalancer, *groups: list[socket.socket]) -> None:
    for connection in (connection for group in groups for connection in group):
        connection.close()
    balancer.stop_accepting()


def _connect(listener: socket.socket, count: int) -> list[socket.socket]:
    return [socket.create_connection(listener.getsockname()) for _ in range(count)]


def _handed_over(worker_end: socket.socket) -> list[socket.socket]:
    """The connections the parent passed to this worker end (as a worker receives them)."""
    worker_end.setblocking(False)
    received: list[socket.socket] = []
    while True:
        try:
            _message, descriptors, _flags, _address = socket.recv_fds(worker_end, 16, 8)
        except BlockingIOError:
            return received
        received += [socket.socket(fileno=descriptor) for descriptor in descriptors]


def _accept_all(
    balancer: ConnectionBalancer, expected: int, ends: list[socket.socket]
) -> list[list[socket.socket]]:
    got: list[list[socket.socket]] = [[] for _ in ends]
    for _ in range(200):
        balancer.wait(0.05)
        for index, end in enumerate(ends):
            got[index] += _handed_over(end)
        if sum(len(connections) for connections in got) >= expected:
            break
    return got


def test_sixteen_keep_alive_connections_split_eight_and_eight() -> None:
    listener, balancer, ends = _balancer_with_workers(101, 102)
    clients = _connect(listener, 16)
    got = _accept_all(balancer, 16, ends)
    assert [len(connections) for connections in got] == [8, 8]
    assert balancer.open_connections() == {101: 8, 102: 8}
    # the handed-over sockets are the clients' connections: bytes flow end to end
    clients[0].sendall(b"ping")
    handed = [connection for connections in got for connection in connections]
    readable, _, _ = select.select(handed, [], [], 5)
    assert [connection.recv(4) for connection in readable] == [b"ping"]
    _close(balancer, clients, handed)


def test_closes_reported_by_a_worker_send_it_the_next_connections() -> None:
    listener, balancer, ends = _balancer_with_workers(201, 202)
    first = _connect(listener, 4)
    first_handed = _accept_all(balancer, 4, ends)
    assert balancer.open_connections() == {201: 2, 202: 2}
    ends[0].send(CLOSED)  # worker 201 says two of its connections closed
    ends[0].send(CLOSED)
    balancer.wait(0.2)
    assert balancer.open_connections() == {201: 0, 202: 2}
    second = _connect(listener, 2)
    got = _accept_all(balancer, 2, ends)
    assert [len(connections) for connections in got] == [2, 0]
    _close(balancer, first, second, *first_handed, *got)


def test_a_worker_that_died_loses_its_turn_and_nothing_is_dropped() -> None:
    listener, balancer, (dead_worker_end, live_worker_end) = _balancer_with_workers(301, 302)
    dead_worker_end.close()  # the worker process is gone
    clients = _connect(listener, 3)
    got = _accept_all(balancer, 3, [live_worker_end])
    assert len(got[0]) == 3
    assert set(balancer.open_connections()) == {302}
    _close(balancer, clients, got[0])
