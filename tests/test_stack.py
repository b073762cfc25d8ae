"""The embedded stack's lifecycle, driven through the real `edalab` command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from edalab.stack import free_port

EDALAB = [sys.executable, "-m", "edalab"]


def run(args, env, timeout=90):
    return subprocess.run(EDALAB + args, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def private_env(tmp_path):
    """Environment for a second stack of our own (the session stack keeps running)."""
    env = dict(os.environ)
    env.update(EDALAB_HOME=str(tmp_path / "home"), EDALAB_AWS_PORT=str(free_port()),
               EDALAB_KAFKA_PORT=str(free_port()))
    yield env
    run(["down"], env)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_up_status_down_round_trip(private_env):
    aws_port, kafka_port = int(private_env["EDALAB_AWS_PORT"]), int(private_env["EDALAB_KAFKA_PORT"])
    out = run(["up"], private_env)
    assert out.returncode == 0, out.stderr
    assert f"http://127.0.0.1:{aws_port}" in out.stdout and f"127.0.0.1:{kafka_port}" in out.stdout

    again = run(["up"], private_env)
    assert again.returncode == 0 and "already running" in again.stdout

    status = run(["status"], private_env)
    assert status.returncode == 0, status.stdout
    assert status.stdout.count(" up ") == 2

    down = run(["down"], private_env)
    assert down.returncode == 0 and "Stopped: aws, kafka" in down.stdout
    assert not listening(aws_port) and not listening(kafka_port)
    status = run(["status"], private_env)
    assert status.returncode == 1 and "edalab up" in status.stdout


def test_port_in_use_names_the_port_and_starts_nothing(private_env):
    port = int(private_env["EDALAB_KAFKA_PORT"])
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", port))
    squatter.listen()
    try:
        out = run(["up"], private_env)
        assert out.returncode == 1
        assert f"Port {port}" in out.stderr and "in use" in out.stderr and "--kafka-port" in out.stderr
        assert f"pid {os.getpid()}" in out.stderr, "the squatting process is named"
        assert not listening(int(private_env["EDALAB_AWS_PORT"])), "nothing started half-way"
        assert "Traceback" not in out.stderr
    finally:
        squatter.close()


def test_ctrl_c_during_up_leaves_nothing_running(private_env):
    proc = subprocess.Popen(EDALAB + ["up"], env=private_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    # Interrupt once the children exist but before both are healthy, or as soon as possible.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not psutil.Process(proc.pid).children():
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    time.sleep(0.5)
    home = private_env["EDALAB_HOME"]
    leftovers = [p for p in psutil.process_iter(["cmdline"])
                 if any(home in part for part in (p.info["cmdline"] or []))
                 or f"--port {private_env['EDALAB_AWS_PORT']}" in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []
    assert not listening(int(private_env["EDALAB_AWS_PORT"]))
    assert not listening(int(private_env["EDALAB_KAFKA_PORT"]))


def test_down_never_kills_a_process_it_did_not_start(private_env, tmp_path):
    """A stale pid file pointing at someone else's pid (recycled) is not signalled."""
    import json
    from pathlib import Path

    home = Path(private_env["EDALAB_HOME"])
    home.mkdir(parents=True)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (home / "stack.json").write_text(json.dumps({"services": {"aws": {
            "pid": bystander.pid, "argv": ["python", "-m", "edalab.server"], "port": 1}}}))
        out = run(["down"], private_env)
        assert out.returncode == 0 and "was not running" in out.stdout
        assert bystander.poll() is None
    finally:
        bystander.kill()


def test_reset_wipes_emulator_state(stack, aws):
    sqs = aws("sqs")
    sqs.create_queue(QueueName="to-be-wiped")
    assert sqs.list_queues().get("QueueUrls")
    stack.reset(say=lambda *_: None)
    assert not sqs.list_queues().get("QueueUrls")


def test_logs_show_both_services(stack):
    text = stack.logs(lines=100_000)
    assert "== aws" in text and "== kafka" in text and "AWS emulator on" in text
    assert len(stack.logs("aws", lines=3).splitlines()) == 4, "a header and the last 3 lines"
