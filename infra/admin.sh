#!/usr/bin/env bash
# API keys of a deployed stage, through its admin Lambda (Valkey is private: `framefleet keys`
# cannot reach it from here). Needs AWS credentials allowed lambda:InvokeFunction on it.
#
#   STAGE=dev bash infra/admin.sh create-key --owner alice [--name laptop] [--max-active-jobs 5]
#             [--max-upload-bytes N] [--max-duration-seconds S] [--max-pixels N]
#             [--limit NAME=NUMBER]...                      # prints the key once
#   STAGE=dev bash infra/admin.sh list-keys          # ids, owners, limits (never secrets)
#   STAGE=dev bash infra/admin.sh revoke-key 3f9a1c2b
# shellcheck source=infra/stage.sh
source "$(dirname "$0")/stage.sh"

PAYLOAD=$("$PY" - "$@" <<'PYEOF'
import argparse, json, sys

parser = argparse.ArgumentParser(prog="infra/admin.sh", description="API keys of a deployed stage")
actions = parser.add_subparsers(dest="action", required=True)
create = actions.add_parser("create-key", help="issue a key for an owner; prints it once")
create.add_argument("--owner", required=True)
create.add_argument("--name", default="")
for limit, kind in (("max-active-jobs", int), ("max-upload-bytes", int), ("max-duration-seconds", float),
                    ("max-pixels", int)):
    create.add_argument(f"--{limit}", type=kind)
create.add_argument("--limit", action="append", default=[], metavar="NAME=NUMBER",
                    help="any other per-key limit (the admin function checks its name and value)")
actions.add_parser("list-keys", help="list keys (ids, owners, limits; never secrets)")
revoke = actions.add_parser("revoke-key", help="revoke a key by its id (the part after ffk_)")
revoke.add_argument("key_id")
sys.stdout = sys.stderr  # usage and --help go to the terminal, only the payload is captured
args = parser.parse_args()
sys.stdout = sys.__stdout__
payload = {"action": args.action.replace("-", "_")}
if args.action == "create-key":
    limits = {k: v for k, v in vars(args).items() if k.startswith("max_") and v is not None}
    for item in args.limit:
        name, _, value = item.partition("=")
        try:
            limits[name.replace("-", "_")] = float(value) if "." in value or "e" in value else int(value)
        except ValueError:
            parser.error(f"--limit {item}: not NAME=NUMBER")
    payload.update(owner=args.owner, name=args.name, limits=limits)
elif args.action == "revoke-key":
    payload["key_id"] = args.key_id
print(json.dumps(payload))
PYEOF
)
[ -n "$PAYLOAD" ] || exit 0  # --help

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
admin_call "$PAYLOAD" "$WORK/answer.json"
"$PY" - "$WORK/answer.json" <<'PYEOF'
import json, sys

answer = json.load(open(sys.argv[1]))
if "key" in answer:
    print(answer["key"])
elif "keys" in answer:
    for record in answer["keys"]:
        print(json.dumps(record))
else:
    print(json.dumps(answer))
PYEOF
