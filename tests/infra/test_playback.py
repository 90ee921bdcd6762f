"""Private HLS/DASH playback through CloudFront: the viewer-request function
(infra/playback/viewer_request.js) and the template's distribution, policies and grants.

The function runs under Node (tests/infra/playback_harness.mjs: a key value store, a frozen
clock and a ``crypto`` limited to what cloudfront-js-2.0 documents) against vectors signed by
``chalicelib.model.playback.sign``; each vector must get the same verdict from the function and
from ``chalicelib.model.playback.resolve``, the reference the local stack serves with.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from chalicelib.model import playback
from tests.infra.helpers import PLAYBACK_FUNCTION, ROOT, inline_copy, template, tool

HARNESS = Path(__file__).with_name("playback_harness.mjs")
SECRET = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"  # 48 characters, as the stack generates
OTHER_SECRET = b"ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfe"
NOW = 1_700_000_000
LATER = NOW + 6 * 3600
JOB = "abc"
TOKEN = playback.sign(SECRET, JOB, LATER)
SIGNATURE = TOKEN.split(".", 1)[1]
HEX_SIGNATURE = hmac.new(SECRET, f"{JOB}/{LATER}".encode(), hashlib.sha256).hexdigest()
STORE = {"playback-secret": SECRET.decode()}
MAX_FUNCTION_BYTES = 10_240  # CloudFront Functions' size quota

# (name, path) pairs the function must serve, then ones it must refuse.
ACCEPTED = [
    ("master playlist", f"/{TOKEN}/{JOB}/master.m3u8"),
    ("rung playlist", f"/{TOKEN}/{JOB}/h264-720/index.m3u8"),
    ("init segment", f"/{TOKEN}/{JOB}/h264-720/init.mp4"),
    ("media segment", f"/{TOKEN}/{JOB}/h264-720/12.m4s"),
    ("audio segment", f"/{TOKEN}/{JOB}/audio/3.m4s"),
    ("DASH manifest", f"/{TOKEN}/{JOB}/manifest.mpd"),
    ("poster", f"/{TOKEN}/{JOB}/poster.jpg"),
    ("storyboard WebVTT", f"/{TOKEN}/{JOB}/storyboard.vtt"),
    ("storyboard sheet", f"/{TOKEN}/{JOB}/storyboard/v00003-0.jpg"),
    ("cached thumbnail", f"/{TOKEN}/{JOB}/thumbs/t7300_w1920.webp"),
    ("extra leading slashes", f"//{TOKEN}/{JOB}/master.m3u8"),
    ("leading zeros in expires (int() drops them)", f"/000{TOKEN}/{JOB}/master.m3u8"),
    ("one second left", f"/{playback.sign(SECRET, JOB, NOW + 1)}/{JOB}/master.m3u8"),
    ("expires beyond 2**53", f"/{playback.sign(SECRET, JOB, 10**20)}/{JOB}/master.m3u8"),
    ("longest job id", f"/{playback.sign(SECRET, 'J_-9' * 16, LATER)}/{'J_-9' * 16}/master.m3u8"),
    ("longest folder and file", f"/{TOKEN}/{JOB}/{'f' * 32}/{'n' * 60}.m4s"),
]
REFUSED = [
    ("expired", f"/{playback.sign(SECRET, JOB, NOW - 1)}/{JOB}/master.m3u8"),
    ("expires now", f"/{playback.sign(SECRET, JOB, NOW)}/{JOB}/master.m3u8"),
    ("another job's token", f"/{TOKEN}/abd/master.m3u8"),
    ("another job's token on a segment", f"/{playback.sign(SECRET, 'other', LATER)}/{JOB}/h264-720/1.m4s"),
    ("another secret", f"/{playback.sign(OTHER_SECRET, JOB, LATER)}/{JOB}/master.m3u8"),
    ("expiry moved later", f"/{LATER + 3600}.{SIGNATURE}/{JOB}/master.m3u8"),
    ("signature changed", f"/{LATER}.{SIGNATURE[:-1]}{'A' if SIGNATURE[-1] != 'A' else 'B'}/{JOB}/master.m3u8"),
    ("signature cut short", f"/{LATER}.{SIGNATURE[:-2]}/{JOB}/master.m3u8"),
    ("signature padded", f"/{TOKEN}=/{JOB}/master.m3u8"),
    ("signature in hex", f"/{LATER}.{HEX_SIGNATURE}/{JOB}/master.m3u8"),
    ("no signature", f"/{LATER}/{JOB}/master.m3u8"),
    ("empty signature", f"/{LATER}./{JOB}/master.m3u8"),
    ("no expiry", f"/.{SIGNATURE}/{JOB}/master.m3u8"),
    ("negative expiry", f"/-{TOKEN}/{JOB}/master.m3u8"),
    ("expiry with a plus", f"/+{TOKEN}/{JOB}/master.m3u8"),
    ("expiry in hex", f"/0x{LATER:x}.{SIGNATURE}/{JOB}/master.m3u8"),
    ("expiry with an exponent", f"/1e10.{SIGNATURE}/{JOB}/master.m3u8"),
    ("empty path", "/"),
    ("token only", f"/{TOKEN}"),
    ("no file", f"/{TOKEN}/{JOB}"),
    ("empty file", f"/{TOKEN}/{JOB}/"),
    ("empty job id", f"/{TOKEN}//master.m3u8"),
    ("job id too long", f"/{playback.sign(SECRET, 'j' * 65, LATER)}/{'j' * 65}/master.m3u8"),
    ("dot in the job id", f"/{playback.sign(SECRET, 'a.b', LATER)}/a.b/master.m3u8"),
    ("two folders", f"/{TOKEN}/{JOB}/h264-720/x/1.m4s"),
    ("folder too long", f"/{TOKEN}/{JOB}/{'f' * 33}/1.m4s"),
    ("file name too long", f"/{TOKEN}/{JOB}/{'n' * 65}"),
    ("dot in a folder", f"/{TOKEN}/{JOB}/h264.720/1.m4s"),
    ("parent folder", f"/{TOKEN}/{JOB}/../master.m3u8"),
    ("parent folder as the file", f"/{TOKEN}/{JOB}/h264-720/.."),
    ("double dot inside a name", f"/{TOKEN}/{JOB}/x..m4s"),
    ("leaving the stream folder", f"/{TOKEN}/{JOB}/../../other/stream/master.m3u8"),
    ("percent-encoded dots", f"/{TOKEN}/{JOB}/%2e%2e/master.m3u8"),
    ("percent-encoded slash", f"/{TOKEN}/{JOB}/h264-720%2F1.m4s"),
    ("empty folder", f"/{TOKEN}/{JOB}//master.m3u8"),
    ("backslash", f"/{TOKEN}/{JOB}/h264-720\\1.m4s"),
    ("the bucket key itself", f"/outputs/{JOB}/stream/master.m3u8"),
    ("the token after the job id", f"/{JOB}/{TOKEN}/master.m3u8"),
]
# Paths the Python reference mishandles ("$" matches before a final newline; str.isdigit() takes
# non-ASCII digits, some of which int() refuses; compare_digest raises on non-ASCII): the
# function refuses them all. CloudFront passes URIs percent-encoded, so none reaches it raw.
REFUSED_BY_THE_FUNCTION_ONLY = [
    ("newline after the file", f"/{TOKEN}/{JOB}/master.m3u8\n"),
    ("newline after the job id", f"/{playback.sign(SECRET, JOB + chr(10), LATER)}/{JOB}\n/master.m3u8"),
    ("Arabic-Indic digits", "/" + "".join(chr(0x660 + int(d)) for d in str(LATER)) + f".{SIGNATURE}/{JOB}/a.m4s"),
    ("superscript digit", f"/\u00b2{TOKEN}/{JOB}/master.m3u8"),
    ("non-ASCII signature", f"/{LATER}.\u00e9/{JOB}/master.m3u8"),
]


def case(path: str, store: dict[str, str] | None = None, method: str = "GET",
         querystring: dict[str, Any] | None = None, now: float = NOW) -> dict[str, Any]:
    return {"store": STORE if store is None else store, "now": now, "method": method, "uri": path,
            "querystring": querystring or {}}


def run(cases: list[dict[str, Any]], source: Path = PLAYBACK_FUNCTION) -> list[dict[str, Any]]:
    node = tool("node")
    result = subprocess.run([node, str(HARNESS), str(source)], input=json.dumps(cases), capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    assert len(answers) == len(cases)
    return answers


def served_uri(answer: dict[str, Any]) -> str | None:
    """The rewritten URI of a request the function lets through, None for its 403."""
    if "statusCode" in answer:
        assert answer["statusCode"] == 403 and answer["statusDescription"] == "Forbidden", answer
        assert answer["headers"]["access-control-allow-origin"] == {"value": "*"}  # a player sees the 403
        assert answer["headers"]["cache-control"] == {"value": "no-store"}
        assert answer["body"]["encoding"] == "text" and len(answer["body"]["data"]) < 100
        return None
    assert answer["uri"].startswith("/") and answer["method"] == "GET"
    return str(answer["uri"])


def reference(path: str, secret: bytes = SECRET, now: float = NOW) -> str | None:
    key = playback.resolve(secret, path, now)
    return None if key is None else "/" + key


@pytest.fixture(scope="module")
def template_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The function as the stack deploys it: template.yaml's FunctionCode."""
    path = tmp_path_factory.mktemp("template") / "viewer_request.js"
    path.write_text(template()["Resources"]["PlaybackFunction"]["Properties"]["FunctionCode"])
    return path


