"""Start the docker-compose services' own command lines (bin/migrate, bin/web, bin/worker,
bin/beat) on this host against PostgreSQL and Redis, and check that they come up: the web answers
/healthz, and a registration's confirmation e-mail goes through the worker to an SMTP server.

No Docker engine runs here; the processes, their command lines and their settings are those of
docker-compose.yml, with the hosts pointed at this machine's services.
"""

import contextlib
import http.cookiejar
import mailbox
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"compose smoke test: {what} did not happen within {timeout} s")


def main() -> None:
    database_url = os.environ["SMOKE_DATABASE_URL"]
    broker_url = os.environ["SMOKE_BROKER_URL"]
    web_port, smtp_port = free_port(), free_port()
    workdir = Path(tempfile.mkdtemp(prefix="exchange-smoke-"))
    maildir = workdir / "mail"
    base_url = f"http://127.0.0.1:{web_port}"
    env = {
        **os.environ,
        "PATH": f"{BIN}:{ROOT / 'bin'}:{os.environ['PATH']}",
        # As in docker-compose.yml:
        "EXCHANGE_ENV": "production",
        "SECRET_KEY": "compose-smoke-test-secret-key-0123456789abcdef",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "BASE_URL": base_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "MAIL_FROM": "Exchange <no-reply@exchange.localhost>",
        "TRUSTED_HOSTS": "localhost,127.0.0.1",
        "HTTPS": "false",
        "BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "2",
        "BEAT_SCHEDULE": str(workdir / "celerybeat-schedule"),
        "INSTANCE_PATH": str(workdir / "instance"),
    }
    processes = []

    def start(name, *command):
        log = open(workdir / f"{name}.log", "w")  # noqa: SIM115 (kept open for the process)
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append((name, process))
        return process

    try:
        start(
            "mail",
            str(BIN / "flask"),
            "--app",
            "wsgi",
            "exchange",
            "mail-catcher",
            "--port",
            str(smtp_port),
            "--maildir",
            str(maildir),
        )
        subprocess.run(["migrate"], cwd=ROOT, env=env, check=True)
        start("web", "web")
        start("worker", "worker")
        start("beat", "beat")

        def healthy():
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=3) as response:
                return response.status == 200 and b'"status":"ok"' in response.read().replace(
                    b" ", b""
                )

        wait(healthy, 60, "the web process answering /healthz with database and broker ok")
        print("web: /healthz ok")

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{base_url}/register", timeout=10).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        email = f"smoke-{int(time.time())}@example.org"
        form = urllib.parse.urlencode(
            {
                "csrf_token": token,
                "name": "Smoke Test",
                "email": email,
                "password": "a long smoke test passphrase",
                "language": "pt",
                "mode": "new",
                "authority_name": "Prefeitura de Teste",
                "kind": "municipality",
                "country_code": "BR",
                "subdivision_code": "BR-PR",
                "website": "",
            }
        ).encode()
        request = urllib.request.Request(f"{base_url}/register", data=form)
        request.add_header("Referer", f"{base_url}/register")
        response = opener.open(request, timeout=10)
        assert response.url.endswith("/account"), response.url
        print("web: registration accepted")

        def delivered():
            if not maildir.exists():
                return False
            box = mailbox.Maildir(str(maildir), create=False)
            return any(email in (message["To"] or "") for message in box)

        wait(delivered, 60, "the worker sending the confirmation e-mail")
        print("worker: consumed the task and delivered the e-mail")

        wait(lambda: "beat: Starting" in (workdir / "beat.log").read_text(), 30, "beat starting")
        print("beat: started")
        for name, process in processes:
            if process.poll() is not None:
                raise SystemExit(f"compose smoke test: {name} exited with {process.returncode}")
        print("compose smoke test: all services up")
    except BaseException:
        for name in ("web", "worker", "beat", "mail"):
            log = workdir / f"{name}.log"
            if log.exists():
                print(f"----- {name}.log -----\n{log.read_text()[-4000:]}", file=sys.stderr)
        raise
    finally:
        for _, process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
