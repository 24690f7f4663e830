// Counter slots of ports and routed subinterfaces (fib_offload_ports.cpp):
// a slot reaches a new owner only past its quarantine and zeroed, and over a
// warm restart a port keeps the slot the previous run gave it.
#include <gtest/gtest.h>

#include <algorithm>

#include "dataplane/fake_announced_routes.hpp"
#include "dataplane/fake_map_writer.hpp"
#include "dataplane/fib_offload.hpp"

namespace fpm_sink {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kEth1 = 11, kEth2 = 12, kEth3 = 13, kGone = 99, kEth1v10 = 21;
const EthAddr kMacEth1{2, 0, 0, 0, 0, 1}, kMacEth2{2, 0, 0, 0, 0, 2}, kMacEth3{2, 0, 0, 0, 0, 3};

LinkEntry routed(EthAddr mac) {
  LinkEntry l{mac, 1500, true};
  l.forward_v4 = l.forward_v6 = true;
  return l;
}

class PortSlots : public ::testing::Test {
 protected:
  PortSlots() {
    kernel.set_link(kEth1, routed(kMacEth1));
    kernel.set_link(kEth2, routed(kMacEth2));
    kernel.set_link(kEth3, routed(kMacEth3));
    LinkEntry sub = routed(EthAddr{2, 0, 0, 0, 0x10, 1});
    sub.vlan = VlanEntry{kEth1, 10, 0x8100, false};
    kernel.set_link(kEth1v10, sub);
    make(4);
  }
  void make(uint32_t max_ports) {
    fp.reset();
    writer = std::make_unique<FakeMapWriter>();
    FibOffloadLimits cfg;
    cfg.max_ports = max_ports;
    cfg.index_grace = 1s;
    cfg.clock = [this] { return now; };
    fp = std::make_unique<FibOffload>(cfg, *writer, kernel, kernel, routes);
  }
  uint32_t slot_of(uint32_t ifindex) { return writer->ifaces.at(ifindex).slot; }
  bool cleared(uint32_t slot) const {
    return std::count(writer->cleared_slots.begin(), writer->cleared_slots.end(), slot) > 0;
  }

  StaticKernelView kernel;
  std::chrono::steady_clock::time_point now{};
  std::unique_ptr<FakeMapWriter> writer;
  FakeAnnouncedRoutes routes;
  std::unique_ptr<FibOffload> fp;
};

// Pinned maps can hold anything in a slot this run never handed out.
TEST_F(PortSlots, AFreshSlotIsZeroedBeforeItsEntryNamesIt) {
  writer->slot_packets[0] = 500;
  ASSERT_TRUE(fp->add_port(kEth1));
  EXPECT_EQ(slot_of(kEth1), 0u);
  EXPECT_EQ(writer->cleared_slots, std::vector<uint32_t>{0});
  EXPECT_FALSE(writer->slot_packets.contains(0));
  EXPECT_EQ(writer->slots_cleared_in_use, 0u);
}

TEST_F(PortSlots, AFreedSlotWaitsOutItsQuarantineAndIsZeroedForTheNextPort) {
  make(1);
  ASSERT_TRUE(fp->add_port(kEth1));
  writer->slot_packets[0] = 1000;  // eth1's traffic
  ASSERT_TRUE(fp->remove_port(kEth1));
  // An XDP run that read eth1's entry may still count in slot 0.
  auto early = fp->add_port(kEth2);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().id, "dataplane.port.full");
  EXPECT_EQ(writer->slot_packets[0], 1000u);
  now += 1s;
  ASSERT_TRUE(fp->add_port(kEth2));
  EXPECT_EQ(slot_of(kEth2), 0u);
  EXPECT_FALSE(writer->slot_packets.contains(0));
  EXPECT_EQ(writer->cleared_slots, (std::vector<uint32_t>{0, 0}));
  EXPECT_EQ(writer->slots_cleared_in_use, 0u);
}