# ---------------------------------------------------------------- the function against the reference

@pytest.mark.parametrize("copy", ["file", "template"])
def test_the_function_and_the_python_reference_agree_on_every_vector(copy: str, template_copy: Path) -> None:
    vectors = ACCEPTED + REFUSED
    answers = run([case(path) for _, path in vectors], PLAYBACK_FUNCTION if copy == "file" else template_copy)
    verdicts = {name: served_uri(answer) for (name, _), answer in zip(vectors, answers, strict=True)}
    assert verdicts == {name: reference(path) for name, path in vectors}
    for name, path in ACCEPTED:
        job_id, rest = path.lstrip("/").split("/", 2)[1:]
        assert verdicts[name] == f"/outputs/{job_id}/stream/{rest}", name
    assert [name for name, _ in REFUSED if verdicts[name] is not None] == []


def test_the_function_refuses_what_the_python_reference_mishandles() -> None:
    answers = run([case(path) for _, path in REFUSED_BY_THE_FUNCTION_ONLY])
    assert [served_uri(a) for a in answers] == [None] * len(REFUSED_BY_THE_FUNCTION_ONLY)


def test_the_query_string_is_dropped_and_the_token_still_decides() -> None:
    qs = {"token": {"value": "x"}, "v": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]}}
    served, refused = run([case(f"/{TOKEN}/{JOB}/h264-720/12.m4s", querystring=qs),
                           case(f"/{JOB}/master.m3u8", querystring={"token": {"value": TOKEN}})])
    assert served["uri"] == f"/outputs/{JOB}/stream/h264-720/12.m4s" and served["querystring"] == {}
    assert served["headers"] == {"host": {"value": "d111111abcdef8.cloudfront.net"}}  # otherwise untouched
    assert served_uri(refused) is None  # a token in the query string counts for nothing


