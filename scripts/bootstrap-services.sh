#!/usr/bin/env bash
# Make sure the services the platform needs are installed and answering: Docker, Postgres, Redis,
# plus the tools that build workspace images (busybox-static, debootstrap) and the test browser.
#
# Idempotent: what is installed stays, what answers is left alone, so a second run changes nothing.
# On Debian/Ubuntu as root it installs and starts what is missing; elsewhere it only checks and
# says what to install. Every line it prints starts with "ok", "installing", "starting" or "missing".
#
# Postgres gets a role and database "kasm" (password "kasm", local TCP only) for the test suite and
# the default production-like run; override with KASM_PG_USER / KASM_PG_PASSWORD / KASM_PG_DB.
set -euo pipefail

PG_USER=${KASM_PG_USER:-kasm}
PG_PASSWORD=${KASM_PG_PASSWORD:-kasm}
PG_DB=${KASM_PG_DB:-kasm}
LOG_DIR=${KASM_SERVICE_LOG_DIR:-/var/log}
PACKAGES=(docker.io busybox-static debootstrap postgresql redis-server chromium)

can_install() { [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; }
has_systemd() { [[ -d /run/systemd/system ]]; }
package_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

wait_until() {  # wait_until SECONDS COMMAND...: poll until COMMAND succeeds
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        (( SECONDS < deadline )) || return 1
        sleep 0.5
    done
}

ensure_packages() {
    local missing=()
    command -v dpkg-query >/dev/null || { echo "missing: dpkg (not Debian/Ubuntu); install ${PACKAGES[*]} by hand"; return 1; }
    for package in "${PACKAGES[@]}"; do package_installed "$package" || missing+=("$package"); done
    python3 -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
    if (( ${#missing[@]} == 0 )); then echo "ok: packages ${PACKAGES[*]}"; return 0; fi
    if ! can_install; then echo "missing: ${missing[*]} (run as root: apt-get install ${missing[*]})"; return 1; fi
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

docker_answers() { docker info >/dev/null 2>&1; }

ensure_docker() {
    if docker_answers; then echo "ok: docker"; return 0; fi
    can_install || { echo "missing: a running Docker engine (start dockerd as root)"; return 1; }
    echo "starting: dockerd"
    if has_systemd; then
        systemctl start docker
    else
        setsid nohup dockerd >>"$LOG_DIR/kasm-dockerd.log" 2>&1 < /dev/null &
    fi
    wait_until 60 docker_answers || { echo "missing: dockerd did not answer in 60 s, see $LOG_DIR/kasm-dockerd.log"; return 1; }
}

postgres_answers() { pg_isready -q -h 127.0.0.1 -p 5432; }

ensure_postgres() {
    if ! postgres_answers; then
        can_install || { echo "missing: a Postgres server on 127.0.0.1:5432"; return 1; }
        echo "starting: postgresql"
        if has_systemd; then
            systemctl start postgresql
        else
            local version
            version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
            pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >/dev/null
            pg_ctlcluster "$version" main start
        fi
        wait_until 60 postgres_answers || { echo "missing: Postgres did not answer in 60 s"; return 1; }
    else
        echo "ok: postgresql"
    fi
    ensure_postgres_database
}

psql_as_postgres() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtAX "$@"; }

ensure_postgres_database() {
    [[ $(id -u) -eq 0 ]] || { echo "ok: postgresql role not checked (not root)"; return 0; }
    if [[ $(psql_as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'") != 1 ]]; then
        echo "starting: postgresql role $PG_USER"
        psql_as_postgres -c "CREATE ROLE \"$PG_USER\" LOGIN CREATEDB PASSWORD '$PG_PASSWORD'"
    fi
    if [[ $(psql_as_postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") != 1 ]]; then
        echo "starting: postgresql database $PG_DB"
        psql_as_postgres -c "CREATE DATABASE \"$PG_DB\" OWNER \"$PG_USER\""
    fi
    echo "ok: postgresql database $PG_DB"
}

redis_answers() { [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; }

ensure_redis() {
    if redis_answers; then echo "ok: redis"; return 0; fi
    can_install || { echo "missing: a Redis server on 127.0.0.1:6379"; return 1; }
    echo "starting: redis"
    if has_systemd; then
        systemctl start redis-server
    else
        mkdir -p /var/lib/redis
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --dir /var/lib/redis \
            --logfile "$LOG_DIR/kasm-redis.log"
    fi
    wait_until 30 redis_answers || { echo "missing: Redis did not answer in 30 s"; return 1; }
}

main() {
    local failed=0
    ensure_packages || failed=1
    ensure_docker || failed=1
    ensure_postgres || failed=1
    ensure_redis || failed=1
    return $failed
}

main "$@"
