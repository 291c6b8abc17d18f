#!/usr/bin/env bash
# Smoke-test the image saved by `make image` (dist/<name>-<tag>.docker.tar) on this machine:
# podman with runc, host network, everything on 127.0.0.1, a private container store that is
# deleted at the end. Needs root, podman, runc, curl, and a Python with aiohttp for the fake backend.
#
# Checks: the version labels; /health/liveliness; the image's HEALTHCHECK; the proxy process runs with
# a uid other than 0; no build leftovers (pip, setuptools, wheelhouse, pip cache, compiler); a short non-streaming request; a long non-streaming request with
# `buffered_stream: true` under a `timeout` shorter than the generation (and, as a control, that the
# same request without it times out); a request without a key gets a 401.
#
# BUFFERED_CHECK=auto (default): the buffered_stream check is required when the image's litellm
# wires buffered_stream in (a reference outside litellm/buffered_stream/), and reported as an
# expected failure otherwise. BUFFERED_CHECK=required makes it required always.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

image_name=${IMAGE_NAME:-localhost/litellm-buffered}
python=${PYTHON:-python3}
buffered_check=${BUFFERED_CHECK:-auto}
store=$root/build/image/test-storage
run_dir=$root/build/image/test-run
master_key=sk-image-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
container=litellm-image-test-$$