def test_without_the_secret_in_the_store_everything_is_refused() -> None:
    """Before deploy.sh copied it (get() rejects), or an empty value: as resolve() with b""."""
    path = f"/{TOKEN}/{JOB}/master.m3u8"
    signed_with_nothing = f"/{playback.sign(b'', JOB, LATER)}/{JOB}/master.m3u8"  # HMAC takes an empty key
    answers = run([case(path, store={}), case(path, store={"playback-secret": ""}),
                   case(path, store={"playback_secret": SECRET.decode()}),
                   case(signed_with_nothing, store={"playback-secret": ""})])
    assert [served_uri(a) for a in answers] == [None, None, None, None]
    assert reference(path, secret=b"") is None and reference(signed_with_nothing, secret=b"") is None


def test_a_token_expires_at_its_second_even_for_a_cached_segment() -> None:
    """The function runs before the cache on every request: what expires is the link."""
    path = f"/{TOKEN}/{JOB}/h264-720/12.m4s"
    answers = run([case(path, now=now) for now in (LATER - 0.5, LATER, LATER + 0.5)])
    assert [served_uri(a) is not None for a in answers] == [True, False, False]
    assert [reference(path, now=now) is not None for now in (LATER - 0.5, LATER, LATER + 0.5)] == [True, False, False]


