# shellcheck shell=bash
# Sourced by deploy.sh, destroy.sh and admin.sh: strict mode, the repository root, the stage's
# names and the shared functions (infra/lib.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STAGE=${STAGE:?set STAGE=dev or STAGE=prod}
case "$STAGE" in
  dev | prod) ;;
  *) echo "STAGE must be dev or prod" >&2; exit 2 ;;
esac
if [ -z "${AWS:-}" ]; then
  # `make deploy` installs the AWS CLI here and passes AWS=; admin.sh run by hand finds it too.
  if [ -x .venv/awscli/bin/aws ]; then AWS=$PWD/.venv/awscli/bin/aws; else AWS=aws; fi
fi
PY=${PY:-.venv/bin/python}
STACK=framefleet-$STAGE
BOOTSTRAP_STACK=$STACK-bootstrap  # the bucket the main template is uploaded to (infra/bootstrap.yaml)
ADMIN_FUNCTION=framefleet-$STAGE-admin  # Chalice names functions <app>-<stage>-<name>
# shellcheck source=infra/lib.sh
source infra/lib.sh
