# A test LAN made of network namespaces, for the discovery scenario and benchmark.
# Source it; needs root (or CAP_NET_ADMIN) and iproute2. Every host is a namespace
# with one veth ("eth0") on a bridge that lives in a namespace of its own, so no
# traffic ever leaves these namespaces. `lan_cleanup` removes everything made here.
#
#   lan_up PREFIX            the bridge namespace PREFIX-sw
#   lan_host PREFIX NAME IP  a host namespace PREFIX-NAME with IP/24 on eth0
#   in_host PREFIX NAME CMD  runs CMD inside that host
#   lan_cleanup PREFIX       removes every namespace PREFIX-*

lan_up() {
  local p=$1
  ip netns add "$p-sw"
  ip -n "$p-sw" link add br0 type bridge
  # Multicast snooping would hold mDNS back until a querier shows up.
  ip -n "$p-sw" link set br0 type bridge mcast_snooping 0
  ip -n "$p-sw" link set br0 up
  ip -n "$p-sw" link set lo up
}

lan_host() {
  local p=$1 name=$2 ip=$3
  local n=$p-$name
  ip netns add "$n"
  ip link add "${name}0" netns "$n" type veth peer name "$name" netns "$p-sw"
  ip -n "$n" link set "${name}0" name eth0
  ip -n "$n" link set lo up
  ip -n "$n" link set eth0 up
  ip -n "$n" addr add "$ip/24" dev eth0
  ip -n "$n" route add 224.0.0.0/4 dev eth0
  ip -n "$p-sw" link set dev "$name" master br0
  ip -n "$p-sw" link set dev "$name" up
}

in_host() {
  local p=$1 name=$2
  shift 2
  ip netns exec "$p-$name" "$@"
}

lan_cleanup() {
  local p=$1 ns
  for ns in $(ip netns list | awk '{print $1}' | grep "^$p-" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
