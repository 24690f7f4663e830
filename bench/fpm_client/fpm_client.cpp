#include "fpm_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "control/client.hpp"

namespace fpm_sink::bench {

std::vector<Prefix> load_prefixes(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<Prefix> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto p = Prefix::parse(line);
    if (!p) throw std::runtime_error(path + ": bad prefix '" + line + "'");
    out.push_back(*p);
  }
  return out;
}

void check(const Status& st) {
  if (!st) throw std::runtime_error(st.error().to_string());
}

int connect_fpm(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(strerror(errno)));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    const std::string err = strerror(errno);
    close(fd);
    throw std::runtime_error("connect 127.0.0.1:" + std::to_string(port) + ": " + err);
  }
  return fd;
}

control::FpmReply show_fpm(const std::string& socket, std::chrono::milliseconds timeout) {
  control::Request req;
  req.mutable_show_fpm();
  auto resp = control::call(socket, req, timeout);
  if (!resp) throw std::runtime_error(resp.error().to_string());
  if (!resp->has_fpm()) throw std::runtime_error("control: no fpm reply");
  return resp->fpm();
}

}  // namespace fpm_sink::bench
