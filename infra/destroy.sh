#!/usr/bin/env bash
# Remove a framefleet stage: `make destroy STAGE=dev|prod` (prod also needs CONFIRM=framefleet-prod).
# Deletes the Chalice app (API, Lambdas), empties the buckets (media, artifacts, frontend) and
# deletes the CloudFormation stack (VPC, Valkey, ECS, ECR with its images, CDN, roles).
# Everything is gone afterwards, including uploads and outputs.
# shellcheck source=infra/stage.sh
source "$(dirname "$0")/stage.sh"
if [ "$STAGE" = prod ] && [ "${CONFIRM:-}" != "$STACK" ]; then
  echo "destroying prod deletes every upload and output: run with CONFIRM=$STACK" >&2
  exit 2
fi

if [ -f ".chalice/deployed/$STAGE.json" ]; then
  echo "==> chalice delete --stage $STAGE"
  "$PY" infra/chalice_cli.py delete --stage "$STAGE"
fi

if $AWS cloudformation describe-stacks --stack-name "$STACK" >/dev/null 2>&1; then
  for output in UploadBucket WorkBucket OutputBucket ArtifactBucket FrontendBucket; do
    bucket=$($AWS cloudformation describe-stacks --stack-name "$STACK" \
      --query "Stacks[0].Outputs[?OutputKey=='$output'].OutputValue" --output text)
    echo "==> emptying s3://$bucket"
    $AWS s3 rm "s3://$bucket" --recursive --only-show-errors
  done
  echo "==> deleting stack $STACK"
  $AWS cloudformation delete-stack --stack-name "$STACK"
  $AWS cloudformation wait stack-delete-complete --stack-name "$STACK"
fi
echo "==> $STACK is gone"
