"""Route churn for the soak test: a stable route set that carries traffic and
~10k prefixes flapped around it, as a scripted FPM client sends them.

The stable set mixes every shape zebra sends: a route through an ECMP
next-hop object (RTA_NH_ID), an inline single next hop, an inline
RTA_MULTIPATH route, in IPv4 and IPv6. The churn set has more-specifics
nested under the stable prefixes (so the tbl8 groups / trie nodes the stable
traffic is looked up through are split, rewritten and freed under it), bulk
prefixes with and without RTA_NH_ID, and next-hop groups whose membership
changes. Flapping is random (seeded) add / delete / replace / group change;
restore() puts every churned object back in its initial state, so the route
set is exactly the pre-churn one again.
"""

import ipaddress
import random
import time

from . import fpmclient as nl

# Next-hop object ids, like zebra's: stable ones, churn-only ones, groups.
NH_R2_V4, NH_R3_V4, NH_R2_V6, NH_R3_V6 = 1, 2, 3, 4
GROUP_STABLE_V4, GROUP_STABLE_V6 = 10, 11
CHURN_NH_V4, CHURN_NH_V6 = 100, 200       # + 0..CHURN_NHS-1
CHURN_GROUP_V4, CHURN_GROUP_V6 = 1000, 2000  # + 0..CHURN_GROUPS-1
CHURN_NHS = 16
CHURN_GROUPS = 40


