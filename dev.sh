#!/usr/bin/env bash
# Set up a development environment and run tfdash's demo or its checks.
#
#   ./dev.sh demo [tfdash demo args]   set up, then run `tfdash demo` (a live training job)
#   ./dev.sh test [pytest args]        set up, then ruff, mypy, import-linter, vermin, pytest
#   ./dev.sh setup                     only set up (system packages, .venv)
#
# Works on Debian 12 with Python 3.11+, as root or through sudo. Idempotent: a second run
# installs nothing and starts within a second or two.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="$PWD"
VENV="$ROOT/.venv"
STAMP="$VENV/.dev-sh-installed"
EXTRAS="dev,tf"
PYTHON="${PYTHON:-python3}"

say() { printf 'dev.sh: %s\n' "$*"; }
die() { printf 'dev.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,9s/^# \{0,1\}//p' "$0"
}

# --- system packages --------------------------------------------------------------------

# Debian packages that are missing, by name. openssh-server and logrotate are for the SSH
# and log-rotation tests; they are installed now so the set-up does not change later.
missing_packages() {
    local missing=()
    command -v tmux >/dev/null 2>&1 || missing+=(tmux)
    if ! venv_ok; then
        if ! command -v "$PYTHON" >/dev/null 2>&1; then
            missing+=(python3 python3-venv)
        # Debian ships venv without ensurepip; python3-venv brings it back.
        elif ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
            missing+=(python3-venv)
        fi
    fi
    [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
    command -v logrotate >/dev/null 2>&1 || [[ -x /usr/sbin/logrotate ]] || missing+=(logrotate)
    if ((${#missing[@]})); then
        printf '%s\n' "${missing[@]}"
    fi
}

install_packages() {
    local packages
    mapfile -t packages < <(missing_packages)
    ((${#packages[@]})) || return 0
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            die "missing system packages; as root run: apt-get install ${packages[*]}"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "missing system packages: ${packages[*]} (no apt-get here: install them by hand)"
    say "installing system packages: ${packages[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    mapfile -t packages < <(missing_packages)
    ((${#packages[@]} == 0)) || die "still missing after apt-get install: ${packages[*]}"
}

# --- the virtual environment ------------------------------------------------------------

check_python() {
    command -v "$PYTHON" >/dev/null 2>&1 ||
        die "$PYTHON not found: install Python 3.11 or newer (or set PYTHON=/path/to/python3.11)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$PYTHON is Python $("$PYTHON" -c 'import platform; print(platform.python_version())'); tfdash needs 3.11 or newer (set PYTHON=/path/to/python3.11)"
}

# What the installed environment was built from: a change of any of it reinstalls.
wanted_stamp() {
    printf '%s extras=%s python=%s\n' \
        "$(sha256sum pyproject.toml | cut -d' ' -f1)" "$EXTRAS" \
        "$("$VENV/bin/python" -c 'import platform; print(platform.python_version())')"
}

venv_ok() {
    "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

setup_venv() {
    if ! venv_ok; then
        check_python
        say "creating .venv with $("$PYTHON" -c 'import sys; print(sys.executable)')"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(wanted_stamp)" && -x "$VENV/bin/tfdash" ]]; then
        return 0
    fi
    say "installing tfdash and its [$EXTRAS] extras into .venv (pip, a minute the first time)"
    local log="$VENV/pip-install.log"
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -e ".[$EXTRAS]" \
        >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "pip install failed (full output in $log)"
    fi
    wanted_stamp >"$STAMP"
}

setup() {
    install_packages
    setup_venv
}

# --- commands ---------------------------------------------------------------------------

run_tests() {
    local failed=()
    step() {
        local name="$1"
        shift
        say "$name: $*"
        "$@" || failed+=("$name")
    }
    local bin="$VENV/bin"
    step "ruff check" "$bin/ruff" check --quiet .
    step "ruff format" "$bin/ruff" format --check --quiet .
    step "mypy" "$bin/mypy"
    step "import contracts" "$bin/lint-imports" --no-cache --no-logo
    step "python 3.8 syntax (agent)" "$bin/vermin" --target=3.8- --violations --no-tips -q remote_agent
    # Two workers (pytest-xdist): most tests wait on real processes, sshd and tmux, so two
    # at once take about 8 minutes on 2 cores where one at a time takes 13. Every test
    # keeps its own TFDASH_HOME, tmux server and sshd. TFDASH_TEST_WORKERS=0: serial.
    step "pytest" "$bin/python" -m pytest -n "${TFDASH_TEST_WORKERS:-2}" "$@"
    if ((${#failed[@]})); then
        say "FAILED: $(IFS=,; echo "${failed[*]}")"
        return 1
    fi
    say "all checks passed"
}

main() {
    local command="${1:-}"
    (($#)) && shift
    case "$command" in
    demo)
        setup
        exec "$VENV/bin/tfdash" demo "$@"
        ;;
    test)
        setup
        run_tests "$@"
        ;;
    setup)
        setup
        say "ready: $VENV"
        ;;
    -h | --help | help)
        usage
        ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
