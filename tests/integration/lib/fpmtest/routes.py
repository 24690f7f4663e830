"""Normalise zebra's FIB and fpm-sink's RIB into comparable sets.

Comparison rule (what zebra's dplane_fpm_nl sends, FRR 8.4.4, checked in its
source and on the wire with ``python3 -m fpmtest dump``):

* On (re)connect zebra replays every next-hop group in its hash (including
  ones no route uses any more, members not necessarily before their groups)
  and then, for every route node of every table, ``dest->selected_fib``: the
  route zebra selected *for the FIB*. Afterwards each dataplane route
  install/update/delete is forwarded as it happens.
* That includes connected routes (also ``fe80::/64`` per interface), kernel
  routes zebra learned from the kernel (``K>*``), static, BGP, blackhole
  routes; all sent with RTA_TABLE 254 and RTA_PRIORITY 20; rtm_protocol 2 for
  connected and kernel routes, 196 static, 186 BGP.
* Not sent: routes that are not the selected FIB entry (``show ip route``
  entries without ``>*``), the kernel's local table (zebra 8.4 has no "L"
  local /32 routes; they appeared in FRR 10), and nothing is deleted when
  zebra goes away: a SIGTERM'd zebra withdraws its kernel routes but only
  closes the FPM socket.
* Blackhole routes arrive as RTN_BLACKHOLE with no next hop / NH id even in
  group mode; ECMP arrives as a group (use-next-hop-groups) or RTA_MULTIPATH.

So the expected set is: for each prefix in ``show ip[v6] route json`` the
entry with ``selected`` and ``installed`` true, keyed by (table, prefix,
type, sorted next hops), a next hop being (gateway or None, ifindex) of the
FIB next hops (``fib: true``, which for recursive BGP routes are the
resolved ones). Blackhole routes have an empty next-hop tuple on both sides.
Metrics, protocols and weights are compared by dedicated tests, not here.
"""

import ipaddress


def _gw(addr):
    return str(ipaddress.ip_address(addr)) if addr else None


def _key(table, prefix, rtype, nexthops):
    prefix = str(ipaddress.ip_network(prefix, strict=False))
    nhs = () if rtype != "unicast" else tuple(sorted(nexthops, key=lambda n: (n[0] or "", n[1])))
    return (int(table), prefix, rtype, nhs)


def zebra_fib(routes_json):
    """routes_json: merged ``show ip route json`` + ``show ipv6 route json``."""
    out = set()
    for prefix, entries in routes_json.items():
        for e in entries:
            if not (e.get("selected") and e.get("installed")):
                continue
            fib_nhs = [n for n in e.get("nexthops", []) if n.get("fib")]
            if any(n.get("blackhole") for n in fib_nhs):
                rtype = "blackhole"
            elif any(n.get("unreachable") or n.get("reject") for n in fib_nhs):
                rtype = "unreachable"
            else:
                rtype = "unicast"
            nhs = [(_gw(n.get("ip")), int(n.get("interfaceIndex", 0))) for n in fib_nhs]
            out.add(_key(e.get("table", 254), e.get("prefix", prefix), rtype, nhs))
    return out


def sink_fib(routes_reply, include_pending=False):
    """routes_reply: ``fpm-sinkctl show routes --json`` as parsed JSON."""
    out = set()
    for r in routes_reply.get("routes", []):
        if r.get("state") != "installed" and not include_pending:
            continue
        nhs = [(_gw(n.get("gateway")), int(n.get("ifindex", 0)))
               for n in r.get("nexthops", []) if not n.get("blackhole")]
        out.add(_key(r["table"], r["prefix"], r["type"], nhs))
    return out


def diff_fib(expected, got, limit=20):
    missing = sorted(expected - got)
    extra = sorted(got - expected)
    lines = [f"expected {len(expected)} routes, got {len(got)}; "
             f"missing {len(missing)}, unexpected {len(extra)}"]
    lines += [f"  - {m}" for m in missing[:limit]]
    lines += [f"  + {x}" for x in extra[:limit]]
    return "\n".join(lines)


def prefixes(fib):
    return {k[1] for k in fib}