read -r fork_version upstream_version < <(python3 -c '
import tomllib
pin = tomllib.load(open("upstream/pin.toml", "rb"))
print(pin["upstream"]["version"] + "+" + pin["fork"]["local_version"], pin["upstream"]["version"])')
tag=${fork_version//+/-}
archive=$root/dist/$(basename "$image_name")-$tag.docker.tar
image=$image_name:$tag

for tool in podman runc curl; do
    command -v "$tool" > /dev/null || { echo "missing $tool (apt-get install podman runc curl)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "image-test.sh runs as root (podman with runc)" >&2; exit 1; }
[ -f "$archive" ] || { echo "no image archive $archive: run make image" >&2; exit 1; }

backend_pid=
podman_pid=
cleanup() {
    set +e
    if [ -n "$podman_pid" ] && kill -0 "$podman_pid" 2> /dev/null; then
        kill -TERM "$podman_pid"
        for _ in $(seq 1 20); do kill -0 "$podman_pid" 2> /dev/null || break; sleep 0.5; done
        kill -0 "$podman_pid" 2> /dev/null && kill -KILL "$podman_pid"
        wait "$podman_pid" 2> /dev/null
    fi
    podman rm --force --ignore --time 5 "$container" > /dev/null 2>&1
    if [ -n "$backend_pid" ] && kill -0 "$backend_pid" 2> /dev/null; then
        kill -TERM "$backend_pid"
        wait "$backend_pid" 2> /dev/null
    fi
    podman rmi --all --force > /dev/null 2>&1
    rm -rf "$store" "$run_dir"
}
rm -rf "$store" "$run_dir"
mkdir -p "$store" "$run_dir"
# shellcheck source=docker/storage.sh
source "$root/docker/storage.sh"
use_private_storage "$store"
trap cleanup EXIT

failures=0
pass() { echo "PASS  $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The fake backend (a process of ours, stopped by PID).
"$python" tests/test_litellm/buffered_stream/fake_llm.py --port 0 > "$run_dir/backend.out" 2> "$run_dir/backend.err" &
backend_pid=$!
for _ in $(seq 1 50); do grep -q '^READY' "$run_dir/backend.out" 2> /dev/null && break; sleep 0.2; done
backend_port=$(awk '/^READY/ {print $2}' "$run_dir/backend.out")
[ -n "$backend_port" ] || { cat "$run_dir/backend.err" >&2; echo "the fake backend did not start" >&2; exit 1; }
proxy_port=$(free_port)

# timeout 3 s; the slow model generates 15 tokens 300 ms apart (~5 s), the fast one 3 tokens.
cat > "$run_dir/config.yaml" << EOF
model_list:
  - model_name: slow-llm
    litellm_params:
      model: openai/text+tokens=15+delay=0.3
      api_base: http://127.0.0.1:$backend_port/v1
      api_key: fake-backend-key
      timeout: 3
  - model_name: fast-llm
    litellm_params:
      model: openai/text+tokens=3
      api_base: http://127.0.0.1:$backend_port/v1
      api_key: fake-backend-key
      timeout: 3
router_settings:
  num_retries: 0
litellm_settings:
  num_retries: 0
  request_timeout: 3
EOF
chmod 644 "$run_dir/config.yaml"

t0=$(date +%s)
podman load --quiet --input "$archive" > /dev/null
echo "loaded $image in $(($(date +%s) - t0)) s"

label() { podman image inspect --format "{{index .Labels \"$1\"}}" "$image"; }
[ "$(label org.opencontainers.image.version)" = "$fork_version" ] \
    && pass "label org.opencontainers.image.version = $fork_version" \
    || fail "label org.opencontainers.image.version = '$(label org.opencontainers.image.version)', want $fork_version"
[ "$(label io.litellm.upstream.version)" = "$upstream_version" ] \
    && pass "label io.litellm.upstream.version = $upstream_version" \
    || fail "label io.litellm.upstream.version = '$(label io.litellm.upstream.version)', want $upstream_version"
revision=$(label org.opencontainers.image.revision)
[ -n "$revision" ] && [ "$revision" != unknown ] && pass "label org.opencontainers.image.revision = $revision" \
    || fail "label org.opencontainers.image.revision is '$revision'"

t0=$(date +%s)
podman --runtime runc run --rm --name "$container" \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network host --health-interval disable \
    -e LITELLM_MASTER_KEY="$master_key" -e HOST=127.0.0.1 -e PORT="$proxy_port" \
    -v "$run_dir/config.yaml:/etc/litellm/config.yaml:ro" \
    "$image" --config /etc/litellm/config.yaml > "$run_dir/proxy.log" 2>&1 &
podman_pid=$!

up=
for _ in $(seq 1 240); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$proxy_port/health/liveliness" 2> /dev/null; then up=1; break; fi
    kill -0 "$podman_pid" 2> /dev/null || break
    sleep 0.5
done
if [ -z "$up" ]; then
    tail -40 "$run_dir/proxy.log" >&2
    echo "FAIL  the proxy did not answer /health/liveliness within 120 s" >&2
    exit 1
fi
pass "/health/liveliness answers (proxy up $(($(date +%s) - t0)) s after podman run)"

podman healthcheck run "$container" > /dev/null 2>&1 && pass "the image's HEALTHCHECK reports healthy" \
    || fail "the image's HEALTHCHECK failed"

pid=$(podman inspect --format '{{.State.Pid}}' "$container")
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
case " $uids " in
    *" 0 "*) fail "the proxy process (pid $pid) runs with uid(s) $uids" ;;
    *) pass "the proxy process (pid $pid) runs as uid $uids, not root" ;;
esac

leftovers=$(podman exec "$container" python3 -c '
import importlib.util, os, pwd, shutil
bad = [name for name in ("pip", "setuptools") if importlib.util.find_spec(name)]
pip_caches = [os.path.join(user.pw_dir, ".cache", "pip") for user in pwd.getpwall()]
bad += [path for path in ("/wheelhouse", *pip_caches) if os.path.exists(path)]
bad += [tool for tool in ("gcc", "cc", "make") if shutil.which(tool)]
print(" ".join(bad) or "none")' 2>&1) || true
[ "$leftovers" = none ] && pass "no pip, setuptools, wheelhouse, pip cache or compiler reachable in the final image" \
    || fail "build leftovers in the final image: $leftovers"

chat() { # model, extra JSON fields -> prints HTTP status, body in $run_dir/response.json
    curl -sS -o "$run_dir/response.json" -w '%{http_code}' --max-time 30 \
        "http://127.0.0.1:$proxy_port/v1/chat/completions" \
        -H "Authorization: Bearer $master_key" -H 'Content-Type: application/json' \
        -d "{\"model\": \"$1\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]$2}"
}
content() { "$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["choices"][0]["message"]["content"])' \
    "$run_dir/response.json" 2> /dev/null; }

status=$(chat fast-llm '') && [ "$status" = 200 ] && [ "$(content)" = "w0c0 w1c0 w2c0 " ] \
    && pass "short non-streaming request: 200, content '$(content)'" \
    || fail "short non-streaming request: HTTP $status $(head -c 300 "$run_dir/response.json")"

status=$(curl -sS -o "$run_dir/response.json" -w '%{http_code}' --max-time 30 \
    "http://127.0.0.1:$proxy_port/v1/chat/completions" -H 'Content-Type: application/json' \
    -d '{"model": "fast-llm", "messages": [{"role": "user", "content": "hi"}]}') || true
[ "$status" = 401 ] && pass "a request without a key: 401 (no database, no prisma client)" \
    || fail "a request without a key: HTTP $status $(head -c 300 "$run_dir/response.json")"

status=$(chat slow-llm '') || true
[ "$status" != 200 ] && pass "control: a ~5 s non-streaming generation under timeout 3 fails without buffered_stream (HTTP $status)" \
    || fail "control: the slow request succeeded without buffered_stream; the timeout is not shorter than the generation"

wired=$(podman exec "$container" python3 -c '
import pathlib, litellm
root = pathlib.Path(litellm.__file__).parent
own = root / "buffered_stream"
print(any("buffered_stream" in p.read_text(errors="ignore") for p in root.rglob("*.py") if own not in p.parents))
' 2> /dev/null || echo unknown)
status=$(chat slow-llm ', "buffered_stream": true') || true
expected="w0c0 w1c0 w2c0 w3c0 w4c0 w5c0 w6c0 w7c0 w8c0 w9c0 w10c0 w11c0 w12c0 w13c0 w14c0 "
if [ "$status" = 200 ] && [ "$(content)" = "$expected" ]; then
    pass "buffered_stream: a ~5 s generation under timeout 3 returns 200 with the whole content"
elif [ "$buffered_check" != required ] && [ "$wired" = False ]; then
    echo "XFAIL buffered_stream request: HTTP $status; expected, this image's litellm does not wire buffered_stream in yet"
else
    fail "buffered_stream request: HTTP $status $(head -c 300 "$run_dir/response.json") (feature wired in: $wired)"
fi

if [ "$failures" -gt 0 ]; then
    echo "--- proxy log (last 40 lines)"
    tail -40 "$run_dir/proxy.log"
    echo "image-test: $failures check(s) failed"
    exit 1
fi
echo "image-test: all checks passed"