class ChurnPlan:
    """The route sets and the client that sends them.

    Stable traffic destinations are on r2 and r3 (both hold them on lo, so an
    ECMP route may pick either); gateways r2 / r3 are on the DUT's ports
    ``ports[0]`` / ``ports[1]`` (ifindexes).
    """

    STABLE_V4 = {"198.51.100.0/24": "ecmp", "203.0.113.0/24": "single"}
    STABLE_V6 = {"2001:db8:100::/48": "ecmp", "2001:db8:200::/48": "multipath"}
    # One address per stable prefix that no churned more-specific covers.
    DESTINATIONS = ["198.51.100.10", "203.0.113.10", "2001:db8:100::10", "2001:db8:200::10"]

    def __init__(self, ifindex_r2, ifindex_r3, prefixes=10000, seed=1):
        self.rng = random.Random(seed)
        self.if2, self.if3 = ifindex_r2, ifindex_r3
        self.gw = {
            NH_R2_V4: ("10.0.2.2", ifindex_r2), NH_R3_V4: ("10.0.3.2", ifindex_r3),
            NH_R2_V6: ("fd00:2::2", ifindex_r2), NH_R3_V6: ("fd00:3::2", ifindex_r3)}
        # Churn-only next hops: addresses on r2's / r3's subnets nobody answers
        # for (unresolved: routes through them punt; no traffic goes there).
        for i in range(CHURN_NHS):
            port, net = (ifindex_r2, 2) if i % 2 == 0 else (ifindex_r3, 3)
            self.gw[CHURN_NH_V4 + i] = (f"10.0.{net}.{20 + i}", port)
            self.gw[CHURN_NH_V6 + i] = (f"fd00:{net}::{20 + i:x}", port)
        self.initial_groups = {}
        for i in range(CHURN_GROUPS):
            self.initial_groups[CHURN_GROUP_V4 + i] = self._random_members(4)
            self.initial_groups[CHURN_GROUP_V6 + i] = self._random_members(6)
        self.groups = dict(self.initial_groups)
        self.churn_prefixes = self._churn_prefixes(prefixes)
        self.initial_routes = {p: self._random_route(p) for p in self.churn_prefixes}
        self.routes = {}  # churn prefix -> route now announced
        self.client = None
        self.updates = 0  # churn messages sent by flap()

    # ---- shapes
    def _nh_ids(self, family):
        stable = [NH_R2_V4, NH_R3_V4] if family == 4 else [NH_R2_V6, NH_R3_V6]
        base = CHURN_NH_V4 if family == 4 else CHURN_NH_V6
        return stable + [base + i for i in range(CHURN_NHS)]

    def _random_members(self, family):
        ids = self.rng.sample(self._nh_ids(family), self.rng.randint(1, 4))
        return tuple((i, self.rng.randint(1, 4)) for i in sorted(ids))

    def _random_route(self, prefix):
        """(nh_id, hops): through a group object, or inline (one hop or multipath)."""
        family = ipaddress.ip_network(prefix).version
        kind = self.rng.random()
        if kind < 0.5:
            base = CHURN_GROUP_V4 if family == 4 else CHURN_GROUP_V6
            stable = GROUP_STABLE_V4 if family == 4 else GROUP_STABLE_V6
            gid = stable if kind < 0.1 else base + self.rng.randrange(CHURN_GROUPS)
            return (gid, None)
        n = 1 if kind < 0.75 else self.rng.randint(2, 3)
        hops = tuple(self.gw[i] for i in self.rng.sample(self._nh_ids(family), n))
        return (0, hops)

    def _hops_of(self, route):
        nh_id, hops = route
        if hops is not None:
            return hops
        members = self.groups.get(nh_id) or {
            GROUP_STABLE_V4: ((NH_R2_V4, 1), (NH_R3_V4, 1)),
            GROUP_STABLE_V6: ((NH_R2_V6, 1), (NH_R3_V6, 1))}[nh_id]
        return tuple(self.gw[m] for m, _w in members)

    @staticmethod
    def _churn_prefixes(total):
        """Nested more-specifics under the stable prefixes (none covering
        DESTINATIONS), then IPv4 /24s and /26s (one tbl8 group each) and IPv6
        /48s and /64s up to ``total`` (about 3/4 IPv4)."""
        out = ["198.51.100.128/25", "198.51.100.64/26", "198.51.100.32/27", "198.51.100.16/28",
               "203.0.113.128/25", "203.0.113.64/27", "203.0.113.16/28"]
        out += [f"198.51.100.{h}/32" for h in range(129, 255)]
        out += [f"203.0.113.{h}/32" for h in range(200, 255)]
        out += [f"2001:db8:100:{s:x}::/64" for s in range(1, 200)]
        out += [f"2001:db8:200:{s:x}00::/56" for s in range(1, 100)]
        v4_left = total * 3 // 4 - sum(1 for p in out if ":" not in p)
        v6_left = total - len(out) - v4_left
        for i in range(v4_left):
            if i % 3 == 0:  # a /26 alone in its /24: a tbl8 group of its own
                out.append(f"10.{100 + i // 3 // 256}.{i // 3 % 256}.64/26")
            else:
                j = i - i // 3 - 1
                out.append(f"10.{64 + j // 256}.{j % 256}.0/24")
        for i in range(v6_left):
            if i % 2 == 0:
                out.append(f"2001:db8:{0x1000 + i // 2:x}::/48")
            else:
                out.append(f"2001:db8:{0x4000 + i // 2:x}:{i % 7 + 1:x}::/64")
        return out

    # ---- sending
    def connect(self, port, netns):
        self.client = nl.FpmClient(port=port, netns=netns)
        return self

    def _send_route(self, prefix, route, replace=True):
        self.client.add(nl.route_add(prefix, route[0], self._hops_of(route), replace))
        self.routes[prefix] = route

    def _send_group(self, gid, members):
        self.client.add(nl.group_add(gid, members))
        self.groups[gid] = members

    def announce_stable(self):
        """The route set traffic flows to (what zebra replays first)."""
        for nh_id in (NH_R2_V4, NH_R3_V4, NH_R2_V6, NH_R3_V6):
            self.client.add(nl.nexthop_add(nh_id, *self.gw[nh_id]))
        self.client.add(nl.group_add(GROUP_STABLE_V4, ((NH_R2_V4, 1), (NH_R3_V4, 1))))
        self.client.add(nl.group_add(GROUP_STABLE_V6, ((NH_R2_V6, 1), (NH_R3_V6, 1))))
        r2v4, r3v4, r2v6, r3v6 = (self.gw[i] for i in (NH_R2_V4, NH_R3_V4, NH_R2_V6, NH_R3_V6))
        self.client.add(nl.route_add("198.51.100.0/24", GROUP_STABLE_V4, (r2v4, r3v4)))
        self.client.add(nl.route_add("203.0.113.0/24", 0, (r2v4,)))
        self.client.add(nl.route_add("2001:db8:100::/48", GROUP_STABLE_V6, (r2v6, r3v6)))
        self.client.add(nl.route_add("2001:db8:200::/48", 0, (r2v6, r3v6), replace=False))
        self.client.flush()

    def announce_churn_set(self):
        """Churn next hops, groups and prefixes in their initial state."""
        for i in range(CHURN_NHS):
            for nh_id in (CHURN_NH_V4 + i, CHURN_NH_V6 + i):
                self.client.add(nl.nexthop_add(nh_id, *self.gw[nh_id]))
        self.restore()

    def restore(self):
        """Every churn group and prefix back to its initial state."""
        for gid, members in self.initial_groups.items():
            self._send_group(gid, members)
        for prefix, route in self.initial_routes.items():
            self._send_route(prefix, route)
        self.client.flush()

    def withdraw_churn_set(self):
        """Delete every churn prefix, then its groups and next hops."""
        for prefix in list(self.routes):
            self.client.add(nl.route_del(prefix))
            del self.routes[prefix]
        for gid in list(self.groups):
            self.client.add(nl.nexthop_del(gid))
            del self.groups[gid]
        for i in range(CHURN_NHS):
            self.client.add(nl.nexthop_del(CHURN_NH_V4 + i))
            self.client.add(nl.nexthop_del(CHURN_NH_V6 + i))
        self.client.flush()

    def flap_step(self):
        """One random update: group membership change (1 in 20), else a
        delete, replace or add of a random churn prefix."""
        if self.rng.random() < 0.05:
            gid = self.rng.choice(list(self.initial_groups))
            self._send_group(gid, self._random_members(4 if gid < CHURN_GROUP_V6 else 6))
            return
        prefix = self.rng.choice(self.churn_prefixes)
        if prefix not in self.routes:
            self._send_route(prefix, self._random_route(prefix), replace=False)
        elif self.rng.random() < 0.5:
            self.client.add(nl.route_del(prefix))
            del self.routes[prefix]
        else:
            self._send_route(prefix, self._random_route(prefix))

    def flap(self, seconds, rate, alive=lambda: True):
        """Flap for ``seconds`` at about ``rate`` updates/s (batches of 1/20 s).
        Returns {"updates", "seconds", "rate"}; stops early if alive() fails."""
        batch = max(1, int(rate / 20))
        start = time.monotonic()
        sent = 0
        while time.monotonic() - start < seconds and alive():
            for _ in range(batch):
                self.flap_step()
            self.client.flush()
            sent += batch
            due = start + sent / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        elapsed = time.monotonic() - start
        self.updates += sent
        return {"updates": sent, "seconds": round(elapsed, 1), "rate": round(sent / elapsed)}
