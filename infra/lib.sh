# shellcheck shell=bash
# Functions of deploy.sh, destroy.sh and admin.sh (sourced by stage.sh; tests/infra/test_scripts.py
# runs them against a fake AWS CLI). They use $AWS, $PY and $STACK; waits are bounded and their
# pace comes from POLL_SECONDS (tests set 0).

POLL_SECONDS=${POLL_SECONDS:-30}

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "error: $*" >&2; exit 1; }

# The stack's status, or NONE when it does not exist. Any other error (credentials, region,
# throttling) fails: a stack must never be taken for absent because the call failed.
stack_status() {
  local out
  if out=$($AWS cloudformation describe-stacks --stack-name "$STACK" --query 'Stacks[0].StackStatus' \
      --output text 2>&1); then
    echo "$out"
  elif [[ $out == *"does not exist"* ]]; then
    echo NONE
  else
    echo "$out" >&2
    return 1
  fi
}

# Wait (bounded) until the stack is in no *_IN_PROGRESS state; prints the final status.
wait_until_settled() {
  local status attempt
  for ((attempt = 0; attempt < ${SETTLE_ATTEMPTS:-120}; attempt++)); do
    status=$(stack_status) || return 1
    if [[ $status != *_IN_PROGRESS ]]; then
      echo "$status"
      return 0
    fi
    echo "stack $STACK is $status: waiting" >&2
    sleep "$POLL_SECONDS"
  done
  echo "stack $STACK is still $status" >&2
  return 1
}

# Create the service-linked role of an AWS service unless it exists (idempotent, race-safe).
# ECS cannot create a cluster with capacity providers in an account that has never used ECS
# until AWSServiceRoleForECS exists, and CloudFormation does not create it in time.
ensure_service_linked_role() {
  local service=$1 role=$2 out
  if $AWS iam get-role --role-name "$role" --query Role.Arn --output text >/dev/null 2>&1; then
    echo "service-linked role $role exists"
    return 0
  fi
  if out=$($AWS iam create-service-linked-role --aws-service-name "$service" \
      --query Role.Arn --output text 2>&1); then
    echo "created service-linked role $out"
    sleep "${SLR_SETTLE_SECONDS:-10}"  # IAM is eventually consistent
  elif [[ $out == *"has been taken"* ]]; then
    echo "service-linked role $role exists"
  else
    echo "$out" >&2
    fail "could not create the service-linked role $role for $service (needs iam:CreateServiceLinkedRole)"
  fi
}

# Wait until $STACK settles. A stack whose creation failed (ROLLBACK_COMPLETE) holds nothing and
# can only be deleted, which this does: a new deploy creates it again. Prints the status it
# found (NONE: no such stack).
settle_stack() {
  local status
  status=$(wait_until_settled) || return 1
  if [ "$status" = ROLLBACK_COMPLETE ]; then
    echo "stack $STACK is ROLLBACK_COMPLETE (its creation failed, it holds nothing): deleting it to create it again" >&2
    $AWS cloudformation delete-stack --stack-name "$STACK" >&2
    $AWS cloudformation wait stack-delete-complete --stack-name "$STACK" >&2 || return 1
  fi
  echo "$status"
}

# Sets INITIAL_DEPLOY=true when the stack is (about to be) created.
prepare_stack() {
  local status
  status=$(settle_stack) || fail "stack $STACK did not settle"
  case "$status" in
    NONE | REVIEW_IN_PROGRESS | ROLLBACK_COMPLETE) INITIAL_DEPLOY=true ;;
    *) INITIAL_DEPLOY=false ;;
  esac
  echo "stack $STACK: $status (InitialDeploy=$INITIAL_DEPLOY)"
}

# infra/template.yaml is over CloudFormation's 51,200-byte inline limit, so `aws cloudformation
# deploy` uploads it to a bucket, which must exist before the stack is first created (the
# stack's own buckets do not): the bucket of the small stack $BOOTSTRAP_STACK
# (infra/bootstrap.yaml, sent inline). Sets TEMPLATE_BUCKET.
ensure_template_bucket() {
  STACK=$BOOTSTRAP_STACK settle_stack >/dev/null || fail "stack $BOOTSTRAP_STACK did not settle"
  $AWS cloudformation deploy --stack-name "$BOOTSTRAP_STACK" --template-file infra/bootstrap.yaml \
    --no-fail-on-empty-changeset
  TEMPLATE_BUCKET=$($AWS cloudformation describe-stacks --stack-name "$BOOTSTRAP_STACK" --output text \
    --query "Stacks[0].Outputs[?OutputKey=='TemplateBucket'].OutputValue")
  [ -n "$TEMPLATE_BUCKET" ] && [ "$TEMPLATE_BUCKET" != None ] || fail "stack $BOOTSTRAP_STACK has no TemplateBucket output"
  echo "templates go through s3://$TEMPLATE_BUCKET"
}