def test_a_preflight_is_answered_at_the_edge_with_cors() -> None:
    (answer,) = run([case("/anything/at/all", method="OPTIONS", store={})])
    assert answer["statusCode"] == 204 and "body" not in answer
    headers = {k: v["value"] for k, v in answer["headers"].items()}
    assert headers["access-control-allow-origin"] == "*"
    assert set(headers["access-control-allow-methods"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert headers["access-control-allow-headers"] == "Range"


def test_head_is_checked_like_get() -> None:
    good, bad = run([case(f"/{TOKEN}/{JOB}/master.m3u8", method="HEAD"),
                     case(f"/{playback.sign(OTHER_SECRET, JOB, LATER)}/{JOB}/master.m3u8", method="HEAD")])
    assert good["uri"] == f"/outputs/{JOB}/stream/master.m3u8" and good["method"] == "HEAD"
    assert bad["statusCode"] == 403


def test_the_harness_refuses_crypto_that_cloudfront_functions_lack(tmp_path: Path) -> None:
    """The shim is what makes "runs under Node" mean "runs on CloudFront": it must bite."""
    for bad in ("createHmac('sha512', secret)", "createHmac('sha256', secret).update('x').digest('latin1') &&"
                " crypto.createHmac('sha256', secret)", "timingSafeEqual(Buffer.from('a'), Buffer.from('a')) &&"
                " crypto.createHmac('sha256', secret)"):
        source = PLAYBACK_FUNCTION.read_text().replace("createHmac('sha256', secret)", bad, 1)
        assert source != PLAYBACK_FUNCTION.read_text()
        (tmp_path / "f.js").write_text(source)
        node = tool("node")
        result = subprocess.run([node, str(HARNESS), str(tmp_path / "f.js")], capture_output=True, text=True,
                                input=json.dumps([case(f"/{TOKEN}/{JOB}/master.m3u8")]), timeout=60)
        assert result.returncode != 0, bad


# ---------------------------------------------------------------- the source fits cloudfront-js-2.0

def test_the_function_uses_only_what_cloudfront_functions_offer() -> None:
    """cloudfront-js-2.0: ES 5.1 plus some later features (const/let, async/await, arrow
    functions, template literals); `crypto` and `cloudfront` as the only modules; no `export`
    (CloudFront calls the top-level `handler`); at most 10 KB."""
    source = PLAYBACK_FUNCTION.read_text()
    assert len(inline_copy(source).encode()) <= MAX_FUNCTION_BYTES
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("//"))
    code = re.sub(r"\s//.*", "", code)  # trailing comments
    assert re.findall(r"^import .*$", code, re.M) == ["import crypto from 'crypto';", "import cf from 'cloudfront';"]
    assert "async function handler(event) {" in code
    for unsupported in ("export ", "require(", "process.", "setTimeout", "?.", "??", "...", "class ", "eval(",
                        "new Function", "timingSafeEqual", "console.log("):
        assert unsupported not in code, unsupported
    assert re.findall(r"crypto\.(\w+)", code) == ["createHmac"]
    assert re.findall(r"\.digest\('(\w+)'\)", code) == ["base64url"]
    assert re.findall(r"kvs\.(\w+)", code) == ["get"] and "cf.kvs()" in code


def test_the_template_inlines_the_function_file() -> None:
    props = template()["Resources"]["PlaybackFunction"]["Properties"]
    assert props["FunctionCode"] == inline_copy(), (
        "infra/template.yaml's PlaybackFunction FunctionCode must be infra/playback/viewer_request.js "
        "without its comment-only lines")
    assert props["AutoPublish"] is True
    assert props["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert props["FunctionConfig"]["KeyValueStoreAssociations"] == [
        {"KeyValueStoreARN": {"Fn::GetAtt": ["PlaybackKeyValueStore", "Arn"]}}]


# ---------------------------------------------------------------- the template

def _resources() -> dict[str, Any]:
    return template()["Resources"]


def test_the_playback_origin_is_the_private_output_bucket_behind_origin_access_control() -> None:
    resources = _resources()
    config = resources["PlaybackDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["OutputBucket", "RegionalDomainName"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy OAI
    oac = resources[origin["OriginAccessControlId"]["Fn::GetAtt"][0]]
    assert oac["Type"] == "AWS::CloudFront::OriginAccessControl"
    assert oac["Properties"]["OriginAccessControlConfig"] | {"Name": None} == {
        "Name": None, "OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4"}
    bucket = resources["OutputBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                         "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_cloudfront_may_read_only_streaming_packages_and_only_for_the_playback_distribution() -> None:
    policies = [r["Properties"] for r in _resources().values() if r["Type"] == "AWS::S3::BucketPolicy"]
    for policy in policies:  # no bucket grants anything to everyone
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Deny" or statement["Principal"] != "*", statement
    (output,) = [p for p in policies if p["Bucket"] == {"Ref": "OutputBucket"}]
    allows = [s for s in output["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allows == [{
        "Sid": "PlaybackReadsStreams", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject", "Resource": {"Fn::Sub": "${OutputBucket.Arn}/outputs/*/stream/*"},
        "Condition": {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::"
                                                                     "${AWS::AccountId}:distribution/"
                                                                     "${PlaybackDistribution}"}}}}]
    assert playback.stream_prefix("JOB") == "outputs/JOB/stream/"  # the prefix the grant is written for


def test_every_request_goes_through_the_function_over_https() -> None:
    resources = _resources()
    config = resources["PlaybackDistribution"]["Properties"]["DistributionConfig"]
    assert "CacheBehaviors" not in config  # the default behaviour is the only one
    behavior = config["DefaultCacheBehavior"]
    assert behavior["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["PlaybackFunction", "FunctionARN"]}}]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"] and behavior["CachedMethods"] == ["GET", "HEAD"]
    assert config["HttpVersion"] == "http2and3" and config["Enabled"] is True
    assert config["PriceClass"] == {"Ref": "PlaybackPriceClass"}
    assert template()["Parameters"]["PlaybackPriceClass"]["Default"] == "PriceClass_100"
    assert "CustomErrorResponses" not in config  # a 403 stays a 403 (the frontend's turns into index.html)
    assert "DefaultRootObject" not in config


def test_the_cache_follows_the_origin_and_keys_on_the_rewritten_path_only() -> None:
    resources = _resources()
    behavior = resources["PlaybackDistribution"]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert "ForwardedValues" not in behavior
    policy = resources[behavior["CachePolicyId"]["Ref"]]["Properties"]["CachePolicyConfig"]
    assert policy["MinTTL"] == 0  # no-cache playlists are revalidated
    assert policy["MaxTTL"] >= 31536000  # immutable segments may stay a year
    assert 0 < policy["DefaultTTL"] <= 300  # without Cache-Control: briefly
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert (key["HeadersConfig"], key["CookiesConfig"], key["QueryStringsConfig"]) == (
        {"HeaderBehavior": "none"}, {"CookieBehavior": "none"}, {"QueryStringBehavior": "none"})


def test_any_page_may_play_a_stream_it_was_given() -> None:
    resources = _resources()
    behavior = resources["PlaybackDistribution"]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    config = resources[behavior["ResponseHeadersPolicyId"]["Ref"]]["Properties"]["ResponseHeadersPolicyConfig"]
    cors = config["CorsConfig"]
    assert cors["AccessControlAllowOrigins"] == {"Items": ["*"]}
    assert cors["AccessControlAllowCredentials"] is False  # tokens, not cookies
    assert sorted(cors["AccessControlAllowMethods"]["Items"]) == ["GET", "HEAD", "OPTIONS"]
    assert cors["AccessControlAllowHeaders"] == {"Items": ["Range"]}
    assert cors["OriginOverride"] is True
    assert config["SecurityHeadersConfig"]["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000


def test_the_secret_the_api_signs_with_is_generated_readable_by_the_lambdas_and_output() -> None:
    resources = _resources()
    generate = resources["PlaybackSecret"]["Properties"]["GenerateSecretString"]
    assert generate == {"SecretStringTemplate": "{}", "GenerateStringKey": "secret", "PasswordLength": 48,
                        "ExcludePunctuation": True}
    grants = [s for s in resources["LambdaRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
              if s["Action"] == "secretsmanager:GetSecretValue"]
    assert grants == [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                       "Resource": [{"Ref": "RedisAuthToken"}, {"Ref": "PlaybackSecret"}]}]
    outputs = template()["Outputs"]
    assert outputs["PlaybackBaseUrl"] == {"Value": {"Fn::Sub": "https://${PlaybackDistribution.DomainName}"}}
    assert outputs["PlaybackSecretArn"] == {"Value": {"Ref": "PlaybackSecret"}}
    assert outputs["PlaybackKeyValueStoreArn"] == {"Value": {"Fn::GetAtt": ["PlaybackKeyValueStore", "Arn"]}}


def test_the_chalice_stage_gets_the_url_and_the_secret_arn_never_the_secret() -> None:
    import importlib.util

    from tests.infra.helpers import CHALICE_CONFIG

    spec = importlib.util.spec_from_file_location("chalice_config", ROOT / "infra" / "chalice_config.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outputs = {"Stage": "dev", "UploadBucket": "u", "WorkBucket": "w", "OutputBucket": "o", "UploadQueueName": "q",
               "MetricsNamespace": "Framefleet/dev", "RedisHost": "h", "RedisPort": "6379",
               "RedisAuthSecretArn": "arn:redis", "LambdaRoleArn": "arn:role", "PrivateSubnetIds": "a,b",
               "LambdaSecurityGroupId": "sg", "PlaybackBaseUrl": "https://dplay.cloudfront.net",
               "PlaybackSecretArn": "arn:aws:secretsmanager:us-east-1:1:secret:framefleet-dev/playback-secret"}
    config = json.loads(json.dumps(CHALICE_CONFIG))
    config["stages"]["dev"]["environment_variables"]["FRAMEFLEET_PLAYBACK_SECRET"] = "a-local-secret"
    env = module.apply_outputs(config, "dev", outputs)["stages"]["dev"]["environment_variables"]
    assert env["FRAMEFLEET_PLAYBACK_BASE_URL"] == "https://dplay.cloudfront.net"
    assert env["FRAMEFLEET_PLAYBACK_SECRET_ARN"] == outputs["PlaybackSecretArn"]
    assert "FRAMEFLEET_PLAYBACK_SECRET" not in env

    from chalicelib.model.settings import Settings

    settings = Settings.from_env(env)
    assert (settings.playback_base_url, settings.playback_secret_arn, settings.playback_secret) == (
        "https://dplay.cloudfront.net", outputs["PlaybackSecretArn"], "")
    assert playback.playback_url(settings.playback_base_url, TOKEN, JOB) == \
        f"https://dplay.cloudfront.net/{TOKEN}/{JOB}/master.m3u8"
