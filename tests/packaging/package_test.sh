#!/usr/bin/env bash
# Packages, for real, as root: inspects the .deb and .rpm files (contents,
# conffiles, scripts, capabilities, lintian), installs the .debs on this
# machine, runs the installed collectd plugin and the installed binary (as an
# unprivileged user holding only the capability, inside a network namespace
# of its own), upgrades over them keeping config edits, removes them (collectd
# must still start) and purges them (nothing may be left).
#
# usage: package_test.sh PACKAGES_DIR PACKAGES_RELEASE2_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
v1=$(realpath "$1") v2=$(realpath "$2")
failures=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check() {  # check DESCRIPTION COMMAND...: passes when the command succeeds
  local what=$1; shift
  if "$@" >/tmp/tcpa-check.out 2>&1; then ok "$what"; else fail "$what"; sed 's/^/     /' /tmp/tcpa-check.out | head -20; fi
}
deb() { realpath "$1"/$2_*.deb; }  # apt wants a path, not a name

work=$(mktemp -d)
created_group=no created_telegraf_dir=no
source "$here/../lib/netns_lab.sh"
LAB_A=tcpa_pkg$$_a LAB_B=tcpa_pkg$$_b
cleanup() {
  apt-get purge -y tcpanomaly tcpanomaly-collectd >/dev/null 2>&1 || true
  [ $created_telegraf_dir = yes ] && rm -rf /etc/telegraf
  [ $created_group = yes ] && groupdel telegraf
  lab_down
  rm -rf "$work"
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive

echo "== inspect"
check "two .debs and two .rpms" test "$(ls "$v1" | grep -cE '\.(deb|rpm)$')" = 4
check "tcpanomaly.deb: the binary, man page, options conffile, execd snippet" \
  sh -c "dpkg-deb -c $(deb "$v1" tcpanomaly) | grep -q ' ./usr/bin/tcpanomaly$' &&
         dpkg-deb -c $(deb "$v1" tcpanomaly) | grep -q ' ./usr/share/man/man1/tcpanomaly.1.gz$' &&
         dpkg-deb -c $(deb "$v1" tcpanomaly) | grep -q ' ./etc/tcpanomaly/tcpanomaly.conf$' &&
         dpkg-deb -c $(deb "$v1" tcpanomaly) | grep -q ' ./usr/share/tcpanomaly/telegraf-execd.conf$'"
check "tcpanomaly-collectd.deb: the plugin in /usr/lib/collectd, man page, plugin conffile" \
  sh -c "dpkg-deb -c $(deb "$v1" tcpanomaly-collectd) | grep -q ' ./usr/lib/collectd/tcpanomaly.so$' &&
         dpkg-deb -c $(deb "$v1" tcpanomaly-collectd) | grep -q ' ./usr/share/man/man5/tcpanomaly-collectd.5.gz$' &&
         dpkg-deb -c $(deb "$v1" tcpanomaly-collectd) | grep -q ' ./etc/tcpanomaly/collectd.conf$'"
check "no daemon-visible snippet is a package file (removal must take it away)" \
  sh -c "! dpkg-deb -c $(deb "$v1" tcpanomaly) | grep -q telegraf.d && ! dpkg-deb -c $(deb "$v1" tcpanomaly-collectd) | grep -q conf.d"
check "conffiles listed" sh -c "dpkg-deb -I $(deb "$v1" tcpanomaly) conffiles | grep -qx /etc/tcpanomaly/tcpanomaly.conf &&
                                dpkg-deb -I $(deb "$v1" tcpanomaly-collectd) conffiles | grep -qx /etc/tcpanomaly/collectd.conf"
check "maintainer scripts present" sh -c "dpkg-deb -I $(deb "$v1" tcpanomaly) postinst | grep -q 'setcap cap_net_raw+ep' &&
                                          dpkg-deb -I $(deb "$v1" tcpanomaly) prerm | grep -q telegraf.d"
check "collectd pin matches the ABI built against" sh -c "dpkg-deb -f $(deb "$v1" tcpanomaly-collectd) Depends | grep -q 'collectd-core (>= 5.12), collectd-core (<< 5.13~)'"
check "runtime library dependencies" sh -c "dpkg-deb -f $(deb "$v1" tcpanomaly) Depends | grep -q libpcap0.8 &&
                                           dpkg-deb -f $(deb "$v1" tcpanomaly) Depends | grep -q libcap2-bin"
check "lintian clean (info and pedantic included)" sh -c "out=\$(lintian -I --pedantic $v1/*.deb 2>&1 | grep -v 'running with root'); echo \"\$out\"; [ -z \"\$out\" ]"
check "rpm: plugin in /usr/lib64/collectd" sh -c "rpm -qlp $v1/tcpanomaly-collectd-*.rpm | grep -qx /usr/lib64/collectd/tcpanomaly.so"
check "rpm: %caps cap_net_raw on the binary" sh -c "rpm -qlp --filecaps $v1/tcpanomaly-0*.rpm | grep -q '/usr/bin/tcpanomaly.*cap_net_raw=ep'"
check "rpm: configs are %config(noreplace)" sh -c "rpm -qpc $v1/tcpanomaly-0*.rpm | grep -qx /etc/tcpanomaly/tcpanomaly.conf &&
                                                    rpm -qpc $v1/tcpanomaly-collectd-*.rpm | grep -qx /etc/tcpanomaly/collectd.conf"
echo "   rpmlint (findings and reasons in README \"Packages\"):"
rpmlint "$v1"/*.rpm 2>&1 | grep -E '^tcpanomaly' | sed 's/^/     /'

echo "== install"
if ! getent group telegraf >/dev/null; then groupadd --system telegraf && created_group=yes; fi
if [ ! -d /etc/telegraf ]; then mkdir -p /etc/telegraf/telegraf.d && created_telegraf_dir=yes; fi
check "apt installs both .debs" apt-get install -y "$(deb "$v1" tcpanomaly)" "$(deb "$v1" tcpanomaly-collectd)"
check "getcap shows exactly cap_net_raw" sh -c "[ \"\$(getcap /usr/bin/tcpanomaly)\" = '/usr/bin/tcpanomaly cap_net_raw=ep' ]"
check "binary is root:telegraf 0750" sh -c "[ \"\$(stat -c '%U:%G %a' /usr/bin/tcpanomaly)\" = 'root:telegraf 750' ]"
check "execd snippet created for Telegraf" grep -q 'command = \["/usr/bin/tcpanomaly", "--config"' /etc/telegraf/telegraf.d/tcpanomaly.conf
check "collectd include created" grep -qx 'Include "/etc/tcpanomaly/collectd.conf"' /etc/collectd/collectd.conf.d/tcpanomaly.conf
check "man pages installed" sh -c "man -w tcpanomaly && man -w 5 tcpanomaly-collectd"

# A collectd.conf like Debian's: plugins from the default folder, conf.d included.
cat > "$work/collectd.conf" <<CONF
Hostname "pkgtest"
BaseDir "$work"
PIDFile "$work/collectd.pid"
Interval 1
AutoLoadPlugin false
LoadPlugin logfile
<Plugin logfile>
  File STDOUT
</Plugin>
LoadPlugin unixsock
<Plugin unixsock>
  SocketFile "$work/collectd.sock"
</Plugin>
Include "/etc/collectd/collectd.conf.d/*.conf"
CONF
check "installed collectd loads the installed plugin (collectd -T)" sh -c "collectd -T -C $work/collectd.conf 2>&1 | tee /dev/stderr | grep -q 'plugin \"tcpanomaly\" successfully loaded'"
# A short real run: values show up in collectd's cache (unixsock LISTVAL).
collectd -f -C "$work/collectd.conf" > "$work/collectd.log" 2>&1 &
cd_pid=$!
sleep 3
listval() {  # collectd's unixsock LISTVAL (collectdctl is in collectd-utils, not collectd-core)
  python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'LISTVAL\\n'); f=s.makefile(); n=int(f.readline().split()[0]); print(''.join(f.readline() for _ in range(n)))" "$1"
}
check "a short real run produces values" sh -c "$(declare -f listval); listval $work/collectd.sock | grep -q 'tcpanomaly-any/tcp_segments-direction='"
kill $cd_pid; wait $cd_pid 2>/dev/null

# The installed binary as an unprivileged user (group telegraf, capability only), in a namespace.
lab_up
gid=$(getent group telegraf | cut -d: -f3)
# (through a shell: setpriv itself still holds root's capabilities when it execs)
check "nobody outside group telegraf can't run it" sh -c "! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '/usr/bin/tcpanomaly --version'"
before=$(ip netns exec $LAB_A nstat -asz TcpAttemptFails | awk '/TcpAttemptFails/ {print $2}')
# stdin: wait for capture to start, make traffic, ask for a snapshot, then EOF (execd's stop).
out=$({ sleep 1; lab_client 10.200.0.2 5999 3 10 2; sleep 0.5; echo; sleep 0.5; } |
      ip netns exec $LAB_A setpriv --reuid=65534 --regid=$gid --clear-groups /usr/bin/tcpanomaly -i veth_a \
        --signal STDIN 2>"$work/exec.err")
after=$(ip netns exec $LAB_A nstat -asz TcpAttemptFails | awk '/TcpAttemptFails/ {print $2}')
refused=$(echo "$out" | grep '^tcpanomaly,direction=out,interface=veth_a ' | grep -o 'connects_refused=[0-9]*' | cut -d= -f2)
echo "   as nobody/telegraf: connects_refused{out}=$refused, kernel TcpAttemptFails delta=$((after - before))"
check "installed binary captures as an unprivileged user: refused = kernel's TcpAttemptFails = 3" \
  test "$refused" = 3 -a "$((after - before))" = 3
lab_down

echo "== upgrade"
echo "top-peers = 7  # local edit" >> /etc/tcpanomaly/tcpanomaly.conf
sed -i 's/^  #TopPeers 0$/  TopPeers 7/' /etc/tcpanomaly/collectd.conf
check "apt upgrades to release 2" apt-get install -y "$(deb "$v2" tcpanomaly)" "$(deb "$v2" tcpanomaly-collectd)"
check "release 2 installed" sh -c "dpkg-query -W -f='\${Version}' tcpanomaly | grep -q -- '-2$'"
check "config edits kept" sh -c "grep -q 'top-peers = 7  # local edit' /etc/tcpanomaly/tcpanomaly.conf && grep -q '^  TopPeers 7$' /etc/tcpanomaly/collectd.conf"
check "capability still set" sh -c "[ \"\$(getcap /usr/bin/tcpanomaly)\" = '/usr/bin/tcpanomaly cap_net_raw=ep' ]"

echo "== remove (not purge)"
check "apt removes both" apt-get remove -y tcpanomaly tcpanomaly-collectd
check "snippets gone, settings kept" sh -c "[ ! -e /etc/collectd/collectd.conf.d/tcpanomaly.conf ] && [ ! -e /etc/telegraf/telegraf.d/tcpanomaly.conf ] && [ -f /etc/tcpanomaly/collectd.conf ]"
check "collectd still starts (collectd -T)" collectd -T -C "$work/collectd.conf"

echo "== purge"
check "apt purges both" apt-get purge -y tcpanomaly tcpanomaly-collectd
check "nothing left behind" sh -c "[ ! -e /etc/tcpanomaly ] && [ ! -e /usr/share/tcpanomaly ] && [ ! -e /usr/lib/collectd/tcpanomaly.so ] && [ ! -e /usr/bin/tcpanomaly ] && ! dpkg -l tcpanomaly tcpanomaly-collectd 2>/dev/null | grep -q '^[ri]'"
check "collectd still starts after purge" collectd -T -C "$work/collectd.conf"

[ $failures = 0 ]
