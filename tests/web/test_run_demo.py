"""`linda run-demo` (what `make demo` ends with) wires its workers to the server it starts."""

from __future__ import annotations

from linda.web.management.commands.run_demo import local_url, worker_argv


def test_the_simulator_sends_to_the_port_the_demo_serves() -> None:
    """`make demo PORT=8010`: the simulator's heartbeats went to LINDA_PUBLIC_URL's default
    port 8000 and were all refused."""
    url = local_url("127.0.0.1", 8010)
    assert url == "http://127.0.0.1:8010"
    assert worker_argv(["simulate", "--live"], url) == [
        "simulate", "--live", "--url", "http://127.0.0.1:8010"]
    assert worker_argv(["monitor"], url) == ["monitor"]


def test_a_wildcard_bind_is_reached_on_loopback() -> None:
    assert local_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert local_url("::1", 8000) == "http://[::1]:8000"
