#!/usr/bin/env bash
# Remove a framefleet stage: `make destroy STAGE=dev|prod` (prod also needs CONFIRM=framefleet-prod).
# Deletes the Chalice app (API, Lambdas), empties the buckets (media, artifacts, frontend) and
# deletes the CloudFormation stack (VPC, Valkey, ECS, ECR with its images, CDN, roles), then the
# stack $STACK-bootstrap (the bucket deploy.sh uploads the template to).
# Everything is gone afterwards, including uploads and outputs.
#
# Idempotent: a stack that does not exist is done; one whose creation failed (ROLLBACK_COMPLETE,
# no outputs) or whose deletion failed (DELETE_FAILED) is deleted. Resources are found through
# the stack's resource list, not its outputs. Lambda's VPC network interfaces, which linger for
# minutes after `chalice delete` and block the subnets and security group, are waited for
# (ENI_WAIT_ATTEMPTS x POLL_SECONDS, default 90 x 30 s) and deleted once released; a failed
# deletion is retried (DELETE_ATTEMPTS, default 3).
# shellcheck source=infra/stage.sh
source "$(dirname "$0")/stage.sh"
if [ "$STAGE" = prod ] && [ "${CONFIRM:-}" != "$STACK" ]; then
  echo "destroying prod deletes every upload and output: run with CONFIRM=$STACK" >&2
  exit 2
fi

if [ -f ".chalice/deployed/$STAGE.json" ]; then
  step "chalice delete --stage $STAGE"
  # A resource deleted by hand makes chalice delete fail; the stack still goes (a function
  # left behind shows up below as a network interface that stays in use).
  "$PY" infra/chalice_cli.py delete --stage "$STAGE" || echo "chalice delete failed: continuing" >&2
fi

# Deletes $STACK (buckets emptied first); a stack that does not exist is done.
destroy_stack() {
  local status bucket
  status=$(wait_until_settled) || fail "cannot read the state of stack $STACK"
  if [ "$status" = NONE ]; then
    step "$STACK is gone (no such stack)"
    return 0
  fi
  step "stack $STACK: $status"
  for bucket in $(stack_resources AWS::S3::Bucket); do
    empty_bucket "$bucket"
  done
  delete_stack || fail "stack $STACK is not deleted (see above); run make destroy again once that is fixed"
  step "$STACK is gone"
}

destroy_stack
STACK=$BOOTSTRAP_STACK destroy_stack  # the templates' bucket (deploy.sh's first step creates it again)
