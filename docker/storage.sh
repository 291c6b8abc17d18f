# Sourced by build-image.sh and image-test.sh: a private containers store, so nothing touches the
# machine's own and everything can be deleted afterwards.

# use_private_storage DIR: write DIR/storage.conf and point buildah/podman at it.
use_private_storage() {
    local store=$1
    mkdir -p "$store"
    cat > "$store/storage.conf" << CONF
[storage]
driver = "overlay"
graphroot = "$store/root"
runroot = "$store/run"
CONF
    export CONTAINERS_STORAGE_CONF=$store/storage.conf
}
