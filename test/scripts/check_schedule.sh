#!/usr/bin/env bash
# Fails when a pg_regress test in sql/ is not listed in test/schedule (or vice versa).
set -euo pipefail
cd "$(dirname "$0")/../.."
listed=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' test/schedule | sort)
present=$(ls sql/*.sql | xargs -n1 basename | sed 's/\.sql$//' | sort)
if [ "$listed" != "$present" ]; then
  echo "test/schedule and sql/ differ:"; diff <(echo "$listed") <(echo "$present") || true
  echo "check_schedule: 0 passed, 1 failed"; exit 1
fi
echo "check_schedule: 1 passed, 0 failed"
