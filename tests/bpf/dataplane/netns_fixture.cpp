#include "netns_fixture.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace fpm_test {

int run(const std::string& cmd) {
  const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  if (rc != 0) std::fprintf(stderr, "netns: `%s` failed (%d)\n", cmd.c_str(), rc);
  return rc;
}

NetnsVeth::NetnsVeth() : name_("fpmh8-" + std::to_string(::getpid())) {
  // A leftover from a crashed run with the same pid; usually absent.
  (void)std::system(("ip netns del " + name_ + " >/dev/null 2>&1").c_str());
  if (run("ip netns add " + name_) != 0) return;
  if (run("ip -n " + name_ + " link add a0 type veth peer name b0") != 0) return;
  if (run("ip -n " + name_ + " link set a0 up") != 0) return;
  if (run("ip -n " + name_ + " link set b0 up") != 0) return;
  home_fd_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  const int ns = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
  if (home_fd_ < 0 || ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) {
    if (ns >= 0) ::close(ns);
    return;
  }
  ::close(ns);
  a_ = if_nametoindex("a0");
  b_ = if_nametoindex("b0");
  ok_ = a_ && b_;
}

NetnsVeth::~NetnsVeth() {
  if (home_fd_ >= 0) {
    ::setns(home_fd_, CLONE_NEWNET);
    ::close(home_fd_);
  }
  run("ip netns del " + name_);
}

}  // namespace fpm_test
