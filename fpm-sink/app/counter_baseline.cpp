#include "app/counter_baseline.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <map>
#include <string>
#include <utility>

namespace fpm_sink {
namespace {

using Counters = google::protobuf::RepeatedPtrField<control::Counter>;

void subtract(const Counters& base, Counters* now) {
  std::map<std::string, const control::Counter*> by_name;
  for (const auto& c : base) by_name.emplace(c.name(), &c);
  for (auto& c : *now) {
    auto it = by_name.find(c.name());
    if (it == by_name.end()) continue;
    const control::Counter& b = *it->second;
    if (c.packets() < b.packets() || c.bytes() < b.bytes()) continue;  // started again
    c.set_packets(c.packets() - b.packets());
    c.set_bytes(c.bytes() - b.bytes());
  }
}

}  // namespace

void CounterBaseline::persist(std::string path, CounterMapsIdentity maps) {
  path_ = std::move(path);
  maps_ = std::move(maps);
  auto saved = load_counter_baseline(path_, maps_);
  if (!saved) return;
  base_ = std::move(saved->counters);
  slots_ = std::move(saved->slots);
  cleared_at_ = saved->cleared_at;
  spdlog::info("app.counter_baseline.restored path={} cleared_at={} counter maps {}", path_,
               cleared_at_, maps_.to_string());
}

void CounterBaseline::drop_saved() const {
  if (!path_.empty()) ::unlink(path_.c_str());
}

void CounterBaseline::set(const control::CountersReply& now, CounterSlots slots, std::time_t at) {
  base_ = now;
  slots_ = std::move(slots);
  cleared_at_ = at;
  if (path_.empty()) return;
  if (auto st = save_counter_baseline(path_, {maps_, at, slots_, now}); !st)
    spdlog::warn("{}; the clear holds until fpm-sink restarts", st.error().to_string());
}

void CounterBaseline::apply(control::CountersReply* raw, const CounterSlots& slots) const {
  if (!base_) return;
  raw->set_cleared_at(static_cast<uint64_t>(cleared_at_));
  subtract(base_->verdicts(), raw->mutable_verdicts());
  subtract(base_->reasons(), raw->mutable_reasons());
  std::map<uint32_t, const control::PortCounters*> ports;
  for (const auto& p : base_->interfaces()) ports.emplace(p.ifindex(), &p);
  for (auto& p : *raw->mutable_interfaces()) {
    auto it = ports.find(p.ifindex());
    if (it == ports.end()) continue;
    // Another slot holds other counts (another port's, before a restart).
    auto then = slots_.find(p.ifindex());
    auto now = slots.find(p.ifindex());
    if (then == slots_.end() || now == slots.end() || then->second != now->second) continue;
    subtract(it->second->verdicts(), p.mutable_verdicts());
    subtract(it->second->reasons(), p.mutable_reasons());
  }
}

}  // namespace fpm_sink
