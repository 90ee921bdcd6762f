# Sourced by deploy.sh and destroy.sh: strict mode, the repository root, and the stage's names.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STAGE=${STAGE:?set STAGE=dev or STAGE=prod}
AWS=${AWS:-aws}
PY=${PY:-.venv/bin/python}
STACK=framefleet-$STAGE