# ---------------------------------------------------------------- playback secret
# The playback distribution's function checks tokens with the key value store's `playback-secret`
# (a CloudFront Function cannot read Secrets Manager); the API signs them with the stack's
# secret. Copy that secret's value there: idempotent (the same value again), never on a command
# line or an output (it goes through files only this user may read, and --cli-input-json).

# The AWS CLI v1 signs the key value store's API (SigV4A) only with awscrt, which the CLI that
# `make deploy` installs into its own venv (.venv/awscli) lacks: install its [crt] extra there
# once (the CLI v2 has it built in). Prints the store's ETag.
kvs_etag() {
  local kvs=$1 work=$2 bin version
  if $AWS cloudfront-keyvaluestore describe-key-value-store --kvs-arn "$kvs" --query ETag --output text \
      2>"$work/kvs.err"; then
    return 0
  fi
  bin=$(dirname "$AWS")
  if grep -q 'botocore\[crt\]' "$work/kvs.err" && [ -x "$bin/pip" ] && [ -x "$bin/python" ]; then
    version=$("$bin/python" -c 'import awscli; print(awscli.__version__)')
    echo "the key value store's API needs SigV4A: installing awscli[crt]==$version next to $AWS" >&2
    "$bin/pip" install --quiet "awscli[crt]==$version" >&2
    if $AWS cloudfront-keyvaluestore describe-key-value-store --kvs-arn "$kvs" --query ETag --output text \
        2>"$work/kvs.err"; then
      return 0
    fi
  fi
  cat "$work/kvs.err" >&2
  return 1
}

sync_playback_secret() {
  local secret_arn=$1 kvs=$2 work=$3 etag
  etag=$(kvs_etag "$kvs" "$work") \
    || fail "could not read the key value store $kvs (needs cloudfront-keyvaluestore:DescribeKeyValueStore)"
  if ! (umask 077 && $AWS secretsmanager get-secret-value --secret-id "$secret_arn" --query SecretString \
      --output text > "$work/playback-secret.json" && "$PY" -c 'import json, sys
print(json.dumps({"KvsARN": sys.argv[2], "Key": "playback-secret", "IfMatch": sys.argv[3],
                  "Value": json.load(open(sys.argv[1]))["secret"]}))' "$work/playback-secret.json" "$kvs" "$etag" \
      > "$work/put-key.json"); then
    rm -f "$work/playback-secret.json" "$work/put-key.json"
    fail "could not read the playback secret $secret_arn (needs secretsmanager:GetSecretValue)"
  fi
  rm -f "$work/playback-secret.json"
  if ! $AWS cloudfront-keyvaluestore put-key --cli-input-json "file://$work/put-key.json" \
      --query ItemCount --output text >/dev/null; then
    rm -f "$work/put-key.json"
    fail "could not write playback-secret into $kvs (needs cloudfront-keyvaluestore:PutKey)"
  fi
  rm -f "$work/put-key.json"
  echo "playback-secret is in the key value store $kvs"
}

# ---------------------------------------------------------------- the admin Lambda (API keys)
# `framefleet keys` needs Redis, which is private on AWS: the admin function (app.py) runs the
# same key store inside the VPC. Invoked with the deployer's credentials (lambda:InvokeFunction).

# json_object KEY=VALUE...: a JSON object of strings (values quoted safely).
json_object() {
  "$PY" -c 'import json, sys; print(json.dumps(dict(a.split("=", 1) for a in sys.argv[1:])))' "$@"
}

# admin_call PAYLOAD_JSON OUT_FILE: invoke, fail on a function error or an {"error": ...} answer.
admin_call() {
  local payload=$1 out=$2 error
  printf '%s' "$payload" > "$out.in"
  error=$($AWS lambda invoke --function-name "$ADMIN_FUNCTION" --payload "fileb://$out.in" \
    --query FunctionError --output text "$out") || fail "could not invoke $ADMIN_FUNCTION"
  rm -f "$out.in"
  if [ -n "$error" ] && [ "$error" != None ]; then
    fail "$ADMIN_FUNCTION failed ($error): $(cat "$out")"
  fi
  "$PY" -c 'import json, sys
answer = json.load(open(sys.argv[1]))
if not isinstance(answer, dict) or "error" in answer:
    sys.exit("error: " + sys.argv[2] + " answered " + json.dumps(answer))' "$out" "$ADMIN_FUNCTION"
}

# The first deploy ends with a working key: one is created only while none exists, so
# redeploying neither piles up credentials nor prints a secret again (it exists only once).
# Sets FIRST_KEY (the plaintext, only when created now) and KEY_COUNT, which deploy.sh prints.
# shellcheck disable=SC2034
ensure_first_key() {
  local work=$1
  FIRST_KEY=
  admin_call '{"action": "list_keys"}' "$work/keys.json"
  KEY_COUNT=$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["keys"]))' "$work/keys.json")
  if [ "$KEY_COUNT" = 0 ]; then
    admin_call "$(json_object action=create_key "owner=${FIRST_KEY_OWNER:-admin}" name=deploy)" "$work/key.json"
    FIRST_KEY=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["key"])' "$work/key.json")
    rm -f "$work/key.json"
    KEY_COUNT=1
  fi
}

