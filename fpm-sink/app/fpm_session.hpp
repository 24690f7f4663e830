// One zebra connection: reads large chunks straight into its Ingest buffer so
// that at millions of routes per second a read picks up many frames at once.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

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

 private:
  void read_more();

  boost::asio::ip::tcp::socket socket_;
  FpmServer& server_;
  Ingest ingest_;
  std::string peer_;
  bool closed_ = false;
};

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep);

}  // namespace fpm_sink
