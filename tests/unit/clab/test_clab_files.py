"""Every frr-config/clab/*.clab.yml against containerlab's schema rules
(schemas/clab.schema.json: required keys, node and link keys, kind, image,
``node:iface`` endpoints) and what deploying it needs: eth0 left to
management, no interface in two links, bind sources present next to the
file, routers with a daemons file whose zebra loads dplane_fpm_nl and an
frr.conf. The same checks run before the harness deploys a file
(fpmtest.clab.load); the cases below show each one catches its fault."""

import copy
import glob
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "lib"))

import pytest  # noqa: E402
import yaml  # noqa: E402

from fpmtest import clab  # noqa: E402

FILES = sorted(glob.glob(os.path.join(clab.CLAB_DIR, "*.clab.yml")))


def test_the_three_topologies_exist():
    names = {os.path.basename(f) for f in FILES}
    assert {"demo.clab.yml", "ebgp-edge.clab.yml", "ospf-ecmp.clab.yml"} <= names, names


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_file_follows_the_rules(path):
    topo = clab.load(path)  # raises ClabError listing every problem
    assert topo.name and topo.links
    routers = topo.routers()
    assert routers, "no router node"
    for node in routers:
        assert node.image == clab.ROUTER_IMAGE, node.name
        assert node.daemons()[0] == "zebra"
    # Exactly the routers that point zebra at fpm-sink run one; every file has one.
    assert any(r.fpm_port() for r in routers)
    for node in topo.nodes.values():
        if not node.is_router:
            assert node.exec, f"host {node.name} configures nothing"


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_every_link_interface_is_configured(path):
    """A router's link interfaces carry addresses in its frr.conf, a host's
    in its exec lines: a file with a link nobody addresses is a typo."""
    topo = clab.load(path)
    for a, if_a, b, if_b in topo.links:
        for node, ifname in ((topo.nodes[a], if_a), (topo.nodes[b], if_b)):
            if node.is_router:
                assert f"interface {ifname}\n" in node.frr_conf(), (node.name, ifname)
            else:
                assert any(f"dev {ifname}" in line for line in node.exec), (node.name, ifname)


def test_demo_file_is_the_demo_topology():
    """ci/demo.sh's steps rely on these: dut's statics as topology.BASE_STATICS,
    peer1 announcing topology.bgp_networks(10, 3) (the demo's defaults)."""
    from fpmtest.topology import BASE_STATICS, bgp_networks
    topo = clab.load(clab.path("demo"))
    dut = topo.nodes["dut"].frr_conf()
    for prefix, target in BASE_STATICS:
        assert f"{'ipv6' if ':' in prefix else 'ip'} route {prefix} {target}\n" in dut
    assert clab.bgp_networks_of(topo.nodes["peer1"].frr_conf()) == bgp_networks(10, 3)


# ---- each rule catches its fault -------------------------------------------

def _load_data(name="demo"):
    with open(clab.path(name), encoding="utf-8") as f:
        return yaml.safe_load(f)


def _problems(data, name="demo"):
    return clab.problems(clab.Topology(clab.path(name), data))


def _broken(change, name="demo"):
    data = copy.deepcopy(_load_data(name))
    change(data)
    return _problems(data, name)


def test_unchanged_file_has_no_problem():
    assert _problems(_load_data()) == []


@pytest.mark.parametrize("change, expected", [
    (lambda d: d.pop("name"), "missing required key 'name'"),
    (lambda d: d.pop("topology"), "missing required key 'topology'"),
    (lambda d: d.update(nodes={}), "unknown top-level key 'nodes'"),
    (lambda d: d["topology"].update(nodes={}), "'topology.nodes' must be a non-empty mapping"),
    (lambda d: d["topology"]["nodes"]["peer2"].update(kind="docker"), "kind must be 'linux'"),
    (lambda d: d["topology"]["nodes"]["peer2"].pop("image"), "node peer2: missing 'image'"),
    (lambda d: d["topology"]["nodes"]["peer2"].update(sysctl=1), "unknown key 'sysctl'"),
    (lambda d: d["topology"]["nodes"]["peer2"].update(exec="ip link"),
     "'exec' must be a non-empty list of strings"),
    (lambda d: d["topology"]["links"][0].update(endpoints=["dut:eth1"]), "two 'node:interface'"),
    (lambda d: d["topology"]["links"][0].update(endpoints=["dut-eth1", "peer1:eth1"]),
     "is not 'node:interface'"),
    (lambda d: d["topology"]["links"][0].update(endpoints=["dut:eth1", "peer9:eth1"]),
     "names no node"),
    (lambda d: d["topology"]["links"][0].update(endpoints=["dut:eth0", "peer1:eth1"]),
     "uses eth0"),
    (lambda d: d["topology"]["links"][1].update(endpoints=["dut:eth1", "peer2:eth1"]),
     "dut:eth1 is already used by link 1"),
    (lambda d: d["topology"]["nodes"]["dut"]["binds"].__setitem__(
        1, "demo/dut/frr.cnf:/etc/frr/frr.conf"), "bind source 'demo/dut/frr.cnf' does not exist"),
    (lambda d: d["topology"]["nodes"]["dut"]["binds"].__setitem__(
        1, "demo/dut/frr.conf"), "is not SOURCE:/CONTAINER/PATH"),
    (lambda d: d["topology"]["nodes"]["dut"]["binds"].pop(0), "a router binds /etc/frr/daemons"),
    (lambda d: d["topology"]["nodes"]["dut"]["binds"].pop(1), "a router binds /etc/frr/frr.conf"),
    (lambda d: d["topology"]["nodes"]["dut"]["binds"].__setitem__(
        0, "demo/peer1/frr.conf:/etc/frr/frr.conf"), "two binds to the same container path"),
])
def test_rule_catches(change, expected):
    found = _broken(change)
    assert any(expected in p for p in found), found


