// One zebra connection: reads large chunks straight into its Ingest buffer so
// that at millions of routes per second a read picks up many frames at once.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "app/ingest.hpp"

namespace fpm_sink {

class FpmServer;

class FpmSession : public std::enable_shared_from_this<FpmSession> {
 public:
  FpmSession(boost::asio::ip::tcp::socket socket, FpmServer& server, Ingest ingest);

  void start() { read_more(); }
  // Idempotent. After close() no handler of this session touches the server.
  void close();
  const std::string& peer() const { return peer_; }
  // For the peer policy, which looks the connection's owner up again when it changes.
  const boost::asio::ip::tcp::socket& socket() const { return socket_; }
  // Writes the server's pending offload replies, one batch at a time; a no-op
  // while a write is in flight (its completion writes the next batch).
  void write_replies();

 private:
  void read_more();

  // A batch of replies is at most this big, so a slow zebra holds back at
  // most this much encoded; the rest waits, coalesced, in the FibOffload queue.
  static constexpr size_t kReplyBatch = 256 * 1024;

  boost::asio::ip::tcp::socket socket_;
  FpmServer& server_;
  Ingest ingest_;
  std::string peer_;
  std::vector<uint8_t> replies_;  // the batch being written
  bool writing_ = false;
  bool closed_ = false;
};

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep);

}  // namespace fpm_sink
