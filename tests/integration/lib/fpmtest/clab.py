"""containerlab topology files (frr-config/clab/*.clab.yml), read and deployed
into this run's namespaces, so that the demo and the tests run exactly what a
user deploys with ``containerlab deploy -t FILE``.

What each part of a file becomes here (containerlab's meaning in brackets):

- a node -> a namespace named as every other one of the run [a container];
- a link ``endpoints: ["a:eth1", "b:eth2"]`` -> a veth pair with exactly those
  names [the same veth pair between two containers]; eth0 is containerlab's
  management interface and is never part of a link;
- a router (a node that binds a ``frr.conf`` into /etc/frr/) -> FRR started by
  the harness (frr.py / frr10.py, its own paths in its namespace) with the
  daemons its bound ``daemons`` file switches on, booted from the bound
  frr.conf with ``vtysh -b`` as FRR's init does; interface addresses are in
  that frr.conf (zebra sets them). If the frr.conf points zebra's FPM client
  at ``fpm address ...``, fpm-sink runs next to zebra and is started before
  it (the image's entrypoint does the same);
- ``exec`` lines -> run in the node: a host's once its links exist, a
  router's once its FRR runs [containerlab runs them after the container
  started].

fpm-sink gets the options of the node's ``env: FPM_SINK_OPTS`` (the router
image's entrypoint passes that variable to fpm-sink), e.g. the XDP ports.
"""

import os
import re
import shlex

from .frr import DAEMONS, make_router
from .sink import REPO, FpmSink

CLAB_DIR = os.path.join(REPO, "frr-config", "clab")
ROUTER_IMAGE = "fpm-sink-frr:latest"
FRR_ETC = "/etc/frr/"
# Keys the schema (containerlab's schemas/clab.schema.json) allows.
TOP_KEYS = {"name", "prefix", "mgmt", "topology"}
TOPOLOGY_KEYS = {"nodes", "kinds", "defaults", "links"}
NODE_KEYS = {
    "image", "SANs", "kind", "license", "type", "group", "startup-config", "startup-delay",
    "enforce-startup-config", "auto-remove", "exec", "binds", "ports", "env", "user",
    "entrypoint", "cmd", "publish", "labels", "runtime", "mgmt_ipv4", "mgmt_ipv6",
    "network-mode", "cpu", "memory", "cpu-set", "sandbox", "kernel", "extras", "config",
    "wait-for",
}
LINK_KEYS = {"endpoints", "vars"}
ENDPOINT_RE = re.compile(r"^(\S+):(\S+)$")
MGMT_IF = "eth0"
FPM_ADDRESS_RE = re.compile(r"^\s*fpm address (\S+)(?: port (\d+))?", re.M)
FPM_DEFAULT_PORT = 2620


def path(name):
    """frr-config/clab/<name>.clab.yml"""
    return os.path.join(CLAB_DIR, f"{name}.clab.yml")


def bgp_networks_of(frr_conf):
    """Prefixes of bgpd's ``network`` lines in an frr.conf, in file order."""
    return re.findall(r"^\s+network (\S+)\s*$", frr_conf, re.M)


class ClabError(ValueError):
    """A topology file the runner cannot deploy; the text says which file and why."""


