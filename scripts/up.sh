#!/usr/bin/env bash
# Bring the platform up on this machine in the foreground: migrations, the first admin account,
# the local workspace images, then daphne, a manager worker, this host's agent worker and beat.
# Ctrl-C or SIGTERM stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export DJANGO_SETTINGS_MODULE=kasm.settings
# The one agent of a single-machine install is the one this script starts: approve it on enrolment.
export AGENT_AUTO_APPROVE=${AGENT_AUTO_APPROVE:-true}
export FIRST_PARTY_REGISTRY_URL=${FIRST_PARTY_REGISTRY_URL:-http://$HOST:$PORT/registry/}
export PATH="$PWD/.venv/bin:$PATH"
AGENT_NAME=${AGENT_NAME:-$(hostname -s)}
DATA_DIR=${KASM_DATA_DIR:-data}

python manage.py migrate --noinput
python manage.py create_admin_account
python manage.py build_workspace_images
python manage.py manager_token --ensure-file "$DATA_DIR/manager_token"
# The local agent reads the token from this file at each check-in; a rotation in the console writes it.
export MANAGER_TOKEN_FILE
MANAGER_TOKEN_FILE=$(realpath "$DATA_DIR/manager_token")

children=()
stop_children() {
    trap - EXIT INT TERM
    (( ${#children[@]} )) && kill -TERM "${children[@]}" 2>/dev/null || true
    wait || true
}
trap stop_children EXIT
trap 'stop_children; exit 0' INT TERM

daphne -b "$HOST" -p "$PORT" kasm.asgi:application & children+=($!)
celery -A kasm worker -Q manager -n "manager@%h" --loglevel INFO & children+=($!)
python manage.py run_agent --name "$AGENT_NAME" --address 127.0.0.1 --token-file "$DATA_DIR/manager_token" &
children+=($!)
celery -A kasm beat --schedule "$DATA_DIR/celerybeat-schedule" --loglevel INFO & children+=($!)

# The first-party registry is served by daphne: read it as soon as daphne answers, so the store
# lists its workspaces at first start instead of after someone clicks "Update now".
for _ in $(seq 1 100); do
    if python -c "import urllib.request; urllib.request.urlopen('http://$HOST:$PORT/health', timeout=1)" 2>/dev/null; then
        python manage.py registry update || echo "Reading the registries failed; the store's Update now retries." >&2
        break
    fi
    sleep 0.3
done

echo "Kasm Local is up: http://$HOST:$PORT/ (Ctrl-C stops it)"
wait -n
echo "A platform process exited; stopping the others." >&2
exit 1