# ---------------------------------------------------------------- teardown

# Physical ids of the stack's resources of TYPE that still exist (any stack state, no outputs needed).
stack_resources() {
  $AWS cloudformation list-stack-resources --stack-name "$STACK" --output text --query \
    "StackResourceSummaries[?ResourceType=='$1' && ResourceStatus!='DELETE_COMPLETE'].PhysicalResourceId"
}

empty_bucket() {
  local bucket=$1
  if ! $AWS s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
    echo "s3://$bucket: already gone"
    return 0
  fi
  echo "emptying s3://$bucket"
  $AWS s3 rm "s3://$bucket" --recursive --only-show-errors
}

# Lambda's VPC network interfaces stay for a while after their functions are deleted, and
# keep the security group and subnets from being deleted. Wait (bounded) until none is in use,
# deleting those that were released; fail with what still holds on.
release_lambda_enis() {
  local group=$1 attempt enis id state busy
  for ((attempt = 0; attempt < ${ENI_WAIT_ATTEMPTS:-90}; attempt++)); do
    enis=$($AWS ec2 describe-network-interfaces --filters "Name=group-id,Values=$group" --output text \
      --query 'NetworkInterfaces[].[NetworkInterfaceId,Status]')
    busy=0
    while read -r id state; do
      [ -n "$id" ] || continue
      if [ "$state" = available ]; then
        echo "deleting released network interface $id"
        $AWS ec2 delete-network-interface --network-interface-id "$id" 2>/dev/null || busy=$((busy + 1))
      else
        busy=$((busy + 1))
      fi
    done <<< "$enis"
    if [ "$busy" = 0 ]; then
      return 0
    fi
    echo "$busy network interface(s) of $group still in use (Lambda releases them minutes after its functions are deleted)"
    sleep "$POLL_SECONDS"
  done
  $AWS ec2 describe-network-interfaces --filters "Name=group-id,Values=$group" --output text \
    --query 'NetworkInterfaces[].[NetworkInterfaceId,Status,Description]' >&2
  echo "these network interfaces are still in use: a Lambda function in $group still exists?" \
    "(chalice delete --stage $STAGE, or delete it in the console)" >&2
  return 1
}

# Delete the stack, retrying while deletion fails (e.g. on a network interface released late).
delete_stack() {
  local attempt group status
  for ((attempt = 1; attempt <= ${DELETE_ATTEMPTS:-3}; attempt++)); do
    group=$(lambda_security_group)
    if [ -n "$group" ]; then
      release_lambda_enis "$group" || return 1
    fi
    echo "deleting stack $STACK (attempt $attempt)"
    $AWS cloudformation delete-stack --stack-name "$STACK"
    if $AWS cloudformation wait stack-delete-complete --stack-name "$STACK"; then
      return 0
    fi
    status=$(stack_status) || return 1
    [ "$status" = NONE ] && return 0
    echo "stack $STACK is $status; what failed:" >&2
    $AWS cloudformation describe-stack-events --stack-name "$STACK" --output text --max-items 10 \
      --query "StackEvents[?ResourceStatus=='DELETE_FAILED'].[LogicalResourceId,ResourceStatusReason]" >&2 || true
  done
  return 1
}

# The Lambdas' security group (logical id LambdaSecurityGroup), if the stack still has it.
lambda_security_group() {
  $AWS cloudformation list-stack-resources --stack-name "$STACK" --output text --query \
    "StackResourceSummaries[?LogicalResourceId=='LambdaSecurityGroup' && ResourceStatus!='DELETE_COMPLETE'].PhysicalResourceId"
}