class Node:
    def __init__(self, topo, name, spec):
        self.topo = topo
        self.name = name
        self.spec = spec or {}
        self.kind = self.spec.get("kind")
        self.image = self.spec.get("image")
        self.exec = list(self.spec.get("exec") or [])
        # container path -> host path (relative sources are relative to the file).
        self.binds = {}
        for bind in self.spec.get("binds") or []:
            parts = str(bind).split(":")
            if len(parts) < 2:
                continue  # reported by problems()
            src, dst = parts[0], parts[1]
            self.binds[dst] = src if os.path.isabs(src) else os.path.join(topo.dir, src)

    def bound(self, container_path):
        """Host path of the file bound to ``container_path``, or None."""
        return self.binds.get(container_path)

    @property
    def is_router(self):
        return self.bound(FRR_ETC + "frr.conf") is not None

    def frr_conf(self):
        with open(self.bound(FRR_ETC + "frr.conf"), encoding="utf-8") as f:
            return f.read()

    def daemons_file(self):
        """{key: value} of the bound /etc/frr/daemons (shell assignments)."""
        out = {}
        with open(self.bound(FRR_ETC + "daemons"), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                key, _, value = line.partition("=")
                words = shlex.split(value, comments=True)
                out[key.strip()] = " ".join(words)
        return out

    def daemons(self):
        """Daemons to start, in the harness's start order; zebra always
        (FRR's init starts it whatever the file says)."""
        conf = self.daemons_file()
        wanted = {k for k, v in conf.items() if v == "yes" and not k.endswith("_enable")}
        unknown = wanted - set(DAEMONS)
        if unknown:
            raise ClabError(f"{self.topo.path}: node {self.name}: daemons file switches on "
                            f"{sorted(unknown)}, which the harness cannot run "
                            f"(it runs {', '.join(DAEMONS)})")
        return [d for d in DAEMONS if d == "zebra" or d in wanted]

    def fpm_sink_opts(self):
        """(ports, other options) of fpm-sink from the node's FPM_SINK_OPTS
        environment variable, which the router image's entrypoint passes to
        fpm-sink (e.g. "--interface eth1 --interface eth2": the XDP ports)."""
        words = shlex.split(str((self.spec.get("env") or {}).get("FPM_SINK_OPTS", "")))
        ports, rest = [], []
        it = iter(words)
        for word in it:
            if word == "--interface":
                ports.append(next(it, ""))
            elif word.startswith("--interface="):
                ports.append(word.split("=", 1)[1])
            else:
                rest.append(word)
        return ports, rest

    def fpm_port(self):
        """Port zebra's FPM client connects to per frr.conf, or None (no fpm-sink)."""
        m = FPM_ADDRESS_RE.search(self.frr_conf())
        if not m:
            return None
        return int(m.group(2)) if m.group(2) else FPM_DEFAULT_PORT


class Topology:
    """One parsed .clab.yml: nodes in file order, links as (a, if_a, b, if_b)."""

    def __init__(self, file_path, data):
        self.path = os.path.abspath(file_path)
        self.dir = os.path.dirname(self.path)
        self.data = data if isinstance(data, dict) else {}
        self.name = self.data.get("name")
        topo = self.data.get("topology") or {}
        nodes = topo.get("nodes") if isinstance(topo, dict) else None
        self.nodes = {str(n): Node(self, str(n), s if isinstance(s, dict) else {})
                      for n, s in (nodes or {}).items()}
        self.links = []
        for link in (topo.get("links") if isinstance(topo, dict) else None) or []:
            eps = (link or {}).get("endpoints") or []
            parsed = [ENDPOINT_RE.match(str(e)) for e in eps]
            if len(parsed) == 2 and all(parsed):
                self.links.append((parsed[0].group(1), parsed[0].group(2),
                                   parsed[1].group(1), parsed[1].group(2)))

    def routers(self):
        return [n for n in self.nodes.values() if n.is_router]


def load(file_path):
    """Parse and check a topology file; ClabError lists every problem."""
    import yaml  # Debian python3-yaml; only the runner and its test need it

    try:
        with open(file_path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise ClabError(f"{file_path}: cannot read: {exc}") from exc
    topo = Topology(file_path, data)
    found = problems(topo)
    if found:
        raise ClabError(f"{topo.path}:\n  " + "\n  ".join(found))
    return topo


def problems(topo):
    """What is wrong with ``topo`` for containerlab's schema and for a router
    image running fpm-sink; [] when nothing is."""
    out = []
    data = topo.data
    if not data:
        return ["not a YAML mapping"]
    for key in ("name", "topology"):
        if key not in data:
            out.append(f"missing required key '{key}'")
    out += [f"unknown top-level key '{k}'" for k in sorted(set(data) - TOP_KEYS)]
    if "name" in data and not isinstance(data["name"], str):
        out.append("'name' must be a string")
    topology = data.get("topology")
    if not isinstance(topology, dict):
        return out + ["'topology' must be a mapping"]
    out += [f"unknown key 'topology.{k}'" for k in sorted(set(topology) - TOPOLOGY_KEYS)]
    if not isinstance(topology.get("nodes"), dict) or not topology["nodes"]:
        return out + ["'topology.nodes' must be a non-empty mapping"]
    for name, spec in topology["nodes"].items():
        out += _node_problems(topo, str(name), spec)
    out += _link_problems(topo, topology.get("links"))
    return out


def _node_problems(topo, name, spec):
    where = f"node {name}"
    if not isinstance(spec, dict):
        return [f"{where}: must be a mapping"]
    out = [f"{where}: unknown key '{k}'" for k in sorted(set(spec) - NODE_KEYS)]
    if spec.get("kind") != "linux":
        out.append(f"{where}: kind must be 'linux', not {spec.get('kind')!r}")
    if not isinstance(spec.get("image"), str) or not spec["image"]:
        out.append(f"{where}: missing 'image'")
    env = spec.get("env")
    if env is not None and (not isinstance(env, dict) or not all(
            isinstance(v, (str, int, float)) for v in env.values())):
        out.append(f"{where}: 'env' must map names to strings or numbers")
    for key in ("exec", "binds"):
        value = spec.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not value or \
                not all(isinstance(v, str) and v.strip() for v in value):
            out.append(f"{where}: '{key}' must be a non-empty list of strings")
    binds = spec.get("binds") if isinstance(spec.get("binds"), list) else []
    if len(set(map(str, binds))) != len(binds):
        out.append(f"{where}: a bind is listed twice")
    dsts = []
    for bind in binds:
        parts = str(bind).split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1].startswith("/"):
            out.append(f"{where}: bind {bind!r} is not SOURCE:/CONTAINER/PATH[:ro|rw]")
            continue
        if len(parts) == 3 and parts[2] not in ("ro", "rw"):
            out.append(f"{where}: bind {bind!r}: mode must be ro or rw")
        dsts.append(parts[1])
        src = parts[0] if os.path.isabs(parts[0]) else os.path.join(topo.dir, parts[0])
        if not os.path.exists(src):
            out.append(f"{where}: bind source {parts[0]!r} does not exist "
                       f"(relative to {topo.dir})")
    if len(set(dsts)) != len(dsts):
        out.append(f"{where}: two binds to the same container path")
    node = topo.nodes.get(name)
    if node is None or out:
        return out
    if node.image == ROUTER_IMAGE or node.is_router:
        out += _router_problems(node, where)
    return out


def _router_problems(node, where):
    out = []
    for f in ("daemons", "frr.conf"):
        if node.bound(FRR_ETC + f) is None:
            out.append(f"{where}: a router binds {FRR_ETC}{f}")
    if out:
        return out
    conf = node.daemons_file()
    if "-M dplane_fpm_nl" not in conf.get("zebra_options", "") and \
            "--module dplane_fpm_nl" not in conf.get("zebra_options", ""):
        out.append(f"{where}: zebra_options in the daemons file do not load "
                   "'-M dplane_fpm_nl'")
    try:
        node.daemons()
    except ClabError as exc:
        out.append(f"{where}: {str(exc).split(': ', 2)[-1]}")
    if not re.search(r"^hostname \S+", node.frr_conf(), re.M):
        out.append(f"{where}: frr.conf sets no hostname")
    ports, _rest = node.fpm_sink_opts()
    linked = {i for a, ia, b, ib in node.topo.links for n, i in ((a, ia), (b, ib))
              if n == node.name}
    for port in ports:
        if port not in linked:
            out.append(f"{where}: FPM_SINK_OPTS names --interface {port!r}, "
                       "which no link of the node has")
    return out


def _link_problems(topo, links):
    if links is None:
        return []
    if not isinstance(links, list) or not links:
        return ["'topology.links' must be a non-empty list"]
    out, used = [], {}
    for i, link in enumerate(links):
        where = f"link {i + 1}"
        if not isinstance(link, dict):
            out.append(f"{where}: must be a mapping")
            continue
        out += [f"{where}: unknown key '{k}'" for k in sorted(set(link) - LINK_KEYS)]
        eps = link.get("endpoints")
        if not isinstance(eps, list) or len(eps) != 2:
            out.append(f"{where}: 'endpoints' must list two 'node:interface' strings")
            continue
        for ep in eps:
            m = ENDPOINT_RE.match(str(ep))
            if not m:
                out.append(f"{where}: endpoint {ep!r} is not 'node:interface'")
                continue
            node, ifname = m.groups()
            if node not in topo.nodes:
                out.append(f"{where}: endpoint {ep!r} names no node of the topology")
            if ifname == MGMT_IF:
                out.append(f"{where}: endpoint {ep!r} uses {MGMT_IF}, containerlab's "
                           "management interface")
            if len(ifname) > 15:
                out.append(f"{where}: interface name {ifname!r} is longer than 15 characters")
            if (node, ifname) in used:
                out.append(f"{where}: {ep} is already used by link {used[(node, ifname)]}")
            used[(node, ifname)] = i + 1
    return out


class Deployment:
    """A topology deployed into ``run``'s namespaces; run.close() removes it.

    Building it creates the namespaces and links and runs the hosts' exec
    lines; start() starts fpm-sink and FRR on the routers, then their exec
    lines. In between, the caller may adjust ``sinks`` (e.g. XDP ports)."""

    def __init__(self, run, topo, sink_bins=None, sweep_delay=3, frr_prepend=None):
        """sink_bins: (fpm-sink, fpm-sinkctl), or None for no fpm-sink;
        frr_prepend: {node: [lines]} put at the top of that router's frr.conf
        (e.g. "no fpm use-next-hop-groups" for a test's next-hop mode)."""
        self.run = run
        self.topo = topo
        self.frr_prepend = dict(frr_prepend or {})
        self.routers = {}
        self.sinks = {}
        for name in topo.nodes:
            run.ns(name)
        for a, if_a, b, if_b in topo.links:
            run.link(a, if_a, b, if_b)
        for node in topo.nodes.values():
            if node.is_router:
                router = self.routers[node.name] = make_router(run.ns(node.name), node.name)
                port = node.fpm_port()
                if port is not None and sink_bins and sink_bins[0]:
                    ports, opts = node.fpm_sink_opts()
                    self.sinks[node.name] = FpmSink(
                        run.ns(node.name), sink_bins[0], sink_bins[1], port=port,
                        sweep_delay=sweep_delay, interfaces=ports,
                        extra_args=opts + router.fpm_sink_args())
            else:
                self._exec(node)

    def _exec(self, node):
        ns = self.run.ns(node.name)
        for line in node.exec:
            ns.exec(shlex.split(line))

    def start(self):
        # fpm-sink listens before zebra connects: zebra's first connection
        # then carries the whole table (it retries every few seconds anyway).
        for sink in self.sinks.values():
            sink.start()
        for name, router in self.routers.items():
            node = self.topo.nodes[name]
            text = node.frr_conf()
            extra = self.frr_prepend.get(name)
            if extra:
                text = "\n".join(extra) + "\n" + text
            router.start_integrated(text, node.daemons())
        for name in self.routers:
            self._exec(self.topo.nodes[name])
        return self


def deploy(run, file_path, sink_bins=None, sweep_delay=3, frr_prepend=None):
    return Deployment(run, load(file_path), sink_bins, sweep_delay, frr_prepend)
