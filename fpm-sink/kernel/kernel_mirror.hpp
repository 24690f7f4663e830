// Keeps a KernelState in step with the kernel: one dump of forwarding switches,
// policy rules, links, addresses and neighbours at start, then rtnetlink multicast events read
// on the io_context.
// If the kernel reports that events were lost (ENOBUFS), the dump is repeated and
// whatever it no longer lists is removed (KernelState::begin_resync/end_resync).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/result.hpp"
#include "kernel/kernel_state.hpp"

struct mnl_socket;

namespace fpm_sink {

struct KernelMirrorStats {
  uint64_t events = 0;
  uint64_t malformed = 0;
  uint64_t resyncs = 0;  // dumps after lost events
};

class KernelMirror {
 public:
  KernelMirror(boost::asio::io_context& io, KernelState& state);
  ~KernelMirror();
  KernelMirror(const KernelMirror&) = delete;
  KernelMirror& operator=(const KernelMirror&) = delete;

  // Subscribes, dumps the current state into KernelState, then starts reading events.
  Status start();
  void stop();
  const KernelMirrorStats& stats() const { return stats_; }

 private:
  Status dump();
  void arm();
  void drain();
  void handle(std::span<const uint8_t> datagram);

  boost::asio::io_context& io_;
  KernelState& state_;
  mnl_socket* events_ = nullptr;
  std::unique_ptr<boost::asio::posix::stream_descriptor> watcher_;
  std::vector<uint8_t> buf_;
  KernelMirrorStats stats_;
};

}  // namespace fpm_sink