def test_zebra_without_fpm_module_is_caught(tmp_path):
    """A daemons file whose zebra_options lack -M dplane_fpm_nl, and one that
    switches on a daemon the harness cannot run."""
    src = os.path.join(clab.CLAB_DIR, "demo", "dut")
    with open(os.path.join(src, "daemons"), encoding="utf-8") as f:
        daemons = f.read()
    bad = tmp_path / "daemons"
    bad.write_text(daemons.replace(" -M dplane_fpm_nl", "").replace("isisd=no", "isisd=yes"))
    data = copy.deepcopy(_load_data())
    data["topology"]["nodes"]["dut"]["binds"][0] = f"{bad}:/etc/frr/daemons"
    found = _problems(data)
    assert any("do not load '-M dplane_fpm_nl'" in p for p in found), found
    assert any("isisd" in p for p in found), found


def test_load_names_file_and_problem(tmp_path):
    data = copy.deepcopy(_load_data())
    data["topology"]["links"][0]["endpoints"][0] = "dut:eth0"
    for b in ("demo/dut", "demo/peer1"):
        os.makedirs(tmp_path / b)
        for f in ("daemons", "frr.conf"):
            with open(os.path.join(clab.CLAB_DIR, b, f), encoding="utf-8") as src:
                (tmp_path / b / f).write_text(src.read())
    path = tmp_path / "bad.clab.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(clab.ClabError) as err:
        clab.load(str(path))
    assert str(path) in str(err.value) and "uses eth0" in str(err.value)


def test_ospf_file_matches_the_tests_timers():
    """test_fp_ospf_ecmp bounds loss by OspfLab.DEAD seconds of traffic: the
    file's routers must use those timers and OspfLab's paths."""
    from fpmtest.fastpath import OspfLab
    topo = clab.load(clab.path(OspfLab.CLAB))
    for name in ("dut", "r3"):
        conf = topo.nodes[name].frr_conf()
        assert conf.count(f"ip ospf dead-interval {OspfLab.DEAD}\n") == len(OspfLab.PATHS)
        assert conf.count(f"ip ospf hello-interval {OspfLab.HELLO}\n") == len(OspfLab.PATHS)
    dut = topo.nodes["dut"].frr_conf()
    for ifname, (mine, _theirs) in OspfLab.PATHS.items():
        assert f"interface {ifname}\n ip address {mine}/24\n" in dut


def test_fast_path_ports_are_the_labs():
    """The dut's FPM_SINK_OPTS ports are those the demo and the tests that
    deploy the file attach fpm-sink's XDP program to."""
    from fpmtest import demo
    from fpmtest.fastpath import EdgeLab, OspfLab
    for name, ports in (("demo", demo.DUT_PORTS), (OspfLab.CLAB, OspfLab.DUT_PORTS),
                        (EdgeLab.CLAB, EdgeLab.DUT_PORTS)):
        got, rest = clab.load(clab.path(name)).nodes["dut"].fpm_sink_opts()
        assert sorted(got) == sorted(ports) and rest == [], (name, got, rest)


def test_fast_path_port_without_link_is_caught():
    found = _broken(lambda d: d["topology"]["nodes"]["dut"]["env"].update(
        FPM_SINK_OPTS="--interface eth1 --interface eth9"))
    assert any("--interface 'eth9'" in p for p in found), found
    found = _broken(lambda d: d["topology"]["nodes"]["dut"].update(env=["A=1"]))
    assert any("'env' must map" in p for p in found), found
