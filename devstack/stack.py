"""The whole pipeline on one machine: Redis (Valkey), S3+SQS (moto server), the Chalice API,
the upload-event consumer (the chunking Lambda's handler), processors, the assembler and the
webhook sender.

Each part is a real server or process speaking the same protocols as on AWS; only the
endpoints differ (they come from the environment, as in a deployment).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import requests

from chalicelib.model.kinds import Role
from chalicelib.model.settings import Settings
from chalicelib.stores.services import reset_services
from devstack.client import API_KEY_ENV
from devstack.procs import LOCAL_CREDENTIALS, Service, ValkeyProcess, free_port, start_moto, wait_until
from devstack.server import serve_api

LOCAL_OWNER = "local"
# Locally a failed chunker invocation is retried after this long (on AWS: 6x the Lambda timeout).
UPLOAD_VISIBILITY_SECONDS = 10
DEV_SERVER_PORT = 5173  # `npm run dev` in frontend/


def provision(settings: Settings, cors_origins: tuple[str, ...] = ("*",)) -> None:
    """Create the buckets, the upload-event queue (with DLQ) and the S3 → SQS notification."""
    from chalicelib.stores.clients import get_s3, get_sqs

    s3, sqs = get_s3(), get_sqs()
    for bucket in {settings.upload_bucket, settings.work_bucket, settings.output_bucket}:
        try:
            s3.create_bucket(Bucket=bucket)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
    # Versioned, as on AWS: workers read the exact version the chunker probed.
    s3.put_bucket_versioning(Bucket=settings.upload_bucket, VersioningConfiguration={"Status": "Enabled"})
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
        from chalicelib.logs import get_logger
        from chalicelib.stores.clients import get_sqs

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

    def start_worker(self, role: Role) -> Service:
        """Start one worker process (as an ECS task would)."""
        index = len(self.workers)
        svc = Service(f"{role}-{index}", [sys.executable, "-m", "workers", "--role", role, "--name", f"{role}-{index}"],
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


def start_stack(workers: int = 2, api_port: int = 0, home: Path | None = None, *,
                settings: Settings | None = None, assemblers: int = 1, notifiers: int = 1,
                s3_via: Callable[[str], str] | None = None) -> Stack:
    """Start every part of the pipeline (with ``notifiers`` webhook senders); ``Stack.close()``
    stops them all.

    ``s3_via`` maps the S3/SQS endpoint to the one everything should use instead (fault tests
    put a proxy they can cut in between).
    """
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
        port = api_port or free_port()
        # The browser app's origins (and Vite's dev server) may use the local S3; no other page.
        origins = tuple(f"http://{host}:{p}" for host in ("127.0.0.1", "localhost") for p in (port, DEV_SERVER_PORT))
        moto, s3_url = start_moto(home, origins=origins)
        exit_stack.callback(moto.stop)
        if s3_via is not None:
            s3_url = s3_via(s3_url)
        # Streams play from this server's /play (CloudFront's part on AWS), with tokens signed by
        # a secret of this stack's own unless one is given.
        settings = replace(base, redis_url=redis_url, s3_endpoint_url=s3_url, sqs_endpoint_url=s3_url,
                           work_dir=str(home / "scratch"), playback_base_url=f"http://127.0.0.1:{port}/play",
                           playback_secret=base.playback_secret or secrets.token_urlsafe(32))
        Path(settings.work_dir).mkdir(exist_ok=True)
        os.environ.update({**LOCAL_CREDENTIALS, **settings.env()})
        reset_services()
        provision(settings, origins)

        from app import app
        from chalicelib.stores.services import get_services

        # The local owner's key: the CLI and the served browser app use it.
        api_key = get_services().keys.create(LOCAL_OWNER, "local stack")
        os.environ[API_KEY_ENV] = api_key
        server = serve_api(app, settings, port, api_key)
        exit_stack.callback(server.server.server_close)
        exit_stack.callback(server.shutdown)
        api_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(f"{api_url}/health", timeout=2).ok, "API")

        pump = EventPump(settings)
        pump.start()
        exit_stack.callback(pump.join, 5)
        exit_stack.callback(pump.stopping.set)

        stack = Stack(settings, api_url, s3_url, home, api_key, valkey=valkey, _exit=exit_stack)
        for _ in range(workers):
            stack.start_worker(Role.PROCESSOR)
        for _ in range(assemblers):
            stack.start_worker(Role.ASSEMBLER)
        for _ in range(notifiers):
            stack.start_worker(Role.NOTIFIER)
        # Ready when the processors have said they run: a job submitted now is estimated on them.
        fleet = get_services().fleet
        if fleet is not None and workers:
            wait_until(lambda: len(fleet.seen(Role.PROCESSOR, 30.0)) >= workers, "the processors", timeout=60)
        return stack
    except BaseException:
        exit_stack.close()
        raise

