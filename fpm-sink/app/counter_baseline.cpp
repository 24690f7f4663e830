#include "app/counter_baseline.hpp"

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

void CounterBaseline::set(const control::CountersReply& now, std::time_t at) {
  base_ = now;
  cleared_at_ = at;
}

void CounterBaseline::apply(control::CountersReply* raw) const {
  if (!base_) return;
  raw->set_cleared_at(static_cast<uint64_t>(cleared_at_));
  subtract(base_->verdicts(), raw->mutable_verdicts());
  subtract(base_->reasons(), raw->mutable_reasons());
  std::map<uint32_t, const control::PortCounters*> ports;
  for (const auto& p : base_->interfaces()) ports.emplace(p.ifindex(), &p);
  for (auto& p : *raw->mutable_interfaces()) {
    auto it = ports.find(p.ifindex());
    if (it == ports.end()) continue;
    subtract(it->second->verdicts(), p.mutable_verdicts());
    subtract(it->second->reasons(), p.mutable_reasons());
  }
}

}  // namespace fpm_sink
