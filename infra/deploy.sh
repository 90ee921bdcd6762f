#!/usr/bin/env bash
# framefleet on AWS, in one go: `make deploy STAGE=dev|prod` (runs this with the tools it installs).
#
#   0. the ECS service-linked role, if the account has none yet
#   1. worker image → ECR (before the stack update when the repository exists, so the task
#      definitions never name a missing tag)
#   2. infra/template.yaml → CloudFormation stack framefleet-$STAGE, uploaded through the bucket
#      of the stack framefleet-$STAGE-bootstrap (infra/bootstrap.yaml): the template is over the
#      inline limit (a stack whose creation failed, ROLLBACK_COMPLETE, is deleted and created again)
#   3. the playback signing secret → the playback function's key value store; the outputs →
#      .chalice/config.json stage $STAGE; `chalice deploy` (Lambda runtime python3.12)
#   4. ECS services: a new deployment with the new task definitions; the webhook sender's
#      count set to the stack's Notifiers (it is created at 0, before its image exists)
#   5. frontend/ (if present): build, write config.json, sync to the frontend bucket, invalidate
#   6. the first API key, through the admin Lambda, while the stage has none (printed once)
#
# Needs: AWS credentials and region, docker (with buildx), node/npm for the frontend.
# Env: STAGE (required), AWS (aws CLI), PY (python with the project installed), IMAGE_TAG
# (default: the git revision), MAX_PROCESSORS, USE_NAT_GATEWAY, NOTIFIERS (webhook sender tasks;
# unset = as before, 1 at first), PUBLISH_FFMPEG_LAYER=1,
# FIRST_KEY_OWNER (owner of the first API key, default admin), PLAYBACK_PRICE_CLASS (the playback
# distribution's: PriceClass_100, _200 or _All; unset = as before, PriceClass_100 at first).
# shellcheck source=infra/stage.sh
source "$(dirname "$0")/stage.sh"
REGION=${AWS_DEFAULT_REGION:-${AWS_REGION:-$($AWS configure get region || true)}}
: "${REGION:?set AWS_DEFAULT_REGION}"
export AWS_DEFAULT_REGION=$REGION
TAG=${IMAGE_TAG:-$(git rev-parse --short=12 HEAD)}
if [ -z "${IMAGE_TAG:-}" ] && ! git diff --quiet HEAD -- chalicelib workers containers; then
  TAG="$TAG-dirty-$(date +%s)"  # the repository's tags are immutable
fi
case "$STAGE" in
  dev)  MAX_PROCESSORS=${MAX_PROCESSORS:-4};  USE_NAT_GATEWAY=${USE_NAT_GATEWAY:-false} ;;
  prod) MAX_PROCESSORS=${MAX_PROCESSORS:-16}; USE_NAT_GATEWAY=${USE_NAT_GATEWAY:-false} ;;
esac

WORK=$(mktemp -d)
cleanup() {
  rm -rf "$WORK"
}
trap cleanup EXIT

ACCOUNT=$($AWS sts get-caller-identity --query Account --output text)
step "account $ACCOUNT: ECS service-linked role"
ensure_service_linked_role ecs.amazonaws.com AWSServiceRoleForECS
REPO_NAME=$STACK-worker
REGISTRY=$ACCOUNT.dkr.ecr.$REGION.amazonaws.com
PUSHED=no
push_image() {
  step "worker image $REGISTRY/$REPO_NAME:$TAG"
  $AWS ecr get-login-password | docker login --username AWS --password-stdin "$REGISTRY"
  docker buildx build --platform linux/amd64 -f containers/Dockerfile -t "$REGISTRY/$REPO_NAME:$TAG" --push .
  PUSHED=yes
}

if $AWS ecr describe-repositories --repository-names "$REPO_NAME" >/dev/null 2>&1; then
  if ! $AWS ecr describe-images --repository-name "$REPO_NAME" --image-ids "imageTag=$TAG" >/dev/null 2>&1; then
    push_image
  else
    PUSHED=yes
  fi
fi

step "infrastructure: stack $STACK ($REGION)"
OPTIONAL_PARAMETERS=()  # left out: the stack keeps its value (aws cloudformation deploy's UsePreviousValue)
if [ -n "${PLAYBACK_PRICE_CLASS:-}" ]; then
  OPTIONAL_PARAMETERS+=("PlaybackPriceClass=$PLAYBACK_PRICE_CLASS")
fi
if [ -n "${NOTIFIERS:-}" ]; then
  OPTIONAL_PARAMETERS+=("Notifiers=$NOTIFIERS")
