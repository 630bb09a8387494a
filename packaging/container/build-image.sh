#!/usr/bin/env bash
# build-image.sh DEB_DIR [TAG]: the collectd image for the Kubernetes
# DaemonSet (packaging/kubernetes), from Debian packages only: a Debian 12
# root file system made by debootstrap, collectd-core and our
# tcpanomaly-collectd .deb from DEB_DIR installed into it with apt (which
# fetches the .deb's dependencies from Debian's archive), assembled FROM
# scratch by podman. No image is pulled; apart from the archive it works
# offline. As root. Default TAG: localhost/tcpanomaly-collectd:<version>.
#
# An image already tagged TAG that was built from the same .deb (its
# label tcpanomaly.deb-sha256) is kept: the build is skipped.
set -euo pipefail
debs=$(realpath "$1")
deb=$(ls "$debs"/tcpanomaly-collectd_*.deb | head -1)
version=$(dpkg-deb -f "$deb" Version | cut -d- -f1)
tag=${2:-localhost/tcpanomaly-collectd:$version}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
podman=(podman --runtime runc --cgroup-manager=cgroupfs)
sha=$(sha256sum "$deb" | cut -d' ' -f1)

if [ "$("${podman[@]}" image inspect --format '{{index .Labels "tcpanomaly.deb-sha256"}}' "$tag" 2>/dev/null)" = "$sha" ]; then
  echo "build-image: $tag is already built from $(basename "$deb")"
  exit 0
fi

work=$(mktemp -d /var/tmp/tcpa-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
echo "build-image: debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" > "$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log"; exit 1; }

# No service may start inside the chroot while packages are installed.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
echo "build-image: apt-get install $(basename "$deb") and its dependencies"
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
  "apt-get update -qq && apt-get install -y -qq --no-install-recommends /tmp/$(basename "$deb") \
     libmicrohttpd12 libprotobuf-c1 && apt-get clean" > "$work/apt.log" 2>&1 ||
  { tail -20 "$work/apt.log"; exit 1; }

# What a running agent does not need: package lists, caches, docs, the
# chroot's resolver (the pod's is mounted in), the policy stub.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
  "$root"/usr/share/locale/* "$root/tmp/$(basename "$deb")" "$root/usr/sbin/policy-rc.d"
: > "$root/etc/resolv.conf"

tar -C "$root" --numeric-owner -cf "$work/rootfs.tar" .
cat > "$work/Containerfile" <<CONTAINERFILE
FROM scratch
ADD rootfs.tar /
LABEL org.opencontainers.image.title="tcpanomaly-collectd" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.description="collectd with the tcpanomaly plugin and write_prometheus (Debian 12)" \\
      tcpanomaly.deb-sha256="$sha"
EXPOSE 9103
ENTRYPOINT ["/usr/sbin/collectd", "-f", "-C", "/etc/tcpanomaly/collectd.conf"]
CONTAINERFILE
"${podman[@]}" build --quiet -t "$tag" -f "$work/Containerfile" "$work" > /dev/null
echo "build-image: $tag ($("${podman[@]}" image inspect --format '{{.Size}}' "$tag") bytes)"