TEST_F(PortSlots, ASubinterfaceSlotIsZeroedOnReuseToo) {
  make(2);
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  const uint32_t sub_slot = fp->subinterfaces().at(kEth1v10).slot;
  writer->slot_packets[sub_slot] = 77;
  LinkEntry down = kernel.link(kEth1v10).value();
  down.up = false;
  kernel.set_link(kEth1v10, down);
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  ASSERT_FALSE(fp->subinterfaces().contains(kEth1v10));
  now += 1s;
  ASSERT_TRUE(fp->add_port(kEth2));
  EXPECT_EQ(slot_of(kEth2), sub_slot);
  EXPECT_FALSE(writer->slot_packets.contains(sub_slot));
  EXPECT_EQ(writer->slots_cleared_in_use, 0u);
}

// Counters are not forwarding state: a failed clear is reported, the port is served.
TEST_F(PortSlots, AFailedClearDoesNotKeepThePortOut) {
  writer->fail_next_write = true;
  ASSERT_TRUE(fp->add_port(kEth1));
  EXPECT_TRUE(writer->ifaces.contains(kEth1));
  ASSERT_TRUE(fp->last_error());
  EXPECT_EQ(fp->last_error()->id, "bpf.map.update");
}

TEST_F(PortSlots, WarmRestartKeepsEachSurvivingPortsSlotAndFreesTheRest) {
  make(8);
  // The previous run's fpm_ifaces: eth1 in 3, its VLAN in 5, a port gone since in 7.
  writer->slot_packets = {{3, 10}, {5, 20}, {7, 30}};
  fp->adopt_port_slots({{kEth1, 3}, {kEth1v10, 5}, {kGone, 7}});
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  EXPECT_EQ(slot_of(kEth1), 3u);
  EXPECT_EQ(fp->subinterfaces().at(kEth1v10).slot, 5u);
  // Their counts go on.
  EXPECT_EQ(writer->slot_packets[3], 10u);
  EXPECT_EQ(writer->slot_packets[5], 20u);
  // New ports get the other slots, zeroed; never the gone port's, its entry may be live.
  for (uint32_t ifindex = 100; ifindex < 105; ++ifindex) ASSERT_TRUE(fp->add_port(ifindex));
  EXPECT_FALSE(fp->add_port(105));
  EXPECT_FALSE(cleared(3) || cleared(5) || cleared(7));
  EXPECT_EQ(writer->slot_packets[7], 30u);

  EXPECT_EQ(fp->release_adopted_port_slots(), 1u);
  EXPECT_FALSE(fp->add_port(105));  // quarantined from the release on
  now += 1s;
  ASSERT_TRUE(fp->add_port(105));
  EXPECT_EQ(slot_of(105), 7u);
  EXPECT_FALSE(writer->slot_packets.contains(7));
  EXPECT_EQ(writer->slots_cleared_in_use, 0u);
}

// A port that comes back later than the start-up dump is a new owner.
TEST_F(PortSlots, APortAddedAfterTheReleaseGetsAZeroedSlot) {
  writer->slot_packets = {{2, 40}};
  fp->adopt_port_slots({{kEth2, 2}});
  EXPECT_EQ(fp->release_adopted_port_slots(), 1u);
  ASSERT_TRUE(fp->add_port(kEth2));
  EXPECT_NE(slot_of(kEth2), 2u);  // fresh ones first
  EXPECT_TRUE(cleared(slot_of(kEth2)));
  EXPECT_EQ(writer->slot_packets[2], 40u);
}

// Corrupt pins (two entries naming one slot): neither entry's port keeps it.
TEST_F(PortSlots, ASlotNamedTwiceIsKeptByNeither) {
  writer->slot_packets = {{1, 5}};
  fp->adopt_port_slots({{kEth1, 1}, {kEth2, 1}});
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->add_port(kEth2));
  EXPECT_NE(slot_of(kEth1), 1u);
  EXPECT_NE(slot_of(kEth2), 1u);
  EXPECT_EQ(fp->release_adopted_port_slots(), 1u);
}

}  // namespace
}  // namespace fpm_sink
