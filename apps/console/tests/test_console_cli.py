"""`lmp console` as a process: on a development data dir it serves with the development
sign-in; outside the embedded stack it refuses to start without a session key."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

LMP = [sys.executable, "-m", "lmp_cli.main", "console"]


def clean_env(tmp_path, **more):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMP_")}
    return env | {"LMP_DATA_DIR": str(tmp_path / "data")} | more


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_outside_the_embedded_stack_it_needs_a_session_key(tmp_path):
    result = subprocess.run(
        LMP,
        env=clean_env(tmp_path, LMP_JWT_SECRET="a-deployment-key-of-thirty-two-bytes"),  # noqa: S106
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "LMP_CONSOLE_SESSION_SECRET_FILE" in result.stderr


def test_on_a_development_data_dir_it_serves_the_dev_sign_in_and_stops_on_sigterm(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        LMP,
        env=clean_env(tmp_path, LMP_CONSOLE_PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"Консоль: http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/signin", timeout=2) as page:
                    assert "Вход для разработки" in page.read().decode()
                    break
            except OSError:
                assert time.monotonic() < deadline, "the console did not answer"
                assert process.poll() is None, "the console exited"
                time.sleep(0.1)
        assert (tmp_path / "data" / "console.secret").exists()
        process.send_signal(signal.SIGTERM)
        # uvicorn stops gracefully, then ends by the signal it got (its exit status says so)
        assert process.wait(timeout=15) == -signal.SIGTERM
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