fi
ensure_template_bucket  # sets TEMPLATE_BUCKET
prepare_stack  # sets INITIAL_DEPLOY: services are created at 0 tasks, later updates leave the count alone
$AWS cloudformation deploy --stack-name "$STACK" --template-file infra/template.yaml \
  --s3-bucket "$TEMPLATE_BUCKET" --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
  --parameter-overrides "Stage=$STAGE" "ImageTag=$TAG" "MaxProcessors=$MAX_PROCESSORS" \
  "UseNatGateway=$USE_NAT_GATEWAY" "InitialDeploy=$INITIAL_DEPLOY" ${OPTIONAL_PARAMETERS[@]+"${OPTIONAL_PARAMETERS[@]}"}
$AWS cloudformation describe-stacks --stack-name "$STACK" --query 'Stacks[0].Outputs' --output json \
  > "$WORK/outputs.json"
output() { "$PY" -c 'import json,sys; print({o["OutputKey"]: o["OutputValue"] for o in json.load(open(sys.argv[1]))}[sys.argv[2]])' "$WORK/outputs.json" "$1"; }

[ "$PUSHED" = yes ] || push_image

step "playback: the token secret → the CloudFront function's key value store"
sync_playback_secret "$(output PlaybackSecretArn)" "$(output PlaybackKeyValueStoreArn)" "$WORK"

if [ "${PUBLISH_FFMPEG_LAYER:-0}" = 1 ]; then
  step "ffmpeg layer"
  "$PY" ffmpeg_layer/build.py --out "$WORK/ffmpeg-layer.zip"
  KEY=layers/ffmpeg-$(cut -c1-16 "$WORK/ffmpeg-layer.zip.sha256").zip
  $AWS s3 cp "$WORK/ffmpeg-layer.zip" "s3://$(output ArtifactBucket)/$KEY"
  $AWS lambda publish-layer-version --layer-name "$STACK-ffmpeg" --compatible-architectures x86_64 \
    --description "ffmpeg 9.0.2 (imageio-ffmpeg 0.8.1), /opt/bin/ffmpeg" \
    --content "S3Bucket=$(output ArtifactBucket),S3Key=$KEY" --query LayerVersionArn --output text
fi

step "Lambdas: chalice deploy --stage $STAGE"
# No secret goes into the config: the Lambdas read Valkey's token and the playback secret from
# Secrets Manager themselves.
"$PY" infra/chalice_config.py --stage "$STAGE" --outputs "$WORK/outputs.json"
"$PY" infra/chalice_cli.py deploy --stage "$STAGE"
API_URL=$("$PY" infra/chalice_cli.py url --stage "$STAGE")

step "workers: new deployment of the ECS services"
for service in "$(output ProcessorServiceName)" "$(output AssemblerServiceName)"; do
  $AWS ecs update-service --cluster "$(output ClusterName)" --service "$service" --force-new-deployment \
    --query 'service.[serviceName,taskDefinition]' --output text
done
# The webhook sender always runs (no autoscaling): the stack's count, also after its creation at 0.
$AWS ecs update-service --cluster "$(output ClusterName)" --service "$(output NotifierServiceName)" \
  --desired-count "$(output Notifiers)" --force-new-deployment \
  --query 'service.[serviceName,taskDefinition,desiredCount]' --output text

if [ -f frontend/package.json ]; then
  step "frontend → $(output FrontendUrl)"
  (cd frontend && npm ci --no-audit --no-fund && npm run build)
  "$PY" - "$API_URL" > frontend/dist/config.json <<'EOF'
import json, sys
print(json.dumps({"apiUrl": sys.argv[1].rstrip("/"), "apiKey": "", "maxUploadBytes": 5 * 1024**3}))
EOF
  $AWS s3 sync frontend/dist "s3://$(output FrontendBucket)" --delete --exclude config.json \
    --cache-control "public, max-age=31536000, immutable"
  $AWS s3 cp frontend/dist/config.json "s3://$(output FrontendBucket)/config.json" --cache-control no-cache
  $AWS s3 cp frontend/dist/index.html "s3://$(output FrontendBucket)/index.html" --cache-control no-cache
  $AWS cloudfront create-invalidation --distribution-id "$(output DistributionId)" --paths '/index.html' \
    '/config.json' --query Invalidation.Id --output text
else
  step "frontend: no frontend/ here, skipped"
fi

step "API keys: $ADMIN_FUNCTION"
ensure_first_key "$WORK"

step "done: stage $STAGE"
echo "API:      $API_URL"
echo "frontend: $(output FrontendUrl)"
echo "playback: $(output PlaybackBaseUrl)"
echo "image:    $REGISTRY/$REPO_NAME:$TAG"
if [ -n "$FIRST_KEY" ]; then
  echo "API key:  $FIRST_KEY"
  echo "          (owner ${FIRST_KEY_OWNER:-admin}; shown only now, store it: enter it in the frontend's settings)"
else
  echo "API keys: $KEY_COUNT exist (list: STAGE=$STAGE bash infra/admin.sh list-keys)"
fi
echo "more keys: STAGE=$STAGE bash infra/admin.sh create-key --owner NAME"
